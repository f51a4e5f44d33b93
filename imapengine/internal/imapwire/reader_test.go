package imapwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = string(x)
	}
	return out
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lines []string
		lits  []string
		err   error
	}{
		{"simple", "* OK hi\r\n", []string{"* OK hi"}, []string{}, nil},
		{"skip leading blanks", "\r\n\r\n* 3 EXISTS\r\n", []string{"* 3 EXISTS"}, []string{}, nil},
		{"fetch literal", "* 1 FETCH (BODY[] {5}\r\nhello)\r\n", []string{"* 1 FETCH (BODY[] {5}", ")"}, []string{"hello"}, nil},
		{"gh-88574 header", "* 1 FETCH (BODY[HEADER] {13}\r\nSubject: test\r\n)\r\n",
			[]string{"* 1 FETCH (BODY[HEADER] {13}", ")"}, []string{"Subject: test"}, nil},
		{"gh-88574 extra CRLF", "* 1 FETCH (BODY[HEADER] {13}\r\nSubject: test\r\n\r\n)\r\n",
			[]string{"* 1 FETCH (BODY[HEADER] {13}", ")"}, []string{"Subject: test"}, nil},
		{"list trailing literal", "* LIST () \"/\" {3}\r\nabc\r\n* OK next\r\n",
			[]string{`* LIST () "/" {3}`, ""}, []string{"abc"}, nil},
		{"quoted paren ignored", "* LIST (\\X) \"(\" {3}\r\nabc\r\n",
			[]string{`* LIST (\X) "(" {3}`, ""}, []string{"abc"}, nil},
		{"quoted escaped quote", "* X (\"a\\\")\" {1}\r\nz\r\n\r\n)\r\n",
			[]string{`* X ("a\")" {1}`, ")"}, []string{"z"}, nil},
		{"two literals", "* 1 FETCH (A {1}\r\nx B {2}\r\nyz)\r\n",
			[]string{"* 1 FETCH (A {1}", " B {2}", ")"}, []string{"x", "yz"}, nil},
		{"literal8", "* 1 FETCH (BINARY[] ~{3}\r\na\x00b)\r\n", []string{"* 1 FETCH (BINARY[] ~{3}", ")"}, []string{"a\x00b"}, nil},
		{"B3 zero literal", "* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\nA1 OK\r\n", []string{"* 1 FETCH (UID 7 BODY[] {0}", ")"}, []string{""}, nil},
		{"B7 literal NUL", "* 1 FETCH (BODY[] {3}\r\n\x00\x00\x00)\r\n", []string{"* 1 FETCH (BODY[] {3}", ")"}, []string{"\x00\x00\x00"}, nil},
		{"not literal {}", "* OK {}\r\n", []string{"* OK {}"}, []string{}, nil},
		{"not literal {-1}", "* OK {-1}\r\n", []string{"* OK {-1}"}, []string{}, nil},
		{"not literal { 5}", "* OK { 5}\r\n", []string{"* OK { 5}"}, []string{}, nil},
		{"not literal {5 }", "* OK {5 }\r\n", []string{"* OK {5 }"}, []string{}, nil},
		{"not literal {0x10}", "* OK {0x10}\r\n", []string{"* OK {0x10}"}, []string{}, nil},
		{"not literal {1e9}", "* OK {1e9}\r\n", []string{"* OK {1e9}"}, []string{}, nil},
		{"EOF at boundary", "", nil, nil, io.EOF},
		{"EOF after blanks", "\r\n\r\n", nil, nil, io.EOF},
		{"unterminated at EOF", "* OK", nil, nil, ErrUnterminatedLine},
		{"unterminated is unexpected EOF", "* OK", nil, nil, io.ErrUnexpectedEOF},
		{"bare LF", "* OK\n", nil, nil, ErrUnterminatedLine},
		{"B2 truncated literal", "* 1 FETCH (BODY[] {1000}\r\n0123456789", nil, nil, io.ErrUnexpectedEOF},
		{"EOF after literal", "* 1 FETCH (BODY[] {1}\r\nx", nil, nil, io.ErrUnexpectedEOF},
		{"EOF after literal line", "* 1 FETCH (BODY[] {1}\r\nx\r\n", nil, nil, io.ErrUnexpectedEOF},
		{"B1 20 digits", "* OK {99999999999999999999}\r\n", nil, nil, ErrLiteralTooLarge},
		{"B1 2^63", "* OK {9223372036854775808}\r\n", nil, nil, ErrLiteralTooLarge},
		{"B1 above limit", fmt.Sprintf("* OK {%d}\r\n", DefaultMaxLiteralSize+1), nil, nil, ErrLiteralTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), Limits{})
			resp, err := r.ReadResponse()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strs(resp.Lines); fmt.Sprint(got) != fmt.Sprint(tc.lines) || len(got) != len(tc.lines) {
				t.Errorf("lines = %q, want %q", got, tc.lines)
			}
			if got := strs(resp.Literals); fmt.Sprint(got) != fmt.Sprint(tc.lits) || len(got) != len(tc.lits) {
				t.Errorf("literals = %q, want %q", got, tc.lits)
			}
			for i, l := range resp.Literals {
				if l == nil {
					t.Errorf("literal %d is nil", i)
				}
			}
			if len(resp.Lines) != len(resp.Literals)+1 {
				t.Errorf("len(Lines)=%d len(Literals)=%d", len(resp.Lines), len(resp.Literals))
			}
		})
	}
}

