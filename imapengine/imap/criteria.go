package imap

import "time"

// SearchCriteria is a typed SEARCH program (RFC 3501 §6.4.4, RFC 9051
// §6.4.4): every field that is set must match (AND); Not and Or nest. The
// zero value matches every message (ALL).
//
// Dates compare by day, in the server's notion of the date (RFC 3501 ignores
// time and zone): only the year, month and day of a time.Time are sent.
// String criteria match substrings, case-insensitively on most servers.
type SearchCriteria struct {
	// SeqNums and UIDs restrict the match to these sequence numbers or UIDs
	// (each set is a separate, ANDed key).
	SeqNums []SeqSet
	UIDs    []UIDSet

	// Address and text fields: substring matches (FROM, TO, CC, BCC,
	// SUBJECT, BODY, TEXT). Each entry is a separate, ANDed key.
	From, To, Cc, Bcc, Subject, Body, Text []string
	// Header matches a header field's value (HEADER name value); an empty
	// Value matches every message that has the field.
	Header []HeaderMatch

	// Internal-date bounds: SINCE (on or after), BEFORE (strictly before),
	// ON (that day).
	Since, Before, On time.Time
	// Date: header bounds: SENTSINCE, SENTBEFORE, SENTON.
	SentSince, SentBefore, SentOn time.Time

	// Larger and Smaller bound RFC822.SIZE (LARGER n: size > n; SMALLER n:
	// size < n); 0 means unset.
	Larger, Smaller uint32

	// Flags must all be set and NotFlags all be clear. System flags map to
	// SEEN, UNSEEN, ANSWERED, ... (\Recent to RECENT and OLD); other flags
	// are keywords (KEYWORD, UNKEYWORD).
	Flags, NotFlags []Flag

	// ModSeq, when not 0, matches messages with MODSEQ >= ModSeq (RFC 7162;
	// CONDSTORE).
	ModSeq uint64

	// Not holds criteria that must each fail to match (NOT).
	Not []*SearchCriteria
	// Or holds pairs of which one or both must match (OR a b).
	Or [][2]*SearchCriteria
}

// HeaderMatch is one HEADER criterion.
type HeaderMatch struct {
	Name, Value string
}

// IsEmpty reports whether c matches every message (no key is set).
func (c *SearchCriteria) IsEmpty() bool {
	if c == nil {
		return true
	}
	return len(c.SeqNums) == 0 && len(c.UIDs) == 0 && len(c.From) == 0 && len(c.To) == 0 &&
		len(c.Cc) == 0 && len(c.Bcc) == 0 && len(c.Subject) == 0 && len(c.Body) == 0 &&
		len(c.Text) == 0 && len(c.Header) == 0 && c.Since.IsZero() && c.Before.IsZero() &&
		c.On.IsZero() && c.SentSince.IsZero() && c.SentBefore.IsZero() && c.SentOn.IsZero() &&
		c.Larger == 0 && c.Smaller == 0 && len(c.Flags) == 0 && len(c.NotFlags) == 0 &&
		c.ModSeq == 0 && len(c.Not) == 0 && len(c.Or) == 0
}

// Strings returns every string argument of c and its nested criteria (for
// deciding whether a CHARSET is needed).
func (c *SearchCriteria) Strings() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, l := range [][]string{c.From, c.To, c.Cc, c.Bcc, c.Subject, c.Body, c.Text} {
		out = append(out, l...)
	}
	for _, h := range c.Header {
		out = append(out, h.Name, h.Value)
	}
	for _, n := range c.Not {
		out = append(out, n.Strings()...)
	}
	for _, o := range c.Or {
		out = append(out, o[0].Strings()...)
		out = append(out, o[1].Strings()...)
	}
	return out
}

// Depth returns the nesting depth of c (1 for criteria without Not or Or).
func (c *SearchCriteria) Depth() int {
	if c == nil {
		return 0
	}
	d := 0
	for _, n := range c.Not {
		d = max(d, n.Depth())
	}
	for _, o := range c.Or {
		d = max(d, o[0].Depth(), o[1].Depth())
	}
	return d + 1
}

// SearchDate formats t as an IMAP search date ("2-Jan-2006").
func SearchDate(t time.Time) string {
	return t.Format("2-Jan-2006")
}

// SortKey is one SORT criterion (RFC 5256 §3), optionally reversed.
type SortKey struct {
	// Field is one of the SortBy constants.
	Field SortField
	// Reverse reverses this key's order.
	Reverse bool
}

// SortField names a SORT key.
type SortField string

// The SORT keys of RFC 5256 (and RFC 5957 DISPLAYFROM/DISPLAYTO).
const (
	SortArrival     SortField = "ARRIVAL" // internal date
	SortCc          SortField = "CC"      // first Cc mailbox
	SortDate        SortField = "DATE"    // Date: header (internal date when absent)
	SortFrom        SortField = "FROM"    // first From mailbox
	SortSize        SortField = "SIZE"    // RFC822.SIZE
	SortSubject     SortField = "SUBJECT" // base subject (RFC 5256 §2.1)
	SortTo          SortField = "TO"      // first To mailbox
	SortDisplayFrom SortField = "DISPLAYFROM"
	SortDisplayTo   SortField = "DISPLAYTO"
)

// ThreadAlgorithm names a THREAD algorithm (RFC 5256 §3).
type ThreadAlgorithm string

// The THREAD algorithms.
const (
	ThreadOrderedSubject ThreadAlgorithm = "ORDEREDSUBJECT"
	ThreadReferences     ThreadAlgorithm = "REFERENCES"
)

// ThreadNode is one node of a THREAD result: a message and its replies. UID
// is 0 for a missing parent that groups siblings (RFC 5256 "(( 3)(5))").
type ThreadNode struct {
	UID      UID
	Children []*ThreadNode
}

// Count returns the number of messages (nodes with a UID) in the subtree.
func (n *ThreadNode) Count() int {
	if n == nil {
		return 0
	}
	c := 0
	if n.UID != 0 {
		c = 1
	}
	for _, ch := range n.Children {
		c += ch.Count()
	}
	return c
}
