package imap

import "github.com/imapbridge/imapbridge/imapengine/internal/imapwire"

// Vanished is a VANISHED response (RFC 7162 §3.2.10): UIDs expunged, or,
// with Earlier, UIDs reported as gone in answer to a QRESYNC or UID FETCH
// (VANISHED). The set stays ranges.
type Vanished struct {
	// Earlier is set for "VANISHED (EARLIER)".
	Earlier bool
	// UIDs are the expunged UIDs.
	UIDs UIDSet
}

// ParseVanished parses "* VANISHED [(EARLIER)] uid-set".
func ParseVanished(resp *imapwire.Response, l imapwire.Limits) (*Vanished, error) {
	p := newParser(resp, l, "VANISHED")
	if err := p.expectUntagged("VANISHED"); err != nil {
		return nil, err
	}
	s := p.s
	s.SP()
	v := &Vanished{}
	if c, _ := s.Peek(); c == '(' {
		s.List(func() {
			if upper(s.Atom()) == "EARLIER" {
				v.Earlier = true
			}
		})
		s.SP()
	}
	v.UIDs = UIDSet(fromWire(s.SeqSet()))
	if err := p.finish(); err != nil {
		return nil, err
	}
	return v, nil
}

// ParseEnabled parses "* ENABLED CONDSTORE QRESYNC" (RFC 5161).
func ParseEnabled(resp *imapwire.Response, l imapwire.Limits) (Enabled, error) {
	p := newParser(resp, l, "ENABLED")
	if err := p.expectUntagged("ENABLED"); err != nil {
		return nil, err
	}
	e := Enabled{}
	for p.s.Byte(' ') && !p.s.AtEnd() {
		e = append(e, upper(p.s.Atom()))
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Has reports whether capability c (compared case-insensitively) is in e.
func (e Enabled) Has(c string) bool {
	c = upper(c)
	for _, x := range e {
		if x == c {
			return true
		}
	}
	return false
}
