package main

import (
	"bytes"
	"net/mail"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	tests := []struct {
		seed uint64
		i    int
	}{{DefaultSeed, 0}, {DefaultSeed, 1}, {DefaultSeed, 9999}, {1, 42}}
	for _, tt := range tests {
		a, b := Generate(tt.seed, tt.i), Generate(tt.seed, tt.i)
		if !bytes.Equal(a.Body, b.Body) || a.Flags != b.Flags || !a.Date.Equal(b.Date) {
			t.Errorf("seed %d message %d differs between calls", tt.seed, tt.i)
		}
		if c := Generate(tt.seed+1, tt.i); bytes.Equal(a.Body, c.Body) {
			t.Errorf("seed %d message %d equals the next seed's", tt.seed, tt.i)
		}
	}
}

func TestGenerateShape(t *testing.T) {
	const n = 1000
	attached := 0
	for i := range n {
		m := Generate(DefaultSeed, i)
		size := len(m.Body)
		if m.Attached {
			attached++
			if size < MinTextSize+MinAttachSize || size > 2*(MaxTextSize+MaxAttachSize) {
				t.Errorf("message %d with attachment: %d bytes", i, size)
			}
		} else if size < MinTextSize || size > MaxTextSize+lineWidth+2 {
			t.Errorf("message %d: %d bytes, want %d..%d", i, size, MinTextSize, MaxTextSize)
		}
		if bytes.Contains(bytes.ReplaceAll(m.Body, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message %d has a bare LF", i)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.Body))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if msg.Header.Get("Message-ID") == "" || msg.Header.Get("Subject") == "" {
			t.Errorf("message %d lacks Message-ID or Subject", i)
		}
	}
	if lo, hi := n*AttachPerMille/1000/2, n*AttachPerMille/1000*2; attached < lo || attached > hi {
		t.Errorf("%d of %d messages have attachments, want %d..%d", attached, n, lo, hi)
	}
}
