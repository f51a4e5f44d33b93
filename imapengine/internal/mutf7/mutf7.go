package mutf7

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrInvalid is the sentinel behind every decoding failure; a *DecodeError
// returned by Decode matches it with errors.Is.
var ErrInvalid = errors.New("mutf7: invalid modified UTF-7")

// DecodeError describes why and where a string is not valid modified UTF-7.
type DecodeError struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Reason is a short human-readable description of the problem.
	Reason string
}

// Error implements error.
func (e *DecodeError) Error() string {
	return "mutf7: invalid modified UTF-7 at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap returns ErrInvalid so that errors.Is(err, ErrInvalid) holds.
func (e *DecodeError) Unwrap() error { return ErrInvalid }

const (
	shiftIn  = '&'
	shiftOut = '-'
	// alphabet is the modified BASE64 alphabet of RFC 3501 §5.1.3
	// (RFC 2152's alphabet with ',' in place of '/').
	alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"
	// invalidDigit marks bytes that are not in alphabet.
	invalidDigit = 0xFF
)

// digits maps a byte to its 6-bit value in alphabet, or invalidDigit.
var digits = func() (t [256]byte) {
	for i := range t {
		t[i] = invalidDigit
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// printable reports whether b is a printable US-ASCII byte (0x20–0x7E),
// the set that must represent itself.
func printable(b byte) bool { return b >= 0x20 && b <= 0x7E }

// Encode converts UTF-8 text to modified UTF-7. Invalid UTF-8 bytes in s are
// encoded as U+FFFD, like a Go range loop reads them.
func Encode(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	var run []uint16
	for _, r := range s {
		if r < utf8.RuneSelf && printable(byte(r)) {
			if len(run) > 0 {
				writeShifted(&b, run)
				run = run[:0]
			}
			b.WriteByte(byte(r))
			if r == shiftIn {
				b.WriteByte(shiftOut)
			}
			continue
		}
		run = utf16.AppendRune(run, r)
	}
	if len(run) > 0 {
		writeShifted(&b, run)
	}
	return b.String()
}

// writeShifted writes "&" + modified BASE64 of the UTF-16 units + "-".
func writeShifted(b *strings.Builder, run []uint16) {
	b.WriteByte(shiftIn)
	var acc uint32
	bits := 0
	for _, u := range run {
		acc = acc<<16 | uint32(u)
		bits += 16
		for bits >= 6 {
			bits -= 6
			b.WriteByte(alphabet[(acc>>bits)&0x3F])
		}
		acc &= 1<<bits - 1
	}
	if bits > 0 {
		b.WriteByte(alphabet[(acc<<(6-bits))&0x3F])
	}
	b.WriteByte(shiftOut)
}

// Decode converts modified UTF-7 to UTF-8. Any violation of RFC 3501
// §5.1.3 yields a *DecodeError wrapping ErrInvalid and an empty string.
func Decode(s string) (string, error) {
	var b strings.Builder
	if err := decode(s, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Valid reports whether s is already valid modified UTF-7: only printable
// ASCII, and every '&' starts a well-formed shifted sequence.
func Valid(s string) bool {
	return decode(s, nil) == nil
}

// EncodeMailbox is the mailbox-name encoding step of imaplib 3.16 (before
// any astring quoting): a name that is already valid modified UTF-7 is
// returned unchanged, anything else is Encode(s).
func EncodeMailbox(s string) string {
	if Valid(s) {
		return s
	}
	return Encode(s)
}

// decode validates s and, when out is non-nil, writes the decoded text to it.
func decode(s string, out *strings.Builder) error {
	if out != nil {
		out.Grow(len(s))
	}
	for i := 0; i < len(s); {
		c := s[i]
		if !printable(c) {
			return &DecodeError{Offset: i, Reason: "byte " + strconv.Quote(string(c)) + " outside printable ASCII"}
		}
		if c != shiftIn {
			if out != nil {
				out.WriteByte(c)
			}
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == shiftOut {
			if out != nil {
				out.WriteByte(shiftIn)
			}
			i += 2
			continue
		}
		end, err := decodeShifted(s, i+1, out)
		if err != nil {
			return err
		}
		i = end + 1
		if i < len(s) && s[i] == shiftIn && (i+1 >= len(s) || s[i+1] != shiftOut) {
			return &DecodeError{Offset: i, Reason: "null shift between adjacent shifted sequences"}
		}
	}
	return nil
}

// decodeShifted decodes the modified BASE64 that starts at s[start] and
// returns the index of its terminating '-'.
func decodeShifted(s string, start int, out *strings.Builder) (int, error) {
	var acc uint32
	bits := 0
	var high rune // pending high surrogate, 0 if none
	i := start
	for ; i < len(s) && s[i] != shiftOut; i++ {
		d := digits[s[i]]
		if d == invalidDigit {
			return 0, &DecodeError{Offset: i, Reason: "byte " + strconv.Quote(string(s[i])) + " not in modified BASE64"}
		}
		acc = acc<<6 | uint32(d)
		bits += 6
		if bits < 16 {
			continue
		}
		bits -= 16
		u := rune(acc >> bits & 0xFFFF)
		acc &= 1<<bits - 1
		switch {
		case high != 0:
			if !utf16.IsSurrogate(u) || u < 0xDC00 {
				return 0, &DecodeError{Offset: i, Reason: "high surrogate not followed by low surrogate"}
			}
			writeRune(out, utf16.DecodeRune(high, u))
			high = 0
		case u >= 0xD800 && u < 0xDC00:
			high = u
		case u >= 0xDC00 && u < 0xE000:
			return 0, &DecodeError{Offset: i, Reason: "unpaired low surrogate"}
		case u < utf8.RuneSelf && printable(byte(u)):
			return 0, &DecodeError{Offset: i, Reason: "shifted sequence encodes printable ASCII"}
		default:
			writeRune(out, u)
		}
	}
	switch {
	case i >= len(s):
		return 0, &DecodeError{Offset: start - 1, Reason: "unterminated shifted sequence"}
	case i == start:
		// "&-" is handled by the caller; reaching here is impossible, but
		// an empty shift would be a null shift all the same.
		return 0, &DecodeError{Offset: start - 1, Reason: "empty shifted sequence"}
	case high != 0:
		return 0, &DecodeError{Offset: i, Reason: "unpaired high surrogate"}
	case bits >= 6 || acc != 0:
		return 0, &DecodeError{Offset: i, Reason: "shifted sequence has leftover or non-zero padding bits"}
	}
	return i, nil
}

// writeRune writes r to out when out is non-nil.
func writeRune(out *strings.Builder, r rune) {
	if out != nil {
		out.WriteRune(r)
	}
}
