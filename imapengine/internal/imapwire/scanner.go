package imapwire

import "fmt"

// Scanner decodes the grammar of a framed *Response in memory. It walks the
// text of Lines[i]; where a string is expected and only the literal marker
// "{N}" of Lines[i] is left, the value is Literals[i] and scanning goes on at
// the start of Lines[i+1].
//
// Errors are sticky: after the first error every method returns zero values
// (AtEnd returns true so loops stop) and Err returns that first error, a
// *SyntaxError. Returned byte slices alias the Response; copy them to keep
// them beyond it.
type Scanner struct {
	resp *Response
	lim  Limits
	li   int    // index of the current line
	line []byte // visible text of the current line (literal marker cut off)
	// mark is the literal marker of the current line, empty if none.
	mark   []byte
	hasLit bool // the current line is followed by Literals[li]
	pos    int
	depth  int
	items  int // list elements decoded, against Limits.MaxItems
	err    error
	// stack collects list elements in Value, so each list is allocated
	// once at its final size.
	stack []Value
	// atoms caches atom strings across responses (see internAtom).
	atoms map[string]string
	// strs holds the atom strings the cache does not (see internAtom).
	strs strPacker
	// keep holds the quoted strings copied by NStringKeep.
	keep packer
}

// NewScanner returns a Scanner over resp. Zero fields of l take their
// defaults; only MaxDepth and MaxItems are used: List counts every element
// of every list of the response and records ErrTooManyItems past MaxItems.
func NewScanner(resp *Response, l Limits) *Scanner {
	s := &Scanner{lim: l.WithDefaults()}
	s.Reset(resp)
	return s
}

// Reset starts scanning resp from its beginning and clears the error. A
// response whose Lines and Literals counts do not match records ErrSyntax.
func (s *Scanner) Reset(resp *Response) {
	*s = Scanner{resp: resp, lim: s.lim, stack: s.stack[:0], atoms: s.atoms}
	if resp == nil || len(resp.Lines) == 0 {
		if resp != nil && len(resp.Literals) > 0 {
			s.fail(ErrSyntax, "literals without lines")
		}
		return
	}
	if len(resp.Lines) != len(resp.Literals)+1 {
		s.fail(ErrSyntax, fmt.Sprintf("%d lines for %d literals", len(resp.Lines), len(resp.Literals)))
		return
	}
	s.setLine(0)
}

// setLine makes Lines[i] the current line.
func (s *Scanner) setLine(i int) {
	s.li, s.pos = i, 0
	s.line = s.resp.Lines[i]
	s.mark = nil
	s.hasLit = i < len(s.resp.Literals)
	if s.hasLit {
		start := len(s.line)
		if st, _, ok, _ := literalMarker(s.line); ok {
			start = st
		}
		s.line, s.mark = s.line[:start], s.line[start:]
	}
}

// Err returns the first error met, or nil.
func (s *Scanner) Err() error { return s.err }

// fail records the first error, a *SyntaxError wrapping sentinel.
func (s *Scanner) fail(sentinel error, msg string) {
	if s.err != nil {
		return
	}
	var ex string
	if s.pos < len(s.line) {
		ex = string(s.line[s.pos:min(len(s.line), s.pos+maxExcerpt)])
	} else if s.hasLit {
		ex = string(s.mark)
	}
	s.err = &SyntaxError{Msg: msg, Offset: s.pos, Line: s.li, Excerpt: ex, Err: sentinel}
}

// atLiteral reports whether only the literal marker is left on the line.
func (s *Scanner) atLiteral() bool { return s.hasLit && s.pos >= len(s.line) }

// takeLiteral returns the current literal and moves to the next line.
func (s *Scanner) takeLiteral() []byte {
	lit := s.resp.Literals[s.li]
	s.setLine(s.li + 1)
	return lit
}

// AtEnd reports whether the whole response has been consumed. It returns
// true after an error.
func (s *Scanner) AtEnd() bool {
	return s.err != nil || s.resp == nil || (s.pos >= len(s.line) && !s.hasLit)
}

// Peek returns the next byte without consuming it, and false at the end of
// the response or after an error. Where a literal is next it returns the
// first byte of its marker ('{', or '~' for literal8).
func (s *Scanner) Peek() (byte, bool) {
	if s.err != nil || s.resp == nil {
		return 0, false
	}
	if s.pos < len(s.line) {
		return s.line[s.pos], true
	}
	if s.hasLit {
		if len(s.mark) > 0 {
			return s.mark[0], true
		}
		return '{', true
	}
	return 0, false
}

// Byte consumes b if it is the next byte of the current line text and
// reports whether it did. It never records an error and never consumes a
// literal marker.
func (s *Scanner) Byte(b byte) bool {
	if s.err == nil && s.pos < len(s.line) && s.line[s.pos] == b {
		s.pos++
		return true
	}
	return false
}

