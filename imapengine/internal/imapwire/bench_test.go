package imapwire

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchMessages is the number of messages in each benchmark stream.
const benchMessages = 10_000

// rfc822Stream builds benchMessages "* n FETCH (RFC822 {N}" responses with
// bodies of 4-20 KB.
func rfc822Stream() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	body := bytes.Repeat([]byte("Lorem ipsum dolor sit amet, consectetur.\r\n"), 500)
	var buf bytes.Buffer
	for i := 1; i <= benchMessages; i++ {
		n := 4096 + rng.IntN(16*1024)
		fmt.Fprintf(&buf, "* %d FETCH (RFC822 {%d}\r\n", i, n)
		buf.Write(body[:n])
		buf.WriteString(")\r\n")
	}
	return buf.Bytes()
}

func BenchmarkReadResponseRFC822(b *testing.B) {
	data := rfc822Stream()
	src := bytes.NewReader(data)
	r := NewReader(src, Limits{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src.Reset(data)
		r.Reset(src)
		for n := 0; ; n++ {
			_, err := r.ReadResponse()
			if err == io.EOF {
				if n != benchMessages {
					b.Fatalf("%d responses", n)
				}
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(benchMessages*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// envelopeResponses frames benchMessages FETCH ENVELOPE responses.
func envelopeResponses(b *testing.B) []*Response {
	var sb strings.Builder
	for i := 1; i <= benchMessages; i++ {
		fmt.Fprintf(&sb, `* %d FETCH (FLAGS (\Seen) UID %d RFC822.SIZE 1234 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700" "subject %d" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) (("John" NIL "john" "example.org")) NIL NIL NIL "<B27397-%d@cac.washington.edu>"))`+"\r\n", i, i, i, i)
	}
	r := NewReader(strings.NewReader(sb.String()), Limits{})
	out := make([]*Response, 0, benchMessages)
	for {
		resp, err := r.ReadResponse()
		if err == io.EOF {
			return out
		}
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, resp)
	}
}

func BenchmarkScanEnvelope(b *testing.B) {
	resps := envelopeResponses(b)
	var size int64
	for _, r := range resps {
		size += r.Size()
	}
	s := NewScanner(nil, Limits{})
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, r := range resps {
			s.Reset(r)
			for !s.AtEnd() {
				s.Value()
				s.Byte(' ')
			}
			if s.Err() != nil {
				b.Fatal(s.Err())
			}
		}
	}
	b.ReportMetric(float64(benchMessages*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
