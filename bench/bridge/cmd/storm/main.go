// Command storm is the reconnect-storm benchmark (issue 19 item 2, security
// J7): N clients of the real SDK (Node, web/sdk/dist) hold sessions on one
// bridge; the bridge process is killed (kill -9) and started again on the
// same port DOWN later. It reports the backoff delays the SDK chose (full
// jitter: uniform in [0, ceiling)), the connection attempts per second after
// recovery against a budget, and the IMAP logins per second the upstream saw
// against the bridge's login pacing (bridge.Upstream.LoginsPerSecond at its
// default).
//
// Processes: this driver; the IMAP server (the embedded devserver) as a
// child that outlives the bridge; the bridge as a child (-role bridge),
// which prints its cumulative WebSocket handshakes and upstream dials every
// 250 ms; and node bench/bridge/storm/storm.mjs with the N clients.
//
//	(cd web && npm ci && npm run build)   # once: the SDK's dist
//	go run ./bench/bridge/cmd/storm -n 1000 -down 20s
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge"
)

// Settings.
const (
	envSecret = "BRIDGEBENCH_SECRET"
	// AttemptBudget is the stated budget: in no second after the bridge is
	// back do more than this fraction of the clients try to connect (a
	// storm would be all of them at once).
	AttemptBudget = 0.25
	// tickEvery is how often the bridge child reports its counters.
	tickEvery = 250 * time.Millisecond
	// readyTimeout bounds the first opening of every session.
	readyTimeout = 5 * time.Minute
	// recoverTimeout bounds the wait for every client to be open again: a
	// client still retrying tries within the SDK's 30 s backoff cap (plus
	// at most the login pacing's wait), so one not open by then has stopped.
	recoverTimeout = 90 * time.Second
	// steady is the wait between "all open" and the kill.
	steady = 3 * time.Second
)

var errBench = errors.New("storm: benchmark failed")

func main() {
	role := flag.String("role", "driver", "driver, bridge or upstream (children)")
	n := flag.Int("n", 1000, "SDK clients")
	down := flag.Duration("down", 20*time.Second, "how long the bridge stays down")
	port := flag.Int("port", 0, "bridge: port to listen on")
	upAddr := flag.String("upstream", "", "bridge: IMAP server address")
	script := flag.String("script", "bench/bridge/storm/storm.mjs", "the Node script")
	flag.Parse()
	if _, err := bench.RaiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	var err error
	switch *role {
	case "upstream":
		err = bench.ServeDevserver(os.Stdin, os.Stdout)
	case "bridge":
		err = runBridge(*port, *upAddr)
	case "driver":
		err = runDriver(*n, *down, *script, os.Stdout)
	default:
		err = fmt.Errorf("%w: unknown role %q", errBench, *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// runBridge serves a bench bridge with the default login pacing on port and
// prints "tick <unix ms> <handshakes> <upstream dials> <sessions>" (totals)
// every tickEvery until killed.
func runBridge(port int, upAddr string) error {
	secret, err := hex.DecodeString(os.Getenv(envSecret))
	if err != nil {
		return err
	}
	var handshakes, dials atomic.Int64
	srv, err := bench.NewServer(bench.Upstream{Addr: upAddr}, secret, func(c *bridge.Config) {
		for i := range c.Upstreams {
			// The product's defaults: the point of the benchmark.
			c.Upstreams[i].LoginsPerSecond, c.Upstreams[i].LoginBurst, c.Upstreams[i].LoginWait = 0, 0, 0
		}
		var d net.Dialer
		c.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			dials.Add(1)
			fmt.Printf("dial %d\n", time.Now().UnixMicro())
			return d.DialContext(ctx, network, address)
		}
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			handshakes.Add(1)
			fmt.Printf("hs %d\n", time.Now().UnixMicro())
		}
		srv.ServeHTTP(w, r)
	})
	go func() {
		for range time.Tick(tickEvery) {
			fmt.Printf("tick %d %d %d %d\n", time.Now().UnixMilli(), handshakes.Load(), dials.Load(), srv.Sessions())
		}
	}()
	fmt.Println("listening")
	return http.Serve(ln, h)
}

// tick is one counter report of a bridge child.
type tick struct {
	at                      time.Time
	handshakes, dials, sess int64
}

// bridgeProc is a running bridge child.
type bridgeProc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	ticks []tick
	dials []int64 // unix µs of every upstream connection (login)
	hs    []int64 // unix µs of every WebSocket handshake
	done  chan struct{}
}

