package imaptest

import (
	"bufio"
	"net"
	"testing"
)

func BenchmarkSplitArgs(b *testing.B) {
	line := `A42 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT)]) "quoted \"arg\"" (~{25}`
	b.ReportAllocs()
	for b.Loop() {
		_ = SplitArgs(line)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	s := NewServer(b, Config{})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	if _, err := r.ReadString('\n'); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nc.Write([]byte("A1 LOGIN user \"pass\"\r\n")); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
	}
}
