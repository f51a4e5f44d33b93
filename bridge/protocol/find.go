package protocol

import (
	"slices"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// Typed search, sort, thread and status watching (issue 16): the requests
// find, sort, thread, watch and unwatch, their results and the status event.

// Ops of typed search, sort, thread and status watching.
const (
	OpFind    = "find"
	OpSort    = "sort"
	OpThread  = "thread"
	OpWatch   = "watch"
	OpUnwatch = "unwatch"
)

// EventStatus is the event kind of a watched mailbox's new status.
const EventStatus = "status"

// Bounds of the typed search requests, checked by DecodeRequest.
const (
	// MaxCriteriaDepth bounds the nesting of "not" and "or" in a
	// criteria object (the engine's own bound, imapengine.MaxCriteriaDepth).
	MaxCriteriaDepth = 16
	// MaxCriteriaKeys bounds the keys of one criteria object and its
	// nested ones together (strings, flags, headers, nested objects).
	MaxCriteriaKeys = 256
	// MaxCriterionBytes bounds one string of a criteria object.
	MaxCriterionBytes = 1024
	// MaxPage is the most UIDs (find, sort) or threads (thread) one answer
	// holds; a request's "limit" is capped at it and 0 means MaxPage.
	MaxPage = 5000
	// MaxSortKeys is the most keys of one sort request.
	MaxSortKeys = 8
)

// Sort keys of a sort request ("key"), in SORT spelling lower-cased.
var SortKeys = []string{"arrival", "cc", "date", "from", "size", "subject", "to", "displayfrom", "displayto"}

// Thread algorithms of a thread request.
const (
	ThreadReferences     = "references"
	ThreadOrderedSubject = "orderedsubject"
)

// Watch modes of a watch result.
const (
	// WatchNotify: the server pushes changes (NOTIFY, RFC 5465).
	WatchNotify = "notify"
	// WatchPoll: the bridge polls with LIST-STATUS or STATUS.
	WatchPoll = "poll"
)

// Criteria is a typed search program, the JSON form of imap.SearchCriteria:
// every member that is set must match (AND); "not" and "or" nest. The empty
// object matches every message. Dates are "YYYY-MM-DD" and compare by day in
// the server's time zone.
type Criteria struct {
	// UIDs restricts the match to a UID set ("1:100").
	UIDs string `json:"uids,omitempty"`
	// From, To, Cc, Bcc, Subject, Body and Text are substring matches;
	// each entry is a separate, ANDed key.
	From    []string `json:"from,omitzero"`
	To      []string `json:"to,omitzero"`
	Cc      []string `json:"cc,omitzero"`
	Bcc     []string `json:"bcc,omitzero"`
	Subject []string `json:"subject,omitzero"`
	Body    []string `json:"body,omitzero"`
	Text    []string `json:"text,omitzero"`
	// Header matches header fields (an empty value: the field exists).
	Header []HeaderCriterion `json:"header,omitzero"`
	// Since, Before and On bound the internal (arrival) date.
	Since  string `json:"since,omitempty"`
	Before string `json:"before,omitempty"`
	On     string `json:"on,omitempty"`
	// SentSince, SentBefore and SentOn bound the Date: header.
	SentSince  string `json:"sentSince,omitempty"`
	SentBefore string `json:"sentBefore,omitempty"`
	SentOn     string `json:"sentOn,omitempty"`
	// Larger and Smaller bound the size in bytes (strictly).
	Larger  uint32 `json:"larger,omitempty"`
	Smaller uint32 `json:"smaller,omitempty"`
	// Flags must all be set, NotFlags all clear (system flags or keywords).
	Flags    []string `json:"flags,omitzero"`
	NotFlags []string `json:"notFlags,omitzero"`
	// ModSeq matches messages with MODSEQ >= modSeq (CONDSTORE).
	ModSeq uint64 `json:"modSeq,omitempty"`
	// Not holds criteria that must each fail to match.
	Not []*Criteria `json:"not,omitzero"`
	// Or holds pairs: one or both of each pair must match.
	Or [][]*Criteria `json:"or,omitzero"`
}

// HeaderCriterion is one header match of a criteria object.
type HeaderCriterion struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// dateLayout is the form of a criteria date.
const dateLayout = "2006-01-02"

// SearchCriteria converts c, which check has accepted, to the engine's
// criteria (nil for nil).
func (c *Criteria) SearchCriteria() *imap.SearchCriteria {
	if c == nil {
		return nil
	}
	out := &imap.SearchCriteria{
		From: c.From, To: c.To, Cc: c.Cc, Bcc: c.Bcc, Subject: c.Subject, Body: c.Body, Text: c.Text,
		Larger: c.Larger, Smaller: c.Smaller, ModSeq: c.ModSeq,
	}
	if c.UIDs != "" {
		if s, err := imap.ParseUIDSet(c.UIDs); err == nil {
			out.UIDs = []imap.UIDSet{s}
		}
	}
	for _, h := range c.Header {
		out.Header = append(out.Header, imap.HeaderMatch{Name: h.Name, Value: h.Value})
	}
	for _, d := range []struct {
		s string
		t *time.Time
	}{{c.Since, &out.Since}, {c.Before, &out.Before}, {c.On, &out.On},
		{c.SentSince, &out.SentSince}, {c.SentBefore, &out.SentBefore}, {c.SentOn, &out.SentOn}} {
		if d.s != "" {
			*d.t, _ = time.Parse(dateLayout, d.s)
		}
	}
	for _, f := range c.Flags {
		out.Flags = append(out.Flags, imap.Flag(f))
	}
	for _, f := range c.NotFlags {
		out.NotFlags = append(out.NotFlags, imap.Flag(f))
	}
	for _, n := range c.Not {
		out.Not = append(out.Not, n.SearchCriteria())
	}
	for _, o := range c.Or {
		out.Or = append(out.Or, [2]*imap.SearchCriteria{o[0].SearchCriteria(), o[1].SearchCriteria()})
	}
	return out
}

// check validates c and its nested criteria; keys counts the keys seen.
func (c *Criteria) check(depth int, keys *int) *ProtocolError {
	if depth > MaxCriteriaDepth {
		return invalid("\"where\" nests deeper than %d", MaxCriteriaDepth)
	}
	if c.UIDs != "" {
		if perr := checkUIDSet("uids", c.UIDs); perr != nil {
			return perr
		}
	}
	strs := [][]string{c.From, c.To, c.Cc, c.Bcc, c.Subject, c.Body, c.Text}
	for _, h := range c.Header {
		if h.Name == "" || strings.ContainsAny(h.Name, ": ") {
			return invalid("\"header\": a field name is required, without ':' or space")
		}
		strs = append(strs, []string{h.Name, h.Value})
	}
	for _, l := range strs {
		*keys += len(l)
		for _, s := range l {
			if len(s) > MaxCriterionBytes {
				return invalid("a criterion is longer than %d bytes", MaxCriterionBytes)
			}
			if strings.ContainsAny(s, "\x00\r\n") {
				return invalid("a criterion holds NUL, CR or LF")
			}
		}
	}
	for _, d := range []string{c.Since, c.Before, c.On, c.SentSince, c.SentBefore, c.SentOn} {
		if d == "" {
			continue
		}
		if _, err := time.Parse(dateLayout, d); err != nil {
			return invalid("a criteria date must be YYYY-MM-DD, not %.16q", d)
		}
	}
	for _, l := range [][]string{c.Flags, c.NotFlags} {
		*keys += len(l)
		for _, f := range l {
			if !validFlag(f) {
				return invalid("%.32q is not a flag or keyword", f)
			}
		}
	}
	*keys += len(c.Not) + len(c.Or)
	if *keys > MaxCriteriaKeys {
		return invalid("\"where\" has more than %d keys", MaxCriteriaKeys)
	}
	for _, n := range c.Not {
		if n == nil {
			return invalid("\"not\" holds null")
		}
		if perr := n.check(depth+1, keys); perr != nil {
			return perr
		}
	}
	for _, o := range c.Or {
		if len(o) != 2 || o[0] == nil || o[1] == nil {
			return invalid("each \"or\" entry is a pair of criteria objects")
		}
		for _, x := range o {
			if perr := x.check(depth+1, keys); perr != nil {
				return perr
			}
		}
	}
	return nil
}

// validFlag accepts a system flag (\Seen) or a keyword atom.
func validFlag(f string) bool {
	a := strings.TrimPrefix(f, `\`)
	if a == "" || len(f) > 128 {
		return false
	}
	for i := 0; i < len(a); i++ {
		b := a[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`(){%*"\]`, b) >= 0 {
			return false
		}
	}
	return true
}

// checkWhere validates an optional criteria member.
func checkWhere(c *Criteria) *ProtocolError {
	if c == nil {
		return nil
	}
	keys := 0
	return c.check(1, &keys)
}

// Page selects part of a result: Offset entries are skipped, then at most
// Limit (0 or more than MaxPage: MaxPage) are returned.
type Page struct {
	Offset uint32 `json:"offset,omitempty"`
	Limit  uint32 `json:"limit,omitempty"`
}

// Bounds returns the slice bounds of the page within n entries.
func (p Page) Bounds(n int) (lo, hi int) {
	limit := int(p.Limit)
	if limit == 0 || limit > MaxPage {
		limit = MaxPage
	}
	lo = min(int(p.Offset), n)
	return lo, min(lo+limit, n)
}

// FindRequest is a typed UID SEARCH in the selected mailbox (ESEARCH when
// offered). The matching UIDs are paged newest (highest UID) first.
type FindRequest struct {
	Header
	// Where is the search program; absent matches every message.
	Where *Criteria `json:"where,omitempty"`
	Page
}

// FindResult answers find: the page of matching UIDs and the totals.
type FindResult struct {
	// UIDs is the page as a compact UID set ("" for none): the matches
	// from the Offset-th highest UID on, at most Limit of them.
	UIDs string `json:"uids"`
	// Total is the number of matching messages.
	Total uint32 `json:"total"`
	// Min and Max are the lowest and highest matching UID (0: none).
	Min uint32 `json:"min"`
	Max uint32 `json:"max"`
	// ESEARCH reports that the server computed the totals (RFC 4731).
	ESEARCH bool `json:"esearch"`
}

// ResultOp implements Result.
func (FindResult) ResultOp() string { return OpFind }

// SortKey is one key of a sort request.
type SortKey struct {
	// Key is one of SortKeys.
	Key string `json:"key"`
	// Reverse reverses this key's order.
	Reverse bool `json:"reverse,omitempty"`
}

// SortRequest sorts the selected mailbox's messages matching Where: UID SORT
// when the server offers SORT, else the bridge sorts from envelopes (up to
// the configured mailbox size; docs/protocol.md "sort, thread").
type SortRequest struct {
	Header
	// Keys are the sort keys, at least one, at most MaxSortKeys.
	Keys []SortKey `json:"keys"`
	// Where restricts the messages sorted; absent sorts all.
	Where *Criteria `json:"where,omitempty"`
	Page
}

// SortResult answers sort.
type SortResult struct {
	// UIDs are the page of sorted UIDs, in order.
	UIDs []uint32 `json:"uids"`
	// Total is the number of messages sorted.
	Total uint32 `json:"total"`
	// Fallback reports that the bridge sorted (the server lacks SORT).
	Fallback bool `json:"fallback"`
}

// ResultOp implements Result.
func (SortResult) ResultOp() string { return OpSort }

// ThreadRequest threads the selected mailbox's messages matching Where:
// UID THREAD when offered, else the bridge threads from envelopes.
type ThreadRequest struct {
	Header
	// Algorithm is ThreadReferences (default) or ThreadOrderedSubject.
	Algorithm string `json:"algorithm,omitempty"`
	// Where restricts the messages threaded; absent threads all.
	Where *Criteria `json:"where,omitempty"`
	// Reverse pages the threads newest first (the reverse of RFC 5256's
	// order by each thread's first message).
	Reverse bool `json:"reverse,omitempty"`
	Page
}

// ThreadNode is one message of a thread and its replies; UID 0 is a missing
// parent that groups its children (RFC 5256).
type ThreadNode struct {
	UID      uint32       `json:"uid"`
	Children []ThreadNode `json:"children,omitzero"`
}

// ThreadResult answers thread.
type ThreadResult struct {
	// Threads are the page of threads, each a tree of UIDs.
	Threads []ThreadNode `json:"threads"`
	// Total is the number of threads; Messages the messages threaded.
	Total    uint32 `json:"total"`
	Messages uint32 `json:"messages"`
	// Fallback reports that the bridge threaded (the server lacks THREAD).
	Fallback bool `json:"fallback"`
}

// ResultOp implements Result.
func (ThreadResult) ResultOp() string { return OpThread }

// FromThreads converts engine threads.
func FromThreads(roots []*imap.ThreadNode) []ThreadNode {
	out := make([]ThreadNode, 0, len(roots))
	for _, r := range roots {
		if r == nil {
			continue
		}
		n := ThreadNode{UID: uint32(r.UID)}
		if len(r.Children) > 0 {
			n.Children = FromThreads(r.Children)
		}
		out = append(out, n)
	}
	return out
}

// WatchRequest starts (or replaces) the session's status watch: status
// events for each mailbox whose MESSAGES, UNSEEN, UIDNEXT or HIGHESTMODSEQ
// changes, by NOTIFY when the server offers it, else by polling.
type WatchRequest struct {
	Header
	// Mailboxes are the mailboxes watched; absent means every subscribed
	// mailbox.
	Mailboxes []string `json:"mailboxes,omitzero"`
}

// WatchResult answers watch: how the mailboxes are watched and their
// status now.
type WatchResult struct {
	// Mode is WatchNotify or WatchPoll.
	Mode string `json:"mode"`
	// IntervalMs is the polling interval (WatchPoll only).
	IntervalMs int64 `json:"intervalMs,omitempty"`
	// Mailboxes are the watched mailboxes' status now.
	Mailboxes []StatusResult `json:"mailboxes"`
}

// ResultOp implements Result.
func (WatchResult) ResultOp() string { return OpWatch }

// UnwatchRequest ends the session's status watch.
type UnwatchRequest struct {
	Header
}

func (r *FindRequest) check() *ProtocolError { return checkWhere(r.Where) }

func (r *SortRequest) check() *ProtocolError {
	if len(r.Keys) == 0 || len(r.Keys) > MaxSortKeys {
		return invalid("\"keys\" needs 1 to %d sort keys", MaxSortKeys)
	}
	for _, k := range r.Keys {
		if !slices.Contains(SortKeys, k.Key) {
			return invalid("unknown sort key %.16q", k.Key)
		}
	}
	return checkWhere(r.Where)
}

func (r *ThreadRequest) check() *ProtocolError {
	switch r.Algorithm {
	case "", ThreadReferences, ThreadOrderedSubject:
	default:
		return invalid("\"algorithm\" must be references or orderedsubject")
	}
	return checkWhere(r.Where)
}

func (r *WatchRequest) check() *ProtocolError {
	if len(r.Mailboxes) > MaxItems {
		return invalid("\"mailboxes\" has more than %d entries", MaxItems)
	}
	for _, m := range r.Mailboxes {
		if perr := checkMailbox("mailboxes", m); perr != nil {
			return perr
		}
	}
	return nil
}

func (r *UnwatchRequest) check() *ProtocolError { return nil }

// EngineSortKeys converts checked sort keys.
func EngineSortKeys(keys []SortKey) []imap.SortKey {
	out := make([]imap.SortKey, len(keys))
	for i, k := range keys {
		out[i] = imap.SortKey{Field: imap.SortField(strings.ToUpper(k.Key)), Reverse: k.Reverse}
	}
	return out
}

// StatusValues are the values of a status event; items the server did not
// send are absent.
type StatusValues struct {
	Messages      *uint32 `json:"messages,omitempty"`
	Unseen        *uint32 `json:"unseen,omitempty"`
	UIDNext       *uint32 `json:"uidNext,omitempty"`
	UIDValidity   *uint32 `json:"uidValidity,omitempty"`
	HighestModSeq *uint64 `json:"highestModSeq,omitempty"`
}

// Values returns the event values of a status result.
func (r StatusResult) Values() *StatusValues {
	return &StatusValues{Messages: r.Messages, Unseen: r.Unseen, UIDNext: r.UIDNext, UIDValidity: r.UIDValidity, HighestModSeq: r.HighestModSeq}
}