func startBridge(port int, upAddr string, secret []byte) (*bridgeProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-role", "bridge", "-port", strconv.Itoa(port), "-upstream", upAddr)
	cmd.Env = append(os.Environ(), envSecret+"="+hex.EncodeToString(secret))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &bridgeProc{cmd: cmd, done: make(chan struct{})}
	listening := make(chan struct{})
	go func() {
		defer close(b.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 1 && f[0] == "listening" {
				close(listening)
				continue
			}
			if len(f) == 2 && (f[0] == "dial" || f[0] == "hs") {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				b.mu.Lock()
				if f[0] == "dial" {
					b.dials = append(b.dials, v)
				} else {
					b.hs = append(b.hs, v)
				}
				b.mu.Unlock()
				continue
			}
			if len(f) == 5 && f[0] == "tick" {
				var v [4]int64
				for i := range v {
					v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
				}
				b.mu.Lock()
				b.ticks = append(b.ticks, tick{time.UnixMilli(v[0]), v[1], v[2], v[3]})
				b.mu.Unlock()
			}
		}
	}()
	select {
	case <-listening:
		return b, nil
	case <-b.done:
		return nil, fmt.Errorf("%w: bridge child ended before listening", errBench)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("%w: bridge child did not listen", errBench)
	}
}

func (b *bridgeProc) kill() {
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	_ = b.cmd.Wait()
	<-b.done
}

func (b *bridgeProc) snapshot() []tick {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ticks)
}

// events returns the handshake and dial times recorded so far.
func (b *bridgeProc) events() (hs, dials []int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.hs), slices.Clone(b.dials)
}

