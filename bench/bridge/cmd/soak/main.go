// Command soak is the bridge's soak run (issue 19 item 5): for -duration
// (default 10 minutes) the bridge serves a steady population of sessions
// that send commands and receive pushed mail, plus session churn (at least
// 20 connects and 20 disconnects per second), and once a minute a network
// fault between the bridge and its IMAP server (rotating: the server's port
// down for 2 s and up again, every connection reset, 200 ± 50 ms latency
// for 10 s). Every 10 s the bridge process samples its RSS, goroutines and
// heap+stacks; the run writes them (CSV), a plot (SVG) and a report, with
// the growth per minute after the warm-up and the errors seen outside the
// faults' windows (which must be zero).
//
// Processes: this one runs only the bridge (and the timeline); the IMAP
// server (the embedded devserver behind an in-process Toxiproxy, plus the
// appender that pushes mail) and the WebSocket clients run in child
// processes (-role upstream / clients).
//
//	go run ./bench/bridge/cmd/soak -duration 10m -out bench/soak
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/internal/devserver"
)

// Settings of the run (the load is in flags).
const (
	envSecret = "BRIDGEBENCH_SECRET"
	// sampleEvery is the memory sampling period.
	sampleEvery = 10 * time.Second
	// warmUp is excluded from the growth figures.
	warmUp = 2 * time.Minute
	// faultEvery is the fault period; the first fault comes one period in.
	faultEvery = time.Minute
	// faultGrace extends a fault's window: errors this long after it ends
	// (reconnects, requests that were in flight) are expected.
	faultGrace = 15 * time.Second
	// growthTarget is issue 19's bound on growth after warm-up, per minute.
	growthTarget = 0.01
	// requestTimeout bounds one request of a client.
	requestTimeout = 30 * time.Second
)

var errSoak = errors.New("soak: failed")

func init() { zlog.Logger = zerolog.Nop() } // Toxiproxy's toxics log through zerolog

func main() {
	role := flag.String("role", "driver", "driver (the bridge, measured), upstream or clients")
	duration := flag.Duration("duration", 10*time.Minute, "length of the run")
	steadyN := flag.Int("sessions", 200, "long-lived sessions (idling, commands, pushes)")
	churn := flag.Float64("churn", 25, "short sessions opened (and closed) per second")
	out := flag.String("out", "bench/out/soak", "driver: output prefix (.csv, .svg, .md)")
	url := flag.String("url", "", "clients: bridge WebSocket URL")
	user := flag.String("user", "", "clients: IMAP user")
	pass := flag.String("password", "", "clients: IMAP password")
	flag.Parse()
	if _, err := bench.RaiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	var err error
	switch *role {
	case "upstream":
		err = runUpstream()
	case "clients":
		err = runClients(*url, *user, *pass, *steadyN, *churn)
	case "driver":
		err = runDriver(*duration, *steadyN, *churn, *out)
	default:
		err = fmt.Errorf("%w: unknown role %q", errSoak, *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ---- upstream child: devserver behind Toxiproxy, the appender, faults ----

// runUpstream prints "proxyaddr user password", then pushes mail (an APPEND
// every 2 s, a flag change every 10 s, on a direct connection) and obeys
// "fault down|reset|latency" lines until stdin closes.
func runUpstream() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{Deliver: -1, Seed: 1})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	listen := ln.Addr().String()
	ln.Close()
	tp := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(tp, "soak", listen, srv.Addr())
	if err := p.Start(); err != nil {
		return err
	}
	defer p.Stop()
	u, pw := srv.User()
	fmt.Println(p.Listen, u, pw)

	app, err := bench.DialDirect(ctx, bench.Upstream{Addr: srv.Addr(), User: u, Password: pw}, "INBOX", nil)
	if err != nil {
		return err
	}
	defer app.Shutdown()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			actx, acancel := context.WithTimeout(ctx, requestTimeout)
			_, _ = app.Append(actx, "INBOX", "", time.Time{}, bench.PushMessage)
			if i%5 == 4 {
				_, _ = app.Store(actx, "*", "+FLAGS", `(\Flagged)`)
			}
			acancel()
		}
	}()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != "fault" {
			continue
		}
		switch f[1] {
		case "down": // E5: the server's port closes and reopens 2 s later
			p.Stop()
			time.Sleep(2 * time.Second)
			if err := p.Start(); err != nil {
				return err
			}
		case "reset": // E4: every connection reset, for 1 s
			addToxic(p, "reset", "reset_peer", map[string]any{"timeout": 0})
			time.Sleep(time.Second)
			_ = p.Toxics.RemoveToxic(ctx, "reset")
		case "latency": // 200 ± 50 ms on every link, for 10 s
			addToxic(p, "latency", "latency", map[string]any{"latency": 200, "jitter": 50})
			time.Sleep(10 * time.Second)
			_ = p.Toxics.RemoveToxic(ctx, "latency")
		}
		fmt.Println("fault-done", f[1])
	}
	return nil
}

