package imapengine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// This file holds the hostile-server bounds of issue 20: work and memory a
// server can make the client spend, each asserted as a count or a ratio.

// countingDialer dials TCP and counts the bytes the client reads.
type countingDialer struct{ read atomic.Int64 }

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &d.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// hostileClient dials srv through a counting dialer, logs in and selects.
func hostileClient(t *testing.T, srv *imaptest.Server, l Limits) (*Client, *countingDialer) {
	t.Helper()
	d := &countingDialer{}
	c, err := Dial(context.Background(), srv.Addr(), &Options{AllowPlaintextAuth: true, CommandTimeout: 10 * time.Second, Limits: l, Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown() })
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	return c, d
}

// TestHostileManyLiterals is issue 20 item 3: one FETCH of many "BODY[n]
// {1}" items is refused with ErrTooManyItems the moment the literal count
// crosses Limits.MaxLiterals, in both views: the client reads at most the
// items up to the limit plus one read buffer, not the whole response.
func TestHostileManyLiterals(t *testing.T) {
	const items = 200_000 // 4.6 MB on the wire
	item := func(i int) string { return fmt.Sprintf(" BODY[%d] {1}\r\nx", 100000+i) }
	payload := fetchShape(items, item)
	itemLen := int64(len(item(0)))
	tests := []struct {
		name  string
		limit int // Limits.MaxLiterals; 0 is the default
		max   int // literals accepted
	}{
		{"default", 0, DefaultMaxLiterals},
		{"configured", 500, 500},
	}
	views := map[string]func(c *Client) error{
		"imaplib": func(c *Client) error { _, err := c.Fetch(context.Background(), "1", "(BODY[])"); return err },
		"typed": func(c *Client) error {
			return c.FetchEach(context.Background(), "1", "(BODY[])", nil, func(*imap.Message) error { return nil })
		},
	}
	for _, tt := range tests {
		for view, run := range views {
			t.Run(tt.name+"/"+view, func(t *testing.T) {
				srv := fetchServer(t, payload)
				c, d := hostileClient(t, srv, Limits{MaxLiterals: tt.limit})
				before := d.read.Load()
				err := run(c)
				if !errors.Is(err, ErrTooManyItems) || !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("err = %v, want ErrTooManyItems and ErrResponseTooLarge", err)
				}
				<-c.Done()
				read := d.read.Load() - before
				// The limit's items, plus what one read of the buffer and the
				// kernel's coalescing may bring in past it.
				bound := int64(tt.max+1)*itemLen + 2*testReadBuffer
				if read > bound {
					t.Errorf("read %d bytes before refusing, want <= %d (%d items of %d bytes); response is %d bytes",
						read, bound, tt.max, itemLen, len(payload))
				}
				if read >= int64(len(payload))/2 {
					t.Errorf("read %d of %d bytes: refused only near the end", read, len(payload))
				}
			})
		}
	}
}

// TestHostileManyItemsTyped: the typed view refuses a response with more
// values than Limits.MaxItems (a list of many tiny atoms) instead of
// decoding it; the imaplib view, which does not decode, still returns it.
func TestHostileManyItemsTyped(t *testing.T) {
	payload := []byte("* 1 FETCH (UID 1 FLAGS (" + strings.TrimSpace(strings.Repeat(`\a `, 3000)) + "))\r\n")
	srv := fetchServer(t, payload)
	c, _ := hostileClient(t, srv, Limits{MaxItems: 1000})
	err := c.FetchEach(context.Background(), "1", "(FLAGS)", nil, func(*imap.Message) error {
		t.Error("a refused message was delivered")
		return nil
	})
	if !errors.Is(err, ErrTooManyItems) {
		t.Fatalf("typed: err = %v, want ErrTooManyItems", err)
	}
	res, err := c.Fetch(context.Background(), "1", "(FLAGS)")
	if err != nil || len(res.Data) != 1 {
		t.Fatalf("imaplib: %d items, err %v", len(res.Data), err)
	}
}

// testReadBuffer is the reader's default buffer, for bounds on bytes read.
const testReadBuffer = 64 << 10

// TestHostileContinuationStorm is issue 20 item 5: after APPEND's literal,
// a server that sends "+" every 20 ms and never completes does not extend
// CommandTimeout. The client gives up with ErrTimeout (not the context's
// deadline, ten times longer) after at most CommandTimeout/interval + 3
// continuations.
func TestHostileContinuationStorm(t *testing.T) {
	const (
		timeout  = 300 * time.Millisecond
		interval = 20 * time.Millisecond
	)
	var sent atomic.Int64
	srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if _, _, err := c.ReadLiteral(cmd); err != nil {
				return
			}
			for c.Sleep(interval) {
				c.Send("+ go on")
				sent.Add(1)
			}
		},
	}})
	c, err := Dial(context.Background(), srv.Addr(), &Options{AllowPlaintextAuth: true, CommandTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	mustLogin(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*timeout)
	defer cancel()
	_, err = c.Append(ctx, "INBOX", "", time.Time{}, []byte("Subject: x\r\n\r\nbody\r\n"))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the context expired first: the continuations extended the command")
	}
	if n, max := sent.Load(), int64(timeout/interval)+3; n > max {
		t.Errorf("%d continuations sent before the timeout, want <= %d", n, max)
	}
}