// peakWindow is the most times (unix µs, any order) within any window of
// one second.
func peakWindow(ts []int64) int {
	s := slices.Clone(ts)
	slices.Sort(s)
	best, j := 0, 0
	for i := range s {
		for s[i]-s[j] >= 1_000_000 {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// report is what storm.mjs prints on "report".
type report struct {
	N        int        `json:"n"`
	Attempts [][2]int64 `json:"attempts"` // client, unix ms
	Delays   [][5]int64 `json:"delays"`   // client, unix ms, delay ms, attempt, close code
	Opens    [][2]int64 `json:"opens"`    // client, unix ms
	Stuck    [][]any    `json:"stuck"`    // client, state, reason, close code of every client not open
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func runDriver(n int, down time.Duration, script string, w io.Writer) error {
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
		return fmt.Errorf("%w: upstream said %q", errBench, l)
	}
	upAddr, user, pass := f[0], f[1], f[2]
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	br, err := startBridge(port, upAddr, secret)
	if err != nil {
		return err
	}
	defer func() { br.kill() }()
	url := fmt.Sprintf("ws://127.0.0.1:%d/ws", port)
	node := exec.Command("node", script, url, strconv.Itoa(n), hex.EncodeToString(secret), user, pass)
	node.Stderr = os.Stderr
	nin, err := node.StdinPipe()
	if err != nil {
		return err
	}
	nout, err := node.StdoutPipe()
	if err != nil {
		return err
	}
	if err := node.Start(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	defer func() { nin.Close(); _ = node.Wait() }()
	var open atomic.Int64
	ready := make(chan struct{})
	result := make(chan []byte, 1)
	go func() {
		sc := bufio.NewScanner(nout)
		sc.Buffer(make([]byte, 1<<20), 256<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "status "):
				if f := strings.Fields(line); len(f) == 4 {
					v, _ := strconv.ParseInt(f[2], 10, 64)
					open.Store(v)
				}
			case strings.HasPrefix(line, "{"):
				result <- []byte(line)
				return
			}
		}
		close(result)
	}()
	select {
	case <-ready:
	case <-time.After(readyTimeout):
		return fmt.Errorf("%w: the %d clients did not all open", errBench, n)
	}
	open.Store(int64(n))
	time.Sleep(steady)
	killAt := time.Now()
	br.kill()
	firstTicks := br.snapshot()
	time.Sleep(down)
	restartAt := time.Now()
	br, err = startBridge(port, upAddr, secret)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(recoverTimeout)
	time.Sleep(time.Second)
	all := true
	for open.Load() < int64(n) {
		if time.Now().After(deadline) {
			all = false
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	recoveredAt := time.Now()
	if all {
		time.Sleep(2 * time.Second)
	}
	ticks := br.snapshot()
	hs, dials := br.events()
	if _, err := io.WriteString(nin, "report\n"); err != nil {
		return err
	}
	raw, ok := <-result
	if !ok {
		return fmt.Errorf("%w: no report from node", errBench)
	}
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return err
	}
	_ = firstTicks
	if err := write(w, n, down, killAt, restartAt, recoveredAt, ticks, hs, dials, &rep); err != nil {
		return err
	}
	if !all {
		fmt.Fprintf(w, "\n**Not every client reconnected**: %d of %d open %v after the restart. The others' last connection state (client, state, reason, close code):\n\n", open.Load(), n, recoverTimeout)
		for _, s := range rep.Stuck {
			fmt.Fprintf(w, "- %v\n", s)
		}
	}
	return nil
}

// perSecond buckets unix-ms times into whole seconds from start up to end.
func perSecond(times []int64, start, end time.Time) []int {
	secs := int(math.Ceil(end.Sub(start).Seconds()))
	out := make([]int, max(secs, 1))
	for _, t := range times {
		d := time.UnixMilli(t).Sub(start)
		if d < 0 || !time.UnixMilli(t).Before(end) {
			continue
		}
		out[int(d/time.Second)]++
	}
	return out
}

func write(w io.Writer, n int, down time.Duration, killAt, restartAt, recoveredAt time.Time, ticks []tick, hs, dials []int64, rep *report) error {
	fmt.Fprintf(w, "Run of %s, %s %s/%s, %d CPUs, Node %s; %d SDK clients (one Node process, the `ws` package), one bridge (child process, killed with SIGKILL and restarted on the same port %v later), devserver upstream (child process, outlives the bridge); bridge login pacing at its defaults (%d/s, burst %d, wait %v).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), nodeVersion(), n, down,
		bridge.DefaultUpstreamLoginsPerSecond, bridge.DefaultUpstreamLoginBurst, bridge.DefaultUpstreamLoginWait)

	// Backoff: the delays chosen after the kill, by attempt number.
	type agg struct{ d []float64 }
	byAttempt := map[int]*agg{}
	for _, d := range rep.Delays {
		if time.UnixMilli(d[1]).Before(killAt) {
			continue
		}
		a := int(d[3])
		if byAttempt[a] == nil {
			byAttempt[a] = &agg{}
		}
		byAttempt[a].d = append(byAttempt[a].d, float64(d[2]))
	}
	keys := make([]int, 0, len(byAttempt))
	for k := range byAttempt {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintln(w, "**Backoff observed** (every reconnect delay the SDK chose after the kill, by attempt; full jitter means uniform in [0, ceiling), ceiling = min(30 s, 0.5 s·2^(attempt−1)): mean/ceiling ≈ 0.50, quartiles ≈ 0.25/0.50/0.75, KS distance to the uniform small):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| attempt | delays | ceiling | min | max | mean / ceiling | quartiles / ceiling | KS distance to uniform |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, k := range keys {
		d := byAttempt[k].d
		slices.Sort(d)
		ceil := math.Min(30000, 500*math.Pow(2, float64(k-1)))
		var sum, ks float64
		for i, x := range d {
			sum += x
			u := x / ceil
			ks = math.Max(ks, math.Max(math.Abs(float64(i+1)/float64(len(d))-u), math.Abs(u-float64(i)/float64(len(d)))))
		}
		q := func(p float64) float64 { return d[int(p*float64(len(d)-1))] / ceil }
		fmt.Fprintf(w, "| %d | %d | %.1f s | %.0f ms | %.0f ms | %.2f | %.2f / %.2f / %.2f | %.3f |\n", k, len(d), ceil/1000, d[0], d[len(d)-1],
			sum/float64(len(d))/ceil, q(0.25), q(0.5), q(0.75), ks)
	}
	fmt.Fprintln(w)

	// Attempts per second.
	var times []int64
	for _, a := range rep.Attempts {
		times = append(times, a[1])
	}
	downSecs := perSecond(times, killAt, restartAt)
	upSecs := perSecond(times, restartAt, recoveredAt.Add(2*time.Second))
	peakUp, sumUp := 0, 0
	for _, c := range upSecs {
		peakUp = max(peakUp, c)
		sumUp += c
	}
	peakDown, sumDown := 0, 0
	for _, c := range downSecs {
		peakDown = max(peakDown, c)
		sumDown += c
	}
	budget := int(AttemptBudget * float64(n))
	hsPeak, hsTotal := int64(peakWindow(hs)), len(hs)
	dialPeak, dialTotal := int64(peakWindow(dials)), len(dials)
	var recover []time.Duration
	last := map[int64]int64{}
	for _, o := range rep.Opens {
		if time.UnixMilli(o[1]).After(restartAt) {
			if _, seen := last[o[0]]; !seen {
				last[o[0]] = o[1]
				recover = append(recover, time.UnixMilli(o[1]).Sub(restartAt))
			}
		}
	}
	rs := bench.Summarize(recover)
	paced := 0
	for _, d := range rep.Delays {
		if d[4] == 1013 && time.UnixMilli(d[1]).After(restartAt) {
			paced++
		}
	}
	fmt.Fprintln(w, "| | figure |")
	fmt.Fprintln(w, "|---|---:|")
	fmt.Fprintf(w, "| connection attempts while the bridge was down (%v) | %d (peak %d in one second) |\n", down, sumDown, peakDown)
	fmt.Fprintf(w, "| **connection attempts per second after recovery, peak** (SDK side, whole seconds from the restart) | **%d** (budget %d = %.0f%% of the clients: %s) |\n",
		peakUp, budget, AttemptBudget*100, verdict(peakUp <= budget))
	fmt.Fprintf(w, "| connection attempts from the restart until all were open again | %d over %.1f s |\n", sumUp, recoveredAt.Add(2*time.Second).Sub(restartAt).Seconds())
	fmt.Fprintf(w, "| WebSocket handshakes at the restarted bridge, peak in any 1 s / total | %d / %d |\n", hsPeak, hsTotal)
	fmt.Fprintf(w, "| **IMAP logins (connections) to the upstream, peak in any 1 s** / total | **%d** (pacing %d/s + burst %d: %s) / %d |\n",
		dialPeak, bridge.DefaultUpstreamLoginsPerSecond, bridge.DefaultUpstreamLoginBurst,
		verdict(dialPeak <= int64(bridge.DefaultUpstreamLoginsPerSecond+bridge.DefaultUpstreamLoginBurst)), dialTotal)
	fmt.Fprintf(w, "| sessions refused by the login pacing (close 1013: a turn more than %v away), retried with backoff | %d |\n", bridge.DefaultUpstreamLoginWait, paced)
	fmt.Fprintf(w, "| time from the restart to a client's session open again: p50 / p99 / max | %s / %s / %s |\n",
		rs.P50.Round(10*time.Millisecond), rs.P99.Round(10*time.Millisecond), slices.Max(recover).Round(10*time.Millisecond))
	fmt.Fprintf(w, "| all %d open again after | %.1f s |\n", n, recoveredAt.Sub(restartAt).Seconds())
	fmt.Fprintln(w)
	fmt.Fprint(w, "Attempts per second after the restart (SDK side): ")
	for i, c := range upSecs {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprint(w, c)
	}
	fmt.Fprintln(w, ".")
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
