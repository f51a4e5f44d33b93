package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxNumberDigits bounds the digits of a JSON number in a request: every
// numeric field fits 64 bits, whose largest value has 20 digits.
const maxNumberDigits = 20

// DecodeRequest decodes one request frame strictly (security.md F11).
// A validating pass over the raw JSON refuses invalid UTF-8, unpaired
// surrogate escapes, a top level that is not an object, nesting deeper
// than maxDepth (DefaultMaxDepth when maxDepth <= 0), duplicate keys
// (compared case-insensitively), keys spelled in another case than the
// contract's, numbers that are not integers of at most 20 digits, and
// data after the value. The frame is then decoded into the type of its
// "op" with unknown fields refused, and checked against the contract
// (id length, sets, allow-lists, required members).
//
// The result is a pointer to one of the request types (*SelectRequest,
// ...). Every error is a *ProtocolError whose ID is the request id when
// it could be read.
func DecodeRequest(data []byte, maxDepth int) (Request, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	top, perr := validate(data, maxDepth)
	if perr != nil {
		perr.ID = top.id
		return nil, perr
	}
	req, perr := decodeOp(data, top)
	if perr != nil {
		perr.ID = top.id
		return nil, perr
	}
	return req, nil
}

// topLevel holds the id and op read by the validating pass.
type topLevel struct {
	id, op string
	hasOp  bool
}

// validate is the first, structural pass. It returns the id (when it is a
// valid id) and op even on failure, so the error can name the request.
func validate(data []byte, maxDepth int) (topLevel, *ProtocolError) {
	var top topLevel
	if !utf8.Valid(data) {
		return top, badRequest(ErrInvalidUTF8, "frame is not valid UTF-8")
	}
	if err := checkEscapes(data); err != nil {
		return top, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()

	type level struct {
		object    bool
		expectKey bool
		keys      map[string]struct{}
	}
	var stack []level
	known := knownKeys()
	var key string // last key read at depth 1
	first := true
	// valueDone marks the end of a value inside the current container.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
loop:
	for {
		tok, err := dec.Token()
		if err == io.EOF && first {
			return top, badRequest(ErrSyntax, "empty frame")
		}
		if err != nil {
			return top, badRequest(ErrSyntax, "malformed JSON")
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return top, badRequest(ErrNotObject, "a frame is a JSON object")
			}
			first = false
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				if len(stack) == 0 {
					break loop
				}
				valueDone()
				continue
			}
			k, _ := tok.(string)
			if perr := checkKey(k, stack[n-1].keys, known); perr != nil {
				if n == 1 && strings.EqualFold(k, "id") {
					top.id = "" // ambiguous: never echo either value
				}
				return top, perr
			}
			stack[n-1].keys[strings.ToLower(k)] = struct{}{}
			stack[n-1].expectKey = false
			if n == 1 {
				key = k
			}
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				if len(stack) >= maxDepth {
					return top, badRequest(ErrTooDeep, "nesting deeper than %d", maxDepth)
				}
				lv := level{object: t == '{', expectKey: t == '{'}
				if lv.object {
					lv.keys = map[string]struct{}{}
				}
				stack = append(stack, lv)
				continue
			}
			stack = stack[:len(stack)-1] // ']'
			if len(stack) == 0 {
				break loop
			}
		case json.Number:
			if perr := checkNumber(string(t)); perr != nil {
				return top, perr
			}
		case string:
			if len(stack) == 1 {
				switch key {
				case "id":
					if validID(t) {
						top.id = t
					}
				case "op":
					top.op, top.hasOp = t, true
				}
			}
		}
		valueDone()
	}
	if _, err := dec.Token(); err != io.EOF {
		return top, badRequest(ErrTrailingData, "data after the frame's JSON object")
	}
	return top, nil
}

// checkKey refuses non-ASCII keys, duplicates (case-insensitively) and
// case variants of contract keys.
func checkKey(k string, seen map[string]struct{}, known map[string]string) *ProtocolError {
	for i := 0; i < len(k); i++ {
		if k[i] >= utf8.RuneSelf {
			return badRequest(ErrKeyCase, "key %q is not ASCII", k)
		}
	}
	lower := strings.ToLower(k)
	if _, dup := seen[lower]; dup {
		return badRequest(ErrDuplicateKey, "duplicate key %q", k)
	}
	if want, ok := known[lower]; ok && want != k {
		return badRequest(ErrKeyCase, "key %q must be spelled %q", k, want)
	}
	return nil
}

// checkNumber accepts only integers of at most maxNumberDigits digits
// that fit 64 bits (int64 when negative, uint64 otherwise).
func checkNumber(s string) *ProtocolError {
	digits := strings.TrimPrefix(s, "-")
	if len(digits) == 0 || len(digits) > maxNumberDigits {
		return badRequest(ErrNumber, "number %.24q out of range", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return badRequest(ErrNumber, "number %.24q is not an integer", s)
		}
	}
	var err error
	if len(digits) != len(s) {
		_, err = strconv.ParseInt(s, 10, 64)
	} else {
		_, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return badRequest(ErrNumber, "number %.24q out of range", s)
	}
	return nil
}

// checkEscapes refuses \u escapes that encode an unpaired UTF-16
// surrogate, which encoding/json would silently turn into U+FFFD.
func checkEscapes(data []byte) *ProtocolError {
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(data) {
				return nil // the syntax pass reports it
			}
			if data[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hex4(data, i+2)
			if !ok {
				return nil // the syntax pass reports it
			}
			i += 5
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return badRequest(ErrInvalidUTF8, "unpaired surrogate escape")
			case r >= 0xD800 && r <= 0xDBFF:
				if i+6 >= len(data) || data[i+1] != '\\' || data[i+2] != 'u' {
					return badRequest(ErrInvalidUTF8, "unpaired surrogate escape")
				}
				lo, ok := hex4(data, i+3)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return badRequest(ErrInvalidUTF8, "unpaired surrogate escape")
				}
				i += 6
			}
		}
	}
	return nil
}

// hex4 decodes four hex digits at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// validID reports whether id is a valid request id.
func validID(id string) bool {
	n := utf8.RuneCountInString(id)
	return n >= MinIDLength && n <= MaxIDLength
}

var (
	knownOnce sync.Once
	knownMap  map[string]string
)

// knownKeys maps the lower-cased spelling of every member name of every
// request type to its contract spelling.
func knownKeys() map[string]string {
	knownOnce.Do(func() {
		knownMap = map[string]string{"base64": "base64"}
		for _, t := range requestTypes() {
			collectKeys(reflect.TypeOf(t).Elem(), knownMap, 0)
		}
	})
	return knownMap
}

// collectKeys adds the JSON member names of struct type t and of the
// structs it contains.
func collectKeys(t reflect.Type, into map[string]string, depth int) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			collectKeys(f.Type, into, depth+1)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		into[strings.ToLower(name)] = name
		collectKeys(f.Type, into, depth+1)
	}
}

// asProtocolError is errors.As for *ProtocolError.
func asProtocolError(err error) (*ProtocolError, bool) {
	var pe *ProtocolError
	ok := errors.As(err, &pe)
	return pe, ok
}
