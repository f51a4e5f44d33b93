package imapengine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// measure runs f and reports the process CPU time it used, the peak of the
// live heap above the level before it (sampled every 200 µs) and the bytes
// allocated in total.
func measure(f func()) (cpu time.Duration, peak, total uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var maxSeen uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tk := time.NewTicker(200 * time.Microsecond)
		defer tk.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > maxSeen {
				maxSeen = v
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	var r0, r1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	f()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&ms1)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	cpu = tv(r1.Utime) + tv(r1.Stime) - tv(r0.Utime) - tv(r0.Stime)
	if maxSeen > base {
		peak = maxSeen - base
	}
	return cpu, peak, ms1.TotalAlloc - ms0.TotalAlloc
}

// fetchShape is a FETCH response of n items built by item(i).
func fetchShape(n int, item func(i int) string) []byte {
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 1")
	for i := 0; i < n; i++ {
		b.WriteString(item(i))
	}
	b.WriteString(")\r\n")
	return []byte(b.String())
}

// hostileShapes are the worst shapes per received byte (issue 20 item 4).
func hostileShapes(n int) map[string][]byte {
	flags := func(i int) string { return fmt.Sprintf(` \f%d`, i) }
	return map[string][]byte{
		"tiny-literals": fetchShape(n, func(i int) string { return fmt.Sprintf(" BODY[%d] {1}\r\nx", i) }),
		"tiny-list-items": func() []byte {
			var b strings.Builder
			b.WriteString("* 1 FETCH (UID 1 X-LIST (")
			for i := 0; i < 450_000; i++ { // one line, under DefaultMaxLineLength
				b.WriteString("a ")
			}
			b.WriteString("a))\r\n")
			return []byte(b.String())
		}(),
		"long-flag-list": func() []byte {
			var b strings.Builder
			b.WriteString("* 1 FETCH (UID 1 FLAGS (\\a")
			for i := 0; i < 240_000; i++ {
				b.WriteString(flags(i % 10))
			}
			b.WriteString("))\r\n")
			return []byte(b.String())
		}(),
		"short-lines": func() []byte {
			var b strings.Builder
			for i := 0; i < n; i++ {
				b.WriteString("* 1 FETCH (UID 1)\r\n")
			}
			return []byte(b.String())
		}(),
		"deep-nesting": func() []byte {
			var b strings.Builder
			b.WriteString("* 1 FETCH (UID 1")
			for i := 0; i < 5000; i++ {
				b.WriteString(" X-N " + strings.Repeat("(", 90) + "a" + strings.Repeat(")", 90))
			}
			b.WriteString(")\r\n")
			return []byte(b.String())
		}(),
	}
}

// fetchServer answers FETCH and UID FETCH with payload, then OK; SELECT as usual.
func fetchServer(t *testing.T, payload []byte) *imaptest.Server {
	h := func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.SendRaw(payload)
		c.Tagged(cmd, "OK FETCH completed")
	}
	return imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{"FETCH": h, "UID": h}})
}

