package main

import "testing"

func TestFinder(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   string // "" when the tagged line never completes
	}{
		{"tagged first", "T1 OK done\r\n", "T1 OK done"},
		{"after untagged", "* 1 FETCH (FLAGS ())\r\nT1 OK done\r\n", "T1 OK done"},
		{"after literal", "* 1 FETCH (RFC822 {5}\r\nab\r\nc)\r\nT1 NO x\r\n", "T1 NO x"},
		{"tag inside a line is ignored", "* OK T1 OK fake\r\nT1 OK real\r\n", "T1 OK real"},
		{"other tag", "T12 OK no\r\nT1 OK yes\r\n", "T1 OK yes"},
		{"incomplete", "* 1 EXISTS\r\nT1 OK", ""},
		{"none", "* 1 EXISTS\r\n", ""},
	}
	for _, tt := range tests {
		// Every split of the stream into two chunks, and byte by byte.
		for cut := 0; cut <= len(tt.stream); cut++ {
			f := newFinder("T1")
			done := f.feed([]byte(tt.stream[:cut])) || f.feed([]byte(tt.stream[cut:]))
			if got := string(f.line); done != (tt.want != "") || (done && got != tt.want) {
				t.Errorf("%s, cut %d: done=%v line=%q, want %q", tt.name, cut, done, got, tt.want)
			}
		}
		f := newFinder("T1")
		done := false
		for i := 0; i < len(tt.stream) && !done; i++ {
			done = f.feed([]byte{tt.stream[i]})
		}
		if got := string(f.line); done != (tt.want != "") || (done && got != tt.want) {
			t.Errorf("%s, bytewise: done=%v line=%q, want %q", tt.name, done, got, tt.want)
		}
	}
}
