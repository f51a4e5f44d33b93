package imap

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
	"github.com/imapbridge/imapbridge/imapengine/internal/mutf7"
)

// ListData is one LIST or LSUB response (RFC 3501 §7.2.2, RFC 5258,
// RFC 6154).
type ListData struct {
	// Attrs are the name attributes as sent, e.g. `\HasNoChildren`,
	// `\Noselect`, `\Sent`.
	Attrs []string
	// Delim is the hierarchy delimiter, "" for NIL (flat namespace).
	Delim string
	// Name is the mailbox name decoded from modified UTF-7 (or checked as
	// UTF-8 in UTF-8 mode). If it cannot be decoded, Name is the raw name
	// with invalid bytes replaced and NameErr is set. "INBOX" is
	// normalised to upper case.
	Name string
	// RawName is the name exactly as sent; use it to address the mailbox
	// in later commands.
	RawName []byte
	// NameErr is set (wrapping ErrBadMailboxName) when the name could not
	// be decoded. It is not a parse error: the entry is usable via RawName.
	NameErr error
	// OldName is the OLDNAME extended item (RFC 5465), decoded like Name.
	OldName string
	// ChildInfo lists the CHILDINFO extended item (RFC 5258), e.g.
	// "SUBSCRIBED".
	ChildInfo []string
	// Status is the STATUS of this mailbox returned with LIST-STATUS
	// (RFC 5819). ParseList leaves it nil: the server sends it as a
	// separate STATUS response, which the caller attaches.
	Status *StatusData
}

// Special-use attributes of RFC 6154, and \Important of RFC 8457 (Gmail sends it).
var specialUse = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`, `\Important`}

// HasAttr reports whether attr (compared case-insensitively) is among
// l.Attrs.
func (l *ListData) HasAttr(attr string) bool {
	for _, a := range l.Attrs {
		if strings.EqualFold(a, attr) {
			return true
		}
	}
	return false
}

// SpecialUse returns the RFC 6154 special-use attribute of the mailbox
// (`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`,
// `\Trash`) in that spelling, or "".
func (l *ListData) SpecialUse() string {
	for _, su := range specialUse {
		if l.HasAttr(su) {
			return su
		}
	}
	return ""
}

// NoSelect reports whether the mailbox cannot be selected (`\Noselect` or
// `\NonExistent`).
func (l *ListData) NoSelect() bool {
	return l.HasAttr(`\Noselect`) || l.HasAttr(`\NonExistent`)
}

// HasChildren reports whether the server said the mailbox has children
// (`\HasChildren`).
func (l *ListData) HasChildren() bool { return l.HasAttr(`\HasChildren`) }

// ParseList parses "* LIST (attrs) delim name [extended]" and the same
// for LSUB. utf8 says whether UTF8=ACCEPT is enabled (names are UTF-8,
// not modified UTF-7). A name that cannot be decoded is not an error: see
// ListData.NameErr (security.md B9).
func ParseList(resp *imapwire.Response, l imapwire.Limits, utf8 bool) (*ListData, error) {
	kind := rawName(resp)
	if kind != "LIST" && kind != "LSUB" {
		return nil, unexpected("LIST", kind)
	}
	p := newParser(resp, l, kind)
	p.untagged()
	p.s.SP()
	ld := &ListData{Attrs: []string{}}
	p.s.List(func() {
		v := p.value()
		switch v.Kind {
		case imapwire.ValueAtom:
			ld.Attrs = append(ld.Attrs, v.Atom)
		default:
			if p.s.Err() == nil {
				p.failf("attribute is a %s", v.Kind)
			}
		}
	})
	p.s.SP()
	if d, ok := p.s.NString(); ok {
		ld.Delim = string(d)
	}
	p.s.SP()
	raw := p.s.AString()
	ld.RawName = append([]byte(nil), raw...)
	ld.Name, ld.NameErr = DecodeMailbox(raw, utf8)
	if p.s.Byte(' ') {
		p.listExtended(ld, utf8)
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return ld, nil
}

// listExtended reads the mbox-list-extended items of RFC 5258.
func (p *parser) listExtended(ld *ListData, utf8 bool) {
	s := p.s
	i := 0
	var tag string
	s.List(func() {
		if i%2 == 0 {
			tag = upper(string(s.AString()))
			i++
			return
		}
		i++
		switch tag {
		case "CHILDINFO":
			s.List(func() { ld.ChildInfo = append(ld.ChildInfo, upper(string(s.AString()))) })
		case "OLDNAME":
			s.List(func() { ld.OldName, _ = DecodeMailbox(s.AString(), utf8) })
		default:
			p.s.Skip()
		}
	})
}

// DecodeMailbox decodes a mailbox name as sent by the server: modified
// UTF-7, or UTF-8 when utf8Mode is set. A name that is not valid is
// returned with invalid bytes replaced by U+FFFD (raw 8-bit UTF-8 sent
// without UTF-8 mode is kept as such) and an error wrapping
// ErrBadMailboxName. "INBOX" in any case is returned as "INBOX".
func DecodeMailbox(raw []byte, utf8Mode bool) (string, error) {
	if strings.EqualFold(string(raw), "INBOX") {
		return "INBOX", nil
	}
	if utf8Mode {
		if utf8.Valid(raw) {
			return string(raw), nil
		}
		s, _ := validUTF8(raw)
		return s, fmt.Errorf("%w: %.60q is not UTF-8", ErrBadMailboxName, raw)
	}
	name, err := mutf7.Decode(string(raw))
	if err != nil {
		s, _ := validUTF8(raw)
		return s, fmt.Errorf("%w: %w", ErrBadMailboxName, err)
	}
	return name, nil
}