// selOps returns the UID map's work counter.
func selOps(c *Client) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sel.ops
}

// noopCPU runs NOOP with the server value "noop" set to payload and returns
// the fastest of three runs and the UID map work of one.
func noopCPU(t *testing.T, c *Client, srv *imaptest.Server, payload func() string) (time.Duration, int) {
	t.Helper()
	best := time.Duration(1<<63 - 1)
	ops := 0
	for i := 0; i < 3; i++ {
		srv.SetValue("noop", payload())
		before := selOps(c)
		start := time.Now()
		if _, err := c.Noop(context.Background()); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
		ops = selOps(c) - before
	}
	return best, ops
}

// TestHostileVanishedAgainstUIDMap is issue 20 item 1: after SyncUIDs learnt
// 1,000,000 UIDs, a VANISHED of 10,000 UIDs none of which match costs the
// UID map O(log) per range (counted), and the whole NOOP at most 4 times
// the same line as VANISHED (EARLIER), which is parsed but not applied.
// Before: 8.2 s of CPU, 10,000 × 1,000,000 comparisons.
func TestHostileVanishedAgainstUIDMap(t *testing.T) {
	srv := uidMapServer(t, 1_000_000)
	c, _ := hostileClient(t, srv, Limits{})
	if err := c.SyncUIDs(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u, ok := c.UIDOf(1_000_000); !ok || u != 1_000_000 {
		t.Fatalf("UIDOf(1000000) = %d, %v", u, ok)
	}
	line := vanishedLine("vanished-10000-uids")
	earlier := strings.Replace(line, "VANISHED ", "VANISHED (EARLIER) ", 1)
	base, _ := noopCPU(t, c, srv, func() string { return earlier })
	d, ops := noopCPU(t, c, srv, func() string { return line })
	if maxOps := 10_000 * 2 * 24; ops > maxOps {
		t.Errorf("UID map work %d for 10,000 ranges, want <= %d", ops, maxOps)
	}
	if d > 4*base+5*time.Millisecond {
		t.Errorf("VANISHED took %v, VANISHED (EARLIER) %v: ratio %.1f, want <= 4", d, base, float64(d)/float64(base))
	}
	if n := c.MailboxSize(); n != 1_000_000 {
		t.Fatalf("MailboxSize = %d after non-matching VANISHED", n)
	}
	// A matching VANISHED of 1,000 ranges removes exactly their UIDs.
	var b strings.Builder
	b.WriteString("* VANISHED ")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "%d:%d,", 1000*i+1, 1000*i+10)
	}
	b.WriteString("999999:1000000\r\n")
	_, ops = noopCPU(t, c, srv, func() string { return b.String() })
	if n := c.MailboxSize(); n != 1_000_000-10_000-2 {
		t.Fatalf("MailboxSize = %d after removing 10,002 UIDs", n)
	}
	if u, _ := c.UIDOf(1); u != 11 {
		t.Fatalf("UIDOf(1) = %d, want 11", u)
	}
	if maxOps := 1001 * 4 * 24; ops > maxOps {
		t.Errorf("UID map work %d for 1,001 matching ranges, want <= %d", ops, maxOps)
	}
}