func TestReadResponseSequence(t *testing.T) {
	in := "* LIST () \"/\" {3}\r\nabc\r\n* 1 FETCH (X {2}\r\nab\r\n)\r\nA1 OK done\r\n"
	r := NewReader(strings.NewReader(in), Limits{})
	var got []string
	for {
		resp, err := r.ReadResponse()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%q/%q", resp.Lines, resp.Literals))
	}
	want := []string{`["* LIST () \"/\" {3}" ""]/["abc"]`, `["* 1 FETCH (X {2}" ")"]/["ab"]`, `["A1 OK done"]/[]`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestReadLineLimits(t *testing.T) {
	exact := strings.Repeat("A", DefaultMaxLineLength-2) + "\r\n"
	tests := []struct {
		name string
		in   string
		lim  Limits
		want int
		err  error
	}{
		{"B5 exact limit accepted", exact, Limits{}, DefaultMaxLineLength - 2, nil},
		{"B5 one over", "A" + exact, Limits{}, 0, ErrLineTooLong},
		{"B5 2MiB no CRLF", strings.Repeat("A", 2<<20), Limits{}, 0, ErrLineTooLong},
		{"B5 2MiB bare LF", strings.Repeat("A", 2<<20) + "\n", Limits{}, 0, ErrLineTooLong},
		{"small limit exact", "abcd\r\n", Limits{MaxLineLength: 6}, 4, nil},
		{"small limit over", "abcde\r\n", Limits{MaxLineLength: 6}, 0, ErrLineTooLong},
		{"bare LF short", "abc\n", Limits{}, 0, ErrUnterminatedLine},
		{"CR only then EOF", "abc\r", Limits{}, 0, ErrUnterminatedLine},
		{"long line bare LF", strings.Repeat("B", 100_000) + "\n", Limits{}, 0, ErrUnterminatedLine},
		{"long line ok", strings.Repeat("B", 100_000) + "\r\n", Limits{}, 100_000, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), tc.lim)
			line, err := r.ReadLine()
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && len(line) != tc.want {
				t.Fatalf("len = %d, want %d", len(line), tc.want)
			}
		})
	}
}

