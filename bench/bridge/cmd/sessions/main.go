// Command sessions measures the bridge's memory per idle session (issue 4
// item 6): it runs an in-process bridge, opens N sessions to it (each logged
// in, INBOX selected, idling) and reports the bridge process's growth in
// HeapInuse+StackInuse and in RSS, divided by N.
//
// Only the bridge runs in the measured process: the IMAP server (the
// embedded devserver) and the N WebSocket clients run in child processes (the
// same binary with -role upstream / -role clients), so their memory is not
// counted. Each session holds 2 file descriptors in the bridge (WebSocket and
// IMAP) and one in each child; every process raises RLIMIT_NOFILE to its hard
// limit.
//
//	go run ./bench/bridge/cmd/sessions -n 1000,5000
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge"
	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// Roles of the process.
const (
	roleBridge   = "bridge"
	roleUpstream = "upstream"
	roleClients  = "clients"
)

// Settings.
const (
	// envSecret passes the hex HS256 secret to the clients child.
	envSecret = "BRIDGEBENCH_SECRET"
	// openTimeout bounds opening all sessions of one N.
	openTimeout = 5 * time.Minute
	// settle is the wait after the last session idles before measuring.
	settle = 2 * time.Second
	// drainTimeout bounds the wait for the bridge to end every session.
	drainTimeout = 2 * time.Minute
	// fdPerSession is the bridge's descriptors per session (WebSocket + IMAP).
	fdPerSession = 2
	// fdReserve is kept free for everything else (listener, pipes to the
	// children, the runtime's poller, /proc reads), on top of the
	// descriptors open at the start.
	fdReserve = 24
	// targetPerSession is issue 19's budget per idle session (issue 4's was
	// 64 KiB), for heap+stacks and for RSS alike.
	targetPerSession = 48 << 10
	// mailbox is selected by every session.
	mailbox = "INBOX"
)

var errUsage = errors.New("sessions: usage")