// TestHostileExistsExpunge is issue 20 item 2: "* 4294967295 EXISTS"
// allocates nothing for the messages it announces (before: 64 MiB), and an
// EXPUNGE costs O(log) of the UID map, not O(mailbox) (before: 3 ms per line
// at 2^24 messages): 1,000 EXPUNGEs in the middle of 1,000,000 synced UIDs
// cost at most 3 times 1,000 against a 2,000-message mailbox.
func TestHostileExistsExpunge(t *testing.T) {
	srv := uidMapServer(t, 1_000_000)
	c, _ := hostileClient(t, srv, Limits{})
	if err := c.SyncUIDs(context.Background()); err != nil {
		t.Fatal(err)
	}
	expunges := func(seq int) func() string {
		return func() string { return strings.Repeat(fmt.Sprintf("* %d EXPUNGE\r\n", seq), 1000) }
	}
	big, ops := noopCPU(t, c, srv, expunges(500_000))
	if maxOps := 1000 * 4 * 24; ops > maxOps {
		t.Errorf("UID map work %d for 1,000 EXPUNGEs, want <= %d", ops, maxOps)
	}
	if n := c.MailboxSize(); n != 1_000_000-3000 {
		t.Fatalf("MailboxSize = %d", n)
	}
	if u, _ := c.UIDOf(500_000); u != 503_000 {
		t.Fatalf("UIDOf(500000) = %d, want 503000", u)
	}
	srv.SetValue("noop", "* 2000 EXISTS\r\n")
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetValue("noop", "* 5000 EXISTS\r\n") // back to 5,000, so 3 rounds of 1,000 fit
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	small, _ := noopCPU(t, c, srv, expunges(1000))
	if big > 3*small+5*time.Millisecond {
		t.Errorf("1,000 EXPUNGEs: %v at 1,000,000 messages, %v at 5,000: ratio %.1f, want <= 3", big, small, float64(big)/float64(small))
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	srv.SetValue("noop", "* 4294967295 EXISTS\r\n")
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<10 {
		t.Errorf("EXISTS 4294967295 allocated %d bytes, want <= 256 KiB", grown)
	}
	if n := c.MailboxSize(); n != 4294967295 {
		t.Errorf("MailboxSize = %d", n)
	}
	if _, ok := c.UIDOf(4294967295); ok {
		t.Error("a UID known for an announced message")
	}
}

// TestHostileShutdownDoesNotWait: while the reader is processing each of the
// shapes above (held inside that processing by a test hook), the state
// accessors return, and Shutdown returns without the processing completing
// (the mailbox is left as it was, no typed message is delivered). The FETCH
// shapes arrive both as a NOOP's unsolicited data (the imaplib view, parsed
// for events) and as FetchEach's own responses (the typed view). The order
// of the events is recorded, not timed.
func TestHostileShutdownDoesNotWait(t *testing.T) {
	noop := func(c *Client) error { _, err := c.Noop(context.Background()); return err }
	type shape struct {
		name, typ, payload string
		run                func(c *Client) error // the command that receives payload
	}
	shapes := []shape{
		{"VANISHED", "VANISHED", "* VANISHED 1:500000\r\n", noop},
		{"EXISTS", "EXISTS", "* 4294967295 EXISTS\r\n", noop},
		{"EXPUNGE", "EXPUNGE", "* 1 EXPUNGE\r\n", noop},
	}
	var delivered atomic.Int64
	typed := func(c *Client) error {
		return c.FetchEach(context.Background(), "1", "(UID)", nil, func(*imap.Message) error {
			delivered.Add(1)
			return nil
		})
	}
	for name, sh := range memShapes() { // item 4's shapes, item 3's many literals among them
		payload := string(sh(memShapeUnits[name] / 10))
		shapes = append(shapes,
			shape{"FETCH/" + name + "/imaplib", "FETCH", payload, noop},
			shape{"FETCH/" + name + "/typed", "FETCH", payload, typed})
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			srv := uidMapServer(t, 1_000_000)
			c, _ := hostileClient(t, srv, Limits{})
			if err := c.SyncUIDs(context.Background()); err != nil {
				t.Fatal(err)
			}
			var (
				order   []string
				orderMu = make(chan struct{}, 1)
				entered = make(chan struct{})
			)
			record := func(ev string) { orderMu <- struct{}{}; order = append(order, ev); <-orderMu }
			hook := func(typ string) {
				if typ != sh.typ {
					return
				}
				record("processing")
				close(entered)
				for !c.closing.Load() { // held until Shutdown begins
					time.Sleep(time.Millisecond)
				}
				record("processing interrupted")
			}
			c.hookObserve.Store(&hook)
			srv.SetValue("noop", sh.payload)
			delivered.Store(0)
			cmdDone := make(chan error, 1)
			go func() { cmdDone <- sh.run(c) }()
			<-entered
			_ = c.MailboxSize()
			_ = c.State()
			_, _ = c.UIDOf(1)
			_ = c.Capabilities()
			_ = c.Untagged()
			_ = c.Err()
			record("accessors returned")
			c.Shutdown()
			record("shutdown returned")
			if err := <-cmdDone; !errors.Is(err, ErrAbort) {
				t.Errorf("command err = %v, want an abort", err)
			}
			want := []string{"processing", "accessors returned", "processing interrupted", "shutdown returned"}
			if fmt.Sprint(order) != fmt.Sprint(want) {
				t.Fatalf("events %q, want %q", order, want)
			}
			if n := c.MailboxSize(); n != 1_000_000 {
				t.Errorf("MailboxSize = %d: the interrupted %s was applied", n, sh.typ)
			}
			if n := delivered.Load(); n != 0 {
				t.Errorf("%d messages delivered after Shutdown began", n)
			}
		})
	}
}