// heapGrowth runs f and returns how much HeapAlloc grew (after GC).
func heapGrowth(f func()) int64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestLiteralBombMemory is B1: {2^k} for k=15..63 plus a 20-digit size.
func TestLiteralBombMemory(t *testing.T) {
	var inputs []string
	for k := 15; k <= 63; k++ {
		inputs = append(inputs, fmt.Sprintf("* OK {%d}\r\n", uint64(1)<<k))
	}
	inputs = append(inputs, "* OK {99999999999999999999}\r\n")
	for _, in := range inputs {
		var err error
		var alloc runtime.MemStats
		grow := heapGrowth(func() {
			runtime.ReadMemStats(&alloc)
			start := alloc.TotalAlloc
			r := NewReader(strings.NewReader(in), Limits{})
			_, err = r.ReadResponse()
			runtime.ReadMemStats(&alloc)
			if d := alloc.TotalAlloc - start; d > 2<<20 {
				t.Errorf("%q: allocated %d bytes", in, d)
			}
		})
		if grow > 2<<20 {
			t.Errorf("%q: heap grew %d", in, grow)
		}
		// Sizes within the limit are cut by EOF; larger ones are refused.
		if !errors.Is(err, ErrLiteralTooLarge) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

func TestResponseTooLarge(t *testing.T) {
	lim := Limits{MaxResponseSize: 100, MaxLiteralSize: 80}
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"literals sum", "* X {60}\r\n" + strings.Repeat("a", 60) + " {60}\r\n" + strings.Repeat("b", 60) + "\r\n", ErrResponseTooLarge},
		{"literal over literal limit", "* X {81}\r\n", ErrLiteralTooLarge},
		{"fits", "* X {60}\r\n" + strings.Repeat("a", 60) + ")\r\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.in), lim).ReadResponse()
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

// dripReader returns one byte per Read, then EOF.
type dripReader struct{ data []byte }

func (d *dripReader) Read(p []byte) (int, error) {
	if len(d.data) == 0 {
		return 0, io.EOF
	}
	p[0] = d.data[0]
	d.data = d.data[1:]
	return 1, nil
}

func TestReadN(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 20_000) // 320,000 bytes
	tests := []struct {
		name    string
		src     io.Reader
		n       int64
		lim     Limits
		wantLen int
		err     error
	}{
		{"zero", strings.NewReader(""), 0, Limits{}, 0, nil},
		{"small", strings.NewReader("hello world"), 5, Limits{}, 5, nil},
		{"big", bytes.NewReader(big), int64(len(big)), Limits{}, len(big), nil},
		{"big drip", &dripReader{data: big[:70_000]}, 70_000, Limits{}, 70_000, nil},
		{"short small", strings.NewReader("abc"), 10, Limits{}, 3, io.ErrUnexpectedEOF},
		{"short big", bytes.NewReader(big[:100_000]), 1 << 20, Limits{}, 100_000, io.ErrUnexpectedEOF},
		{"too large", strings.NewReader(""), 11, Limits{MaxLiteralSize: 10}, 0, ErrLiteralTooLarge},
		{"negative", strings.NewReader(""), -1, Limits{}, 0, ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewReader(tc.src, tc.lim).ReadN(tc.n)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if len(b) != tc.wantLen {
				t.Fatalf("len = %d, want %d", len(b), tc.wantLen)
			}
			if tc.err == nil && b == nil {
				t.Fatal("nil slice")
			}
			if !bytes.Equal(b, big[:min(len(b), len(big))]) && tc.name[:3] == "big" {
				t.Fatal("content mismatch")
			}
		})
	}
}

// TestReadNGrowsWithData checks that a huge announced literal does not
// allocate more than the bytes that arrived (plus chunk slack).
func TestReadNGrowsWithData(t *testing.T) {
	var alloc runtime.MemStats
	runtime.ReadMemStats(&alloc)
	start := alloc.TotalAlloc
	r := NewReader(strings.NewReader(strings.Repeat("x", 1000)), Limits{})
	b, err := r.ReadN(DefaultMaxLiteralSize)
	runtime.ReadMemStats(&alloc)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 1000 {
		t.Fatalf("len %d err %v", len(b), err)
	}
	if d := alloc.TotalAlloc - start; d > 1<<20 {
		t.Fatalf("allocated %d bytes for a 1000-byte stream", d)
	}
}

// timeoutReader fails with errTimeout once, then serves the rest.
type timeoutReader struct {
	parts []string
}

var errTimeout = errors.New("timeout")

func (tr *timeoutReader) Read(p []byte) (int, error) {
	if len(tr.parts) == 0 {
		return 0, io.EOF
	}
	s := tr.parts[0]
	tr.parts = tr.parts[1:]
	if s == "" {
		return 0, errTimeout
	}
	return copy(p, s), nil
}

func TestReadLineKeepsPartialAcrossErrors(t *testing.T) {
	r := NewReader(&timeoutReader{parts: []string{"* OK hel", "", "lo\r\n"}}, Limits{})
	if _, err := r.ReadLine(); !errors.Is(err, errTimeout) {
		t.Fatalf("err = %v", err)
	}
	if r.Buffered() != len("* OK hel") {
		t.Fatalf("Buffered = %d", r.Buffered())
	}
	if err := r.WaitData(); err != nil {
		t.Fatal(err)
	}
	line, err := r.ReadLine()
	if err != nil || string(line) != "* OK hello" {
		t.Fatalf("line %q err %v", line, err)
	}
}

func TestReaderResetAndWait(t *testing.T) {
	r := NewReader(strings.NewReader("A1 OK go\r\n* injected\r\n"), Limits{})
	if line, err := r.ReadLine(); err != nil || string(line) != "A1 OK go" {
		t.Fatalf("%q %v", line, err)
	}
	if r.Buffered() == 0 {
		t.Fatal("expected buffered injection")
	}
	r.Reset(strings.NewReader("* OK tls\r\n"))
	if r.Buffered() != 0 {
		t.Fatal("Reset kept bytes")
	}
	if err := r.WaitData(); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadLine(); err != nil || string(line) != "* OK tls" {
		t.Fatalf("%q %v", line, err)
	}
	if err := r.WaitData(); err != io.EOF {
		t.Fatalf("WaitData at EOF = %v", err)
	}
}

func TestLiteralSize(t *testing.T) {
	tests := []struct {
		line string
		n    int64
		ok   bool
		err  error
	}{
		{"* OK {5}", 5, true, nil},
		{"~{12}", 12, true, nil},
		{"{0}", 0, true, nil},
		{"{}", 0, false, nil},
		{"{-1}", 0, false, nil},
		{"{ 5}", 0, false, nil},
		{"{5 }", 0, false, nil},
		{"{0x10}", 0, false, nil},
		{"{1e9}", 0, false, nil},
		{"{5}x", 0, false, nil},
		{"5}", 0, false, nil},
		{"", 0, false, nil},
		{"{9223372036854775807}", 1<<63 - 1, true, nil},
		{"{9223372036854775808}", 0, true, ErrLiteralTooLarge},
		{"{99999999999999999999}", 0, true, ErrLiteralTooLarge},
		{"{0000000000000000005}", 5, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			var r *Response
			n, ok, err := r.LiteralSize([]byte(tc.line))
			if n != tc.n || ok != tc.ok || !errors.Is(err, tc.err) {
				t.Fatalf("got (%d,%v,%v), want (%d,%v,%v)", n, ok, err, tc.n, tc.ok, tc.err)
			}
		})
	}
}

