// Package mailsort sorts and threads messages on the client, for servers that
// lack SORT or THREAD (RFC 5256): the same keys and algorithms, computed from
// each message's envelope, size, internal date and References header, fetched
// once with FetchItems.
//
// The results follow RFC 5256 with these simplifications, stated so callers
// can tell users: base subjects are extracted as §2.1 describes, but
// without decoding RFC 2047 encoded words beyond what the envelope parser
// already does; REFERENCES threading (§3, after JWZ) links by References and
// In-Reply-To and prunes empty containers, but does not merge threads by
// subject (step 5) — replies that lost their References stay separate
// threads. Sorting compares strings with i;ascii-casemap as the RFC does.
//
// Cost: the caller fetches FetchItems for every message sorted (about 300
// to 500 bytes each on the wire); sorting is O(n log n) and threading O(n)
// in memory, both proportional to the messages given.
package mailsort

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// FetchItems are the FETCH items Sort and Thread need, for
// imapengine.Client.FetchEach with UIDs.
const FetchItems = "(UID INTERNALDATE RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (REFERENCES)])"

// Message is what sorting and threading look at for one message.
type Message struct {
	UID        imap.UID
	Arrival    time.Time // internal date
	Date       time.Time // Date: header; zero if absent or unparsable
	Size       uint32
	From       string // first From address: mailbox (local part)
	To, Cc     string // first To / Cc address: mailbox
	FromName   string // first From display name, else mailbox (DISPLAYFROM)
	ToName     string // first To display name, else mailbox (DISPLAYTO)
	Subject    string
	MessageID  string
	InReplyTo  string
	References []string
}

// FromIMAP converts a message fetched with FetchItems.
func FromIMAP(m *imap.Message) Message {
	out := Message{UID: m.UID, Arrival: m.InternalDate, Size: m.Size}
	if env := m.Envelope; env != nil {
		out.Date = env.Time
		out.Subject = env.Subject
		out.MessageID = firstID(env.MessageID)
		out.InReplyTo = firstID(env.InReplyTo)
		out.From, out.FromName = firstAddr(env.From)
		out.To, out.ToName = firstAddr(env.To)
		out.Cc, _ = firstAddr(env.Cc)
	}
	for _, s := range m.Sections {
		if strings.Contains(strings.ToUpper(s.Spec()), "HEADER.FIELDS") {
			out.References = msgIDs(headerValue(string(s.Data)))
		}
	}
	return out
}

func firstAddr(as []imap.Address) (mailbox, display string) {
	for _, a := range as {
		if a.GroupStart || a.GroupEnd {
			continue
		}
		display = a.Name
		if display == "" {
			display = a.Mailbox
		}
		return a.Mailbox, display
	}
	return "", ""
}

// headerValue returns the unfolded value of the first header field in raw.
func headerValue(raw string) string {
	_, v, ok := strings.Cut(raw, ":")
	if !ok {
		return ""
	}
	v = strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
	return strings.TrimSpace(v)
}

// msgIDs returns the "<...>" message ids in s, in order.
func msgIDs(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return out
		}
		out = append(out, s[i:i+j+1])
		s = s[i+j+1:]
	}
}

func firstID(s string) string {
	if ids := msgIDs(s); len(ids) > 0 {
		return ids[0]
	}
	return strings.TrimSpace(s)
}

// BaseSubject extracts the base subject of RFC 5256 §2.1: "Re:", "Fw:",
// "Fwd:" and "[blob]" prefixes, "(fwd)" trailers and "[Fwd: ...]" wrappers
// removed, whitespace collapsed, compared case-insensitively (upper-cased).
func BaseSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for {
		changed := false
		// (2) trailing "(fwd)" and whitespace.
		for {
			t := strings.TrimRight(s, " ")
			if strings.HasSuffix(strings.ToLower(t), "(fwd)") {
				t = t[:len(t)-5]
			}
			t = strings.TrimRight(t, " ")
			if t == s {
				break
			}
			s = t
		}
		// (3)-(5) leaders: subj-refwd and subj-blob.
		for {
			t := stripLeader(s)
			if t == s {
				break
			}
			s, changed = t, true
		}
		// (6) "[fwd:" ... "]".
		if l := strings.ToLower(s); strings.HasPrefix(l, "[fwd:") && strings.HasSuffix(s, "]") {
			s = strings.TrimSpace(s[5 : len(s)-1])
			changed = true
		}
		if !changed {
			return strings.ToUpper(s)
		}
	}
}

