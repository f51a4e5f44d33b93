package imapengine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// MaxCriteriaDepth bounds the nesting of Not and Or in a SearchCriteria
// (deeper criteria are ErrBadArgument): servers parse search programs
// recursively too.
const MaxCriteriaDepth = 32

// MaxSortResults bounds the numbers kept from one SORT or plain SEARCH
// response (a hostile server's "* SORT 1 1 1 ..." line is bounded by the
// line length already; this bounds the expanded result of ESEARCH ALL).
const MaxSortResults = 1 << 22

// SearchOptions refines SearchMatching: which results to compute. With none set,
// All and Count are returned.
type SearchOptions struct {
	Min, Max, Count, All bool
}

// SearchResult is the typed result of SearchMatching. The same fields are filled
// whether the server answered with ESEARCH (RFC 4731) or a plain SEARCH
// (then computed by the engine).
type SearchResult struct {
	// UIDs are the matching UIDs as compact ranges (when All was asked).
	UIDs imap.UIDSet
	// Count is the number of matches (when Count was asked).
	Count uint32
	// Min and Max are the lowest and highest matching UID, 0 when nothing
	// matched (when asked).
	Min, Max imap.UID
	// ModSeq is the highest mod-sequence of the matches (MODSEQ criterion).
	ModSeq uint64
	// ESEARCH reports whether the server computed the result with ESEARCH.
	ESEARCH bool
}

