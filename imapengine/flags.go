package imapengine

import "bytes"

// flagsMarker is the literal text that imaplib's Flags regex looks for:
// .*FLAGS \((?P<flags>[^\)]*)\)
const flagsMarker = "FLAGS ("

// ParseFlags is imaplib.ParseFlags: it finds the last "FLAGS (...)" group
// that imaplib's regex .*FLAGS \((?P<flags>[^\)]*)\) would match and splits
// its contents on ASCII whitespace (space, \t, \n, \v, \f, \r). Without a
// match it returns an empty, non-nil slice.
//
// Like the Python regex (whose "." does not match a newline), the
// "FLAGS (" marker must start on the first line of resp; the group itself
// may run across lines up to the first ')'. The returned slices share one
// fresh copy of the group and never alias resp.
func ParseFlags(resp []byte) [][]byte {
	limit := len(resp)
	if nl := bytes.IndexByte(resp, '\n'); nl >= 0 {
		limit = nl
	}
	lastClose := bytes.LastIndexByte(resp, ')')
	// The greedy ".*" prefers the last marker; fall back to earlier ones
	// when a later marker has no closing parenthesis after it.
	for end := limit; end > 0; {
		p := bytes.LastIndex(resp[:end], []byte(flagsMarker[:1]))
		if p < 0 {
			break
		}
		end = p
		if !bytes.HasPrefix(resp[p:], []byte(flagsMarker)) {
			continue
		}
		start := p + len(flagsMarker)
		if lastClose < start {
			continue
		}
		close := bytes.IndexByte(resp[start:], ')')
		group := bytes.Clone(resp[start : start+close])
		return splitASCIISpace(group)
	}
	return [][]byte{}
}

// splitASCIISpace splits b on runs of Python's bytes whitespace, dropping
// empty fields; the result is never nil.
func splitASCIISpace(b []byte) [][]byte {
	out := [][]byte{}
	for i := 0; i < len(b); {
		for i < len(b) && isASCIISpace(b[i]) {
			i++
		}
		j := i
		for j < len(b) && !isASCIISpace(b[j]) {
			j++
		}
		if j > i {
			out = append(out, b[i:j:j])
		}
		i = j
	}
	return out
}

// isASCIISpace reports whether c is whitespace for Python's bytes.split().
func isASCIISpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
