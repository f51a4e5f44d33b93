// Command transfers measures the bridge's HTTP transfers (issue 13): a
// 25 MiB base64 attachment downloaded through the bridge (download op, GET on
// the one-time URL, decoded part streamed) against the engine fetching and
// decoding the same part directly, in alternating rounds of one run; the
// bridge process's RSS growth per download at 20 concurrent downloads; and
// its RSS growth per 25 MiB upload (PUT streamed into APPEND).
//
// The upstream is the e2e Dovecot (IMAPBRIDGE_DOVECOT_DIR and
// IMAPBRIDGE_DOVECOT_PLAIN, as bench/bridge/transfers.sh sets them); the
// program adds the users transferbench-1..N to it and seeds each INBOX with
// the message once. For the memory phases only the bridge runs in the
// measured process: the WebSocket and HTTP clients run in a child process
// (the same binary with -role clients), and the process's VmRSS is sampled
// every RSSSampleEvery while the transfers run; growth is the peak minus the
// baseline taken (after a GC) with every session open and every ticket
// issued.
//
//	go run ./bench/bridge/cmd/transfers -n 20 -rounds 5
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// Settings.
const (
	// UserPrefix names the bench's Dovecot users (UserPrefix + "1" ...).
	UserPrefix = "transferbench-"
	// UserPassword is every bench user's password.
	UserPassword = "transferbench-pw-7"
	// AttachmentPart is the attachment's BODYSTRUCTURE part number.
	AttachmentPart = "2"
	// Seed makes the attachment's bytes the same in every run.
	Seed = 13
	// RSSSampleEvery is the RSS sampling period during a memory phase.
	RSSSampleEvery = 5 * time.Millisecond
	// PhaseTimeout bounds one phase (all sessions, tickets and transfers).
	PhaseTimeout = 5 * time.Minute
	// TargetRatio is the throughput floor (bridge / direct).
	TargetRatio = 0.8
	// TargetGrowth is the RSS budget per concurrent transfer.
	TargetGrowth = 4 << 20
	// CopyBuffer is the client's read buffer.
	CopyBuffer = 64 << 10
)

var errBench = errors.New("transfers: benchmark failed")

func main() {
	role := flag.String("role", "bridge", "bridge (measure) or clients (child)")
	n := flag.Int("n", 20, "concurrent downloads in the memory phase")
	uploads := flag.Int("uploads", 1, "concurrent uploads in the upload phase")
	size := flag.Int("size", 25<<20, "attachment size in bytes (decoded)")
	rounds := flag.Int("rounds", 5, "throughput rounds (each: one direct, one bridge download)")
	// child flags
	mode := flag.String("mode", "", "clients: download or upload")
	url := flag.String("url", "", "clients: bridge base URL")
	users := flag.String("users", "", "clients: comma-separated users")
	want := flag.String("sha", "", "clients: the attachment's SHA-256 (hex)")
	cpuProfile := flag.String("cpuprofile", "", "bridge: write a CPU profile of the throughput rounds to this file")
	flag.Parse()
	profilePath = *cpuProfile
	if _, err := bench.RaiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	var err error
	switch *role {
	case "bridge":
		err = run(*n, *uploads, *size, *rounds, os.Stdout)
	case "clients":
		err = runClients(*mode, *url, strings.Split(*users, ","), *want, *size)
	default:
		err = fmt.Errorf("%w: unknown role %q", errBench, *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "transfers:", err)
		os.Exit(1)
	}
}

