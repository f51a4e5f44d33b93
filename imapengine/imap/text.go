package imap

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// errUnknownCharset is returned by charsetReader for a charset that the
// WHATWG index does not know; the caller replaces such text.
var errUnknownCharset = errors.New("imap: unknown charset")

// maxDecodedText bounds the decoded size of one header text or parameter
// value, as a multiple of its encoded size plus a constant: a decoder can
// only expand bytes a few times over, so this only stops pathological
// charsets.
const maxDecodedText = 8

// lookupCharset returns the decoder of a charset name, or nil if unknown.
// UTF-8 and US-ASCII return encoding.Nop's decoder semantics via nil with
// ok true.
func lookupCharset(name string) (enc encoding.Encoding, utf8ish bool, ok bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "utf-8", "utf8", "us-ascii", "ascii", "":
		return nil, true, true
	}
	e, err := htmlindex.Get(name)
	if err != nil {
		return nil, false, false
	}
	return e, false, true
}

// toUTF8 converts b from charset to UTF-8. Bytes that cannot be decoded
// become U+FFFD and lossy is set. An unknown charset keeps ASCII bytes
// and replaces the others.
func toUTF8(charset string, b []byte) (s string, lossy bool) {
	enc, utf8ish, ok := lookupCharset(charset)
	switch {
	case !ok:
		return replaceNonASCII(b)
	case utf8ish:
		return validUTF8(b)
	}
	before := bytes.Count(b, []byte("\uFFFD"))
	out, err := io.ReadAll(io.LimitReader(enc.NewDecoder().Reader(bytes.NewReader(b)), int64(len(b))*maxDecodedText+16))
	if err != nil {
		return replaceNonASCII(b)
	}
	s, lossy = validUTF8(out)
	return s, lossy || strings.Count(s, "\uFFFD") > before
}

// replaceNonASCII keeps ASCII bytes of b and replaces every other byte with
// U+FFFD; lossy is set if anything was replaced.
func replaceNonASCII(b []byte) (string, bool) {
	var sb strings.Builder
	lossy := false
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(utf8.RuneError)
			lossy = true
		}
	}
	return sb.String(), lossy
}

// validUTF8 returns b as a string, invalid sequences replaced with U+FFFD
// (lossy set).
func validUTF8(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), true
}

// isPlainASCII reports whether b is all 7-bit bytes.
func isPlainASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// decodeHeader decodes an unstructured header text (a subject or a display
// name): RFC 2047 encoded words in any charset, raw 8-bit UTF-8 kept, any
// invalid byte replaced with U+FFFD and lossy set.
func decodeHeader(b []byte) (s string, lossy bool) {
	if isPlainASCII(b) && !bytes.Contains(b, []byte("=?")) {
		return string(b), false
	}
	s, lossy = validUTF8(b)
	if !strings.Contains(s, "=?") {
		return s, lossy
	}
	unknown := false
	d := mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
		enc, utf8ish, ok := lookupCharset(charset)
		if utf8ish {
			return in, nil
		}
		if !ok {
			unknown = true
			return nil, errUnknownCharset
		}
		return io.LimitReader(enc.NewDecoder().Reader(in), int64(len(b))*maxDecodedText+16), nil
	}}
	out, err := d.DecodeHeader(s)
	if err != nil {
		// A word in an unknown charset (or a broken decoder): keep the raw
		// text, which is valid UTF-8 already, and say it is not decoded.
		return s, true
	}
	before := strings.Count(s, "\uFFFD")
	out, bad := validUTF8([]byte(out))
	return out, lossy || bad || unknown || strings.Count(out, "\uFFFD") > before
}
