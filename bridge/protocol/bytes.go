package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Bytes is a byte string in a request, such as an appended message. It
// decodes from a JSON string (its UTF-8 bytes) or from {"base64": "..."}
// (standard encoding, with padding) and always encodes as
// {"base64": "..."}, the canonical request form.
type Bytes []byte

// base64Object is the JSON object form of binary data.
type base64Object struct {
	Base64 string `json:"base64"`
}

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64Object{Base64: base64.StdEncoding.EncodeToString(b)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	v, err := decodeBinary(data)
	if err != nil {
		return err
	}
	if v == nil {
		v = []byte{}
	}
	*b = v
	return nil
}

// decodeBinary decodes a JSON string or {"base64": "..."} object. It
// returns nil for JSON null.
func decodeBinary(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, badRequest(ErrSyntax, "empty value")
	}
	switch data[0] {
	case 'n':
		if string(data) == "null" {
			return nil, nil
		}
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, badRequest(ErrFieldType, "bytes: %v", err)
		}
		return []byte(s), nil
	case '{':
		var o struct {
			Base64 *string `json:"base64"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return nil, badRequest(ErrFieldType, "bytes: want a string or {\"base64\": string}")
		}
		if o.Base64 == nil {
			return nil, badRequest(ErrInvalidField, "bytes: missing \"base64\"")
		}
		v, err := base64.StdEncoding.Strict().DecodeString(*o.Base64)
		if err != nil {
			return nil, badRequest(ErrInvalidField, "bytes: invalid base64")
		}
		return v, nil
	}
	return nil, badRequest(ErrFieldType, "bytes: want a string or {\"base64\": string}")
}

// encodeBinary appends the response form of b: a JSON string when b is
// valid UTF-8, else {"base64": "..."}.
func encodeBinary(b []byte) ([]byte, error) {
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	return json.Marshal(base64Object{Base64: base64.StdEncoding.EncodeToString(b)})
}

// Arg is one positional argument of an imaplib relay request: a string,
// null (Python's None), bytes given as {"base64": "..."} (allowed only for
// append's message argument), or a JSON boolean or integer where the
// imaplib method takes a bool or an int (ImaplibScalarArgs).
type Arg struct {
	// Str is the string value; nil for the other kinds.
	Str *string
	// Bytes is the binary value; nil unless the argument was an object.
	Bytes Bytes
	// Bool is the boolean value; nil unless the argument was true or false.
	Bool *bool
	// Int is the integer value; nil unless the argument was a number.
	Int *int64
}

// StringArg returns a string argument.
func StringArg(s string) Arg { return Arg{Str: &s} }

// BytesArg returns a binary argument.
func BytesArg(b []byte) Arg {
	if b == nil {
		b = []byte{}
	}
	return Arg{Bytes: b}
}

// BoolArg returns a boolean argument.
func BoolArg(b bool) Arg { return Arg{Bool: &b} }

// IntArg returns an integer argument.
func IntArg(n int64) Arg { return Arg{Int: &n} }

// IsNull reports whether a is null.
func (a Arg) IsNull() bool { return a.Str == nil && a.Bytes == nil && a.Bool == nil && a.Int == nil }

// Truth is the argument's truth value as Python's bool() gives it: false
// for null, false, 0 and "", true otherwise.
func (a Arg) Truth() bool {
	switch {
	case a.Bool != nil:
		return *a.Bool
	case a.Int != nil:
		return *a.Int != 0
	case a.Str != nil:
		return *a.Str != ""
	case a.Bytes != nil:
		return len(a.Bytes) > 0
	}
	return false
}

// MarshalJSON implements json.Marshaler.
func (a Arg) MarshalJSON() ([]byte, error) {
	switch {
	case a.Bytes != nil:
		return a.Bytes.MarshalJSON()
	case a.Str != nil:
		return json.Marshal(*a.Str)
	case a.Bool != nil:
		return json.Marshal(*a.Bool)
	case a.Int != nil:
		return json.Marshal(*a.Int)
	}
	return []byte("null"), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *Arg) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*a = Arg{}
	if len(data) == 0 {
		return badRequest(ErrSyntax, "empty value")
	}
	switch c := data[0]; {
	case c == '{':
		v, err := decodeBinary(data)
		if err != nil {
			return err
		}
		*a = BytesArg(v)
		return nil
	case c == 't' || c == 'f':
		var b bool
		if err := json.Unmarshal(data, &b); err != nil {
			return badRequest(ErrFieldType, "args: %v", err)
		}
		a.Bool = &b
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		var n int64
		if err := json.Unmarshal(data, &n); err != nil {
			return badRequest(ErrNumber, "args: number out of range or not an integer")
		}
		a.Int = &n
		return nil
	}
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return badRequest(ErrFieldType, "args: want a string, null, a boolean, an integer or {\"base64\": string}")
	}
	a.Str = &s
	return nil
}
