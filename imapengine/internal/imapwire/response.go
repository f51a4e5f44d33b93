package imapwire

import "fmt"

// Response is one framed server response: its lines (without CRLF) and the
// literals that follow them. len(Lines) == len(Literals)+1, and Lines[i] is
// followed on the wire by Literals[i]. The slices belong to the caller.
// Lines and literals of at most MaxPackedSize bytes share memory chunks (lines
// apart from literals), each slice with its capacity equal to its length.
type Response struct {
	Lines    [][]byte
	Literals [][]byte
}

// Drop forgets the lines and literals of r, for a caller done with them that
// may still hold r: their memory goes with the last other reference (a parsed
// message keeps the literals it aliases, the rest is reclaimed).
func (r *Response) Drop() {
	clear(r.Lines)
	clear(r.Literals)
	r.Lines, r.Literals = nil, nil
}

// Size returns the sum of the lengths of all lines (without CRLF) and all
// literals of r.
func (r *Response) Size() int64 {
	if r == nil {
		return 0
	}
	var n int64
	for _, l := range r.Lines {
		n += int64(len(l))
	}
	for _, l := range r.Literals {
		n += int64(len(l))
	}
	return n
}

// LiteralSize reports whether line ends in a literal marker "{N}" (which
// also covers literal8 "~{N}"), the framing rule of imaplib
// (`.*\{(\d+)\}$`). It returns ErrLiteralTooLarge when N has more than
// MaxLiteralDigits digits or does not fit an int64. Size limits are applied
// by the Reader, not here. The receiver is not used and may be nil.
func (r *Response) LiteralSize(line []byte) (n int64, ok bool, err error) {
	return literalSize(line)
}

// literalSize implements Response.LiteralSize.
func literalSize(line []byte) (int64, bool, error) {
	_, n, ok, err := literalMarker(line)
	return n, ok, err
}

// literalMarker finds a trailing "{N}" in line. start is the index of the
// '{', or of a '~' right before it (literal8).
func literalMarker(line []byte) (start int, n int64, ok bool, err error) {
	end := len(line) - 1
	if end < 2 || line[end] != '}' {
		return 0, 0, false, nil
	}
	i := end - 1
	for i >= 0 && line[i] >= '0' && line[i] <= '9' {
		i--
	}
	digits := end - 1 - i
	if i < 0 || line[i] != '{' || digits == 0 {
		return 0, 0, false, nil
	}
	start = i
	if i > 0 && line[i-1] == '~' {
		start = i - 1
	}
	if digits > MaxLiteralDigits {
		return start, 0, true, fmt.Errorf("%w: %d-digit literal size", ErrLiteralTooLarge, digits)
	}
	for _, c := range line[i+1 : end] {
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return start, 0, true, fmt.Errorf("%w: literal size overflows int64", ErrLiteralTooLarge)
		}
		n = n*10 + d
	}
	return start, n, true, nil
}

// parenDepth returns the number of '(' minus the number of ')' in line,
// ignoring quoted strings (with backslash escapes). A '"' without a closing
// quote counts as plain text, like imaplib's regular expression.
func parenDepth(line []byte) int {
	depth := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '"':
			if end := quotedEnd(line, i); end > 0 {
				i = end
				continue
			}
			// No closing quote from here: none from any later quote either
			// (see quotedEnd), so count the rest as plain text.
			for _, c := range line[i+1:] {
				switch c {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			return depth
		}
	}
	return depth
}

// quotedEnd returns the index of the quote closing the quoted string that
// starts at line[start] (a '"'), or -1 when it is not closed. Escapes are
// a backslash followed by any byte.
//
// If the scan from one quote fails, a scan from any later quote fails too:
// a later quote reached at a token boundary would have closed the first
// string, so it sits inside an escape, after which both scans are in the
// same state.
func quotedEnd(line []byte, start int) int {
	for i := start + 1; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
