package protocol

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkDecodeRequest(b *testing.B) {
	for _, name := range []string{"request_noop.json", "request_fetch.json", "request_imaplib_append.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DecodeRequest(data, DefaultMaxDepth); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	e := Event{Seq: 9, Event: EventExists, Mailbox: "INBOX", Count: 42}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(e); err != nil {
			b.Fatal(err)
		}
	}
}
