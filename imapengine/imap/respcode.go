package imap

import (
	"bytes"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// ParseResponseCode splits the response code at the start of a status
// text, "[CODE arg] text" (RFC 3501 §7.1). name is upper-cased; arg is the
// text between the name and the closing bracket (quoted strings may hold
// a ']'). ok is false if text does not start with a well-formed code.
func ParseResponseCode(text []byte) (name string, arg string, ok bool) {
	if len(text) < 3 || text[0] != '[' {
		return "", "", false
	}
	end := codeEnd(text)
	if end < 0 {
		return "", "", false
	}
	body := text[1:end]
	sp := bytes.IndexByte(body, ' ')
	if sp < 0 {
		name = string(body)
	} else {
		name, arg = string(body[:sp]), string(body[sp+1:])
	}
	if name == "" {
		return "", "", false
	}
	return upper(name), arg, true
}

// StatusResponse is a status response split into its parts: "* OK [CODE
// arg] text", "A1 NO text", "* BYE ...".
type StatusResponse struct {
	// Tag is the command tag, "*" for untagged responses.
	Tag string
	// Status is OK, NO, BAD, PREAUTH or BYE.
	Status string
	// Code and CodeArg are the response code and its argument, "" if none.
	Code, CodeArg string
	// Text is the human-readable text after the code.
	Text string
}

// ParseStatusResponse splits a status response. ok is false if resp is not
// one (a tag or "*", then OK, NO, BAD, PREAUTH or BYE).
func ParseStatusResponse(resp *imapwire.Response) (st StatusResponse, ok bool) {
	if resp == nil || len(resp.Lines) != 1 {
		return st, false
	}
	line := resp.Lines[0]
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return st, false
	}
	st.Tag = string(line[:sp])
	rest := line[sp+1:]
	word := rest
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		word, rest = rest[:i], rest[i+1:]
	} else {
		rest = nil
	}
	st.Status = strings.ToUpper(string(word))
	switch st.Status {
	case "OK", "NO", "BAD", "PREAUTH", "BYE":
	default:
		return StatusResponse{}, false
	}
	if name, arg, ok := ParseResponseCode(rest); ok {
		st.Code, st.CodeArg = name, arg
		rest = bytes.TrimPrefix(rest[codeEnd(rest)+1:], []byte(" "))
	}
	st.Text = string(rest)
	return st, true
}

// codeEnd returns the index of the ']' closing the code at the start of
// text, honouring quoted strings, or -1.
func codeEnd(text []byte) int {
	inQuote := false
	for i := 1; i < len(text); i++ {
		switch c := text[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ']':
			return i
		}
	}
	return -1
}

// ParseNumbered parses a "* n TYPE" response such as EXISTS, RECENT,
// EXPUNGE or FETCH (whose data is ignored here) and returns n and TYPE
// upper-cased. ok is false if resp is not of that form or n does not fit
// 32 bits (security.md B10), and for n = 0 with EXPUNGE or FETCH, whose n
// must be a non-zero sequence number.
func ParseNumbered(resp *imapwire.Response) (n uint32, typ string, ok bool) {
	if resp == nil || len(resp.Lines) == 0 {
		return 0, "", false
	}
	line := resp.Lines[0]
	if len(line) < 4 || line[0] != '*' || line[1] != ' ' {
		return 0, "", false
	}
	i := 2
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	digits := line[2:i]
	if len(digits) == 0 || len(digits) > imapwire.MaxNumberDigits || i >= len(line) || line[i] != ' ' {
		return 0, "", false
	}
	var v uint64
	for _, c := range digits {
		v = v*10 + uint64(c-'0')
	}
	if v > 1<<32-1 {
		return 0, "", false
	}
	rest := line[i+1:]
	j := 0
	for j < len(rest) && j < maxNameLen && rest[j] > ' ' && rest[j] < 0x7f && rest[j] != '(' {
		j++
	}
	if j == 0 || (j < len(rest) && rest[j] != ' ') {
		return 0, "", false
	}
	typ = upper(string(rest[:j]))
	if v == 0 && (typ == "EXPUNGE" || typ == "FETCH") {
		return 0, typ, false
	}
	return uint32(v), typ, true
}
