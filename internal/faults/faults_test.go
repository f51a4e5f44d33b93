package faults_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
	"github.com/imapbridge/imapbridge/internal/faults"
)

// TestMain fails the package if any scenario leaves a goroutine behind: the
// engine's reader and every goroutine of ours must end with its connection
// (Toxiproxy's own link goroutines excepted, see faults.LeakOptions).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, faults.LeakOptions()...)
}

// envLong runs the long variants (E10 at 100 KB/s on 10 MiB, ~100 s).
const envLong = "IMAPBRIDGE_FAULTS_LONG"

// bigSize is the size of the large message of E4 and E10 (10 MiB).
const bigSize = 10 << 20

// scenarioTimeout bounds each scenario as a whole.
const scenarioTimeout = 60 * time.Second

// bigMessage builds a message of about size bytes whose body lines are
// numbered, so a truncated or shifted copy never compares equal.
func bigMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%08d ................................................................\r\n", i)
	}
	return b.Bytes()
}

// session dials Dovecot through p, logs in as a fresh user holding msgs in
// INBOX and selects it.
func session(t *testing.T, s *dovecottest.Server, p *faults.Proxy, opts imapengine.Options, msgs ...[]byte) *imapengine.Client {
	t.Helper()
	user, pw := s.NewUser(t)
	for _, m := range msgs {
		s.Deliver(t, user, m)
	}
	opts.AllowPlaintextAuth = true
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := imapengine.Dial(ctx, p.Addr, &opts)
	if err != nil {
		t.Fatalf("dial through proxy: %v", err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
	if _, err := c.Login(ctx, user, pw); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatalf("select: %v", err)
	}
	return c
}

// E3: a link that goes half-open during a FETCH fails the pending command
// with ErrTimeout by its deadline, and later commands fail fast.
func TestHalfOpenDuringFetch(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	const deadline = time.Second
	c := session(t, s, p, imapengine.Options{CommandTimeout: deadline}, []byte("Subject: x\r\n\r\nhello\r\n"))
	p.HalfOpen(t)
	start := time.Now()
	_, err := c.Fetch(t.Context(), "1", "(RFC822)")
	took := time.Since(start)
	if !errors.Is(err, imapengine.ErrTimeout) {
		t.Fatalf("FETCH over a half-open link: %v, want ErrTimeout", err)
	}
	if took < deadline || took > deadline+5*time.Second {
		t.Fatalf("FETCH failed after %v, want about %v", took, deadline)
	}
	start = time.Now()
	if _, err := c.Noop(t.Context()); err == nil || time.Since(start) > time.Second {
		t.Fatalf("NOOP after the timeout: %v after %v, want a fast error", err, time.Since(start))
	}
}

// E3: a half-open link during IDLE is found by the keepalive policy: the
// idle loop ends with an error instead of waiting forever.
func TestHalfOpenDuringIdle(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	c := session(t, s, p, imapengine.Options{CommandTimeout: time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- c.IdleLoop(ctx, &imapengine.IdleOptions{Watchdog: time.Second, NoopTimeout: time.Second})
	}()
	time.Sleep(300 * time.Millisecond) // IDLE is on the wire
	p.HalfOpen(t)
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("idle loop over a half-open link: %v (ctx %v), want a keepalive failure", err, ctx.Err())
		}
		t.Logf("idle loop ended: %v", err)
	case <-ctx.Done():
		t.Fatal("idle loop did not notice the half-open link")
	}
}