func addToxic(p *toxiproxy.Proxy, name, typ string, attrs map[string]any) {
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": "downstream", "toxicity": 1.0, "attributes": attrs})
	_, _ = p.Toxics.AddToxicJson(bytes.NewReader(body))
}

// ---- clients child ----

// counters are the clients' totals, printed as "stats" lines.
type counters struct {
	connects, disconnects, commands, events atomic.Int64
	expected, unexpected                    atomic.Int64
	mu                                      sync.Mutex
	windows                                 [][2]time.Time // fault windows (grace included)
	samples                                 []string       // the first unexpected errors
}

func (c *counters) inFault(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.windows {
		if !t.Before(w[0]) && !t.After(w[1]) {
			return true
		}
	}
	return false
}

// fail counts an error as expected (inside a fault's window) or not.
func (c *counters) fail(what string, err error) {
	if c.inFault(time.Now()) {
		c.expected.Add(1)
		return
	}
	c.unexpected.Add(1)
	c.mu.Lock()
	if len(c.samples) < 10 {
		c.samples = append(c.samples, fmt.Sprintf("%s %s: %v", time.Now().UTC().Format("15:04:05.000"), what, err))
	}
	c.mu.Unlock()
}

// runClients runs the steady sessions and the churn until stdin closes,
// reading "window <start ms> <end ms>" lines (fault windows) and printing
// "stats <connects> <disconnects> <commands> <events> <expected> <unexpected>"
// every second; the first unexpected errors go to stderr at the end.
func runClients(url, user, pass string, steadyN int, churn float64) error {
	secret, err := hex.DecodeString(os.Getenv(envSecret))
	if err != nil {
		return err
	}
	signer, err := bench.NewSigner(secret)
	if err != nil {
		return err
	}
	token := func() (string, error) { return bench.SignToken(signer, user) }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	c := &counters{}
	for i := range steadyN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 10 * time.Millisecond) // open gently
			steady(ctx, c, url, token, pass)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Duration(float64(time.Second) / churn))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			wg.Add(1)
			go func() { defer wg.Done(); short(ctx, c, url, token, pass) }()
		}
	}()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for range t.C {
			fmt.Printf("stats %d %d %d %d %d %d\n", c.connects.Load(), c.disconnects.Load(), c.commands.Load(), c.events.Load(), c.expected.Load(), c.unexpected.Load())
		}
	}()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "window" {
			a, _ := strconv.ParseInt(f[1], 10, 64)
			b, _ := strconv.ParseInt(f[2], 10, 64)
			c.mu.Lock()
			c.windows = append(c.windows, [2]time.Time{time.UnixMilli(a), time.UnixMilli(b)})
			c.mu.Unlock()
		}
	}
	cancel()
	wg.Wait()
	fmt.Printf("stats %d %d %d %d %d %d\n", c.connects.Load(), c.disconnects.Load(), c.commands.Load(), c.events.Load(), c.expected.Load(), c.unexpected.Load())
	for _, s := range c.samples {
		fmt.Fprintln(os.Stderr, "unexpected:", s)
	}
	return nil
}

// open dials, logs in and selects INBOX (waiting for idle).
func open(ctx context.Context, c *counters, url string, token func() (string, error), pass string) (*bench.Session, error) {
	tok, err := token()
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := bench.OpenSession(octx, url, tok, pass, "INBOX")
	if err != nil {
		return nil, err
	}
	c.connects.Add(1)
	s.OnEvent = func(*protocol.Event) { c.events.Add(1) }
	return s, nil
}

