package imapengine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Shape of the benchmark streams.
const (
	benchMessages   = 10_000    // FETCH responses per command
	benchMinMsgSize = 2 << 10   // smallest RFC822 literal
	benchMaxMsgSize = 20 << 10  // largest RFC822 literal
	benchSeed       = 0x5eed_1a // seed of the deterministic literal sizes
	benchGreeting   = "* OK [CAPABILITY IMAP4rev1] bench server ready\r\n"
)

// benchRFC822Stream builds n "* i FETCH (RFC822 {N}\r\n<N bytes>)\r\n"
// responses with deterministic pseudo-random sizes in
// [benchMinMsgSize, benchMaxMsgSize].
func benchRFC822Stream(n int) []byte {
	x := uint32(benchSeed)
	body := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"), benchMaxMsgSize/64+1)
	var buf bytes.Buffer
	buf.Grow(n * (benchMinMsgSize + benchMaxMsgSize) / 2)
	for i := 1; i <= n; i++ {
		x ^= x << 13 // xorshift32
		x ^= x >> 17
		x ^= x << 5
		size := benchMinMsgSize + int(x%uint32(benchMaxMsgSize-benchMinMsgSize+1))
		fmt.Fprintf(&buf, "* %d FETCH (RFC822 {%d}\r\n", i, size)
		buf.Write(body[:size])
		buf.WriteString(")\r\n")
	}
	return buf.Bytes()
}

// benchEnvelopeStream builds n FETCH responses with FLAGS, UID, RFC822.SIZE
// and an ENVELOPE.
func benchEnvelopeStream(n int) []byte {
	var buf bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&buf, `* %d FETCH (FLAGS (\Seen) UID %d RFC822.SIZE 4321 ENVELOPE (`+
			`"Mon, 7 Feb 1994 21:52:25 -0800" "Subject %d" `+
			`(("Name" NIL "user" "example.com")) (("Name" NIL "user" "example.com")) `+
			`(("Name" NIL "user" "example.com")) (("Other" NIL "other" "example.org")) `+
			`NIL NIL NIL "<id%d@host>"))`+"\r\n", i, i, i, i)
	}
	return buf.Bytes()
}

// benchConn is an in-memory net.Conn playing a server: Read serves the
// greeting, then, each time the client has written a complete FETCH command
// line, the pre-built stream followed by the tagged OK for that command's tag.
// Other commands get a bare tagged OK (LOGOUT a BYE first). The stream is
// shared, never copied, so the timed region measures only the client.
type benchConn struct {
	stream []byte

	mu     sync.Mutex
	cond   *sync.Cond
	out    [][]byte // segments still to be read
	in     []byte   // partial command line written by the client
	closed bool
}

func newBenchConn(stream []byte) *benchConn {
	c := &benchConn{stream: stream, out: [][]byte{[]byte(benchGreeting)}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *benchConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) == 0 && !c.closed {
		c.cond.Wait()
	}
	if c.closed {
		return 0, io.EOF
	}
	n := copy(p, c.out[0])
	if c.out[0] = c.out[0][n:]; len(c.out[0]) == 0 {
		c.out = c.out[1:]
	}
	return n, nil
}

func (c *benchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.in = append(c.in, p...)
	for {
		i := bytes.Index(c.in, []byte("\r\n"))
		if i < 0 {
			break
		}
		fields := bytes.Fields(c.in[:i])
		c.in = c.in[i+2:]
		if len(fields) < 2 {
			continue
		}
		tag, name := string(fields[0]), string(bytes.ToUpper(fields[1]))
		switch name {
		case "FETCH":
			c.out = append(c.out, c.stream, []byte(tag+" OK FETCH completed\r\n"))
		case "CAPABILITY":
			c.out = append(c.out, []byte("* CAPABILITY IMAP4rev1\r\n"+tag+" OK CAPABILITY completed\r\n"))
		case "LOGOUT":
			c.out = append(c.out, []byte("* BYE bench server logging out\r\n"+tag+" OK LOGOUT completed\r\n"))
		default:
			c.out = append(c.out, []byte(tag+" OK "+name+" completed\r\n"))
		}
	}
	c.cond.Broadcast()
	return len(p), nil
}