// attachment returns the deterministic attachment bytes of size n.
func attachment(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{Seed}))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// message builds multipart/mixed { text/plain, application/octet-stream
// base64 of att } with CRLF line endings.
func message(att []byte, subject string) []byte {
	var b bytes.Buffer
	const bnd = "transferbench-boundary"
	fmt.Fprintf(&b, "From: bench@example.com\r\nTo: bench@example.com\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=%q\r\n\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"A large attachment.\r\n--%s\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"+
		"Content-Disposition: attachment; filename=\"big.bin\"\r\n\r\n", subject, bnd, bnd, bnd)
	enc := base64.StdEncoding.EncodeToString(att)
	for i := 0; i < len(enc); i += 76 {
		b.WriteString(enc[i:min(i+76, len(enc))])
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", bnd)
	return b.Bytes()
}

// uploadMessage is a message of at most size bytes in all (the bridge's
// MaxUploadBytes is on the whole message): an attachment of about 57/78 of
// it, base64-encoded.
func uploadMessage(size int) []byte {
	att := (size - 1024) / 78 * 57
	return message(attachment(att), "uploaded by the transfer bench")
}

// ensureUsers adds the bench users to the Dovecot state directory (one
// passwd-file each, as e2e/servers/dovecot.sh reads them) and seeds each
// INBOX with the message when it is empty.
func ensureUsers(ctx context.Context, addr string, n int, msg []byte) ([]string, error) {
	dir := os.Getenv("IMAPBRIDGE_DOVECOT_DIR")
	if dir == "" || addr == "" {
		return nil, fmt.Errorf("%w: IMAPBRIDGE_DOVECOT_DIR and IMAPBRIDGE_DOVECOT_PLAIN must be set (bench/bridge/transfers.sh)", errBench)
	}
	var users []string
	for i := 1; i <= n; i++ {
		u := UserPrefix + strconv.Itoa(i)
		users = append(users, u)
		file := filepath.Join(dir, "passwd.d", u)
		if _, err := os.Stat(file); err != nil {
			tmp := filepath.Join(dir, "passwd.d", ".new-"+u)
			if err := os.WriteFile(tmp, []byte(u+":"+UserPassword+"::::::\n"), 0o644); err != nil {
				return nil, err
			}
			if err := os.Chmod(tmp, 0o644); err != nil {
				return nil, err
			}
			if err := os.Rename(tmp, file); err != nil {
				return nil, err
			}
		}
		c, err := bench.DialDirect(ctx, bench.Upstream{Addr: addr, User: u, Password: UserPassword}, "", nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		sel, err := c.SelectMailbox(ctx, "INBOX", nil)
		if err == nil && sel.Exists == 0 {
			_, err = c.AppendExact(ctx, "INBOX", "", time.Time{}, msg)
		}
		_, _ = c.Logout(ctx)
		c.Shutdown()
		if err != nil {
			return nil, fmt.Errorf("%s: seed: %w", u, err)
		}
	}
	return users, nil
}

// directDownload is what a direct engine client does for the same part:
// connect, log in, select, FETCH the section streamed and decoded.
func directDownload(ctx context.Context, addr, user string) (int64, error) {
	c, err := bench.DialDirect(ctx, bench.Upstream{Addr: addr, User: user, Password: UserPassword}, "", nil)
	if err != nil {
		return 0, err
	}
	defer c.Shutdown()
	if _, err := c.SelectMailbox(ctx, "INBOX", &imapengine.SelectOptions{ReadOnly: true}); err != nil {
		return 0, err
	}
	var n int64
	err = c.FetchSection(ctx, 1, AttachmentPart, func(r io.Reader, _ int64) error {
		dec, err := imap.DecodeTransfer("base64", r)
		if err != nil {
			return err
		}
		n, err = io.CopyBuffer(io.Discard, dec, make([]byte, CopyBuffer))
		return err
	})
	_, _ = c.Logout(ctx)
	return n, err
}

// session opens a logged-in WebSocket session for user.
func session(ctx context.Context, signer tokenSigner, base, user string) (*bench.Session, error) {
	tok, err := signer(user)
	if err != nil {
		return nil, err
	}
	s, err := bench.Dial(ctx, bench.WSURL(base), tok)
	if err != nil {
		return nil, err
	}
	if _, err := s.Do(ctx, &protocol.LoginRequest{Header: protocol.Header{Operation: protocol.OpLogin}, Password: UserPassword}); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

type tokenSigner func(user string) (string, error)

// ticket asks s for a download (size 0) or upload ticket and returns the URL.
func ticket(ctx context.Context, s *bench.Session, base string, uploadSize int64) (string, error) {
	var req any = &protocol.DownloadRequest{Header: protocol.Header{Operation: protocol.OpDownload}, Mailbox: "INBOX", UID: 1, Part: AttachmentPart}
	if uploadSize > 0 {
		req = &protocol.UploadRequest{Header: protocol.Header{Operation: protocol.OpUpload}, Mailbox: "INBOX", Size: uploadSize}
	}
	r, err := s.Do(ctx, req)
	if err != nil {
		return "", err
	}
	var tr protocol.TicketResult
	if err := json.Unmarshal(r.Result, &tr); err != nil {
		return "", err
	}
	return base + tr.URL, nil
}

// get downloads url into h (or discards), returning the bytes.
func get(ctx context.Context, url string, h io.Writer) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Origin", bench.Origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: GET %d", errBench, resp.StatusCode)
	}
	if h == nil {
		h = io.Discard
	}
	return io.CopyBuffer(h, resp.Body, make([]byte, CopyBuffer))
}

