package imapengine

import (
	"strconv"
	"strings"
)

// Datum is one element of an imaplib data list. It is one of three things:
// None (imaplib's None, e.g. the [None] of a command that produced no data),
// a byte string, or a (header, literal) pair for a response that carried a
// literal. The zero Datum is None.
//
// The kind is carried by which slices are nil (a pair has a non-nil literal,
// a byte string non-nil bytes), so a Datum is two slice headers: untagged
// data costs as little memory per item as the wire allows.
type Datum struct {
	bytes   []byte // the value, or the header of a pair; nil only for None
	literal []byte // the literal of a pair; nil otherwise
}

// noBytes is the empty value of a byte string or pair given nil.
var noBytes = []byte{}

// None returns the None datum.
func None() Datum { return Datum{} }

// Bytes returns a byte-string datum (nil is taken as empty).
func Bytes(b []byte) Datum {
	if b == nil {
		b = noBytes
	}
	return Datum{bytes: b}
}

// Pair returns a (header, literal) datum (nil is taken as empty).
func Pair(header, literal []byte) Datum {
	if header == nil {
		header = noBytes
	}
	if literal == nil {
		literal = noBytes
	}
	return Datum{bytes: header, literal: literal}
}

// IsNone reports whether d is None.
func (d Datum) IsNone() bool { return d.bytes == nil && d.literal == nil }

// IsPair reports whether d is a (header, literal) pair.
func (d Datum) IsPair() bool { return d.literal != nil }

// Bytes returns the byte string, or the header of a pair; nil for None.
func (d Datum) Bytes() []byte { return d.bytes }

// Literal returns the literal of a pair; nil otherwise.
func (d Datum) Literal() []byte { return d.literal }

// String renders d as Python's repr would: None, b'...', or (b'...', b'...').
func (d Datum) String() string {
	switch {
	case d.IsPair():
		return "(" + pyBytes(d.bytes) + ", " + pyBytes(d.literal) + ")"
	case !d.IsNone():
		return pyBytes(d.bytes)
	}
	return "None"
}

// Result is imaplib's (typ, data) return value: typ is the status ("OK", "NO",
// "BYE", or the response code name for Response) and data the list of data.
type Result struct {
	Typ  string
	Data []Datum
}

// String renders r as Python's repr of the tuple.
func (r Result) String() string {
	return "('" + r.Typ + "', " + pyList(r.Data) + ")"
}

// First returns the bytes of the first datum, or nil.
func (r Result) First() []byte {
	if len(r.Data) == 0 {
		return nil
	}
	return r.Data[0].Bytes()
}

func pyList(data []Datum) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range data {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	b.WriteByte(']')
	return b.String()
}

// pyBytes renders b like Python's bytes repr.
func pyBytes(b []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(b), '\'') >= 0 && strings.IndexByte(string(b), '"') < 0 {
		quote = '"'
	}
	var s strings.Builder
	s.WriteString("b")
	s.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\r':
			s.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			s.WriteString(`\x`)
			h := strconv.FormatUint(uint64(c), 16)
			if len(h) < 2 {
				s.WriteByte('0')
			}
			s.WriteString(h)
		default:
			s.WriteByte(c)
		}
	}
	s.WriteByte(quote)
	return s.String()
}

// pyStr renders s like Python's str repr (used where imaplib formats with %r).
func pyStr(s string) string {
	r := pyBytes([]byte(s))
	return r[1:]
}

// Check turns a tagged result that is not OK (imaplib returns NO as data)
// into an error: an *Error wrapping the server's *StatusError, for callers
// that treat a refusal as a failure. command names the command in the error.
func (r Result) Check(command string) error {
	if r.Typ == "OK" {
		return nil
	}
	text := r.First()
	return &Error{Kind: KindError, Command: command, Msg: r.Typ + " " + decodeReplace(text),
		Err: newStatusError(command, r.Typ, text)}
}