// stripLeader removes one subj-blob or subj-refwd leader (RFC 5256 §5),
// keeping s when that would leave nothing.
func stripLeader(s string) string {
	t := strings.TrimLeft(s, " ")
	if strings.HasPrefix(t, "[") {
		if j := strings.IndexByte(t, ']'); j > 0 && !strings.ContainsAny(t[1:j], "[") {
			rest := strings.TrimLeft(t[j+1:], " ")
			if rest != "" {
				return rest
			}
		}
	}
	l := strings.ToLower(t)
	for _, p := range []string{"re", "fwd", "fw"} {
		if !strings.HasPrefix(l, p) {
			continue
		}
		rest := t[len(p):]
		rest = strings.TrimLeft(rest, " ")
		if strings.HasPrefix(rest, "[") { // "Re[2]:"
			if j := strings.IndexByte(rest, ']'); j > 0 {
				rest = strings.TrimLeft(rest[j+1:], " ")
			}
		}
		if strings.HasPrefix(rest, ":") {
			return strings.TrimLeft(rest[1:], " ")
		}
	}
	return t
}

// sentDate is the DATE sort key: the Date: header, else the internal date.
func (m *Message) sentDate() time.Time {
	if !m.Date.IsZero() {
		return m.Date
	}
	return m.Arrival
}

func (m *Message) compare(o *Message, f imap.SortField) int {
	switch f {
	case imap.SortArrival:
		return m.Arrival.Compare(o.Arrival)
	case imap.SortDate:
		return m.sentDate().Compare(o.sentDate())
	case imap.SortSize:
		return cmp.Compare(m.Size, o.Size)
	case imap.SortSubject:
		return strings.Compare(BaseSubject(m.Subject), BaseSubject(o.Subject))
	case imap.SortFrom:
		return strings.Compare(strings.ToUpper(m.From), strings.ToUpper(o.From))
	case imap.SortTo:
		return strings.Compare(strings.ToUpper(m.To), strings.ToUpper(o.To))
	case imap.SortCc:
		return strings.Compare(strings.ToUpper(m.Cc), strings.ToUpper(o.Cc))
	case imap.SortDisplayFrom:
		return strings.Compare(strings.ToUpper(m.FromName), strings.ToUpper(o.FromName))
	case imap.SortDisplayTo:
		return strings.Compare(strings.ToUpper(m.ToName), strings.ToUpper(o.ToName))
	}
	return 0
}

// Sort returns the UIDs of msgs ordered by keys (RFC 5256 SORT); ties keep
// UID order, as servers break them by sequence number. Unknown fields
// compare equal.
func Sort(msgs []Message, keys []imap.SortKey) []imap.UID {
	ms := slices.Clone(msgs)
	slices.SortStableFunc(ms, func(a, b Message) int {
		for _, k := range keys {
			c := a.compare(&b, k.Field)
			if k.Reverse {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.UID, b.UID)
	})
	out := make([]imap.UID, len(ms))
	for i := range ms {
		out[i] = ms[i].UID
	}
	return out
}

// Thread threads msgs with the algorithm (RFC 5256 §3), returning roots in
// thread order. An unknown algorithm threads nothing (every message alone).
func Thread(msgs []Message, alg imap.ThreadAlgorithm) []*imap.ThreadNode {
	ms := slices.Clone(msgs)
	slices.SortStableFunc(ms, func(a, b Message) int { return cmp.Compare(a.UID, b.UID) })
	if alg == imap.ThreadReferences {
		return threadReferences(ms)
	}
	return threadOrderedSubject(ms)
}

func threadOrderedSubject(ms []Message) []*imap.ThreadNode {
	sorted := Sort(ms, []imap.SortKey{{Field: imap.SortSubject}, {Field: imap.SortDate}})
	byUID := map[imap.UID]*Message{}
	for i := range ms {
		byUID[ms[i].UID] = &ms[i]
	}
	var roots []*imap.ThreadNode
	var rootMsgs []*Message
	prev := ""
	for i, u := range sorted {
		m := byUID[u]
		bs := BaseSubject(m.Subject)
		if i == 0 || bs != prev {
			roots = append(roots, &imap.ThreadNode{UID: u})
			rootMsgs = append(rootMsgs, m)
			prev = bs
			continue
		}
		r := roots[len(roots)-1]
		r.Children = append(r.Children, &imap.ThreadNode{UID: u})
	}
	idx := make([]int, len(roots))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := rootMsgs[a].sentDate().Compare(rootMsgs[b].sentDate()); c != 0 {
			return c
		}
		return cmp.Compare(rootMsgs[a].UID, rootMsgs[b].UID)
	})
	out := make([]*imap.ThreadNode, len(roots))
	for i, j := range idx {
		out[i] = roots[j]
	}
	return out
}

