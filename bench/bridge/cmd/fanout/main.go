// Command fanout measures push fan-out (issue 19 item 4): N bridge sessions
// idle on one mailbox, another connection APPENDs one message, and every
// session's "exists" event is timed against the moment the IMAP server's
// notification (its untagged EXISTS) reached that session's IMAP connection
// in the bridge, with the bridge process's CPU time per event.
//
// Only the bridge runs in the measured process: the IMAP server (the
// embedded devserver, or Dovecot when IMAPBRIDGE_DOVECOT_PLAIN and
// BRIDGEBENCH_DOVECOT_USER/PASSWORD are set and -server dovecot) and the N
// WebSocket clients plus the appender run in child processes (the same
// binary with -role upstream / -role clients). The bridge dials its IMAP
// connections through a hook that timestamps the read carrying EXISTS; the
// sessions are opened one at a time, so the k-th dial belongs to the k-th
// client. Both processes read the same wall clock.
//
//	go run ./bench/bridge/cmd/fanout -n 1000 -rounds 5
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge"
	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// Settings.
const (
	envSecret          = "BRIDGEBENCH_SECRET"
	envDovecotAddr     = "IMAPBRIDGE_DOVECOT_PLAIN"
	envDovecotUser     = "BRIDGEBENCH_DOVECOT_USER"
	envDovecotPassword = "BRIDGEBENCH_DOVECOT_PASSWORD"
	// openTimeout bounds opening every session.
	openTimeout = 10 * time.Minute
	// roundTimeout bounds the wait for every session's event of one append.
	roundTimeout = 60 * time.Second
	// pause lets every session settle between appends.
	pause = time.Second
	// mailbox is where every session idles and the message is appended.
	mailbox = "INBOX"
)

var errUsage = errors.New("fanout: usage")

var message = []byte("From: bench <bench@example.org>\r\nTo: demo@example.org\r\nSubject: fan-out\r\n" +
	"Message-ID: <fanout@bench.example.org>\r\n\r\nnew mail for everyone\r\n")

func main() {
	role := flag.String("role", "bridge", "bridge (measure), upstream or clients (children)")
	n := flag.Int("n", 1000, "sessions idling on the mailbox")
	rounds := flag.Int("rounds", 5, "appends (each one event per session)")
	server := flag.String("server", "devserver", "devserver or dovecot")
	url := flag.String("url", "", "clients: bridge WebSocket URL")
	addr := flag.String("addr", "", "clients: IMAP address for the appender")
	user := flag.String("user", "", "clients: IMAP user")
	pass := flag.String("password", "", "clients: IMAP password")
	flag.Parse()
	if _, err := bench.RaiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	var err error
	switch *role {
	case "upstream":
		err = bench.ServeDevserver(os.Stdin, os.Stdout)
	case "clients":
		err = runClients(*url, *addr, *user, *pass, *n)
	case "bridge":
		err = runBridge(*server, *n, *rounds, os.Stdout)
	default:
		err = fmt.Errorf("%w: unknown role %q", errUsage, *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// recorder timestamps, per IMAP connection (in dial order), the first read
// of the current round that carries an EXISTS.
type recorder struct {
	mu    sync.Mutex
	times []int64 // unix nanoseconds, 0 = not yet this round
	armed atomic.Bool
}

func (r *recorder) add() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.times = append(r.times, 0)
	return len(r.times) - 1
}

func (r *recorder) arm() {
	r.mu.Lock()
	clear(r.times)
	r.mu.Unlock()
	r.armed.Store(true)
}

func (r *recorder) mark(i int, t time.Time) {
	r.mu.Lock()
	if r.times[i] == 0 {
		r.times[i] = t.UnixNano()
	}
	r.mu.Unlock()
}

func (r *recorder) snapshot() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.times)
}

// notifyConn is an upstream connection whose reads are watched for EXISTS.
type notifyConn struct {
	net.Conn
	rec *recorder
	idx int
}

func (c *notifyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.rec.armed.Load() {
		t := time.Now()
		if bytes.Contains(p[:n], []byte(" EXISTS\r\n")) {
			c.rec.mark(c.idx, t)
		}
	}
	return n, err
}