// steady keeps one session: a command every 0.5–1.5 s (which also reads the
// events pushed meanwhile); a session the bridge ends (during a fault) is
// reopened after a short random pause.
func steady(ctx context.Context, c *counters, url string, token func() (string, error), pass string) {
	for ctx.Err() == nil {
		s, err := open(ctx, c, url, token, pass)
		if err != nil {
			if ctx.Err() == nil {
				c.fail("open", err)
				sleep(ctx, time.Duration(200+rand.IntN(1800))*time.Millisecond)
			}
			continue
		}
		for ctx.Err() == nil {
			sleep(ctx, time.Duration(500+rand.IntN(1000))*time.Millisecond)
			if ctx.Err() != nil {
				break
			}
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			var req any = &protocol.NoopRequest{Header: protocol.Header{Operation: protocol.OpNoop}}
			if rand.IntN(3) == 0 {
				req = &protocol.FetchRequest{Header: protocol.Header{Operation: protocol.OpFetch}, Seqs: "*", Items: []string{"uid", "flags", "envelope"}}
			}
			_, err := s.Do(rctx, req)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					c.fail("command", err)
				}
				break
			}
			c.commands.Add(1)
		}
		s.Close()
		c.disconnects.Add(1)
		sleep(ctx, time.Duration(200+rand.IntN(1800))*time.Millisecond)
	}
}

