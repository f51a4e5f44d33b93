package imap

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// parser wraps a Scanner with a record of the first semantic error (a
// value of the wrong kind or out of range). Syntax errors stay in the
// Scanner, which stops at them; semantic errors let parsing go on, because
// the offending value has been consumed whole.
type parser struct {
	s    *imapwire.Scanner
	kind string // response kind for errors, e.g. "FETCH"
	item string // current item for errors
	bad  error  // first semantic error
	// depth and maxDepth bound the nesting of body structures, whose
	// lists are read without the Scanner's List.
	depth, maxDepth int
}

// newParser returns a parser over resp.
func newParser(resp *imapwire.Response, l imapwire.Limits, kind string) *parser {
	return &parser{s: imapwire.NewScanner(resp, l), kind: kind, maxDepth: l.WithDefaults().MaxDepth}
}

// failf records a semantic error unless one is recorded already.
func (p *parser) failf(format string, args ...any) {
	if p.bad == nil {
		p.bad = &ParseError{Response: p.kind, Item: p.item, Msg: fmt.Sprintf(format, args...)}
	}
}

// err returns the first error: a syntax error wins over a semantic one
// only if it came first, which the parser cannot tell, so the semantic
// error (always recorded before the scanner stops) is preferred.
func (p *parser) err() error {
	if p.bad != nil {
		return p.bad
	}
	if err := p.s.Err(); err != nil {
		return &ParseError{Response: p.kind, Item: p.item, Err: err}
	}
	return nil
}

// finish checks that the whole response was consumed and returns the
// first error.
func (p *parser) finish() error {
	if p.s.Err() == nil && p.bad == nil && !p.s.AtEnd() {
		p.item = ""
		p.failf("unexpected data at end: %.40q", p.s.Text())
	}
	return p.err()
}

// untagged reads "* " then an optional number and SP, then the response
// name upper-cased. num is -1 when there is no number. ok is false if the
// response is not untagged.
func (p *parser) untagged() (num int64, name string, ok bool) {
	s := p.s
	if !s.Byte('*') || !s.Byte(' ') {
		return -1, "", false
	}
	num = -1
	if c, _ := s.Peek(); c >= '0' && c <= '9' {
		num = int64(s.Number())
		if !s.Byte(' ') {
			return num, "", s.Err() == nil
		}
	}
	if s.Err() != nil {
		return num, "", true
	}
	name = upper(s.Atom())
	return num, name, true
}

// expectUntagged reads "* NAME " for a response without a number and
// reports whether NAME is want; otherwise it returns an
// ErrUnexpectedResponse error.
func (p *parser) expectUntagged(want string) error {
	num, name, ok := p.untagged()
	if !ok || num >= 0 || name != want {
		if num >= 0 {
			return unexpected(want, fmt.Sprint(num, " ", name))
		}
		return unexpected(want, name)
	}
	return nil
}

// upper returns s in ASCII upper case, without allocating when it already
// is.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

// lower returns s in ASCII lower case, without allocating when it already
// is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// nstring reads NIL or a string and returns it as valid UTF-8 text
// (invalid bytes replaced, *lossy set).
func (p *parser) nstring(lossy *bool) string {
	b, _ := p.s.NString()
	s, bad := validUTF8(b)
	if bad {
		*lossy = true
	}
	return s
}

// astring reads an astring and returns it as a string.
func (p *parser) astring() string { return string(p.s.AString()) }

// value reads any value (used to skip unknown data).
func (p *parser) value() imapwire.Value { return p.s.Value() }

// number32 reads a number that must fit 32 bits. A value of another kind
// is consumed and recorded as a semantic error.
func (p *parser) number32(what string) uint32 {
	if c, ok := p.s.Peek(); ok && c >= '0' && c <= '9' {
		return p.s.Number()
	}
	v := p.s.Value()
	if p.s.Err() == nil {
		p.failf("%s: want a number, got %s", what, v.Kind)
	}
	return 0
}

// number64 reads a 63-bit number (a mod-sequence or a 64-bit size).
func (p *parser) number64(what string) uint64 {
	if c, ok := p.s.Peek(); ok && c >= '0' && c <= '9' {
		return p.s.Number64()
	}
	v := p.s.Value()
	if p.s.Err() == nil {
		p.failf("%s: want a number, got %s", what, v.Kind)
	}
	return 0
}

// formatUint formats n in decimal.
func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// maxNameLen bounds the response name rawName looks at.
const maxNameLen = 32

// rawName returns the upper-cased name of an untagged response ("FETCH"
// for "* 3 FETCH (...)", "LIST" for "* LIST ..."), looking at the raw
// bytes so that a broken number does not hide the name. It returns "" if
// resp is not an untagged response.
func rawName(resp *imapwire.Response) string {
	if resp == nil || len(resp.Lines) == 0 {
		return ""
	}
	line := resp.Lines[0]
	if len(line) < 2 || line[0] != '*' || line[1] != ' ' {
		return ""
	}
	i := 2
	if i < len(line) && line[i] >= '0' && line[i] <= '9' {
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			i++
		}
		if i >= len(line) || line[i] != ' ' {
			return ""
		}
		i++
	}
	j := i
	for j < len(line) && j-i < maxNameLen && line[j] > ' ' && line[j] < 0x7f && line[j] != '(' && line[j] != '[' {
		j++
	}
	if name, ok := knownNames[string(line[i:j])]; ok {
		return name
	}
	return upper(string(line[i:j]))
}

// knownNames holds the response names parsers look for, so rawName finds
// them without allocating.
var knownNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"FETCH", "EXISTS", "RECENT", "EXPUNGE", "FLAGS", "LIST", "LSUB", "STATUS",
		"SEARCH", "ESEARCH", "VANISHED", "QUOTA", "QUOTAROOT", "ACL", "MYRIGHTS", "NAMESPACE", "METADATA",
		"ID", "ENABLED", "OK", "NO", "BAD", "BYE", "PREAUTH", "CAPABILITY"} {
		m[n] = n
	}
	return m
}()