func runBridge(server string, n, rounds int, w io.Writer) error {
	if n <= 0 || rounds <= 0 {
		return fmt.Errorf("%w: -n and -rounds must be positive", errUsage)
	}
	var up bench.Upstream
	switch server {
	case "devserver":
		c, err := bench.StartChild(nil, "-role", "upstream")
		if err != nil {
			return err
		}
		defer c.Stop()
		l, err := c.Line()
		if err != nil {
			return err
		}
		f := strings.Fields(l)
		if len(f) != 3 {
			return fmt.Errorf("%w: upstream said %q", bench.ErrBench, l)
		}
		up = bench.Upstream{Label: "devserver", Addr: f[0], User: f[1], Password: f[2]}
	case "dovecot":
		up = bench.Upstream{Label: "Dovecot", Addr: os.Getenv(envDovecotAddr), User: os.Getenv(envDovecotUser), Password: os.Getenv(envDovecotPassword)}
		if up.Addr == "" || up.User == "" {
			return fmt.Errorf("%w: -server dovecot needs %s, %s and %s", errUsage, envDovecotAddr, envDovecotUser, envDovecotPassword)
		}
	default:
		return fmt.Errorf("%w: unknown -server %q", errUsage, server)
	}
	rec := &recorder{}
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	br, err := bench.StartBridgeWith(up, secret, func(c *bridge.Config) {
		var d net.Dialer
		c.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, network, address)
			if err != nil {
				return nil, err
			}
			return &notifyConn{Conn: conn, rec: rec, idx: rec.add()}, nil
		}
	})
	if err != nil {
		return err
	}
	defer br.Close()
	cl, err := bench.StartChild([]string{envSecret + "=" + hex.EncodeToString(secret)}, "-role", "clients", "-url", br.URL(),
		"-addr", up.Addr, "-n", strconv.Itoa(n), "-user", up.User, "-password", up.Password)
	if err != nil {
		return err
	}
	defer cl.Stop()
	if l, err := cl.Line(); err != nil || l != "ready" {
		return fmt.Errorf("%w: clients said %q (%v)", bench.ErrBench, l, err)
	}
	if got := len(rec.snapshot()); got != n {
		return fmt.Errorf("%w: %d IMAP connections for %d sessions", bench.ErrBench, got, n)
	}
	var bridgeLat, serverLat, endToEnd []time.Duration
	var cpuUser, cpuSys, spread []time.Duration
	for range rounds {
		time.Sleep(pause)
		rec.arm()
		u0, s0 := bench.CPUTime()
		if err := cl.Say("append"); err != nil {
			return err
		}
		l, err := cl.Line()
		if err != nil {
			return err
		}
		u1, s1 := bench.CPUTime()
		rec.armed.Store(false)
		f := strings.Fields(l)
		if len(f) != n+2 || f[0] != "result" {
			return fmt.Errorf("%w: clients said %.80q", bench.ErrBench, l)
		}
		sent, _ := strconv.ParseInt(f[1], 10, 64)
		notified := rec.snapshot()
		var last int64
		for k := range n {
			ev, _ := strconv.ParseInt(f[2+k], 10, 64)
			if ev == 0 || notified[k] == 0 {
				return fmt.Errorf("%w: session %d: no event (%d) or no EXISTS read (%d)", bench.ErrBench, k, ev, notified[k])
			}
			bridgeLat = append(bridgeLat, time.Duration(ev-notified[k]))
			serverLat = append(serverLat, time.Duration(notified[k]-sent))
			endToEnd = append(endToEnd, time.Duration(ev-sent))
			last = max(last, ev)
		}
		cpuUser = append(cpuUser, (u1-u0)/time.Duration(n))
		cpuSys = append(cpuSys, (s1-s0)/time.Duration(n))
		spread = append(spread, time.Duration(last-sent))
	}
	where := "the devserver in a child process"
	if up.Label != "devserver" {
		where = up.Label + " (e2e/servers/dovecot.sh, one imap process per connection)"
	}
	fmt.Fprintf(w, "Run of %s, %s %s/%s, %d CPUs; upstream %s, %d sessions on %s in a child process (opened one at a time), %d appends by another connection; bridge defaults except the bench caps.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), where, n, mailbox, rounds)
	fmt.Fprintln(w, "| interval | events | p50 | p99 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	row := func(name string, d []time.Duration) {
		s := bench.Summarize(d)
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", name, s.N, fmtDur(s.P50), fmtDur(s.P99), fmtDur(slices.Max(d)))
	}
	row("**bridge: EXISTS read from the server → `exists` event read by the browser**", bridgeLat)
	row("server: APPEND sent → its EXISTS read by the bridge", serverLat)
	row("end to end: APPEND sent → `exists` event read by the browser", endToEnd)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Bridge CPU per event (median of %d appends): %s user + %s system; last event %s after the APPEND was sent (median).\n",
		rounds, fmtDur(medianDur(cpuUser)), fmtDur(medianDur(cpuSys)), fmtDur(medianDur(spread)))
	return nil
}

