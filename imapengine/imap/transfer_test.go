package imap

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecodeTransfer(t *testing.T) {
	raw := []byte("Grüße, \x00\xff binary and a long line " + strings.Repeat("=x", 60))
	b64 := base64.StdEncoding.EncodeToString(raw)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + " \r\n")
	}
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	_, _ = w.Write(raw)
	_ = w.Close()
	tests := []struct {
		enc, in string
		want    []byte
		err     error
	}{
		{"base64", wrapped.String(), raw, nil},
		{"BASE64", b64, raw, nil},
		{"quoted-printable", qp.String(), raw, nil},
		{"7bit", "plain\r\n", []byte("plain\r\n"), nil},
		{"", "plain", []byte("plain"), nil},
		{"binary", "\x00\x01", []byte("\x00\x01"), nil},
		{"x-uuencode", "begin", []byte("begin"), ErrUnknownEncoding},
	}
	for _, tt := range tests {
		r, err := DecodeTransfer(tt.enc, iotest.OneByteReader(strings.NewReader(tt.in)))
		if !errors.Is(err, tt.err) {
			t.Fatalf("%s: err %v, want %v", tt.enc, err, tt.err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %q, %v; want %q", tt.enc, got, err, tt.want)
		}
	}
	// Corrupt base64 fails the read instead of yielding garbage.
	r, _ := DecodeTransfer("base64", strings.NewReader("@@@@"))
	if _, err := io.ReadAll(r); err == nil {
		t.Error("corrupt base64 read without error")
	}
}

func TestFindPart(t *testing.T) {
	bs := &BodyStructure{Type: "multipart", Parts: []*BodyStructure{
		{PartNumber: "1", Type: "text", Subtype: "html"},
		{PartNumber: "2", Type: "image", Subtype: "png", ID: "<logo@x>"},
	}}
	if p := bs.Find("2"); p == nil || p.Subtype != "png" {
		t.Fatalf("Find(2) = %+v", p)
	}
	if bs.Find("3") != nil || bs.Find("") != nil {
		t.Fatal("Find of a missing or multipart part returned one")
	}
	if p := bs.FindContentID("LOGO@x"); p == nil || p.PartNumber != "2" {
		t.Fatalf("FindContentID = %+v", p)
	}
}

// FuzzDecodeTransfer: decoding never panics, and base64 and
// quoted-printable round-trip.
func FuzzDecodeTransfer(f *testing.F) {
	f.Add([]byte("hello\r\nworld=\r\n"), "quoted-printable")
	f.Add([]byte("aGVsbG8=\r\n"), "base64")
	f.Fuzz(func(t *testing.T, data []byte, enc string) {
		r, _ := DecodeTransfer(enc, bytes.NewReader(data))
		_, _ = io.Copy(io.Discard, r)
		e64 := base64.StdEncoding.EncodeToString(data)
		r, _ = DecodeTransfer("base64", strings.NewReader(e64))
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("base64 round trip: %q, %v", got, err)
		}
		var qp bytes.Buffer
		w := quotedprintable.NewWriter(&qp)
		w.Binary = true
		_, _ = w.Write(data)
		_ = w.Close()
		r, _ = DecodeTransfer("quoted-printable", &qp)
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("quoted-printable round trip: %q, %v", got, err)
		}
	})
}