func figureClient(t *testing.T, srv *imaptest.Server) *Client {
	c, err := Dial(context.Background(), srv.Addr(), &Options{AllowPlaintextAuth: true, CommandTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHostileFigures prints the figures of issue 20 items 1–4 (CPU, heap
// peak, heap bytes per received byte). It is not a check and runs only with
// IMAPBRIDGE_FIGURES=1.
func TestHostileFigures(t *testing.T) {
	if os.Getenv("IMAPBRIDGE_FIGURES") == "" {
		t.Skip("set IMAPBRIDGE_FIGURES=1 to print the figures")
	}
	ctx := context.Background()
	t.Run("item1-2", func(t *testing.T) {
		srv := uidMapServer(t, 1_000_000)
		c := figureClient(t, srv)
		defer c.Shutdown()
		if err := c.SyncUIDs(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"vanished-10000-uids", "vanished-1000-ranges"} {
			srv.SetValue("noop", vanishedLine(k))
			var blocked time.Duration
			cpu, peak, _ := measure(func() {
				done := make(chan struct{})
				go func() { defer close(done); _, _ = c.Noop(ctx) }()
				time.Sleep(5 * time.Millisecond)
				start := time.Now()
				c.MailboxSize()
				blocked = time.Since(start)
				<-done
			})
			t.Logf("item1 %s (%d bytes): cpu %v peak %.1f MiB, MailboxSize blocked %v, size %d",
				k, len(vanishedLine(k)), cpu, float64(peak)/(1<<20), blocked, c.MailboxSize())
		}
		srv.SetValue("noop", "* 4294967295 EXISTS\r\n")
		cpu, peak, _ := measure(func() { _, _ = c.Noop(ctx) })
		t.Logf("item2 EXISTS 4294967295: cpu %v heap peak %.1f MiB", cpu, float64(peak)/(1<<20))
		srv.SetValue("noop", strings.Repeat("* 1 EXPUNGE\r\n", 1000))
		cpu, _, _ = measure(func() { _, _ = c.Noop(ctx) })
		t.Logf("item2 1000 x EXPUNGE: cpu %v (%v per line)", cpu, cpu/1000)
	})
	t.Run("quoted-escapes", func(t *testing.T) {
		// One unsolicited FETCH line of 20,000 escaped quoted strings, parsed
		// for events (unknown items skipped), then as FetchEach's sections.
		srv := uidMapServer(t, 1000)
		c := figureClient(t, srv)
		defer c.Shutdown()
		for name, item := range map[string]string{"unknown items": ` X-A "a\\%d"`, "body sections": ` BODY[%d] "a\\"`} {
			var b strings.Builder
			b.WriteString("* 1 FETCH (UID 1")
			for i := 0; i < 20_000; i++ {
				fmt.Fprintf(&b, item, i)
			}
			b.WriteString(")\r\n")
			srv.SetValue("noop", b.String())
			cpu, peak, total := measure(func() { _, _ = c.Noop(ctx) })
			t.Logf("20,000 escaped quoted %s (%d bytes) as NOOP data: cpu %v peak %.1f MiB alloc %.1f MiB",
				name, b.Len(), cpu, float64(peak)/(1<<20), float64(total)/(1<<20))
			cpu, peak, total = measure(func() {
				_ = c.FetchEach(ctx, "1", "(UID)", nil, func(*imap.Message) error { return nil })
			})
			t.Logf("20,000 escaped quoted %s (%d bytes) as FetchEach data: cpu %v peak %.1f MiB alloc %.1f MiB",
				name, b.Len(), cpu, float64(peak)/(1<<20), float64(total)/(1<<20))
		}
	})
	t.Run("item3-4", func(t *testing.T) {
		n := 1_000_000
		if s := os.Getenv("IMAPBRIDGE_FIGURES_N"); s != "" {
			fmt.Sscan(s, &n)
		}
		for name, payload := range hostileShapes(n) {
			srv := fetchServer(t, payload)
			c := figureClient(t, srv)
			var res Result
			var err error
			cpu, peak, total := measure(func() { res, err = c.Fetch(ctx, "1", "(UID)") })
			t.Logf("imaplib %-16s %6.1f MiB wire: cpu %v peak %.1f MiB (%.2f B/B) alloc %.2f B/B items %d err %v",
				name, float64(len(payload))/(1<<20), cpu, float64(peak)/(1<<20), float64(peak)/float64(len(payload)),
				float64(total)/float64(len(payload)), len(res.Data), err)
			res = Result{}
			c.Shutdown()
			c = figureClient(t, srv)
			var msgs int
			cpu, peak, total = measure(func() {
				err = c.FetchEach(ctx, "1", "(UID)", nil, func(m *imap.Message) error { msgs++; return nil })
			})
			t.Logf("typed   %-16s %6.1f MiB wire: cpu %v peak %.1f MiB (%.2f B/B) alloc %.2f B/B msgs %d err %v",
				name, float64(len(payload))/(1<<20), cpu, float64(peak)/(1<<20), float64(peak)/float64(len(payload)),
				float64(total)/float64(len(payload)), msgs, err)
			c.Shutdown()
			srv.Close()
		}
	})
}

// vanishedLine is a VANISHED response of 10,000 UIDs or 1,000 ranges, none
// of them in 1:1000000.
func vanishedLine(kind string) string {
	var b strings.Builder
	b.WriteString("* VANISHED ")
	if kind == "vanished-10000-uids" {
		for i := 0; i < 10000; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", 2_000_001+2*i)
		}
	} else {
		for i := 0; i < 1000; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d:%d", 2_000_001+10*i, 2_000_005+10*i)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// uidMapServer offers ESEARCH and answers UID SEARCH ALL with 1:n; NOOP
// sends the server value "noop" first.
func uidMapServer(t *testing.T, n int) *imaptest.Server {
	return imaptest.NewServer(t, imaptest.Config{Capabilities: "ESEARCH", Handlers: map[string]imaptest.HandlerFunc{
		"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send(fmt.Sprintf("* ESEARCH (TAG %q) UID ALL 1:%d", cmd.Tag, n))
			c.Tagged(cmd, "OK UID SEARCH completed")
		},
		"SELECT": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send(fmt.Sprintf("* %d EXISTS", n))
			c.Tagged(cmd, "OK [READ-WRITE] SELECT completed")
		},
		"NOOP": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if s, ok := c.Server().Value("noop").(string); ok {
				c.SendRaw([]byte(s))
			}
			c.Tagged(cmd, "OK NOOP completed")
		},
		"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) { // the same data as a FETCH's own
			if s, ok := c.Server().Value("noop").(string); ok {
				c.SendRaw([]byte(s))
			}
			c.Tagged(cmd, "OK FETCH completed")
		},
	}})
}