func TestParenDepth(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"* 1 FETCH (BODY[] {5}", 1},
		{`* LIST () "/" {3}`, 0},
		{`* X ("(" "\"(" {1}`, 1},
		{`* X "unterminated ( {1}`, 1},
		{`* X "a\" ( {1}`, 1},
		{"((()", 2},
	}
	for _, tc := range tests {
		if got := parenDepth([]byte(tc.line)); got != tc.want {
			t.Errorf("parenDepth(%q) = %d, want %d", tc.line, got, tc.want)
		}
	}
}

// TestParenDepthLinear guards against quadratic rescans of unmatched quotes.
func TestParenDepthLinear(t *testing.T) {
	line := []byte(strings.Repeat(`"\`, 500_000))
	start := time.Now()
	parenDepth(line)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("parenDepth took %v", d)
	}
}

func TestResponseSize(t *testing.T) {
	r := &Response{Lines: [][]byte{[]byte("abc {2}"), []byte(")")}, Literals: [][]byte{[]byte("xy")}}
	if r.Size() != 10 {
		t.Fatalf("Size = %d", r.Size())
	}
	var nilResp *Response
	if nilResp.Size() != 0 {
		t.Fatal("nil Size")
	}
}

// countingReader serves data in reads of at most step bytes and records the
// largest read asked of it.
type countingReader struct {
	data    []byte
	step    int
	reads   int
	largest int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.reads++
	c.largest = max(c.largest, len(p))
	n := copy(p[:min(len(p), c.step)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestReadNGrowthBound checks that memory follows the bytes received: a
// literal announced far larger than what arrives allocates at most
// LiteralTrustSize or LiteralGrowth times the bytes received, at every size.
func TestReadNGrowthBound(t *testing.T) {
	for _, sent := range []int{1, ReadChunkSize - 1, ReadChunkSize, ReadChunkSize + 1, 300_000, 1 << 20, 3<<20 + 17} {
		r := NewReader(&countingReader{data: bytes.Repeat([]byte{'x'}, sent), step: 10_000}, Limits{})
		b, err := r.ReadN(DefaultMaxLiteralSize)
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != sent {
			t.Fatalf("sent %d: len %d err %v", sent, len(b), err)
		}
		if limit := max(LiteralGrowth*sent, LiteralTrustSize, ReadChunkSize); cap(b) > limit {
			t.Errorf("sent %d: buffer of %d bytes, more than %d", sent, cap(b), limit)
		}
	}
}

// TestReadNDirect checks literals whose start is buffered and whose rest is
// read straight from the source: the bytes are exact and in order, the
// following line is intact, and large remainders bypass the buffer.
func TestReadNDirect(t *testing.T) {
	for _, size := range []int{1, DirectReadSize - 1, DirectReadSize, DirectReadSize + 1, 20_000, ReadChunkSize + 5, 1_000_003} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i*7 + i/251)
		}
		var stream bytes.Buffer
		fmt.Fprintf(&stream, "* 1 FETCH (BODY[] {%d}\r\n", size)
		stream.Write(body)
		stream.WriteString(")\r\n* 2 FETCH (BODY[] {3}\r\nabc)\r\n")
		src := &countingReader{data: stream.Bytes(), step: 1 << 30}
		r := NewReader(src, Limits{ReadBufferSize: 4096})
		resp, err := r.ReadResponse()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(resp.Literals[0], body) || string(resp.Lines[1]) != ")" {
			t.Fatalf("size %d: literal or trailer corrupted", size)
		}
		resp, err = r.ReadResponse()
		if err != nil || string(resp.Literals[0]) != "abc" {
			t.Fatalf("size %d: next response %v %v", size, resp, err)
		}
		if size > 3*4096 && src.largest <= 4096 {
			t.Errorf("size %d: every read went through the 4 KiB buffer", size)
		}
	}
}

// TestRecycle checks that a recycled literal's memory serves the next ReadN
// that fits, and that oversize buffers are not kept.
func TestRecycle(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000) // 1,000,000 bytes
	r := NewReader(bytes.NewReader(data), Limits{})
	a, err := r.ReadN(300_000)
	if err != nil {
		t.Fatal(err)
	}
	r.Recycle(a)
	b, err := r.ReadN(200_000)
	if err != nil {
		t.Fatal(err)
	}
	if &a[0] != &b[0] {
		t.Error("the recycled buffer was not reused")
	}
	if !bytes.Equal(b, data[300_000:500_000]) {
		t.Error("reused buffer holds the wrong bytes")
	}
	c, err := r.ReadN(400_000) // larger than the spare (none now): fresh memory
	if err != nil || &c[0] == &b[0] || !bytes.Equal(c, data[500_000:900_000]) {
		t.Fatalf("fresh read: %v", err)
	}
	r.Recycle(make([]byte, MaxRecycledLiteral+1))
	if r.spare.Load() != nil {
		t.Error("kept a buffer above MaxRecycledLiteral")
	}
}

// TestMaxLiterals: the literal count is checked as each marker is read: a
// response with one literal more than Limits.MaxLiterals fails with
// ErrTooManyItems (also ErrResponseTooLarge) before the extra literal's bytes
// are consumed; exactly the limit is accepted.
func TestMaxLiterals(t *testing.T) {
	body := func(n int) string {
		var b strings.Builder
		b.WriteString("* 1 FETCH (UID 1")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, " BODY[%d] {1}\r\nx", i)
		}
		return b.String() + ")\r\n"
	}
	for _, tt := range []struct {
		n   int
		err bool
	}{{3, false}, {4, true}, {1000, true}} {
		src := strings.NewReader(body(tt.n))
		r := NewReader(src, Limits{MaxLiterals: 3})
		resp, err := r.ReadResponse()
		if !tt.err {
			if err != nil || len(resp.Literals) != 3 {
				t.Fatalf("n=%d: %v", tt.n, err)
			}
			continue
		}
		if !errors.Is(err, ErrTooManyItems) || !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("n=%d: err = %v", tt.n, err)
		}
		// Only the three accepted literals and the fourth marker line were
		// consumed from what the buffer holds.
		consumed := int64(len(body(tt.n))) - int64(src.Len()) - int64(r.Buffered())
		if want := int64(len(body(3)) - len(")\r\n") + len(" BODY[3] {1}\r\n")); consumed != want {
			t.Errorf("n=%d: consumed %d bytes, want %d", tt.n, consumed, want)
		}
	}
}

// TestPackedPieces: the small lines and literals of a response share chunks
// (MaxPackedSize), each handed out with its capacity equal to its length, so
// an append to one never reaches its neighbour, and Recycle ignores them;
// larger pieces keep their own memory.
func TestPackedPieces(t *testing.T) {
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 1")
	const n = 3000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, i%7, strings.Repeat(string(rune('a'+i%26)), i%7))
	}
	big := strings.Repeat("z", MaxPackedSize+1)
	fmt.Fprintf(&b, " BODY[big] {%d}\r\n%s)\r\n", len(big), big)
	r := NewReader(strings.NewReader(b.String()), Limits{})
	resp, err := r.ReadResponse()
	if err != nil || len(resp.Literals) != n+1 {
		t.Fatalf("%v", err)
	}
	for i := 0; i < n; i++ {
		lit, line := resp.Literals[i], resp.Lines[i+1]
		if want := strings.Repeat(string(rune('a'+i%26)), i%7); string(lit) != want || cap(lit) != len(lit) || cap(line) != len(line) {
			t.Fatalf("literal %d = %q (cap %d), line cap %d/%d", i, lit, cap(lit), cap(line), len(line))
		}
	}
	for i := 0; i < n; i++ {
		_ = append(resp.Literals[i], "XXXXXXXX"...)
		_ = append(resp.Lines[i], "XXXXXXXX"...)
	}
	for i := 0; i < n; i++ {
		if want := strings.Repeat(string(rune('a'+i%26)), i%7); string(resp.Literals[i]) != want {
			t.Fatalf("literal %d changed to %q by an append to its neighbour", i, resp.Literals[i])
		}
		if want := fmt.Sprintf(" BODY[%d] {%d}", i+1, (i+1)%7); i+1 < n && string(resp.Lines[i+1]) != want {
			t.Fatalf("line %d changed to %q", i+1, resp.Lines[i+1])
		}
	}
	if lit := resp.Literals[n]; string(lit) != big {
		t.Fatal("large literal wrong")
	}
	r.Recycle(resp.Literals[5])
	if r.spare.Load() != nil {
		t.Error("kept a packed literal for reuse")
	}
}

// TestPackedAtoms: atoms past the Scanner's cache share chunks and stay
// intact as more are packed.
func TestPackedAtoms(t *testing.T) {
	var b strings.Builder
	b.WriteString("* 1 FETCH (FLAGS (")
	const n = 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ` \f%d`, i)
	}
	b.WriteString("))\r\n")
	resp, err := NewReader(strings.NewReader(b.String()), Limits{}).ReadResponse()
	if err != nil {
		t.Fatal(err)
	}
	s := NewScanner(resp, Limits{})
	s.Expect('*')
	s.SP()
	s.Number()
	s.SP()
	s.Atom()
	s.SP()
	s.Expect('(')
	s.Atom()
	s.SP()
	v := s.Value()
	if s.Err() != nil || len(v.List) != n {
		t.Fatalf("%v: %d values", s.Err(), len(v.List))
	}
	for i, a := range v.List {
		if want := fmt.Sprintf(`\f%d`, i); a.Atom != want {
			t.Fatalf("atom %d = %q, want %q", i, a.Atom, want)
		}
	}
}
