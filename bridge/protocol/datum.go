package protocol

import (
	"bytes"
	"encoding/json"
)

// DatumKind says which shape a Datum has.
type DatumKind uint8

// Datum shapes, mirroring imaplib's data items.
const (
	// DatumNull is Python's None, encoded as null.
	DatumNull DatumKind = iota
	// DatumBytes is a bytes item, encoded as a string or {"base64"}.
	DatumBytes
	// DatumPair is a (header, literal) tuple, encoded as a two-element
	// array of string-or-{"base64"} values.
	DatumPair
	// DatumList is a nested data list (getquotaroot's [quotaroot, quota]),
	// encoded as {"list": [datum, ...]} so it can never be mistaken for a pair.
	DatumList
)

// Datum is one item of the data list of an imaplib relay response. Bytes
// are encoded as a JSON string when they are valid UTF-8 and as
// {"base64": "..."} otherwise, so every byte survives the trip.
type Datum struct {
	// Kind is the shape.
	Kind DatumKind
	// Data is the bytes of a DatumBytes, or the header of a DatumPair.
	Data []byte
	// Literal is the literal of a DatumPair.
	Literal []byte
	// Items are the data of a DatumList.
	Items []Datum
}

// NullDatum returns the datum for None.
func NullDatum() Datum { return Datum{Kind: DatumNull} }

// BytesDatum returns the datum for a bytes item.
func BytesDatum(b []byte) Datum { return Datum{Kind: DatumBytes, Data: b} }

// PairDatum returns the datum for a (header, literal) tuple.
func PairDatum(header, literal []byte) Datum {
	return Datum{Kind: DatumPair, Data: header, Literal: literal}
}

// ListDatum returns the datum for a nested data list.
func ListDatum(items []Datum) Datum { return Datum{Kind: DatumList, Items: items} }

// MarshalJSON implements json.Marshaler.
func (d Datum) MarshalJSON() ([]byte, error) {
	switch d.Kind {
	case DatumList:
		items := d.Items
		if items == nil {
			items = []Datum{}
		}
		inner, err := json.Marshal(items)
		if err != nil {
			return nil, err
		}
		return append(append([]byte(`{"list":`), inner...), '}'), nil
	case DatumBytes:
		return encodeBinary(d.Data)
	case DatumPair:
		h, err := encodeBinary(d.Data)
		if err != nil {
			return nil, err
		}
		l, err := encodeBinary(d.Literal)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(h)+len(l)+3)
		out = append(out, '[')
		out = append(out, h...)
		out = append(out, ',')
		out = append(out, l...)
		return append(out, ']'), nil
	}
	return []byte("null"), nil
}

// UnmarshalJSON implements json.Unmarshaler. A pair must have exactly two
// elements, each a string or {"base64"} (never null or nested).
func (d *Datum) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var parts []json.RawMessage
		if err := json.Unmarshal(data, &parts); err != nil {
			return badRequest(ErrFieldType, "datum: %v", err)
		}
		if len(parts) != 2 {
			return badRequest(ErrInvalidField, "datum: a pair has 2 elements, not %d", len(parts))
		}
		var pv [2][]byte
		for i, p := range parts {
			v, err := decodeBinary(p)
			if err != nil {
				return err
			}
			if v == nil {
				return badRequest(ErrInvalidField, "datum: null in a pair")
			}
			pv[i] = v
		}
		*d = PairDatum(pv[0], pv[1])
		return nil
	}
	if len(data) > 7 && data[0] == '{' && bytes.Contains(data[:min(len(data), 16)], []byte(`"list"`)) {
		var l struct {
			List []Datum `json:"list"`
		}
		if err := json.Unmarshal(data, &l); err == nil && l.List != nil {
			*d = ListDatum(l.List)
			return nil
		}
	}
	v, err := decodeBinary(data)
	if err != nil {
		return err
	}
	if v == nil {
		*d = NullDatum()
		return nil
	}
	*d = BytesDatum(v)
	return nil
}