// SearchMatching runs UID SEARCH with typed criteria in the selected mailbox. It uses
// ESEARCH RETURN (...) when offered; strings with 8-bit characters are sent
// as UTF-8 (with CHARSET UTF-8 unless UTF8=ACCEPT is enabled).
func (c *Client) SearchMatching(ctx context.Context, crit *imap.SearchCriteria, opts *SearchOptions) (*SearchResult, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if !o.Min && !o.Max && !o.Count && !o.All {
		o.All, o.Count = true, true
	}
	if err := checkCriteria(crit); err != nil {
		return nil, err
	}
	esearch := c.HasCapability("ESEARCH")
	charset := c.searchCharset(crit)
	var mu sync.Mutex
	var sd *imap.SearchData
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("SEARCH")
		if esearch {
			var ret []string
			for _, r := range []struct {
				on   bool
				name string
			}{{o.Min, "MIN"}, {o.Max, "MAX"}, {o.Count, "COUNT"}, {o.All, "ALL"}} {
				if r.on {
					ret = append(ret, r.name)
				}
			}
			e.SP().Raw("RETURN (" + strings.Join(ret, " ") + ")")
		}
		if charset != "" {
			e.SP().Raw("CHARSET " + charset)
		}
		encodeCriteria(e, crit)
	}}, []string{"SEARCH", "ESEARCH"}, func(_ string, resp *imapwire.Response) {
		if s, err := imap.ParseSearch(resp, c.limits.wire()); err == nil {
			mu.Lock()
			sd = s
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	res := &SearchResult{}
	if sd == nil {
		return res, nil
	}
	res.ModSeq = sd.ModSeq
	if sd.ESEARCH {
		res.ESEARCH = true
		res.Count, res.Min, res.Max = sd.Count, imap.UID(sd.Min), imap.UID(sd.Max)
		if o.All {
			res.UIDs = sd.AllUIDs()
			if res.UIDs == nil {
				res.UIDs = imap.UIDSet{}
			}
		}
		return res, nil
	}
	uids := slices.Clone(sd.All)
	slices.Sort(uids)
	uids = slices.Compact(uids)
	if o.Count {
		res.Count = uint32(len(uids))
	}
	if len(uids) > 0 {
		if o.Min {
			res.Min = imap.UID(uids[0])
		}
		if o.Max {
			res.Max = imap.UID(uids[len(uids)-1])
		}
	}
	if o.All {
		res.UIDs = rangesOf(uids)
	}
	return res, nil
}

// rangesOf compresses sorted, distinct numbers into ranges.
func rangesOf(nums []uint32) imap.UIDSet {
	out := imap.UIDSet{}
	for _, n := range nums {
		if k := len(out); k > 0 && out[k-1].Stop+1 == n {
			out[k-1].Stop = n
			continue
		}
		out = append(out, imap.NumRange{Start: n, Stop: n})
	}
	return out
}

// SortUIDs runs UID SORT (RFC 5256) with the given keys (at least one) over the
// messages matching crit, and returns the UIDs in order. It needs SORT
// (ErrNotSupported otherwise; see package mailsort for a client-side sort).
func (c *Client) SortUIDs(ctx context.Context, keys []imap.SortKey, crit *imap.SearchCriteria) ([]imap.UID, error) {
	if !c.HasCapability("SORT") {
		return nil, &Error{Kind: KindError, Command: "SORT", Msg: "server does not offer SORT", Err: ErrNotSupported}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: Sort needs a key", ErrBadArgument)
	}
	var prog []string
	for _, k := range keys {
		switch k.Field {
		case imap.SortArrival, imap.SortCc, imap.SortDate, imap.SortFrom, imap.SortSize, imap.SortSubject, imap.SortTo:
		case imap.SortDisplayFrom, imap.SortDisplayTo:
			if !c.HasCapability("SORT=DISPLAY") {
				return nil, &Error{Kind: KindError, Command: "SORT", Msg: "server does not offer SORT=DISPLAY", Err: ErrNotSupported}
			}
		default:
			return nil, fmt.Errorf("%w: unknown sort key %.20q", ErrBadArgument, k.Field)
		}
		if k.Reverse {
			prog = append(prog, "REVERSE")
		}
		prog = append(prog, string(k.Field))
	}
	if err := checkCriteria(crit); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var sd *imap.SortData
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("SORT (" + strings.Join(prog, " ") + ") UTF-8")
		encodeCriteria(e, crit)
	}}, []string{"SORT"}, func(_ string, resp *imapwire.Response) {
		if s, err := imap.ParseSort(resp, c.limits.wire()); err == nil {
			mu.Lock()
			sd = s
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	out := []imap.UID{}
	if sd != nil {
		for _, n := range sd.Nums {
			out = append(out, imap.UID(n))
		}
	}
	return out, nil
}

// ThreadUIDs runs UID THREAD (RFC 5256) with the algorithm over the messages
// matching crit and returns the threads, each a tree of UIDs. It needs
// THREAD=<algorithm> (ErrNotSupported otherwise; see package mailsort).
func (c *Client) ThreadUIDs(ctx context.Context, alg imap.ThreadAlgorithm, crit *imap.SearchCriteria) ([]*imap.ThreadNode, error) {
	switch alg {
	case imap.ThreadReferences, imap.ThreadOrderedSubject:
	default:
		return nil, fmt.Errorf("%w: unknown thread algorithm %.20q", ErrBadArgument, alg)
	}
	if !c.HasCapability("THREAD=" + string(alg)) {
		return nil, &Error{Kind: KindError, Command: "THREAD", Msg: "server does not offer THREAD=" + string(alg), Err: ErrNotSupported}
	}
	if err := checkCriteria(crit); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var roots []*imap.ThreadNode
	var perr error
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("THREAD " + string(alg) + " UTF-8")
		encodeCriteria(e, crit)
	}}, []string{"THREAD"}, func(_ string, resp *imapwire.Response) {
		r, err := imap.ParseThread(resp, c.limits.wire())
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			perr = err
			return
		}
		roots = r
	})
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, &Error{Kind: KindError, Command: "THREAD", Msg: "malformed THREAD response", Err: perr}
	}
	if roots == nil {
		roots = []*imap.ThreadNode{}
	}
	return roots, nil
}