// memShapes are the worst shapes per received byte (issue 20 item 4), each
// built with n units (a literal, a list item, a flag, a line, a nested list)
// and sized by the caller inside the default limits so both views accept them.
func memShapes() map[string]func(n int) []byte {
	line := func(head string, item func(i int) string, tail string) func(n int) []byte {
		return func(n int) []byte {
			var b strings.Builder
			b.WriteString(head)
			for i := 0; i < n; i++ {
				b.WriteString(item(i))
			}
			b.WriteString(tail)
			return []byte(b.String())
		}
	}
	return map[string]func(int) []byte{
		"tiny-literals":   line("* 1 FETCH (UID 1", func(i int) string { return fmt.Sprintf(" BODY[%d] {1}\r\nx", i) }, ")\r\n"),
		"tiny-quoted":     line("* 1 FETCH (UID 1", func(i int) string { return fmt.Sprintf(` BODY[%d] "x"`, i) }, ")\r\n"),
		"tiny-list-items": line("* 1 FETCH (UID 1 X-LIST (a", func(int) string { return " a" }, "))\r\n"),
		"long-flag-list":  line("* 1 FETCH (UID 1 FLAGS (\\a", func(i int) string { return fmt.Sprintf(` \f%d`, i) }, "))\r\n"),
		"short-lines":     line("", func(int) string { return "* 1 FETCH (UID 1)\r\n" }, ""),
		"deep-nesting": line("* 1 FETCH (UID 1", func(int) string {
			return " X-N " + strings.Repeat("(", 90) + "a" + strings.Repeat(")", 90)
		}, ")\r\n"),
	}
}

// memShapeUnits is the n of each shape: large enough that the connection's
// fixed buffers weigh little, inside the limits memLimits sets.
var memShapeUnits = map[string]int{
	"tiny-literals": 45_000, "tiny-quoted": 45_000, "tiny-list-items": 90_000, "long-flag-list": 30_000,
	"short-lines": 45_000, "deep-nesting": 1000,
}

// memLimits are the defaults with room for 45,000 literals.
var memLimits = Limits{MaxLiterals: 50_000}

// TestHostileMemoryPerByte is issue 20 item 4: for each worst shape, the heap
// the client holds per byte received stays within maxRetainedPerByte (4),
// measured against the heap before the command in the same run, with and
// without the race detector. imaplib view: what is live once Fetch returned
// its Result (every response is kept); typed view: what is live while
// FetchEach delivers the first message (the parsed message and the literals
// it aliases: FetchEach drops the rest of the response before delivering,
// and keeps nothing across messages). Allocation per byte is logged.
//
// The typed view of many tiny literals measures 3.2: every 18-byte
// "BODY[n] {1}" item is a 48-byte imap.BodySection, its item name packed
// beside the others (imapwire's strPacker) and its 1-byte literal packed
// with the others (imapwire.MaxPackedSize). The imaplib view of it measures
// 3.5 (a 48-byte Datum per item and the packed line and literal), many
// short untagged lines 3.8 (a Datum and a 24-byte line per 19-byte line).
func TestHostileMemoryPerByte(t *testing.T) {
	const maxRetainedPerByte = 4.0
	for name, shape := range memShapes() {
		for _, view := range []string{"imaplib", "typed"} {
			t.Run(name+"/"+view, func(t *testing.T) {
				payload := shape(memShapeUnits[name])
				srv := fetchServer(t, payload)
				c, _ := hostileClient(t, srv, memLimits)
				// The least of three runs: other goroutines of the test binary
				// move the heap a little between the two readings.
				retained, alloc := math.Inf(1), 0.0
				for run := 0; run < 3; run++ {
					var before, live runtime.MemStats
					var keep any
					var err error
					runtime.GC()
					runtime.ReadMemStats(&before)
					if view == "imaplib" {
						var res Result
						res, err = c.Fetch(context.Background(), "1", "(UID)")
						runtime.GC()
						runtime.ReadMemStats(&live)
						keep = res
					} else {
						err = c.FetchEach(context.Background(), "1", "(UID)", nil, func(m *imap.Message) error {
							if m.Err != nil {
								t.Errorf("message err %v", m.Err)
							}
							if keep == nil {
								runtime.GC()
								runtime.ReadMemStats(&live)
								keep = m
							}
							return nil
						})
					}
					var end runtime.MemStats
					runtime.ReadMemStats(&end)
					if err != nil || keep == nil {
						t.Fatalf("err %v", err)
					}
					runtime.KeepAlive(keep)
					retained = min(retained, float64(int64(live.HeapAlloc)-int64(before.HeapAlloc))/float64(len(payload)))
					alloc = float64(end.TotalAlloc-before.TotalAlloc) / float64(len(payload))
				}
				t.Logf("%s %s: %d bytes received, %.2f bytes live and %.2f allocated per byte", view, name, len(payload), retained, alloc)
				if retained > maxRetainedPerByte {
					t.Errorf("%.2f bytes live per byte received, want <= %.1f", retained, maxRetainedPerByte)
				}
			})
		}
	}
}
