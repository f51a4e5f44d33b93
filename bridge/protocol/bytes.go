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
// null (Python's None), or bytes given as {"base64": "..."} (allowed only
// for append's message argument).
type Arg struct {
	// Str is the string value; nil for null and for bytes.
	Str *string
	// Bytes is the binary value; nil unless the argument was an object.
	Bytes Bytes
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

// IsNull reports whether a is null.
func (a Arg) IsNull() bool { return a.Str == nil && a.Bytes == nil }

// MarshalJSON implements json.Marshaler.
func (a Arg) MarshalJSON() ([]byte, error) {
	switch {
	case a.Bytes != nil:
		return a.Bytes.MarshalJSON()
	case a.Str != nil:
		return json.Marshal(*a.Str)
	}
	return []byte("null"), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *Arg) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*a = Arg{}
	if len(data) > 0 && data[0] == '{' {
		v, err := decodeBinary(data)
		if err != nil {
			return err
		}
		*a = BytesArg(v)
		return nil
	}
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return badRequest(ErrFieldType, "args: want a string, null or {\"base64\": string}")
	}
	a.Str = &s
	return nil
}