// Expect consumes b or records a syntax error.
func (s *Scanner) Expect(b byte) {
	if !s.Byte(b) {
		s.fail(ErrSyntax, fmt.Sprintf("expected %q", b))
	}
}

// SP consumes one space or records a syntax error.
func (s *Scanner) SP() { s.Expect(' ') }

// span consumes the longest run of bytes accepted by ok and returns it.
func (s *Scanner) span(ok func(byte) bool) []byte {
	start := s.pos
	for s.pos < len(s.line) && ok(s.line[s.pos]) {
		s.pos++
	}
	return s.line[start:s.pos]
}

// Atom reads 1*ATOM-CHAR (RFC 3501) and records an error if there is none.
func (s *Scanner) Atom() string {
	if s.err != nil {
		return ""
	}
	tok := s.span(isAtomChar)
	if len(tok) == 0 {
		s.fail(ErrSyntax, "expected atom")
		return ""
	}
	return string(tok)
}

// FlagOrAtom reads a flag or a keyword leniently: an optional leading '\',
// then "*" or one or more bytes other than SP, CTL, '(', ')', '{', '"' and
// '\'. '[', ']', '%' and 8-bit bytes are accepted (as servers such as Gmail
// send them).
func (s *Scanner) FlagOrAtom() string {
	if s.err != nil {
		return ""
	}
	start := s.pos
	if s.Byte('\\') && s.Byte('*') {
		return "\\*"
	}
	tok := s.span(isFlagChar)
	if len(tok) == 0 {
		s.fail(ErrSyntax, "expected flag or atom")
		return ""
	}
	return string(s.line[start:s.pos])
}

// Number reads a number of at most MaxNumberDigits digits and value at most
// 2^32-1; otherwise it records ErrNumberRange.
func (s *Scanner) Number() uint32 {
	v := s.number(MaxNumberDigits, 1<<32-1)
	return uint32(v)
}

// Number64 reads a number of at most MaxNumber64Digits digits and value
// below 2^63 (a mod-sequence); otherwise it records ErrNumberRange.
func (s *Scanner) Number64() uint64 {
	return s.number(MaxNumber64Digits, 1<<63-1)
}

// number reads 1*DIGIT bounded by maxDigits and maxVal.
func (s *Scanner) number(maxDigits int, maxVal uint64) uint64 {
	if s.err != nil {
		return 0
	}
	start := s.pos
	d := s.span(isDigit)
	if len(d) == 0 {
		s.fail(ErrSyntax, "expected number")
		return 0
	}
	v, ok := parseDigits(d, maxDigits, maxVal)
	if !ok {
		s.pos = start
		s.fail(ErrNumberRange, fmt.Sprintf("%d-digit number", len(d)))
		return 0
	}
	return v
}

// parseDigits converts ASCII digits to a number no larger than maxVal with
// at most maxDigits digits.
func parseDigits(d []byte, maxDigits int, maxVal uint64) (uint64, bool) {
	if len(d) == 0 || len(d) > maxDigits {
		return 0, false
	}
	var v uint64
	for _, c := range d {
		v = v*10 + uint64(c-'0') // at most 19 digits: no uint64 overflow
	}
	return v, v <= maxVal
}

// Quoted reads a quoted string, unescaping \\ and \". A backslash before any
// other byte is kept with that byte. NUL, CR or LF inside, or a missing
// closing quote, record ErrSyntax. Without escapes the result aliases the
// Response; with escapes it is a copy of the string's size (never of the
// rest of the line: many escaped strings on one long line cost their own
// bytes, not the line's each).
func (s *Scanner) Quoted() []byte {
	start, end, escaped := s.quotedSpan()
	if end < 0 {
		return nil
	}
	if !escaped {
		return s.line[start:end:end]
	}
	out := make([]byte, 0, end-start)
	for i := start; i < end; i++ {
		c := s.line[i]
		if c == '\\' && i+1 < end && (s.line[i+1] == '\\' || s.line[i+1] == '"') {
			c = s.line[i+1]
			i++
		}
		out = append(out, c)
	}
	return out
}

// quotedSpan consumes a quoted string and returns the index of its first
// byte and of its closing quote in the current line, and whether it holds
// an escape (\\ or \") that Quoted must undo. end is -1 after an error,
// which it records.
func (s *Scanner) quotedSpan() (start, end int, escaped bool) {
	if s.err != nil {
		return 0, -1, false
	}
	if !s.Byte('"') {
		s.fail(ErrSyntax, "expected quoted string")
		return 0, -1, false
	}
	start = s.pos
	for i := start; i < len(s.line); i++ {
		switch s.line[i] {
		case '"':
			s.pos = i + 1
			return start, i, escaped
		case '\\':
			if i+1 < len(s.line) && (s.line[i+1] == '\\' || s.line[i+1] == '"') {
				escaped = true
				i++
			}
		case 0, '\r', '\n':
			s.pos = i
			s.fail(ErrSyntax, "NUL, CR or LF in quoted string")
			return 0, -1, false
		}
	}
	s.pos = start - 1
	s.fail(ErrSyntax, "unterminated quoted string")
	return 0, -1, false
}

