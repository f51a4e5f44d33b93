package imap

import "github.com/imapbridge/imapbridge/imapengine/internal/imapwire"

// Metadata is a METADATA response (RFC 5464 §4.4).
type Metadata struct {
	// Mailbox is the mailbox name as sent, "" for server annotations.
	Mailbox string
	// Entries maps entry names (e.g. "/private/comment") to values; a nil
	// value means NIL (the entry does not exist). Values are copies.
	Entries map[string][]byte
	// Changed lists entry names of an unsolicited METADATA response
	// (RFC 5464 §4.4.2), which carries names without values.
	Changed []string
}

// ParseMetadata parses "* METADATA mailbox (entry value ...)" and the
// unsolicited "* METADATA mailbox entry ...".
func ParseMetadata(resp *imapwire.Response, l imapwire.Limits) (*Metadata, error) {
	p := newParser(resp, l, "METADATA")
	if err := p.expectUntagged("METADATA"); err != nil {
		return nil, err
	}
	s := p.s
	s.SP()
	md := &Metadata{Mailbox: p.astring(), Entries: map[string][]byte{}}
	s.SP()
	if c, _ := s.Peek(); c == '(' {
		i := 0
		var key string
		s.List(func() {
			if i%2 == 0 {
				key = p.astring()
			} else if v, ok := s.NString(); ok {
				md.Entries[key] = append(make([]byte, 0, len(v)), v...)
			} else if s.Err() == nil {
				md.Entries[key] = nil
			}
			i++
		})
		if s.Err() == nil && i%2 != 0 {
			p.failf("entry without value")
		}
	} else {
		md.Changed = append(md.Changed, p.astring())
		for s.Byte(' ') && !s.AtEnd() {
			md.Changed = append(md.Changed, p.astring())
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return md, nil
}

// MaxIDFields is the most field/value pairs kept from an ID response
// (RFC 2971 §3.3 allows a server at most 30); further pairs are skipped.
const MaxIDFields = 30

// ID is the server's ID response (RFC 2971): field names (as sent) to
// values, a nil value for NIL. The map itself is nil when the server sent
// "* ID NIL".
type ID map[string]*string

// ParseID parses "* ID ("name" "Dovecot" "version" NIL)" or "* ID NIL".
// Text is made valid UTF-8.
func ParseID(resp *imapwire.Response, l imapwire.Limits) (ID, error) {
	p := newParser(resp, l, "ID")
	if err := p.expectUntagged("ID"); err != nil {
		return nil, err
	}
	s := p.s
	s.SP()
	var id ID
	i := 0
	var key string
	var lossy bool
	if s.List(func() {
		if i%2 == 0 {
			key = p.nstring(&lossy)
		} else if v, ok := s.NString(); i/2 < MaxIDFields {
			if id == nil {
				id = ID{}
			}
			if ok {
				str, _ := validUTF8(v)
				id[key] = &str
			} else {
				id[key] = nil
			}
		}
		i++
	}) && id == nil {
		id = ID{}
	}
	if s.Err() == nil && i%2 != 0 {
		p.failf("field without value")
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return id, nil
}