// E4: a connection cut mid-literal during a 10 MiB FETCH is an error, and
// the body handed out is never complete-looking: fewer bytes than declared
// and a read error that is not a clean EOF.
func TestCutMidLiteral(t *testing.T) {
	s := dovecottest.Start(t)
	for _, tc := range []struct {
		name string
		// before runs when the FETCH is about to start, during after 1 MiB
		// of the body has arrived.
		before, during func(*faults.Proxy)
	}{
		{"limit_data", func(p *faults.Proxy) { p.CutAfter(t, 1<<20) }, nil},
		{"reset_peer", func(p *faults.Proxy) { p.Bandwidth(t, 8192) }, func(p *faults.Proxy) { p.ResetAfter(t, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := faults.Start(t, s.PlainAddr)
			msg := bigMessage(bigSize)
			c := session(t, s, p, imapengine.Options{CommandTimeout: 5 * time.Second}, msg)
			tc.before(p)
			var got int64
			var readErr error
			var declared int64
			err := c.FetchSection(t.Context(), 1, "", func(r io.Reader, size int64) error {
				declared = size
				got, readErr = io.CopyN(io.Discard, r, 1<<20)
				if readErr == nil && tc.during != nil {
					tc.during(p)
				}
				if readErr == nil {
					var n int64
					n, readErr = io.Copy(io.Discard, r)
					got += n
				}
				return readErr
			})
			if err == nil {
				t.Fatalf("FETCH cut mid-literal succeeded (%d of %d bytes)", got, declared)
			}
			if declared != 0 && got >= declared {
				t.Fatalf("cut FETCH delivered all %d bytes", got)
			}
			if readErr != nil && !errors.Is(readErr, io.ErrUnexpectedEOF) && !errors.Is(readErr, imapengine.ErrAbort) {
				t.Errorf("body read error %v, want io.ErrUnexpectedEOF", readErr)
			}
			t.Logf("%s: %d of %d bytes, then %v / %v", tc.name, got, declared, readErr, err)
		})
	}
}

// E10: a 10 MiB FETCH over a throttled link completes within its deadline,
// intact, with the engine's heap bounded well below the message size
// (streamed, never held). The CI variant throttles to 4 MB/s (~2.5 s); with
// IMAPBRIDGE_FAULTS_LONG=1 it runs at the spec's 100 KB/s (~100 s).
func TestThrottledFetch(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	rate, deadline := int64(4096), 30*time.Second
	if os.Getenv(envLong) != "" {
		rate, deadline = 100, 5*time.Minute
	}
	msg := bigMessage(bigSize)
	want := sha256.Sum256(msg)
	// CommandTimeout is shorter than the transfer: progress keeps it alive.
	c := session(t, s, p, imapengine.Options{CommandTimeout: 2 * time.Second}, msg)
	p.Bandwidth(t, rate)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	h := sha256.New()
	err := c.FetchSection(ctx, 1, "", func(r io.Reader, size int64) error {
		_, err := io.Copy(h, r)
		return err
	})
	close(stop)
	<-sampled
	if err != nil {
		t.Fatalf("throttled FETCH: %v after %v", err, time.Since(start))
	}
	got := h.Sum(nil)
	if !bytes.Equal(got, want[:]) {
		// Dovecot may store the message with its own line endings; compare
		// sizes too for the message.
		t.Fatalf("throttled FETCH body differs from the message delivered")
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("%d KB/s: %d bytes in %v, heap in use grew by at most %d KiB", rate, len(msg), time.Since(start), growth>>10)
	if growth > bigSize/2 {
		t.Fatalf("heap grew by %d bytes during a streamed %d-byte FETCH", growth, bigSize)
	}
}

// E5 (link side): the server's port goes away during IDLE (every connection
// closed, new ones refused) and comes back on the same port 2 s later: the
// idle loop ends with an error at once, a new connection on the same address
// works, and mail delivered meanwhile is all there.
func TestServerGoneDuringIdle(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	user, pw := s.NewUser(t)
	opts := imapengine.Options{CommandTimeout: 2 * time.Second, AllowPlaintextAuth: true}
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	defer cancel()
	c, err := imapengine.Dial(ctx, p.Addr, &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Shutdown() }()
	if _, err := c.Login(ctx, user, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.IdleLoop(ctx, nil) }()
	time.Sleep(300 * time.Millisecond)
	p.Down()
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("idle loop after the server went away: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("idle loop did not notice the closed connection")
	}
	const n = 3
	for i := range n {
		s.Deliver(t, user, []byte(fmt.Sprintf("Subject: while down %d\r\n\r\nx\r\n", i)))
	}
	if c2, err := imapengine.Dial(ctx, p.Addr, &opts); err == nil {
		_ = c2.Shutdown()
		t.Fatal("dial while the server is down succeeded")
	}
	time.Sleep(2 * time.Second)
	p.Up(t)
	c2, err := imapengine.Dial(ctx, p.Addr, &opts)
	if err != nil {
		t.Fatalf("dial after restart on the same port: %v", err)
	}
	defer func() { _ = c2.Shutdown() }()
	if _, err := c2.Login(ctx, user, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	if got := c2.MailboxSize(); got != n {
		t.Fatalf("after restart INBOX has %d messages, want %d", got, n)
	}
}

// E3 for streamed bodies: a link that goes half-open while FetchSection's
// consumer reads the literal fails the read and the call with ErrTimeout
// after CommandTimeout without data, instead of blocking forever (the
// consumer's reads wait on the connection, not on a command deadline).
func TestHalfOpenDuringFetchSection(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	const deadline = time.Second
	msg := bigMessage(2 << 20)
	c := session(t, s, p, imapengine.Options{CommandTimeout: deadline}, msg)
	p.Bandwidth(t, 512) // 2 MiB take 4 s
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	defer cancel()
	var got int64
	var readErr error
	start := time.Now()
	err := c.FetchSection(ctx, 1, "", func(r io.Reader, size int64) error {
		got, readErr = io.CopyN(io.Discard, r, 256<<10)
		if readErr != nil {
			return readErr
		}
		p.HalfOpen(t)
		start = time.Now()
		var n int64
		n, readErr = io.Copy(io.Discard, r)
		got += n
		return readErr
	})
	took := time.Since(start)
	t.Logf("half-open mid-literal: %d of %d bytes, then %v / %v after %v", got, len(msg), readErr, err, took)
	if !errors.Is(err, imapengine.ErrTimeout) || ctx.Err() != nil {
		t.Fatalf("FetchSection over a half-open link: %v (ctx %v), want ErrTimeout", err, ctx.Err())
	}
	if readErr == nil || got >= int64(len(msg)) {
		t.Fatalf("the consumer read %d of %d bytes and then %v, want an error before the end", got, len(msg), readErr)
	}
}

// The guard of TestHalfOpenDuringFetchSection does not fire for a slow
// consumer: a FetchSection whose callback pauses for longer than
// CommandTimeout (the server is waiting for it, not silent) completes intact.
func TestSlowFetchSectionConsumer(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	const deadline = 500 * time.Millisecond
	msg := bigMessage(1 << 20)
	want := sha256.Sum256(msg)
	c := session(t, s, p, imapengine.Options{CommandTimeout: deadline}, msg)
	h := sha256.New()
	err := c.FetchSection(t.Context(), 1, "", func(r io.Reader, size int64) error {
		if _, err := io.CopyN(h, r, 64<<10); err != nil {
			return err
		}
		time.Sleep(3 * deadline)
		_, err := io.Copy(h, r)
		return err
	})
	if err != nil {
		t.Fatalf("FetchSection with a consumer pausing %v (CommandTimeout %v): %v", 3*deadline, deadline, err)
	}
	if !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("body differs")
	}
	if _, err := c.Noop(t.Context()); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
}

// E3 for streamed uploads: a link that goes half-open while AppendStream
// sends its literal fails the call with ErrTimeout within about
// CommandTimeout (a write the server no longer accepts, or the answer that
// never comes), and the server stores nothing.
func TestHalfOpenDuringAppendStream(t *testing.T) {
	s := dovecottest.Start(t)
	p := faults.Start(t, s.PlainAddr)
	const deadline = time.Second
	c := session(t, s, p, imapengine.Options{CommandTimeout: deadline})
	msg := bigMessage(bigSize)
	src := &halfOpenAfter{r: bytes.NewReader(msg), at: 1 << 20, fault: func() { p.HalfOpen(t) }}
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	defer cancel()
	_, err := c.AppendStream(ctx, "INBOX", nil, time.Time{}, src, int64(len(msg)))
	took := time.Since(src.when)
	t.Logf("half-open after 1 MiB of a %d-byte APPEND literal: %v after %v", len(msg), err, took)
	if !errors.Is(err, imapengine.ErrTimeout) || ctx.Err() != nil {
		t.Fatalf("AppendStream over a half-open link: %v (ctx %v), want ErrTimeout", err, ctx.Err())
	}
}

// halfOpenAfter reads r and calls fault once at bytes have been read (in the
// caller's goroutine: the test's own).
type halfOpenAfter struct {
	r     io.Reader
	at, n int64
	fault func()
	when  time.Time
}

func (h *halfOpenAfter) Read(b []byte) (int, error) {
	if h.n >= h.at && h.fault != nil {
		h.fault()
		h.fault = nil
		h.when = time.Now()
	}
	k, err := h.r.Read(b)
	h.n += int64(k)
	return k, err
}
