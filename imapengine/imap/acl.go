package imap

import "github.com/imapbridge/imapbridge/imapengine/internal/imapwire"

// ACLEntry is one identifier and its rights, e.g. "fred" and "lrswipcda".
type ACLEntry struct {
	Identifier, Rights string
}

// ACL is an ACL response (RFC 4314 §3.6).
type ACL struct {
	// Mailbox is the mailbox name as sent.
	Mailbox string
	// Entries are the identifier/rights pairs in the order sent.
	Entries []ACLEntry
}

// ParseACL parses "* ACL mailbox identifier rights ...".
func ParseACL(resp *imapwire.Response, l imapwire.Limits) (*ACL, error) {
	p := newParser(resp, l, "ACL")
	if err := p.expectUntagged("ACL"); err != nil {
		return nil, err
	}
	s := p.s
	s.SP()
	a := &ACL{Mailbox: p.astring(), Entries: []ACLEntry{}}
	for s.Byte(' ') && !s.AtEnd() {
		id := p.astring()
		s.SP()
		a.Entries = append(a.Entries, ACLEntry{Identifier: id, Rights: p.astring()})
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return a, nil
}

// MyRights is a MYRIGHTS response (RFC 4314 §3.8).
type MyRights struct {
	// Mailbox is the mailbox name as sent; Rights the current user's
	// rights on it.
	Mailbox, Rights string
}

// ParseMyRights parses "* MYRIGHTS mailbox rights".
func ParseMyRights(resp *imapwire.Response, l imapwire.Limits) (*MyRights, error) {
	p := newParser(resp, l, "MYRIGHTS")
	if err := p.expectUntagged("MYRIGHTS"); err != nil {
		return nil, err
	}
	p.s.SP()
	m := &MyRights{Mailbox: p.astring()}
	p.s.SP()
	m.Rights = p.astring()
	if err := p.finish(); err != nil {
		return nil, err
	}
	return m, nil
}
