package imap

import (
	"fmt"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// CopyUID is the COPYUID response code of COPY and MOVE (RFC 4315 §3):
// the message with the n-th UID of Source now has the n-th UID of Dest.
type CopyUID struct {
	// UIDValidity is the destination mailbox's UIDVALIDITY.
	UIDValidity uint32
	// Source and Dest are the UIDs in the source and destination
	// mailboxes, kept as ranges.
	Source, Dest UIDSet
}

// ParseCopyUID parses the argument of a COPYUID code, "uidvalidity
// source-set dest-set" (as returned in arg by ParseResponseCode). A "*"
// in the sets is accepted here; Mapping refuses it.
func ParseCopyUID(arg string) (*CopyUID, error) {
	p := newParser(codeResponse(arg), imapwire.Limits{}, "COPYUID")
	c := &CopyUID{UIDValidity: p.s.Number()}
	p.s.SP()
	c.Source = UIDSet(fromWire(p.s.SeqSet()))
	p.s.SP()
	c.Dest = UIDSet(fromWire(p.s.SeqSet()))
	if err := p.finish(); err != nil {
		return nil, err
	}
	return c, nil
}

// Mapping pairs the source and destination UIDs. It refuses, before
// allocating, sets that use "*" or differ in size (ErrNoMapping) and sets
// of more than max members (ErrSetTooLarge).
func (c *CopyUID) Mapping(max int) (map[UID]UID, error) {
	ns, ok1 := c.Source.Count()
	nd, ok2 := c.Dest.Count()
	switch {
	case !ok1 || !ok2:
		return nil, fmt.Errorf("%w: set contains *", ErrNoMapping)
	case ns != nd:
		return nil, fmt.Errorf("%w: %d source and %d destination UIDs", ErrNoMapping, ns, nd)
	case max < 0 || ns > uint64(max):
		return nil, fmt.Errorf("%w: %d members, limit %d", ErrSetTooLarge, ns, max)
	}
	src, _ := c.Source.Expand(max)
	dst, _ := c.Dest.Expand(max)
	m := make(map[UID]UID, len(src))
	for i, u := range src {
		m[u] = dst[i]
	}
	return m, nil
}

// AppendUID is the APPENDUID response code of APPEND (RFC 4315 §3).
type AppendUID struct {
	// UIDValidity is the destination mailbox's UIDVALIDITY.
	UIDValidity uint32
	// UID is the UID of the appended message; 0 when several messages
	// were appended (MULTIAPPEND, RFC 3502), see UIDs.
	UID UID
	// UIDs is the set of appended UIDs (one range for a single UID).
	UIDs UIDSet
}

// ParseAppendUID parses the argument of an APPENDUID code,
// "uidvalidity uid-set". A "*" is malformed here.
func ParseAppendUID(arg string) (*AppendUID, error) {
	p := newParser(codeResponse(arg), imapwire.Limits{}, "APPENDUID")
	a := &AppendUID{UIDValidity: p.s.Number()}
	p.s.SP()
	a.UIDs = UIDSet(fromWire(p.s.SeqSet()))
	if err := p.finish(); err != nil {
		return nil, err
	}
	if a.UIDs.HasWildcard() {
		return nil, &ParseError{Response: "APPENDUID", Msg: "UID set contains *"}
	}
	if len(a.UIDs) == 1 && a.UIDs[0].Start == a.UIDs[0].Stop {
		a.UID = UID(a.UIDs[0].Start)
	}
	return a, nil
}
