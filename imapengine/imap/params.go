package imap

import (
	"strconv"
	"strings"
)

// Bounds on body parameters sent by the server.
const (
	// MaxParams is the most parameters kept from one parameter list;
	// further pairs are skipped.
	MaxParams = 64
	// MaxParamSections is the highest RFC 2231 continuation index
	// ("filename*63*") accepted; a key with a larger index is kept as a
	// plain parameter under its raw name.
	MaxParamSections = 64
)

// rawParam is one key/value pair as sent, key lower-cased.
type rawParam struct{ key, value string }

// paramList reads NIL or "(" string SP string *(SP string SP string) ")"
// and returns the decoded map (nil for NIL or an empty list).
func (p *parser) paramList(lossy *bool) map[string]string {
	s := p.s
	var raw []rawParam
	var key string
	i := 0
	s.List(func() {
		b := s.String()
		if i%2 == 0 {
			key = lower(string(b))
		} else if len(raw) < MaxParams {
			raw = append(raw, rawParam{key, string(b)})
		}
		i++
	})
	if s.Err() == nil && i%2 != 0 {
		p.failf("parameter list has an odd number of strings")
	}
	if len(raw) == 0 {
		return nil
	}
	return combineParams(raw, lossy)
}

// section is one RFC 2231 piece of a parameter.
type section struct {
	value   string
	encoded bool
	set     bool
}

// combineParams applies RFC 2231: continuations "name*0", "name*1", ...
// are joined in order, extended values ("name*" and "name*0*") are
// percent-decoded and converted from their charset to UTF-8, and an
// extended value wins over a plain one of the same name. Display names
// (name, filename) also get RFC 2047 decoding, which many mailers use
// instead. Every value is valid UTF-8.
func combineParams(raw []rawParam, lossy *bool) map[string]string {
	out := make(map[string]string, len(raw))
	var parts map[string]*[MaxParamSections]section
	extended := map[string]bool{}
	for _, rp := range raw {
		name, idx, enc, ok := splitParamKey(rp.key)
		if !ok {
			if !extended[rp.key] {
				out[rp.key] = rp.value
			}
			continue
		}
		if idx < 0 { // name*
			out[name] = decodeExtValue(rp.value, lossy)
			extended[name] = true
			continue
		}
		if parts == nil {
			parts = map[string]*[MaxParamSections]section{}
		}
		ps := parts[name]
		if ps == nil {
			ps = new([MaxParamSections]section)
			parts[name] = ps
		}
		ps[idx] = section{value: rp.value, encoded: enc, set: true}
	}
	for name, ps := range parts {
		if extended[name] {
			continue
		}
		var buf []byte
		charset := ""
		anyEnc := false
		for n := 0; n < MaxParamSections && ps[n].set; n++ {
			v := ps[n].value
			if ps[n].encoded {
				if n == 0 {
					charset, v = splitCharset(v)
				}
				buf = percentDecode(buf, v)
				anyEnc = true
			} else {
				buf = append(buf, v...)
			}
		}
		if !ps[0].set {
			continue
		}
		if anyEnc {
			s, bad := toUTF8(charset, buf)
			*lossy = *lossy || bad
			out[name] = s
		} else {
			out[name] = string(buf)
		}
		extended[name] = true
	}
	res := make(map[string]string, len(out))
	for k, v := range out {
		var s string
		var bad bool
		if (k == "name" || k == "filename") && !extended[k] {
			s, bad = decodeHeader([]byte(v))
		} else {
			s, bad = validUTF8([]byte(v))
		}
		key, badKey := validUTF8([]byte(k))
		*lossy = *lossy || bad || badKey
		res[key] = s
	}
	return res
}

// splitParamKey splits an RFC 2231 key: "name*" gives (name, -1, true),
// "name*3" gives (name, 3, false), "name*3*" gives (name, 3, true). ok is
// false for a plain key or an index out of range.
func splitParamKey(key string) (name string, idx int, enc, ok bool) {
	star := strings.IndexByte(key, '*')
	if star <= 0 {
		return "", 0, false, false
	}
	name, rest := key[:star], key[star+1:]
	if rest == "" {
		return name, -1, true, true
	}
	if strings.HasSuffix(rest, "*") {
		enc, rest = true, rest[:len(rest)-1]
	}
	if rest == "" || len(rest) > 2 || (len(rest) > 1 && rest[0] == '0') {
		return "", 0, false, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || n >= MaxParamSections {
		return "", 0, false, false
	}
	return name, n, enc, true
}

// splitCharset splits "charset'lang'value" into charset and value. A
// value without two quotes has no charset.
func splitCharset(v string) (charset, rest string) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "", v
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "", v
	}
	return v[:i], v[i+1+j+1:]
}

// decodeExtValue decodes a single extended value "charset'lang'%XX...".
func decodeExtValue(v string, lossy *bool) string {
	charset, rest := splitCharset(v)
	s, bad := toUTF8(charset, percentDecode(nil, rest))
	*lossy = *lossy || bad
	return s
}

// percentDecode appends v to dst with %XX escapes decoded; a '%' not
// followed by two hex digits is kept.
func percentDecode(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			dst = append(dst, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 2
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unhex returns the value of hexadecimal digit c.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
