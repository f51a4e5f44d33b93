package imaptest

import "strings"

// Command is one command line received by the fake server's command loop.
type Command struct {
	// Tag is the first token of the line, verbatim.
	Tag string
	// Name is the second token, upper-cased ("" if the line had one token).
	Name string
	// Args are the remaining tokens, split like CPython 3.16's splitargs:
	// quoted strings (with backslash escapes) and balanced parenthesised
	// groups stay one token, verbatim, quotes and parentheses included. An
	// unterminated quote or unbalanced group runs to the end of the line.
	// Args is never nil.
	Args []string
	// Line is the raw line received, CRLF removed.
	Line []byte
	// ConnID identifies the connection the line arrived on (1 for the first
	// connection a server accepted, 2 for the next, ...).
	ConnID int
}

// clone returns a copy of cmd that shares no memory with it.
func (cmd Command) clone() Command {
	out := cmd
	out.Args = append([]string{}, cmd.Args...)
	out.Line = append([]byte(nil), cmd.Line...)
	return out
}

// ParseCommand splits a command line (with or without its CRLF) into a
// Command. It never fails: a line with no tokens gives an empty Tag and Name.
func ParseCommand(line []byte) Command {
	raw := trimCRLF(line)
	toks := SplitArgs(string(raw))
	cmd := Command{Args: []string{}, Line: append([]byte(nil), raw...)}
	if len(toks) > 0 {
		cmd.Tag = toks[0]
	}
	if len(toks) > 1 {
		cmd.Name = strings.ToUpper(toks[1])
	}
	if len(toks) > 2 {
		cmd.Args = toks[2:]
	}
	return cmd
}

// SplitArgs splits s on runs of spaces and tabs the way CPython 3.16's test
// harness splitargs does: a double-quoted string (with backslash escapes) or
// a parenthesised group (which may contain quoted strings and nested groups)
// is kept as one verbatim token even when it contains spaces, including when
// it starts in the middle of a token, as in a(b c). A space at depth zero
// always splits: BODY[HEADER.FIELDS (DATE)] is two tokens, while
// (BODY[HEADER.FIELDS (DATE)]) is one. An unterminated quote or unbalanced
// group runs to the end of s. The result is never nil.
func SplitArgs(s string) []string {
	toks := []string{}
	i := 0
	for i < len(s) {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		depth := 0
		for i < len(s) {
			c := s[i]
			if isSpace(c) && depth == 0 {
				break
			}
			switch c {
			case '"':
				i = skipQuoted(s, i)
				continue
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			}
			i++
		}
		toks = append(toks, s[start:i])
	}
	return toks
}

// skipQuoted returns the index just past the quoted string starting at
// s[open] (which is '"'), or len(s) if it is unterminated.
func skipQuoted(s string, open int) int {
	for j := open + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// trimCRLF removes one trailing CRLF (or a lone trailing LF or CR).
func trimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
