package imapwire

import "fmt"

// ValueKind says which field of a Value is set.
type ValueKind int

// Value kinds.
const (
	// ValueAtom is an atom (also flags, and section keys such as
	// "BODY[HEADER.FIELDS (DATE)]<0>"); see Value.Atom.
	ValueAtom ValueKind = iota
	// ValueNumber is a number of at most MaxNumber64Digits digits; see
	// Value.Num.
	ValueNumber
	// ValueString is a quoted string or a literal; see Value.Bytes and
	// Value.Literal.
	ValueString
	// ValueNIL is the atom NIL.
	ValueNIL
	// ValueList is a parenthesised list; see Value.List.
	ValueList
)

// String returns the kind's name.
func (k ValueKind) String() string {
	switch k {
	case ValueAtom:
		return "atom"
	case ValueNumber:
		return "number"
	case ValueString:
		return "string"
	case ValueNIL:
		return "NIL"
	case ValueList:
		return "list"
	}
	return fmt.Sprintf("ValueKind(%d)", int(k))
}

// Value is one generic response value.
type Value struct {
	Kind    ValueKind
	Atom    string  // ValueAtom
	Num     uint64  // ValueNumber
	Bytes   []byte  // ValueString; aliases the Response
	List    []Value // ValueList
	Literal bool    // ValueString read from a literal
}

// Value reads any value: list, quoted string, literal, NIL, number or atom.
// Atoms are read leniently (flags with '\', 8-bit bytes, and a bracketed
// section "[...]" that may contain spaces, lists and quoted strings). An
// all-digit token is a number and must fit MaxNumber64Digits digits and
// 2^63-1, else ErrNumberRange. Lists nest at most Limits.MaxDepth deep
// (ErrTooDeep); the depth is checked before recursing.
func (s *Scanner) Value() Value {
	if s.err != nil {
		return Value{}
	}
	if s.atLiteral() {
		return Value{Kind: ValueString, Bytes: s.takeLiteral(), Literal: true}
	}
	if s.pos >= len(s.line) {
		s.fail(ErrSyntax, "expected value")
		return Value{}
	}
	switch s.line[s.pos] {
	case '"':
		b := s.Quoted()
		if s.err != nil {
			return Value{}
		}
		return Value{Kind: ValueString, Bytes: b}
	case '(':
		base := len(s.stack)
		s.List(func() {
			v := s.Value()
			s.stack = append(s.stack, v)
		})
		var list []Value
		if n := len(s.stack) - base; n > 0 && s.err == nil {
			list = make([]Value, n)
			copy(list, s.stack[base:])
		}
		clear(s.stack[base:]) // drop references into the response
		s.stack = s.stack[:base]
		if s.err != nil {
			return Value{}
		}
		return Value{Kind: ValueList, List: list}
	}
	if s.nil() {
		return Value{Kind: ValueNIL}
	}
	start := s.pos
	tok := s.lenientAtom()
	if s.err != nil {
		return Value{}
	}
	if allDigits(tok) {
		n, ok := parseDigits(tok, MaxNumber64Digits, 1<<63-1)
		if !ok {
			s.pos = start
			s.fail(ErrNumberRange, fmt.Sprintf("%d-digit number", len(tok)))
			return Value{}
		}
		return Value{Kind: ValueNumber, Num: n}
	}
	return Value{Kind: ValueAtom, Atom: s.internAtom(tok)}
}

// Bounds of the Scanner's atom cache.
const (
	// maxInternAtoms is the most distinct atoms a Scanner caches.
	maxInternAtoms = 256
	// maxInternLen is the longest atom cached.
	maxInternLen = 32
)

// internAtom returns tok as a string, reusing a cached copy for short
// atoms seen before (keys and flags repeat in every response). Atoms the
// cache does not take are packed (see strPacker): a list of many distinct
// flags then costs their bytes, not an allocation each.
func (s *Scanner) internAtom(tok []byte) string {
	if len(tok) > maxInternLen {
		return s.strs.str(tok)
	}
	if a, ok := s.atoms[string(tok)]; ok {
		return a
	}
	if len(s.atoms) >= maxInternAtoms {
		return s.strs.str(tok)
	}
	a := string(tok)
	if s.atoms == nil {
		s.atoms = make(map[string]string)
	}
	s.atoms[a] = a
	return a
}

// lenientAtom reads an atom for Value: an optional leading '\' ("\*" is a
// whole token), then flag characters and bracketed sections.
func (s *Scanner) lenientAtom() []byte {
	start := s.pos
	if s.Byte('\\') && s.Byte('*') {
		return s.line[start:s.pos]
	}
	for s.pos < len(s.line) {
		c := s.line[s.pos]
		if c == '[' {
			s.skipSection()
			if s.err != nil {
				return nil
			}
			continue
		}
		if !isFlagChar(c) || c == ']' {
			break
		}
		s.pos++
	}
	if s.pos == start || (s.pos == start+1 && s.line[start] == '\\') {
		s.fail(ErrSyntax, "expected value")
		return nil
	}
	return s.line[start:s.pos]
}

// skipSection consumes "[" ... "]", skipping quoted strings inside.
func (s *Scanner) skipSection() {
	open := s.pos
	for i := s.pos + 1; i < len(s.line); i++ {
		switch s.line[i] {
		case ']':
			s.pos = i + 1
			return
		case '"':
			end := quotedEnd(s.line, i)
			if end < 0 {
				i = len(s.line)
				continue
			}
			i = end
		}
	}
	s.pos = open
	s.fail(ErrSyntax, "unterminated [")
}

// allDigits reports whether b is non-empty and all ASCII digits.
func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// Character classes of RFC 3501.
const (
	classAtom    = 1 << iota // ATOM-CHAR
	classAString             // ASTRING-CHAR, plus 8-bit
	classFlag                // lenient flag/keyword characters
	classSeqSet              // digits, '*', ':', ','
)

// charClass maps a byte to its classes.
var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		var m uint8
		ctl := c < 0x20 || c == 0x7f
		if !ctl && c != ' ' && c != '(' && c != ')' && c != '{' && c != '"' && c != '\\' {
			m |= classFlag
			if c != '%' && c != '*' {
				m |= classAString
				if c != ']' && c < 0x80 {
					m |= classAtom
				}
			}
		}
		if (c >= '0' && c <= '9') || c == '*' || c == ':' || c == ',' {
			m |= classSeqSet
		}
		t[c] = m
	}
	return t
}()

func isAtomChar(c byte) bool    { return charClass[c]&classAtom != 0 }
func isAStringChar(c byte) bool { return charClass[c]&classAString != 0 }
func isFlagChar(c byte) bool    { return charClass[c]&classFlag != 0 }
func isSeqSetChar(c byte) bool  { return charClass[c]&classSeqSet != 0 }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }

// Skip consumes one value as Value would, without building it: nothing is
// allocated for the lists, atoms and numbers skipped (an unknown FETCH item
// costs no memory per element). Limits apply as in Value.
func (s *Scanner) Skip() {
	if s.err != nil {
		return
	}
	if s.atLiteral() {
		s.takeLiteral()
		return
	}
	if s.pos >= len(s.line) {
		s.fail(ErrSyntax, "expected value")
		return
	}
	switch s.line[s.pos] {
	case '"':
		s.quotedSpan() // nothing allocated, escapes or not
		return
	case '(':
		s.List(s.Skip)
		return
	}
	if s.nil() {
		return
	}
	s.lenientAtom()
}