// put uploads body (size bytes) to url and returns the new UID.
func put(ctx context.Context, url string, body io.Reader, size int64) (uint32, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	req.ContentLength = size
	req.Header.Set("Origin", bench.Origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: PUT %d %s", errBench, resp.StatusCode, b)
	}
	var r protocol.AppendResult
	err = json.Unmarshal(b, &r)
	return r.UID, err
}

// run is the measuring process.
func run(n, uploads, size, rounds int, w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*PhaseTimeout)
	defer cancel()
	addr := os.Getenv("IMAPBRIDGE_DOVECOT_PLAIN")
	att := attachment(size)
	sum := sha256.Sum256(att)
	wantSHA := hex.EncodeToString(sum[:])
	msg := message(att, "transfer bench")
	msgSize := len(msg)
	users, err := ensureUsers(ctx, addr, max(n, uploads), msg)
	if err != nil {
		return err
	}
	att, msg = nil, nil
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	benchSecret = secret
	signer, err := bench.NewSigner(secret)
	if err != nil {
		return err
	}
	sign := func(u string) (string, error) { return bench.SignToken(signer, u) }
	br, err := bench.StartBridge(bench.Upstream{Label: "dovecot", Addr: addr, User: users[0], Password: UserPassword}, secret)
	if err != nil {
		return err
	}
	defer br.Close()
	base := br.HTTP.URL

	// 1. Throughput, alternating, after one warm-up of each.
	s, err := session(ctx, sign, base, users[0])
	if err != nil {
		return err
	}
	var direct, viaBridge, paired []float64
	if profilePath != "" {
		f, err := os.Create(profilePath)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	var cpuDirect, cpuBridge time.Duration
	runDirect := func() (time.Duration, error) {
		c0 := cpuTime()
		defer func() { cpuDirect += cpuTime() - c0 }()
		t0 := time.Now()
		nd, err := directDownload(ctx, addr, users[0])
		if err != nil || nd != int64(size) {
			return 0, fmt.Errorf("direct download: %d bytes, %w", nd, err)
		}
		return time.Since(t0), nil
	}
	runBridge := func(check bool) (time.Duration, error) {
		c0 := cpuTime()
		defer func() { cpuBridge += cpuTime() - c0 }()
		t0 := time.Now()
		u, err := ticket(ctx, s, base, 0)
		if err != nil {
			return 0, err
		}
		h := sha256.New()
		var sink io.Writer = io.Discard
		if check {
			sink = h
		}
		nb, err := get(ctx, u, sink)
		if err != nil || nb != int64(size) {
			return 0, fmt.Errorf("bridge download: %d bytes, %w", nb, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); check && got != wantSHA {
			return 0, fmt.Errorf("%w: bridge download SHA-256 %s, want %s", errBench, got, wantSHA)
		}
		return time.Since(t0), nil
	}
	// Round i < 0 is the warm-up (the bridge's bytes SHA-256-checked); the
	// order alternates (direct first in even rounds, bridge first in odd
	// ones) so that neither path always runs in the other's wake.
	for i := -1; i < rounds; i++ {
		if i == 0 {
			cpuDirect, cpuBridge = 0, 0
		}
		var d, b time.Duration
		var err error
		if i%2 == 0 {
			if d, err = runDirect(); err == nil {
				b, err = runBridge(false)
			}
		} else {
			if b, err = runBridge(i < 0); err == nil {
				d, err = runDirect()
			}
		}
		if err != nil {
			return err
		}
		if i < 0 {
			continue
		}
		direct = append(direct, float64(size)/d.Seconds()/(1<<20))
		viaBridge = append(viaBridge, float64(size)/b.Seconds()/(1<<20))
		paired = append(paired, d.Seconds()/b.Seconds())
	}
	s.Close()
	if profilePath != "" {
		pprof.StopCPUProfile()
	}
	md, mb := median(direct), median(viaBridge)
	ratio := mb / md
	fmt.Fprintf(w, "##### 25 MiB attachment download: bridge vs engine (Dovecot, loopback, %d alternating rounds)\n\n", rounds)
	fmt.Fprintf(w, "| path | median MiB/s | rounds (MiB/s) |\n|---|---|---|\n")
	fmt.Fprintf(w, "| engine direct (connect, LOGIN, SELECT, FETCH BODY.PEEK[2] streamed, base64 decoded) | %.0f | %s |\n", md, list(direct))
	fmt.Fprintf(w, "| bridge (download op, GET /transfer/<ticket>: own IMAP connection, decoded, HTTP) | %.0f | %s |\n\n", mb, list(viaBridge))
	pr := median(paired)
	fmt.Fprintf(w, "Process CPU time per download (user+system, getrusage; the bridge's includes its HTTP client, the direct one's none): direct %.0f ms, bridge %.0f ms — CPU ratio direct/bridge **%.2f** (what the throughput ratio tends to when the machine is CPU-bound).\n\n",
		cpuDirect.Seconds()*1000/float64(rounds), cpuBridge.Seconds()*1000/float64(rounds), cpuDirect.Seconds()/cpuBridge.Seconds())
	fmt.Fprintf(w, "Throughput ratio bridge/direct: **%.2f** of the medians, **%.2f** the median of the per-round ratios (each round's two downloads ran back to back under the same load, in alternating order); target >= %.1f: %s. Attachment %d bytes decoded, message %d bytes; SHA-256 checked.\n\n",
		ratio, pr, TargetRatio, verdict(ratio >= TargetRatio && pr >= TargetRatio), size, msgSize)

	// 2. n concurrent downloads, clients in a child process.
	dl, err := memoryPhase(base, "download", users[:n], wantSHA, size)
	if err != nil {
		return err
	}
	// 3. uploads.
	ul, err := memoryPhase(base, "upload", users[:uploads], wantSHA, size)
	if err != nil {
		return err
	}
	if err := cleanUploads(ctx, addr, users[:uploads]); err != nil {
		return err
	}
	fmt.Fprintf(w, "Uploads: a message of %d bytes (a %d-byte base64 attachment: the bridge's MaxUploadBytes, 25 MiB, bounds the whole message).\n\n",
		len(uploadMessage(size)), (size-1024)/78*57)
	fmt.Fprintf(w, "##### Bridge RSS during transfers (clients in a child process; VmRSS sampled every %v)\n\n", RSSSampleEvery)
	fmt.Fprintf(w, "| phase | concurrent | baseline RSS | peak RSS | growth | growth per transfer | after (GC) | wall time | target |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range []*phase{dl, ul} {
		per := p.growth() / uint64(p.n)
		fmt.Fprintf(w, "| %s of 25 MiB | %d | %s | %s | %s | **%s** | %s | %.1f s | <= 4 MiB: %s |\n", p.mode, p.n, mib(p.base), mib(p.peak),
			mib(p.growth()), mib(per), mib(p.after), p.wall.Seconds(), verdict(per <= TargetGrowth))
	}
	fmt.Fprintln(w)
	return nil
}

// phase is one memory phase's figures.
type phase struct {
	mode              string
	n                 int
	base, peak, after uint64
	wall              time.Duration
}

func (p *phase) growth() uint64 {
	if p.peak < p.base {
		return 0
	}
	return p.peak - p.base
}

// memoryPhase runs the clients child for mode and samples this process's RSS.
func memoryPhase(base, mode string, users []string, wantSHA string, size int) (*phase, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), PhaseTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-role", "clients", "-mode", mode, "-url", base, "-users", strings.Join(users, ","),
		"-sha", wantSHA, "-size", strconv.Itoa(size))
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	// The child signs its own tokens: hand it the secret on stdin.
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Wait() }()
	out := bufio.NewScanner(outPipe)
	if _, err := fmt.Fprintln(in, hex.EncodeToString(secretOf())); err != nil {
		return nil, err
	}
	if !out.Scan() || out.Text() != "ready" {
		return nil, fmt.Errorf("%w: %s child: %q %v", errBench, mode, out.Text(), out.Err())
	}
	runtime.GC()
	p := &phase{mode: mode, n: len(users), base: bench.SampleMemory().RSS}
	var peak atomic.Uint64
	peak.Store(p.base)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(RSSSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if r := bench.RSS(); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	t0 := time.Now()
	if _, err := fmt.Fprintln(in, "go"); err != nil {
		return nil, err
	}
	ok := out.Scan()
	p.wall = time.Since(t0)
	close(stop)
	wg.Wait()
	if !ok || !strings.HasPrefix(out.Text(), "done") {
		return nil, fmt.Errorf("%w: %s child: %q %v", errBench, mode, out.Text(), out.Err())
	}
	p.peak = peak.Load()
	_ = in.Close()
	time.Sleep(500 * time.Millisecond) // let the transfer connections log out
	p.after = bench.SampleMemory().RSS
	return p, nil
}