// short is one churn session: open, one command, close.
func short(ctx context.Context, c *counters, url string, token func() (string, error), pass string) {
	s, err := open(ctx, c, url, token, pass)
	if err != nil {
		if ctx.Err() == nil {
			c.fail("churn open", err)
		}
		return
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	_, err = s.Do(rctx, &protocol.NoopRequest{Header: protocol.Header{Operation: protocol.OpNoop}})
	cancel()
	if err != nil && ctx.Err() == nil {
		c.fail("churn command", err)
	} else if err == nil {
		c.commands.Add(1)
	}
	_ = s.Close()
	c.disconnects.Add(1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ---- driver: the bridge, the timeline, the samples ----

// sample is one 10 s measurement of the bridge process.
type sample struct {
	t                        time.Duration // since the start
	rss, goStack, heap       uint64
	goroutines, sessions     int
	connects, disconnects    int64
	commands, events         int64
	expectedErr, unexpectErr int64
}

// fault is one injected fault.
type fault struct {
	t    time.Duration
	kind string
}

// faultKinds rotate; faultLength is how long each lasts.
var (
	faultKinds  = []string{"down", "reset", "latency"}
	faultLength = map[string]time.Duration{"down": 2 * time.Second, "reset": time.Second, "latency": 10 * time.Second}
)

func runDriver(duration time.Duration, steadyN int, churn float64, out string) error {
	up, err := bench.StartChild(nil, "-role", "upstream")
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
		return fmt.Errorf("%w: upstream said %q", errSoak, l)
	}
	go func() { // "fault-done" lines
		for {
			if _, err := up.Line(); err != nil {
				return
			}
		}
	}()
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	br, err := bench.StartBridgeWith(bench.Upstream{Addr: f[0], User: f[1], Password: f[2]}, secret, func(c *bridge.Config) {
		for i := range c.Upstreams { // the product's login pacing
			c.Upstreams[i].LoginsPerSecond, c.Upstreams[i].LoginBurst = 0, 0
		}
	})
	if err != nil {
		return err
	}
	defer br.Close()
	cl, err := bench.StartChild([]string{envSecret + "=" + hex.EncodeToString(secret)}, "-role", "clients", "-url", br.URL(),
		"-user", f[1], "-password", f[2], "-sessions", strconv.Itoa(steadyN), "-churn", strconv.FormatFloat(churn, 'f', -1, 64))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var last [6]int64
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		for {
			l, err := cl.Line()
			if err != nil {
				return
			}
			if f := strings.Fields(l); len(f) == 7 && f[0] == "stats" {
				mu.Lock()
				for i := range last {
					last[i], _ = strconv.ParseInt(f[i+1], 10, 64)
				}
				mu.Unlock()
			}
		}
	}()
	start := time.Now()
	var samples []sample
	var faults []fault
	take := func() {
		m := bench.SampleMemory()
		mu.Lock()
		st := last
		mu.Unlock()
		samples = append(samples, sample{t: time.Since(start), rss: m.RSS, goStack: m.Go(), heap: m.HeapInuse, goroutines: m.Goroutines,
			sessions: br.Server.Sessions(), connects: st[0], disconnects: st[1], commands: st[2], events: st[3], expectedErr: st[4], unexpectErr: st[5]})
		s := samples[len(samples)-1]
		fmt.Fprintf(os.Stderr, "soak %5.0fs rss %6.1f MiB goroutines %5d sessions %4d connects %6d errors %d/%d\n",
			s.t.Seconds(), float64(s.rss)/(1<<20), s.goroutines, s.sessions, s.connects, s.expectedErr, s.unexpectErr)
	}
	take()
	nextSample := start.Add(sampleEvery)
	nextFault := start.Add(faultEvery)
	end := start.Add(duration)
	for k := 0; time.Now().Before(end); {
		now := time.Now()
		switch {
		case !now.Before(nextFault) && nextFault.Before(end.Add(-faultGrace)):
			kind := faultKinds[k%len(faultKinds)]
			k++
			w0 := time.Now()
			w1 := w0.Add(faultLength[kind] + faultGrace)
			if err := cl.Say(fmt.Sprintf("window %d %d", w0.UnixMilli(), w1.UnixMilli())); err != nil {
				return err
			}
			if err := up.Say("fault " + kind); err != nil {
				return err
			}
			faults = append(faults, fault{t: w0.Sub(start), kind: kind})
			nextFault = nextFault.Add(faultEvery)
		case !now.Before(nextSample):
			take()
			nextSample = nextSample.Add(sampleEvery)
		default:
			time.Sleep(50 * time.Millisecond)
		}
	}
	take()
	if err := cl.Stop(); err != nil {
		return fmt.Errorf("clients: %w", err)
	}
	<-statsDone
	mu.Lock()
	final := last
	mu.Unlock()
	return writeResults(out, duration, steadyN, churn, samples, faults, final)
}

// growth fits a line to (minutes, v) over the samples after warm-up and
// returns its slope as a fraction of the mean per minute.
func growth(samples []sample, v func(sample) float64) float64 {
	var xs, ys []float64
	for _, s := range samples {
		if s.t >= warmUp {
			xs = append(xs, s.t.Minutes())
			ys = append(ys, v(s))
		}
	}
	if len(xs) < 3 {
		return math.NaN()
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 || my == 0 {
		return math.NaN()
	}
	return sxy / sxx / my
}

func writeResults(out string, duration time.Duration, steadyN int, churn float64, samples []sample, faults []fault, final [6]int64) error {
	if err := os.MkdirAll(dirOf(out), 0o755); err != nil {
		return err
	}
	var csv strings.Builder
	csv.WriteString("seconds,rss_bytes,heap_stack_bytes,goroutines,sessions,connects,disconnects,commands,events,expected_errors,unexpected_errors\n")
	for _, s := range samples {
		fmt.Fprintf(&csv, "%.0f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", s.t.Seconds(), s.rss, s.goStack, s.goroutines, s.sessions,
			s.connects, s.disconnects, s.commands, s.events, s.expectedErr, s.unexpectErr)
	}
	if err := os.WriteFile(out+".csv", []byte(csv.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(out+".svg", []byte(plot(samples, faults)), 0o644); err != nil {
		return err
	}
	secs := samples[len(samples)-1].t.Seconds()
	gRSS := growth(samples, func(s sample) float64 { return float64(s.rss) })
	gGo := growth(samples, func(s sample) float64 { return float64(s.goroutines) })
	gHeap := growth(samples, func(s sample) float64 { return float64(s.goStack) })
	first, lastS := samples[0], samples[len(samples)-1]
	var w strings.Builder
	fmt.Fprintf(&w, "Run of %s, %s %s/%s, %d CPUs: %v, %d long-lived sessions (a command every 0.5–1.5 s; an APPEND every 2 s and a flag change every 10 s pushed to all of them), churn %.0f short sessions per second (open, login, select, one command, close), a fault every minute (rotating: %s); samples every %v.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), duration, steadyN, churn,
		"the server's port down for 2 s, every connection reset for 1 s, 200 ± 50 ms latency for 10 s", sampleEvery)
	fmt.Fprintf(&w, "![RSS, heap+stacks and goroutines of the bridge process during the soak](%s.svg)\n\n", baseOf(out))
	fmt.Fprintln(&w, "| | figure |")
	fmt.Fprintln(&w, "|---|---:|")
	fmt.Fprintf(&w, "| connects / disconnects per second (mean) | %.1f / %.1f (≥ 20: %s) |\n", float64(final[0])/secs, float64(final[1])/secs,
		verdict(float64(final[0])/secs >= 20 && float64(final[1])/secs >= 20))
	fmt.Fprintf(&w, "| commands answered / events received | %d / %d |\n", final[2], final[3])
	fmt.Fprintf(&w, "| faults injected | %d |\n", len(faults))
	fmt.Fprintf(&w, "| errors inside a fault's window (its length + %v): expected | %d |\n", faultGrace, final[4])
	fmt.Fprintf(&w, "| **errors outside every fault's window** | **%d** (%s) |\n", final[5], verdict(final[5] == 0))
	fmt.Fprintf(&w, "| RSS first / last sample | %.1f / %.1f MiB |\n", mib(first.rss), mib(lastS.rss))
	fmt.Fprintf(&w, "| **RSS growth after the %v warm-up** (least-squares slope ÷ mean) | **%+.2f%%/min** (< 1%%/min: %s) |\n", warmUp, gRSS*100, growthVerdict(gRSS))
	fmt.Fprintf(&w, "| heap+stacks growth after warm-up | %+.2f%%/min (%s) |\n", gHeap*100, growthVerdict(gHeap))
	fmt.Fprintf(&w, "| **goroutines growth after warm-up** | **%+.2f%%/min** (%s) |\n", gGo*100, growthVerdict(gGo))
	fmt.Fprintf(&w, "| goroutines first / last sample (sessions) | %d (%d) / %d (%d) |\n", first.goroutines, first.sessions, lastS.goroutines, lastS.sessions)
	fmt.Fprintf(&w, "\nSamples: `%s.csv`.\n", baseOf(out))
	if err := os.WriteFile(out+".md", []byte(w.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(w.String())
	return nil
}

// growthVerdict is verdict for a growth figure (NaN: too few samples).
func growthVerdict(g float64) string {
	if math.IsNaN(g) {
		return "n/a: the run is shorter than the warm-up"
	}
	return verdict(math.Abs(g) < growthTarget)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}

func baseOf(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// plot draws two panels (RSS and heap+stacks in MiB; goroutines) against
// minutes, with the faults as dashed lines, as a standalone SVG.
func plot(samples []sample, faults []fault) string {
	const (
		W        = 860
		left     = 70
		right    = 20
		panelH   = 190
		top1     = 62
		top2     = top1 + panelH + 70
		H        = top2 + panelH + 45
		plotW    = W - left - right
		gridStep = 5
	)
	tmax := samples[len(samples)-1].t.Minutes()
	if tmax <= 0 {
		tmax = 1
	}
	x := func(m float64) float64 { return left + m/tmax*plotW }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15">imapbridge soak: bridge process, sampled every %v (dashed: faults)</text>`+"\n", left, sampleEvery)
	panel := func(top int, title string, series []struct {
		name  string
		color string
		v     func(sample) float64
	}) {
		ymax := 0.0
		for _, s := range samples {
			for _, se := range series {
				ymax = math.Max(ymax, se.v(s))
			}
		}
		ymax = niceCeil(ymax * 1.1)
		y := func(v float64) float64 { return float64(top) + panelH - v/ymax*panelH }
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", left, top, plotW, panelH)
		for i := 0; i <= gridStep; i++ {
			v := ymax * float64(i) / gridStep
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
				left, left+plotW, y(v), y(v), left-6, y(v)+4, trimFloat(v))
		}
		for m := 0; float64(m) <= tmax; m++ {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(float64(m)), top+panelH+16, m)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">minutes</text>`+"\n", left+plotW/2, top+panelH+32)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, top-8, title)
		for _, f := range faults {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#c33" stroke-dasharray="4,3"/><text x="%.1f" y="%d" fill="#c33" font-size="10">%s</text>`+"\n",
				x(f.t.Minutes()), x(f.t.Minutes()), top, top+panelH, x(f.t.Minutes())+3, top+12, f.kind)
		}
		lx := left + plotW - 10
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="170" height="%d" fill="white" fill-opacity="0.85"/>`+"\n", lx-170, top+14, 8+16*len(series))
		for i, se := range series {
			var pts []string
			for _, s := range samples {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.t.Minutes()), y(se.v(s))))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", se.color, strings.Join(pts, " "))
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`+"\n", lx, top+28+16*i, se.color, se.name)
		}
	}
	type ser = struct {
		name  string
		color string
		v     func(sample) float64
	}
	panel(top1, "memory (MiB)", []ser{
		{"RSS", "#1f77b4", func(s sample) float64 { return mib(s.rss) }},
		{"heap + stacks (after GC)", "#2ca02c", func(s sample) float64 { return mib(s.goStack) }},
	})
	panel(top2, "goroutines and sessions", []ser{
		{"goroutines", "#9467bd", func(s sample) float64 { return float64(s.goroutines) }},
		{"sessions", "#ff7f0e", func(s sample) float64 { return float64(s.sessions) }},
	})
	b.WriteString("</svg>\n")
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}