func (c *benchConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cond.Broadcast()
	return nil
}

type benchAddr struct{}

func (benchAddr) Network() string { return "mem" }
func (benchAddr) String() string  { return "bench" }

func (c *benchConn) LocalAddr() net.Addr                { return benchAddr{} }
func (c *benchConn) RemoteAddr() net.Addr               { return benchAddr{} }
func (c *benchConn) SetDeadline(t time.Time) error      { return nil }
func (c *benchConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *benchConn) SetWriteDeadline(t time.Time) error { return nil }

// dialBench returns a Client over a benchConn serving stream, logged in and
// with INBOX selected.
func dialBench(tb testing.TB, stream []byte) *Client {
	tb.Helper()
	ctx := context.Background()
	c, err := NewClient(ctx, newBenchConn(stream), &Options{CommandTimeout: time.Minute, AllowPlaintextAuth: true})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Login(ctx, "user", "pass"); err != nil {
		c.Shutdown()
		tb.Fatal(err)
	}
	if _, err := c.Select(ctx, "", false); err != nil {
		c.Shutdown()
		tb.Fatal(err)
	}
	return c
}

// benchFetch measures Client.Fetch(ctx, "1:*", parts) over stream, which holds
// n FETCH responses: one Client serves every iteration, and only the FETCH
// round trips are timed. It reports MB/s (stream bytes), msgs/s and allocs/msg.
func benchFetch(b *testing.B, stream []byte, n int, parts string) {
	ctx := context.Background()
	c := dialBench(b, stream)
	defer c.Shutdown()
	b.SetBytes(int64(len(stream)))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.Fetch(ctx, "1:*", parts)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Data) < n {
			b.Fatalf("got %d data items, want at least %d", len(res.Data), n)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	msgs := float64(b.N) * float64(n)
	b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/msgs, "allocs/msg")
}

// The benchmark streams are built once per process: the testing package calls
// each benchmark function several times (b.N = 1 first, and once per -count).
var (
	rfc822Stream   = sync.OnceValue(func() []byte { return benchRFC822Stream(benchMessages) })
	envelopeStream = sync.OnceValue(func() []byte { return benchEnvelopeStream(benchMessages) })
)

// BenchmarkFetchRFC822 fetches 10,000 messages of 2–20 KB as RFC822 literals.
func BenchmarkFetchRFC822(b *testing.B) {
	benchFetch(b, rfc822Stream(), benchMessages, "(RFC822)")
}

// BenchmarkFetchEnvelope fetches FLAGS, UID, RFC822.SIZE and ENVELOPE of
// 10,000 messages.
func BenchmarkFetchEnvelope(b *testing.B) {
	benchFetch(b, envelopeStream(), benchMessages, "(FLAGS UID RFC822.SIZE ENVELOPE)")
}

// TestBenchConnFetch checks the benchmark harness itself on small streams:
// every response arrives, literals intact, and the allocations per message do
// not grow with the number of messages.
func TestBenchConnFetch(t *testing.T) {
	tests := []struct {
		name   string
		stream func(int) []byte
		parts  string
		pairs  bool
	}{
		{"RFC822", benchRFC822Stream, "(RFC822)", true},
		{"Envelope", benchEnvelopeStream, "(FLAGS UID RFC822.SIZE ENVELOPE)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := dialBench(t, tt.stream(50))
			defer c.Shutdown()
			res, err := c.Fetch(ctx, "1:*", tt.parts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Typ != "OK" {
				t.Fatalf("typ = %q", res.Typ)
			}
			var got int
			for _, d := range res.Data {
				if d.IsPair() {
					if l := len(d.Literal()); l < benchMinMsgSize || l > benchMaxMsgSize {
						t.Errorf("literal size %d out of range", l)
					}
					got++
				} else if !tt.pairs && bytes.Contains(d.Bytes(), []byte("ENVELOPE")) {
					got++
				}
			}
			if got != 50 {
				t.Errorf("got %d messages, want 50", got)
			}
			if _, err := c.Logout(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