// container is a node of the REFERENCES algorithm.
type container struct {
	msg      *Message
	parent   *container
	children []*container
}

func (c *container) isAncestorOf(o *container) bool {
	for p := o; p != nil; p = p.parent {
		if p == c {
			return true
		}
	}
	return false
}

func (c *container) setParent(p *container) {
	if c.parent == p || c == p || c.isAncestorOf(p) {
		return
	}
	if c.parent != nil {
		old := c.parent
		old.children = slices.DeleteFunc(old.children, func(x *container) bool { return x == c })
	}
	c.parent = p
	p.children = append(p.children, c)
}

func threadReferences(ms []Message) []*imap.ThreadNode {
	byID := map[string]*container{}
	var all []*container
	get := func(id string) *container {
		if c := byID[id]; c != nil {
			return c
		}
		c := &container{}
		byID[id] = c
		all = append(all, c)
		return c
	}
	for i := range ms {
		m := &ms[i]
		var c *container
		if id := m.MessageID; id != "" && byID[id] != nil && byID[id].msg == nil {
			c = byID[id]
		} else if id != "" && byID[id] == nil {
			c = get(id)
		} else {
			c = &container{} // no or duplicate Message-ID: unique
			all = append(all, c)
		}
		c.msg = m
		refs := m.References
		if len(refs) == 0 && m.InReplyTo != "" {
			refs = []string{m.InReplyTo}
		}
		var prev *container
		for _, r := range refs {
			rc := get(r)
			if prev != nil && rc.parent == nil {
				rc.setParent(prev)
			}
			prev = rc
		}
		if prev != nil && prev != c {
			// The message's own parent is its last reference (RFC 5256
			// §3 step 1C), replacing what earlier messages implied.
			c.setParent(prev)
		}
	}
	var roots []*container
	for _, c := range all {
		if c.parent == nil {
			roots = append(roots, c)
		}
	}
	var out []*imap.ThreadNode
	for _, r := range roots {
		out = append(out, prune(r, true)...)
	}
	sortThreads(out, ms)
	return out
}

// prune converts a container tree into nodes, dropping empty containers: an
// empty leaf vanishes, an empty inner node gives its children to its parent
// (at the root only when it has one child; else it stays as a UID-0 node).
func prune(c *container, root bool) []*imap.ThreadNode {
	var kids []*imap.ThreadNode
	for _, ch := range c.children {
		kids = append(kids, prune(ch, false)...)
	}
	if c.msg == nil {
		if root && len(kids) > 1 {
			return []*imap.ThreadNode{{Children: kids}}
		}
		return kids
	}
	return []*imap.ThreadNode{{UID: c.msg.UID, Children: kids}}
}

// sortThreads orders siblings (recursively) and roots by sent date, then UID.
func sortThreads(nodes []*imap.ThreadNode, ms []Message) {
	byUID := map[imap.UID]*Message{}
	for i := range ms {
		byUID[ms[i].UID] = &ms[i]
	}
	var first func(n *imap.ThreadNode) *Message
	first = func(n *imap.ThreadNode) *Message {
		if n.UID != 0 {
			return byUID[n.UID]
		}
		var best *Message
		for _, ch := range n.Children {
			if m := first(ch); m != nil && (best == nil || m.sentDate().Before(best.sentDate())) {
				best = m
			}
		}
		return best
	}
	var walk func(ns []*imap.ThreadNode)
	walk = func(ns []*imap.ThreadNode) {
		slices.SortStableFunc(ns, func(a, b *imap.ThreadNode) int {
			ma, mb := first(a), first(b)
			if ma == nil || mb == nil {
				return 0
			}
			if c := ma.sentDate().Compare(mb.sentDate()); c != 0 {
				return c
			}
			return cmp.Compare(ma.UID, mb.UID)
		})
		for _, n := range ns {
			walk(n.Children)
		}
	}
	walk(nodes)
}