// String reads a quoted string or a literal. Literal bytes are returned
// verbatim (NUL allowed) and scanning continues on the next line.
func (s *Scanner) String() []byte {
	if s.err != nil {
		return nil
	}
	if s.atLiteral() {
		return s.takeLiteral()
	}
	if s.pos < len(s.line) && s.line[s.pos] == '"' {
		return s.Quoted()
	}
	s.fail(ErrSyntax, "expected string")
	return nil
}

// NString reads NIL, returning (nil, false), or a string, returning
// (bytes, true).
func (s *Scanner) NString() ([]byte, bool) {
	if s.err != nil {
		return nil, false
	}
	if s.nil() {
		return nil, false
	}
	b := s.String()
	return b, s.err == nil
}

// NStringKeep is NString for a value kept beyond the response's lines (a
// body section's data): a quoted string is copied, small ones into memory
// shared with the others this Scanner keeps, so that it does not hold its
// whole line; a literal is returned as is (it has memory of its own, shared
// only with other literals: see MaxPackedSize).
func (s *Scanner) NStringKeep() ([]byte, bool) {
	lit := s.err == nil && s.atLiteral()
	b, ok := s.NString()
	if !ok || lit {
		return b, ok
	}
	kept := s.keep.alloc(len(b))
	copy(kept, b)
	return kept, true
}

// nil consumes the atom NIL (any case) if it is next as a whole token.
func (s *Scanner) nil() bool {
	rest := s.line[s.pos:]
	if len(rest) < 3 || (rest[0]|0x20) != 'n' || (rest[1]|0x20) != 'i' || (rest[2]|0x20) != 'l' {
		return false
	}
	if len(rest) > 3 && isFlagChar(rest[3]) && rest[3] != ']' {
		return false
	}
	s.pos += 3
	return true
}

// AString reads an astring: a string, or 1*ASTRING-CHAR (atom chars and
// ']'; 8-bit bytes are also accepted, as RFC 6855 servers send them).
func (s *Scanner) AString() []byte {
	if s.err != nil {
		return nil
	}
	if s.atLiteral() || (s.pos < len(s.line) && s.line[s.pos] == '"') {
		return s.String()
	}
	tok := s.span(isAStringChar)
	if len(tok) == 0 {
		s.fail(ErrSyntax, "expected astring")
		return nil
	}
	return tok[:len(tok):len(tok)]
}

// Text returns the rest of the current line's text and consumes it. On a
// line followed by a literal it stops before the literal marker, which is
// then the next token.
func (s *Scanner) Text() []byte {
	if s.err != nil {
		return nil
	}
	t := s.line[s.pos:]
	s.pos = len(s.line)
	return t[:len(t):len(t)]
}

// List reads a parenthesised list "(" [elem *(SP elem)] ")", calling each
// once per element; each must consume the element. It returns true if a
// list was read. NIL is consumed and returns false without error; anything
// else records ErrSyntax. Nesting deeper than Limits.MaxDepth records
// ErrTooDeep before each is called. A space right after "(" or before ")"
// is tolerated.
func (s *Scanner) List(each func()) bool {
	if s.err != nil {
		return false
	}
	if !s.Byte('(') {
		if s.nil() {
			return false
		}
		s.fail(ErrSyntax, "expected list")
		return false
	}
	if s.depth >= s.lim.MaxDepth {
		s.pos--
		s.fail(ErrTooDeep, fmt.Sprintf("more than %d nested lists", s.lim.MaxDepth))
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	s.Byte(' ')
	if s.Byte(')') {
		return true
	}
	for s.err == nil {
		if s.items++; s.items > s.lim.MaxItems {
			s.fail(ErrTooManyItems, fmt.Sprintf("more than %d values in one response", s.lim.MaxItems))
			break
		}
		each()
		if s.err != nil {
			break
		}
		if s.Byte(' ') {
			if s.Byte(')') {
				return true
			}
			continue
		}
		s.Expect(')')
		return s.err == nil
	}
	return false
}

// SeqSet reads a sequence set (RFC 3501 sequence-set, "*" allowed).
func (s *Scanner) SeqSet() SeqSet {
	if s.err != nil {
		return nil
	}
	start := s.pos
	tok := s.span(isSeqSetChar)
	set, err := parseSeqSet(tok)
	if err != nil {
		s.pos = start
		s.fail(sentinelOf(err), "bad sequence set")
		return nil
	}
	return set
}

// sentinelOf returns ErrNumberRange if err wraps it, else ErrSyntax.
func sentinelOf(err error) error {
	if se, ok := err.(*SyntaxError); ok && se.Err != nil {
		return se.Err
	}
	return ErrSyntax
}