func medianDur(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
}

// runClients opens n sessions one at a time, says "ready", and for each
// "append" line appends one message through a direct connection and
// answers "result <sent> <event time of each session>" (unix nanoseconds).
func runClients(url, addr, user, pass string, n int) error {
	if url == "" || addr == "" || n <= 0 {
		return fmt.Errorf("%w: clients need -url, -addr and -n", errUsage)
	}
	secret, err := hex.DecodeString(os.Getenv(envSecret))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, envSecret, err)
	}
	signer, err := bench.NewSigner(secret)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	octx, ocancel := context.WithTimeout(ctx, openTimeout)
	defer ocancel()
	type hit struct {
		k int
		t int64
	}
	hits := make(chan hit, n)
	sessions := make([]*bench.Session, 0, n)
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for k := range n {
		s, err := openIdle(octx, signer, url, user, pass)
		if err != nil {
			return fmt.Errorf("session %d: %w", k, err)
		}
		sessions = append(sessions, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := s.WaitEvent(ctx, func(e *protocol.Event) bool { return e.Event == protocol.EventExists }); err != nil {
					return
				}
				hits <- hit{k, time.Now().UnixNano()}
			}
		}()
	}
	app, err := bench.DialDirect(octx, bench.Upstream{Addr: addr, User: user, Password: pass}, "", nil)
	if err != nil {
		return fmt.Errorf("appender: %w", err)
	}
	defer app.Shutdown()
	fmt.Println("ready")
	in := make([]byte, 0, 64)
	buf := make([]byte, 1)
	for {
		in = in[:0]
		for {
			if _, err := os.Stdin.Read(buf); err != nil {
				return nil // the parent is done
			}
			if buf[0] == '\n' {
				break
			}
			in = append(in, buf[0])
		}
		if string(in) != "append" {
			return fmt.Errorf("%w: unknown command %q", errUsage, in)
		}
		times := make([]int64, n)
		sent := time.Now().UnixNano()
		actx, acancel := context.WithTimeout(ctx, roundTimeout)
		_, err := app.Append(actx, mailbox, "", time.Time{}, message)
		if err != nil {
			acancel()
			return fmt.Errorf("append: %w", err)
		}
		for got := 0; got < n; {
			select {
			case h := <-hits:
				if times[h.k] == 0 {
					times[h.k] = h.t
					got++
				}
			case <-actx.Done():
				got = n // report what arrived; the parent refuses the round
			}
		}
		acancel()
		var b strings.Builder
		fmt.Fprintf(&b, "result %d", sent)
		for _, t := range times {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(t, 10))
		}
		fmt.Println(b.String())
	}
}

// openIdle opens one session on mailbox and waits for its "idle" state.
func openIdle(ctx context.Context, signer *auth.Signer, url, user, pass string) (*bench.Session, error) {
	tok, err := bench.SignToken(signer, user)
	if err != nil {
		return nil, err
	}
	s, err := bench.OpenSession(ctx, url, tok, pass, mailbox)
	if err != nil {
		return nil, err
	}
	if _, err := s.WaitEvent(ctx, func(e *protocol.Event) bool { return e.Event == protocol.EventState && e.State == protocol.StateIdle }); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
