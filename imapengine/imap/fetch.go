package imap

import (
	"slices"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// BodySection is one BODY[section]<origin>, BINARY[section]<origin> or
// RFC822* item of a FETCH response. It is 48 bytes (the section
// specification is read from Item, not stored beside it): a response of many
// tiny sections then costs at most about three times its wire size once
// parsed (issue 20 item 4).
type BodySection struct {
	// Item is the item name as sent, e.g. "BODY[1.2]<0>" or "RFC822"; Spec
	// returns the section specification in it.
	Item string
	// Data is the section's content. A literal's aliases the parsed
	// Response (no copy is made), so it stays valid as long as the
	// Response's buffers are not reused; a quoted string's is a copy.
	Data []byte
	// Origin is the offset of Data in the section when Partial is set.
	Origin uint32
	// Partial is set when the server sent an origin "<n>".
	Partial bool
	// NIL is set when the server sent NIL instead of data.
	NIL bool
	// Binary is set for BINARY[...] items (RFC 3516): Data is decoded
	// from its content-transfer-encoding and may contain NUL.
	Binary bool
}

// Spec returns the section specification between the brackets of Item, e.g.
// "HEADER.FIELDS (DATE FROM)" or "1.2"; "" for BODY[] and RFC822.
// RFC822.HEADER is reported as "HEADER" and RFC822.TEXT as "TEXT".
func (b BodySection) Spec() string {
	open := strings.IndexByte(b.Item, '[')
	if open < 0 {
		switch {
		case strings.EqualFold(b.Item, "RFC822.HEADER"):
			return "HEADER"
		case strings.EqualFold(b.Item, "RFC822.TEXT"):
			return "TEXT"
		}
		return ""
	}
	rest := b.Item[open+1:]
	if end := strings.LastIndexByte(rest, ']'); end >= 0 {
		return rest[:end]
	}
	return ""
}

// Message is the data of one FETCH response.
type Message struct {
	// Seq is the message sequence number.
	Seq SeqNum
	// UID is the UID, 0 if not sent.
	UID UID
	// Flags are the flags; HasFlags says whether FLAGS was sent (an
	// empty list is a valid answer).
	Flags    []Flag
	HasFlags bool
	// InternalDate is INTERNALDATE, zero if not sent.
	InternalDate time.Time
	// Size is RFC822.SIZE; HasSize says whether it was sent.
	Size    uint32
	HasSize bool
	// Envelope is ENVELOPE, nil if not sent or NIL.
	Envelope *Envelope
	// BodyStructure is BODYSTRUCTURE (or the non-extensible BODY).
	BodyStructure *BodyStructure
	// Sections are the body sections, in the order sent.
	Sections []BodySection
	// BinarySize maps a section spec to its BINARY.SIZE (RFC 3516).
	BinarySize map[string]uint32
	// ModSeq is MODSEQ (RFC 7162), 0 if not sent.
	ModSeq uint64
	// EmailID and ThreadID are EMAILID and THREADID (RFC 8474).
	EmailID, ThreadID string
	// GmailMsgID and GmailThreadID are Gmail's X-GM-MSGID and X-GM-THRID
	// (X-GM-EXT-1), 0 if not sent.
	GmailMsgID, GmailThreadID uint64
	// GmailLabels is X-GM-LABELS as sent (system labels keep their
	// backslash, e.g. `\Inbox`; user labels are astrings, in modified
	// UTF-7 like mailbox names); HasGmailLabels says whether it was sent
	// (an empty list is a valid answer).
	GmailLabels    []string
	HasGmailLabels bool
	// Err is the first malformed item. Items before it are kept; the
	// rest of this message may be missing.
	Err error
}

// Section returns the first section whose Spec equals spec (compared
// case-insensitively), or nil.
func (m *Message) Section(spec string) *BodySection {
	for i := range m.Sections {
		if strings.EqualFold(m.Sections[i].Spec(), spec) {
			return &m.Sections[i]
		}
	}
	return nil
}

// internalDateLayout is the date-time of RFC 3501 (day may be
// space-padded).
const internalDateLayout = "_2-Jan-2006 15:04:05 -0700"

// ParseFetch parses "* n FETCH (...)". It returns an error wrapping
// ErrUnexpectedResponse if resp is not a FETCH response, and one wrapping
// ErrMalformed if the sequence number is missing, zero or out of range.
// A malformed item does not fail the call: it is reported in Message.Err,
// and the items before it are kept.
func ParseFetch(resp *imapwire.Response, l imapwire.Limits) (*Message, error) {
	if kind := rawName(resp); kind != "FETCH" {
		return nil, unexpected("FETCH", kind)
	}
	p := newParser(resp, l, "FETCH")
	num, _, _ := p.untagged()
	if err := p.err(); err != nil {
		return nil, err
	}
	if num <= 0 {
		return nil, &ParseError{Response: "FETCH", Msg: "no sequence number"}
	}
	m := &Message{Seq: SeqNum(num)}
	p.s.SP()
	aborted := false
	p.s.List(func() {
		if aborted {
			p.s.Skip()
			return
		}
		v := p.value()
		if v.Kind != imapwire.ValueAtom {
			if p.s.Err() == nil {
				p.failf("item name is a %s", v.Kind)
			}
			aborted = true
			return
		}
		p.item = v.Atom
		p.s.SP()
		p.fetchItem(m, v.Atom)
	})
	if cap(m.Sections) > len(m.Sections) {
		m.Sections = slices.Clip(slices.Clone(m.Sections)) // drop append's slack
	}
	if err := p.finish(); err != nil {
		m.Err = err
	}
	return m, nil
}

// fetchItem reads the value of one FETCH item.
func (p *parser) fetchItem(m *Message, key string) {
	s := p.s
	switch upper(key) {
	case "UID":
		m.UID = UID(p.number32("UID"))
	case "FLAGS":
		m.HasFlags = true
		m.Flags = p.flagList()
	case "RFC822.SIZE":
		m.Size, m.HasSize = p.number32("RFC822.SIZE"), true
	case "INTERNALDATE":
		b, _ := s.NString()
		if s.Err() != nil {
			return
		}
		t, err := time.Parse(internalDateLayout, strings.TrimSpace(string(b)))
		if err != nil {
			p.failf("bad date-time %.40q", b)
			return
		}
		m.InternalDate = t
	case "ENVELOPE":
		m.Envelope = p.envelope()
	case "BODYSTRUCTURE", "BODY":
		m.BodyStructure = p.bodyStructure()
	case "MODSEQ":
		s.List(func() { m.ModSeq = p.number64("MODSEQ") })
	case "EMAILID", "THREADID":
		var id string
		if c, _ := s.Peek(); c == '(' {
			s.List(func() { id = p.astring() })
		} else {
			b, _ := s.NString()
			id = string(b)
		}
		if upper(key) == "EMAILID" {
			m.EmailID = id
		} else {
			m.ThreadID = id
		}
	case "X-GM-MSGID":
		m.GmailMsgID = p.number64("X-GM-MSGID")
	case "X-GM-THRID":
		m.GmailThreadID = p.number64("X-GM-THRID")
	case "X-GM-LABELS":
		m.HasGmailLabels = true
		m.GmailLabels = p.labelList()
	case "RFC822", "RFC822.HEADER", "RFC822.TEXT":
		p.section(m, key, false)
	default:
		p.otherItem(m, key)
	}
}

// otherItem handles items whose name carries a section: BODY[...],
// BINARY[...], BINARY.SIZE[...]; anything else is skipped.
func (p *parser) otherItem(m *Message, key string) {
	open := strings.IndexByte(key, '[')
	if open < 0 {
		p.s.Skip() // unknown item (PREVIEW, ...): skipped
		return
	}
	name := upper(key[:open])
	rest := key[open+1:]
	closeAt := strings.LastIndexByte(rest, ']')
	if closeAt < 0 {
		p.s.Skip()
		p.failf("no ] in item name")
		return
	}
	spec, tail := rest[:closeAt], rest[closeAt+1:]
	switch name {
	case "BODY", "BINARY":
		bs := p.section(m, key, name == "BINARY")
		if tail == "" || bs == nil {
			return
		}
		origin, ok := parseOrigin(tail)
		if !ok {
			p.failf("bad origin %.40q", tail)
			return
		}
		bs.Partial, bs.Origin = true, origin
	case "BINARY.SIZE":
		n := p.number32("BINARY.SIZE")
		if m.BinarySize == nil {
			m.BinarySize = map[string]uint32{}
		}
		m.BinarySize[spec] = n
	default:
		p.s.Skip()
	}
}

// section reads an nstring into a new BodySection of m and returns it.
func (p *parser) section(m *Message, key string, binary bool) *BodySection {
	b, isStr := p.s.NStringKeep() // a quoted value must not keep its line
	if p.s.Err() != nil {
		return nil
	}
	m.Sections = append(m.Sections, BodySection{Item: key, Data: b, NIL: !isStr, Binary: binary})
	return &m.Sections[len(m.Sections)-1]
}

// parseOrigin parses "<digits>" after a section.
func parseOrigin(t string) (uint32, bool) {
	if len(t) < 3 || t[0] != '<' || t[len(t)-1] != '>' {
		return 0, false
	}
	d := t[1 : len(t)-1]
	if len(d) > imapwire.MaxNumberDigits {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		v = v*10 + uint64(d[i]-'0')
	}
	if v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// flagList reads a parenthesised list of flags (NIL tolerated as empty).
func (p *parser) flagList() []Flag {
	// Count first, so the slice is allocated once at its size (append's
	// growth would allocate several times the list's wire size).
	save := *p.s
	n := 0
	p.s.List(func() { n++; p.s.Skip() })
	*p.s = save
	flags := make([]Flag, 0, n)
	p.s.List(func() {
		v := p.value()
		switch v.Kind {
		case imapwire.ValueAtom:
			flags = append(flags, Flag(v.Atom))
		case imapwire.ValueNIL, imapwire.ValueList:
			if p.s.Err() == nil {
				p.failf("flag is a %s", v.Kind)
			}
		default:
			// A number or a string: keep its text, as some servers send
			// keywords that way.
			if v.Kind == imapwire.ValueNumber {
				flags = append(flags, Flag(formatUint(v.Num)))
			} else {
				flags = append(flags, Flag(v.Bytes))
			}
		}
	})
	return flags
}

// labelList reads X-GM-LABELS: a list of atoms (`\Inbox`, `Important`) and
// strings ("Muy Importante").
func (p *parser) labelList() []string {
	labels := []string{}
	p.s.List(func() {
		v := p.value()
		switch v.Kind {
		case imapwire.ValueAtom:
			labels = append(labels, v.Atom)
		case imapwire.ValueString:
			labels = append(labels, string(v.Bytes))
		case imapwire.ValueNumber:
			labels = append(labels, formatUint(v.Num))
		default:
			if p.s.Err() == nil {
				p.failf("X-GM-LABELS: a label is a %s", v.Kind)
			}
		}
	})
	return labels
}