// profilePath is -cpuprofile.
var profilePath string

// benchSecret is the bridge's HS256 secret, shared with the child.
var benchSecret []byte

func secretOf() []byte { return benchSecret }

// cleanUploads expunges every message but the seeded one (UID 1).
func cleanUploads(ctx context.Context, addr string, users []string) error {
	for _, u := range users {
		c, err := bench.DialDirect(ctx, bench.Upstream{Addr: addr, User: u, Password: UserPassword}, "INBOX", nil)
		if err != nil {
			return err
		}
		_, err = c.UIDStore(ctx, "2:*", "+FLAGS.SILENT", `(\Deleted)`)
		if err == nil {
			_, err = c.Expunge(ctx)
		}
		_, _ = c.Logout(ctx)
		c.Shutdown()
		if err != nil {
			return fmt.Errorf("%s: clean: %w", u, err)
		}
	}
	return nil
}

// runClients is the child: it reads the secret, opens one session per user,
// takes one ticket each, says "ready", waits for "go", runs every transfer at
// once and says "done".
func runClients(mode, base string, users []string, wantSHA string, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), PhaseTimeout)
	defer cancel()
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		return fmt.Errorf("%w: no secret", errBench)
	}
	secret, err := hex.DecodeString(in.Text())
	if err != nil {
		return err
	}
	signer, err := bench.NewSigner(secret)
	if err != nil {
		return err
	}
	sign := func(u string) (string, error) { return bench.SignToken(signer, u) }
	var body []byte
	if mode == "upload" {
		body = uploadMessage(size)
	}
	urls := make([]string, len(users))
	for i, u := range users {
		s, err := session(ctx, sign, base, u)
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		defer s.Close()
		if urls[i], err = ticket(ctx, s, base, int64(len(body))); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	if !in.Scan() || in.Text() != "go" {
		return fmt.Errorf("%w: no go", errBench)
	}
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if mode == "upload" {
				_, errs[i] = put(ctx, urls[i], bytes.NewReader(body), int64(len(body)))
				return
			}
			h := sha256.New()
			nb, err := get(ctx, urls[i], h)
			if err == nil && (nb != int64(size) || hex.EncodeToString(h.Sum(nil)) != wantSHA) {
				err = fmt.Errorf("%w: download %d bytes, SHA-256 mismatch", errBench, nb)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Println("done")
	return nil
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func list(v []float64) string {
	p := make([]string, len(v))
	for i, x := range v {
		p[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(p, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
