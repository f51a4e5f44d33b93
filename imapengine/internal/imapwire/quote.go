package imapwire

import (
	"fmt"
	"strings"
)

// Quote escapes '\' and '"' in s and wraps it in double quotes (imaplib
// _quote).
func Quote(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + 2)
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '"' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	sb.WriteByte('"')
	return sb.String()
}

// IsQuoted reports whether s is exactly one well-formed quoted string, the
// full match of imaplib's `"(?:[^"\\]|\\.)*+"`: a backslash escapes any
// byte but LF.
func IsQuoted(s string) bool {
	if len(s) < 2 || s[0] != '"' {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || s[i+1] == '\n' {
				return false
			}
			i++
		case '"':
			return i == len(s)-1
		}
	}
	return false
}

// mustQuote reports whether imaplib's _astring quotes a string containing
// c; wildcards says whether '%' and '*' are allowed unquoted.
func mustQuote(c byte, wildcards bool) bool {
	switch {
	case c < 0x20 || c >= 0x7f:
		return true
	case c == '(' || c == ')' || c == '{' || c == ' ' || c == '\\' || c == '"':
		return true
	case c == '%' || c == '*':
		return !wildcards
	}
	return false
}

// astring implements AString and ListMailbox.
func astring(s string, wildcards bool) string {
	if IsQuoted(s) {
		return s
	}
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if mustQuote(s[i], wildcards) {
			return Quote(s)
		}
	}
	return s
}

// AString returns s unchanged if it is already one quoted string or a
// non-empty atom of ASTRING-CHARs, else Quote(s) (imaplib _astring). Quote
// needs: "(", ")", "{", SP, bytes 0x00-0x1F and 0x7F-0xFF, '%', '*', '\'
// and '"'.
func AString(s string) string { return astring(s, false) }

// ListMailbox is AString with the LIST wildcards '%' and '*' allowed
// unquoted (imaplib _list_mailbox).
func ListMailbox(s string) string { return astring(s, true) }

// SetQuote returns s if it starts with '(' and ends with ')', else "(" + s
// + ")" (imaplib _set_quote); "" becomes "()".
func SetQuote(s string) string {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return s
	}
	return "(" + s + ")"
}

// FetchParts returns the FETCH macros ALL, FULL and FAST (any case)
// unchanged and passes anything else through SetQuote (imaplib
// _fetch_parts).
func FetchParts(s string) string {
	if strings.EqualFold(s, "ALL") || strings.EqualFold(s, "FULL") || strings.EqualFold(s, "FAST") {
		return s
	}
	return SetQuote(s)
}

// CheckArg returns an error wrapping ErrBadArgument if s contains NUL, CR
// or LF (imaplib 3.14.8).
func CheckArg(s string) error {
	if i := strings.IndexAny(s, "\x00\r\n"); i >= 0 {
		return fmt.Errorf("%w: byte %q at offset %d", ErrBadArgument, s[i], i)
	}
	return nil
}

// endsInLiteralMarker reports whether b ends in "{digits}" or "{digits+}",
// which a server would read as a literal announcement.
func endsInLiteralMarker(b []byte) bool {
	end := len(b) - 1
	if end < 0 || b[end] != '}' {
		return false
	}
	i := end - 1
	if i >= 0 && b[i] == '+' {
		i--
	}
	digits := 0
	for i >= 0 && isDigit(b[i]) {
		i--
		digits++
	}
	return digits > 0 && i >= 0 && b[i] == '{'
}