func main() {
	role := flag.String("role", roleBridge, "bridge (measure), upstream or clients (children)")
	ns := flag.String("n", "1000,5000", "session counts to measure")
	url := flag.String("url", "", "clients: bridge WebSocket URL")
	n := flag.Int("count", 0, "clients: sessions to open")
	user := flag.String("user", "", "clients: IMAP user")
	pass := flag.String("password", "", "clients: IMAP password")
	conc := flag.Int("concurrency", 32, "clients: sessions opened at once")
	server := flag.String("server", "devserver", "bridge: devserver, dovecot or dovecot-tls (IMAPBRIDGE_DOVECOT_*, BRIDGEBENCH_DOVECOT_USER/PASSWORD)")
	memProfile := flag.String("memprofile", "", "bridge: write a heap profile (every allocation sampled) at the largest N to this file, and its goroutines to FILE.goroutines")
	flag.Parse()
	if *memProfile != "" {
		// Every allocation sampled: the profile's per-session bytes are exact.
		runtime.MemProfileRate = 1
	}
	var err error
	if _, lerr := bench.RaiseFileLimit(); lerr != nil {
		fmt.Fprintln(os.Stderr, lerr)
	}
	switch *role {
	case roleUpstream:
		err = runUpstream(os.Stdin, os.Stdout)
	case roleClients:
		err = runClients(*url, *user, *pass, *n, *conc, os.Stdin, os.Stdout)
	case roleBridge:
		err = runBridge(*ns, *server, *memProfile, os.Stdout)
	default:
		err = fmt.Errorf("%w: unknown role %q", errUsage, *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func runBridge(list, server, memProfile string, w io.Writer) error {
	var counts []int
	nofile, err := bench.RaiseFileLimit()
	if err != nil {
		return err
	}
	reserve := openFiles() + fdReserve
	fit := (int(nofile) - reserve) / fdPerSession / 10 * 10
	var notes []string
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("%w: bad -n %q", errUsage, list)
		}
		if n > fit {
			// The hard RLIMIT_NOFILE could not be raised (a sandbox): run the
			// most sessions that fit, and say so.
			notes = append(notes, fmt.Sprintf("%d sessions need %d descriptors in the bridge and RLIMIT_NOFILE is %d (hard limit, not raisable here): measured %d instead.",
				n, n*fdPerSession+reserve, nofile, fit))
			n = fit
		}
		counts = append(counts, n)
	}
	var upstream bench.Upstream
	var adjust func(*bridge.Config)
	where := "devserver (child process)"
	switch server {
	case "devserver":
		up, err := bench.StartChild(nil, "-role", roleUpstream)
		if err != nil {
			return err
		}
		defer up.Stop()
		l, err := up.Line()
		if err != nil {
			return err
		}
		f := strings.Fields(l)
		if len(f) != 3 {
			return fmt.Errorf("%w: upstream said %q", bench.ErrBench, l)
		}
		upstream = bench.Upstream{Label: "devserver", Addr: f[0], User: f[1], Password: f[2]}
	case "dovecot", "dovecot-tls":
		upstream = bench.Upstream{Label: server, Addr: os.Getenv("IMAPBRIDGE_DOVECOT_PLAIN"),
			User: os.Getenv("BRIDGEBENCH_DOVECOT_USER"), Password: os.Getenv("BRIDGEBENCH_DOVECOT_PASSWORD")}
		if upstream.Addr == "" || upstream.User == "" {
			return fmt.Errorf("%w: -server %s needs IMAPBRIDGE_DOVECOT_PLAIN/TLS/CA and BRIDGEBENCH_DOVECOT_USER/PASSWORD", errUsage, server)
		}
		where = "Dovecot over plaintext loopback"
		if server == "dovecot-tls" {
			// Implicit TLS to the IMAP server, as in production (port 993).
			pem, err := os.ReadFile(os.Getenv("IMAPBRIDGE_DOVECOT_CA"))
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tlsAddr := os.Getenv("IMAPBRIDGE_DOVECOT_TLS")
			adjust = func(c *bridge.Config) {
				c.Upstreams[0].Addr, c.Upstreams[0].Security = tlsAddr, bridge.SecurityTLS
				c.Upstreams[0].AllowPlaintext = false
				c.Upstreams[0].TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
			where = "Dovecot over implicit TLS (TLS 1.3)"
		}
	default:
		return fmt.Errorf("%w: unknown -server %q", errUsage, server)
	}
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	br, err := bench.StartBridgeWith(upstream, secret, adjust)
	if err != nil {
		return err
	}
	defer br.Close()

	fmt.Fprintf(w, "Run of %s, %s %s/%s, %d CPUs, RLIMIT_NOFILE %d; upstream %s, clients in a child process; bridge defaults except the bench caps.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), nofile, where)
	for _, n := range notes {
		fmt.Fprintf(w, "Note: %s\n\n", n)
	}
	fmt.Fprintln(w, "| sessions | heap+stack before | after | per session | of which heap | of which stacks | RSS before | after | per session | goroutines per session | ≤ 48 KiB (heap+stack, RSS) |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for i, n := range counts {
		prof := ""
		if i == len(counts)-1 {
			prof = memProfile
		}
		if err := measure(br, upstream, secret, n, prof, w); err != nil {
			return err
		}
	}
	return nil
}

// measure opens n idle sessions and prints one table row.
func measure(br *bench.Bridge, up bench.Upstream, secret []byte, n int, memProfile string, w io.Writer) error {
	before := bench.SampleMemory()
	cl, err := bench.StartChild([]string{envSecret + "=" + hex.EncodeToString(secret)}, "-role", roleClients, "-url", br.URL(),
		"-count", strconv.Itoa(n), "-user", up.User, "-password", up.Password)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			cl.Stop()
		}
	}()
	l, err := cl.Line()
	if err != nil {
		return err
	}
	if l != "ready" {
		return fmt.Errorf("%w: clients said %q", bench.ErrBench, l)
	}
	if got := br.Server.Sessions(); got != n {
		return fmt.Errorf("%w: bridge has %d sessions, want %d", bench.ErrBench, got, n)
	}
	time.Sleep(settle)
	after := bench.SampleMemory()
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return err
		}
		if err := writeGoroutines(memProfile + ".goroutines"); err != nil {
			return err
		}
	}
	stopped = true
	if err := cl.Stop(); err != nil {
		return fmt.Errorf("clients: %w", err)
	}
	deadline := time.Now().Add(drainTimeout)
	for br.Server.Sessions() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d sessions still open after the clients left", bench.ErrBench, br.Server.Sessions())
		}
		time.Sleep(50 * time.Millisecond)
	}
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	goPer := per(before.Go(), after.Go())
	rssPer := per(before.RSS, after.RSS)
	fmt.Fprintf(w, "| %d | %s | %s | %.1f KiB | %.1f KiB | %.1f KiB | %s | %s | %.1f KiB | %.1f | %s |\n", n,
		mib(before.Go()), mib(after.Go()), goPer/1024, per(before.HeapInuse, after.HeapInuse)/1024,
		per(before.StackInuse, after.StackInuse)/1024, mib(before.RSS), mib(after.RSS), rssPer/1024,
		float64(after.Goroutines-before.Goroutines)/float64(n), verdict(goPer <= targetPerSession && rssPer <= targetPerSession))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// openFiles counts this process's open descriptors.
func openFiles() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 64
	}
	return len(ents)
}

// writeGoroutines writes the goroutine profile as text (stacks grouped).
func writeGoroutines(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("goroutine").WriteTo(f, 1)
}

// runClients opens n sessions, waits until each idles, says "ready", and
// keeps them until stdin closes.
func runClients(url, user, pass string, n, conc int, stdin io.Reader, stdout io.Writer) error {
	if url == "" || n <= 0 || conc <= 0 {
		return fmt.Errorf("%w: clients need -url, -count and -concurrency", errUsage)
	}
	secret, err := hex.DecodeString(os.Getenv(envSecret))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, envSecret, err)
	}
	signer, err := bench.NewSigner(secret)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	sessions := make([]*bench.Session, n)
	errc := make(chan error, n)
	sem := make(chan struct{}, conc)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errc <- openIdle(ctx, signer, url, user, pass, &sessions[i])
		}()
	}
	var firstErr error
	for range n {
		if err := <-errc; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	defer func() {
		for _, s := range sessions {
			if s != nil {
				s.Close()
			}
		}
	}()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintln(stdout, "ready")
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// openIdle opens one session and waits for its "idle" state event.
func openIdle(ctx context.Context, signer *auth.Signer, url, user, pass string, out **bench.Session) error {
	tok, err := bench.SignToken(signer, user)
	if err != nil {
		return err
	}
	s, err := bench.OpenSession(ctx, url, tok, pass, mailbox)
	if err != nil {
		return err
	}
	*out = s
	_, err = s.WaitEvent(ctx, func(e *protocol.Event) bool { return e.Event == protocol.EventState && e.State == protocol.StateIdle })
	return err
}