// checkCriteria rejects criteria nested deeper than MaxCriteriaDepth and nil
// members of Not and Or.
func checkCriteria(c *imap.SearchCriteria) error {
	if c == nil {
		return nil
	}
	if c.Depth() > MaxCriteriaDepth {
		return fmt.Errorf("%w: search criteria nested deeper than %d", ErrBadArgument, MaxCriteriaDepth)
	}
	var walk func(*imap.SearchCriteria) error
	walk = func(c *imap.SearchCriteria) error {
		for _, n := range c.Not {
			if n == nil {
				return fmt.Errorf("%w: nil NOT criteria", ErrBadArgument)
			}
			if err := walk(n); err != nil {
				return err
			}
		}
		for _, o := range c.Or {
			if o[0] == nil || o[1] == nil {
				return fmt.Errorf("%w: nil OR criteria", ErrBadArgument)
			}
			if err := walk(o[0]); err != nil {
				return err
			}
			if err := walk(o[1]); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c)
}

// searchCharset returns "UTF-8" when crit holds 8-bit strings and UTF8=ACCEPT
// is not enabled, else "" (after ENABLE UTF8=ACCEPT strings are UTF-8
// without a CHARSET, RFC 6855 §3).
func (c *Client) searchCharset(crit *imap.SearchCriteria) string {
	if c.UTF8Enabled() {
		return ""
	}
	for _, s := range crit.Strings() {
		if has8Bit(s) {
			return "UTF-8"
		}
	}
	return ""
}

func has8Bit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// systemSearchKeys maps system flags to their SEARCH keys (set, clear).
var systemSearchKeys = map[string][2]string{
	`\SEEN`: {"SEEN", "UNSEEN"}, `\ANSWERED`: {"ANSWERED", "UNANSWERED"},
	`\FLAGGED`: {"FLAGGED", "UNFLAGGED"}, `\DELETED`: {"DELETED", "UNDELETED"},
	`\DRAFT`: {"DRAFT", "UNDRAFT"}, `\RECENT`: {"RECENT", "OLD"},
}

// encodeCriteria writes " key key ..." for crit ("ALL" when empty). Errors
// (a keyword that is not an atom, a string with NUL, CR or LF) are left in
// the encoder.
func encodeCriteria(e *encoder, crit *imap.SearchCriteria) {
	e.SP()
	encodeKeys(e, crit)
}

// encodeKeys writes "key key ..." for crit, with no leading space.
func encodeKeys(e *encoder, crit *imap.SearchCriteria) {
	if crit.IsEmpty() {
		e.Raw("ALL")
		return
	}
	first := true
	key := func(k string) *encoder {
		if !first {
			e.SP()
		}
		first = false
		return e.Raw(k)
	}
	for _, s := range crit.SeqNums {
		key(s.String())
	}
	for _, s := range crit.UIDs {
		key("UID").SP().Raw(s.String())
	}
	for _, f := range []struct {
		key  string
		vals []string
	}{{"FROM", crit.From}, {"TO", crit.To}, {"CC", crit.Cc}, {"BCC", crit.Bcc},
		{"SUBJECT", crit.Subject}, {"BODY", crit.Body}, {"TEXT", crit.Text}} {
		for _, v := range f.vals {
			key(f.key).SP().AString(v)
		}
	}
	for _, h := range crit.Header {
		key("HEADER").SP().AString(h.Name).SP().AString(h.Value)
	}
	for _, d := range []struct {
		key string
		t   time.Time
	}{{"SINCE", crit.Since}, {"BEFORE", crit.Before}, {"ON", crit.On},
		{"SENTSINCE", crit.SentSince}, {"SENTBEFORE", crit.SentBefore}, {"SENTON", crit.SentOn}} {
		if !d.t.IsZero() {
			key(d.key).SP().Raw(imap.SearchDate(d.t))
		}
	}
	if crit.Larger > 0 {
		key("LARGER").SP().Number(uint64(crit.Larger))
	}
	if crit.Smaller > 0 {
		key("SMALLER").SP().Number(uint64(crit.Smaller))
	}
	for i, l := range [][]imap.Flag{crit.Flags, crit.NotFlags} {
		for _, f := range l {
			if k, ok := systemSearchKeys[strings.ToUpper(string(f))]; ok {
				key(k[i])
				continue
			}
			key([]string{"KEYWORD", "UNKEYWORD"}[i]).SP().Atom(string(f))
		}
	}
	if crit.ModSeq > 0 {
		key("MODSEQ").SP().Number(crit.ModSeq)
	}
	for _, n := range crit.Not {
		key("NOT").SP()
		encodeNested(e, n)
	}
	for _, o := range crit.Or {
		key("OR").SP()
		encodeNested(e, o[0])
		e.SP()
		encodeNested(e, o[1])
	}
}

// encodeNested writes "(key ...)".
func encodeNested(e *encoder, crit *imap.SearchCriteria) {
	e.Bytes([]byte("("))
	encodeKeys(e, crit)
	e.Bytes([]byte(")"))
}
