package clustertest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Fixture timeouts: generous deadlines for a loaded CI machine, never
// latency claims.
const (
	readyTimeout = 60 * time.Second // a replica answers /readyz 200 after its start
	exitTimeout  = 30 * time.Second // a replica exits after SIGTERM (its own drain is 10 s)
	lmtpTimeout  = 10 * time.Second // one LMTP delivery
)

// repoRoot is the repository root, from this source file.
func repoRoot(tb testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the package source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// buildBridge builds cmd/bridge once into dir.
func buildBridge(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "bridge")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/bridge")
	cmd.Dir = repoRoot(tb)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/bridge: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// replica is one bridge process, restartable on the same addresses.
type replica struct {
	idx             int
	bin, config     string
	addr, adminAddr string
	logPath         string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// start starts the process and waits until /readyz answers 200.
func (r *replica) start(tb testing.TB) {
	tb.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(r.bin, "-config", r.config, "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("replica %d: %v", r.idx, err)
	}
	done := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.done, r.err = cmd, done, nil
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		close(done)
	}()
	deadline := time.Now().Add(readyTimeout)
	for {
		code, _, _ := r.readyz()
		if code == http.StatusOK {
			return
		}
		select {
		case <-done:
			tb.Fatalf("replica %d exited at start: %v\n%s", r.idx, r.err, r.logTail())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("replica %d not ready after %v\n%s", r.idx, readyTimeout, r.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the exit; it reports the exit status.
func (r *replica) stop(tb testing.TB) error {
	tb.Helper()
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(exitTimeout):
		_ = cmd.Process.Kill()
		<-done
		tb.Errorf("replica %d did not exit within %v of SIGTERM", r.idx, exitTimeout)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmd = nil
	return r.err
}

// readyz returns /readyz's status code and body.
func (r *replica) readyz() (int, string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b), nil
}

// metric reads one unlabelled metric from /metrics.
func (r *replica) metric(name string) (float64, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}

func (r *replica) logTail() string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// nginxLB is a private nginx of e2e/servers/nginx.sh.
type nginxLB struct {
	dir, addr string
}

func startNginx(tb testing.TB, backends []string) *nginxLB {
	tb.Helper()
	dir, err := os.MkdirTemp("", "imapbridge-nginx-")
	if err != nil {
		tb.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	lb := &nginxLB{dir: dir}
	tb.Cleanup(func() {
		if tb.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			tb.Logf("nginx error.log (end):\n%s", b)
		}
		_, _ = lb.run("stop")
		_ = os.RemoveAll(dir)
		_ = os.Remove(dir + ".lock")
	})
	if out, err := lb.run(append([]string{"start"}, backends...)...); err != nil {
		tb.Fatalf("nginx.sh start: %v\n%s", err, out)
	}
	out, err := lb.run("env")
	if err != nil {
		tb.Fatalf("nginx.sh env: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "export IMAPBRIDGE_NGINX_ADDR="); ok {
			lb.addr = strings.TrimSpace(v)
		}
	}
	if lb.addr == "" {
		tb.Fatalf("nginx.sh env: no address in %q", out)
	}
	return lb
}

func (lb *nginxLB) run(args ...string) (string, error) {
	c := exec.Command("bash", append([]string{filepath.Join(repoRootNoTB(), "e2e", "servers", "nginx.sh")}, args...)...)
	c.Env = append(os.Environ(), "IMAPBRIDGE_NGINX_DIR="+lb.dir)
	out, err := c.CombinedOutput()
	return string(out), err
}

func repoRootNoTB() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// lmtpDeliver delivers msg to user through Dovecot's LMTP socket, as an MTA
// does: no IMAP connection of the user is opened, so Dovecot's count of the
// user's IMAP connections stays the bridge's alone.
func lmtpDeliver(sock, user string, msg []byte) error {
	conn, err := net.DialTimeout("unix", sock, lmtpTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(lmtpTimeout))
	r := bufio.NewReader(conn)
	expect := func(prefix string) error {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if !strings.HasPrefix(line, prefix) {
				return fmt.Errorf("lmtp: %q", strings.TrimSpace(line))
			}
			if len(line) > 3 && line[3] == ' ' {
				return nil
			}
		}
	}
	send := func(s string) error { _, err := io.WriteString(conn, s); return err }
	steps := []struct{ send, want string }{
		{"", "220"},
		{"LHLO clustertest\r\n", "250"},
		{"MAIL FROM:<sender@example.test>\r\n", "250"},
		{"RCPT TO:<" + user + ">\r\n", "250"},
		{"DATA\r\n", "354"},
	}
	for _, s := range steps {
		if s.send != "" {
			if err := send(s.send); err != nil {
				return err
			}
		}
		if err := expect(s.want); err != nil {
			return fmt.Errorf("%s: %w", strings.TrimSpace(s.send), err)
		}
	}
	if err := send(string(msg) + "\r\n.\r\n"); err != nil {
		return err
	}
	if err := expect("250"); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	_ = send("QUIT\r\n")
	return nil
}

// who samples Dovecot's count of IMAP connections per user (doveadm who).
func who(conf string) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "doveadm", "-c", conf, "who").Output()
	if err != nil {
		return nil, fmt.Errorf("doveadm who: %w", err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "imap" {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		counts[f[0]] += n
	}
	return counts, nil
}

// bridgeConfig is the configuration file of one replica.
func bridgeConfig(addr, adminAddr, imapAddr, redisAddr, secretFile, adminTokenFile string, accountCap int) ([]byte, error) {
	cfg := map[string]any{
		"addr":            addr,
		"allowedOrigins":  []string{testOrigin},
		"trustedProxies":  []string{"127.0.0.1/32"},
		"defaultUpstream": "dovecot",
		"upstreams": []map[string]any{{"name": "dovecot", "addr": imapAddr, "security": "plain",
			"allowPrivate": true, "allowPlaintext": true, "maxConnectionsPerAccount": accountCap}},
		"auth": map[string]any{"issuer": tokenIssuer, "audience": tokenAudience, "hmacSecretFile": secretFile},
		// Every test client shares 127.0.0.1: the per-IP handshake rate
		// (a per-replica limit) is raised so 300 sessions reconnect at once.
		"limits":  map[string]any{"handshakesPerIP": 2000, "handshakeBurst": 2000},
		"cluster": map[string]any{"redisAddr": redisAddr, "advertiseAddr": addr},
		"admin":   map[string]any{"addr": adminAddr, "tokenFile": adminTokenFile},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// revoke posts a revocation of user to a replica's admin endpoint.
func revoke(adminAddr, token, user string) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+adminAddr+"/admin/revoke", strings.NewReader(`{"user":"`+user+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return errors.New("revoke: " + resp.Status + ": " + string(b))
	}
	return nil
}
