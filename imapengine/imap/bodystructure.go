package imap

import (
	"strconv"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// BodyStructure is one part of a message's MIME structure (RFC 3501
// §7.4.2 BODYSTRUCTURE), as a tree. Type, Subtype, parameter keys and the
// disposition are lower-case; parameter values are decoded to UTF-8
// (RFC 2231 continuations and charsets, RFC 2047 words in names).
type BodyStructure struct {
	// PartNumber is the section number to fetch this part with
	// (RFC 3501 §6.4.5): "1" for a non-multipart message, "" for the
	// root multipart, "1.2" for the second child of the first part. The
	// body of a message/rfc822 part "3" is "3.1" when it is a single part;
	// when it is multipart it shares the number "3" and its children are
	// "3.1", "3.2", ....
	PartNumber string
	// Type and Subtype are the media type, e.g. "text" and "plain".
	Type, Subtype string
	// Params are the body parameters, e.g. "charset" or "boundary".
	Params map[string]string
	// ID, Description and Encoding are Content-ID, Content-Description
	// and Content-Transfer-Encoding (Encoding lower-cased). Single parts
	// only.
	ID, Description, Encoding string
	// Size is the encoded size in bytes. Single parts only.
	Size uint32
	// Lines is the size in lines of text/* and message/rfc822 parts.
	Lines uint32
	// MD5 is the Content-MD5 value (extension data).
	MD5 string
	// Disposition is the Content-Disposition type, e.g. "attachment".
	Disposition string
	// DispositionParams are the disposition parameters, e.g. "filename".
	DispositionParams map[string]string
	// Language lists the Content-Language tags.
	Language []string
	// Location is the Content-Location URI.
	Location string
	// Parts are the children of a multipart.
	Parts []*BodyStructure
	// Envelope is the envelope of a message/rfc822 part.
	Envelope *Envelope
	// Message is the body of a message/rfc822 part.
	Message *BodyStructure
	// Lossy is set when a parameter was not valid UTF-8 or was in an
	// undecodable charset.
	Lossy bool
}

// IsMultipart reports whether b is a multipart.
func (b *BodyStructure) IsMultipart() bool { return b.Type == "multipart" }

// MediaType returns "type/subtype".
func (b *BodyStructure) MediaType() string { return b.Type + "/" + b.Subtype }

// Filename returns the disposition's filename parameter, else the type's
// name parameter, else "". It is the decoded name; sanitize it before
// using it as a path.
func (b *BodyStructure) Filename() string {
	if f := b.DispositionParams["filename"]; f != "" {
		return f
	}
	return b.Params["name"]
}

// IsAttachment reports whether b is meant to be saved rather than shown:
// its disposition is "attachment", or it has no disposition, is not a
// multipart or text part, and has a filename.
func (b *BodyStructure) IsAttachment() bool {
	switch {
	case b.Disposition == "attachment":
		return true
	case b.Disposition != "" || b.IsMultipart() || b.Type == "text":
		return false
	}
	return b.Filename() != ""
}

// Walk calls fn for b and then for each descendant, depth first in part
// order (a message/rfc822 part's body follows the part). If fn returns
// false the descendants of that part are skipped.
func (b *BodyStructure) Walk(fn func(*BodyStructure) bool) {
	if b == nil || !fn(b) {
		return
	}
	for _, c := range b.Parts {
		c.Walk(fn)
	}
	b.Message.Walk(fn)
}

// number assigns part numbers to b, numbered n, and its descendants.
func (b *BodyStructure) number(n string) {
	b.PartNumber = n
	for i, c := range b.Parts {
		c.number(joinPart(n, i+1))
	}
	if m := b.Message; m != nil {
		if m.IsMultipart() {
			m.number(n)
		} else {
			m.number(joinPart(n, 1))
		}
	}
}

// joinPart returns the part number of child i of part n.
func joinPart(n string, i int) string {
	if n == "" {
		return strconv.Itoa(i)
	}
	return n + "." + strconv.Itoa(i)
}

// bodyStructure reads a BODY or BODYSTRUCTURE value and numbers its parts.
func (p *parser) bodyStructure() *BodyStructure {
	b := p.body()
	if b == nil {
		return nil
	}
	if b.IsMultipart() {
		b.number("")
	} else {
		b.number("1")
	}
	return b
}

// partState is the parsing state of one body part.
type partState struct {
	b *BodyStructure
	// ext is the index of the first extension field, 0 until known.
	ext int
}

// body reads one "(" body ")": a multipart (children first, with or
// without spaces between them) or a single part. Nesting is bounded by
// Limits.MaxDepth: a deeper body is skipped and recorded as an error
// wrapping imapwire.ErrTooDeep.
func (p *parser) body() *BodyStructure {
	s := p.s
	if c, ok := s.Peek(); !ok || c != '(' {
		p.s.Skip()
		if s.Err() == nil {
			p.failf("body is not a list")
		}
		return nil
	}
	if p.depth >= p.maxDepth {
		p.s.Skip()
		if p.bad == nil {
			p.bad = &ParseError{Response: p.kind, Item: p.item, Msg: "body structure", Err: imapwire.ErrTooDeep}
		}
		return nil
	}
	p.depth++
	defer func() { p.depth-- }()
	s.Byte('(')
	st := &partState{b: &BodyStructure{}}
	multi := false
	i := 0
	for s.Err() == nil {
		s.Byte(' ')
		if s.Byte(')') {
			break
		}
		if s.AtEnd() {
			s.Expect(')')
			break
		}
		if i == 0 {
			if c, _ := s.Peek(); c == '(' {
				multi = true
				st.b.Type = "multipart"
			}
		}
		if multi {
			p.multipartField(st, i)
		} else {
			p.singleField(st, i)
		}
		i++
	}
	if s.Err() != nil {
		return st.b
	}
	if multi && st.ext == 0 {
		p.failf("multipart without subtype")
	}
	if !multi && i < fldCommon {
		p.failf("body part has %d fields, want at least %d", i, fldCommon)
	}
	return st.b
}

// multipartField reads field i of a multipart: children while lists
// come, then the subtype, then extension data.
func (p *parser) multipartField(st *partState, i int) {
	b := st.b
	if st.ext == 0 {
		if c, _ := p.s.Peek(); c == '(' {
			if child := p.body(); child != nil {
				b.Parts = append(b.Parts, child)
			}
			return
		}
		b.Subtype = lower(p.nstring(&b.Lossy))
		if b.Subtype == "" {
			b.Subtype = "mixed"
		}
		st.ext = i + 1
		return
	}
	p.extField(b, i-st.ext)
}

// Fields of a single part after the common body-fields, per type.
const (
	fldType = iota
	fldSubtype
	fldParams
	fldID
	fldDesc
	fldEnc
	fldSize
	fldCommon // first field after body-fields
)

// singleField reads field i of a single part.
func (p *parser) singleField(st *partState, i int) {
	s, b := p.s, st.b
	switch i {
	case fldType:
		b.Type = lower(p.nstring(&b.Lossy))
		return
	case fldSubtype:
		b.Subtype = lower(p.nstring(&b.Lossy))
		return
	case fldParams:
		b.Params = p.paramList(&b.Lossy)
		return
	case fldID:
		b.ID = p.nstring(&b.Lossy)
		return
	case fldDesc:
		bs, _ := s.NString()
		var bad bool
		b.Description, bad = decodeHeader(bs)
		b.Lossy = b.Lossy || bad
		return
	case fldEnc:
		b.Encoding = lower(p.nstring(&b.Lossy))
		return
	case fldSize:
		b.Size = p.number32("body size")
		return
	}
	if st.ext == 0 {
		st.ext = p.typeFields(b)
	}
	if i < st.ext {
		switch {
		case st.ext == fldCommon+3 && i == fldCommon:
			b.Envelope = p.envelope()
		case st.ext == fldCommon+3 && i == fldCommon+1:
			b.Message = p.body()
		default:
			b.Lines = p.number32("body lines")
		}
		return
	}
	// Single-part extension data starts with MD5, then the fields shared
	// with multiparts.
	if i == st.ext {
		b.MD5 = p.nstring(&b.Lossy)
		return
	}
	p.extField(b, i-st.ext)
}

// typeFields returns the index of the first extension field of a single
// part of b's type, looking at the next token to tell a message/rfc822
// body (envelope, body, lines) from one a server sent as basic.
func (p *parser) typeFields(b *BodyStructure) int {
	switch {
	case b.Type == "text":
		return fldCommon + 1
	case b.Type == "message" && (b.Subtype == "rfc822" || b.Subtype == "global"):
		if c, _ := p.s.Peek(); c == '(' {
			return fldCommon + 3
		}
	}
	return fldCommon
}

// extField reads the shared extension field k (1 = disposition, 2 =
// language, 3 = location, more = extensions) of a part; k = 0 is the
// multipart parameter list.
func (p *parser) extField(b *BodyStructure, k int) {
	s := p.s
	switch k {
	case 0:
		b.Params = p.paramList(&b.Lossy)
	case 1:
		p.disposition(b)
	case 2:
		if c, _ := s.Peek(); c == '(' {
			s.List(func() { b.Language = append(b.Language, p.nstring(&b.Lossy)) })
		} else if v, ok := s.NString(); ok {
			l, bad := validUTF8(v)
			b.Language, b.Lossy = []string{strings.TrimSpace(l)}, b.Lossy || bad
		}
	case 3:
		b.Location = p.nstring(&b.Lossy)
	default:
		p.s.Skip()
	}
}

// disposition reads NIL or "(" string SP body-fld-param ")".
func (p *parser) disposition(b *BodyStructure) {
	s := p.s
	if c, _ := s.Peek(); c != '(' {
		// NIL, or a bare string some servers send.
		if v, ok := s.NString(); ok {
			d, bad := validUTF8(v)
			b.Disposition, b.Lossy = lower(d), b.Lossy || bad
		}
		return
	}
	j := 0
	s.List(func() {
		switch j {
		case 0:
			b.Disposition = lower(p.nstring(&b.Lossy))
		case 1:
			b.DispositionParams = p.paramList(&b.Lossy)
		default:
			p.s.Skip()
		}
		j++
	})
}
