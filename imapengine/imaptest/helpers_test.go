package imaptest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every client read in these tests.
const testTimeout = 5 * time.Second

// client is a minimal line-oriented IMAP client for transcript tests.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return newClient(t, nc)
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) *client {
	t.Helper()
	nc, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return newClient(t, nc)
}

func newClient(t *testing.T, nc net.Conn) *client {
	return &client{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line (got %q): %v", l, err)
	}
	return l
}

// expect reads one line per want (each without CRLF) and compares.
func (c *client) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		if got := c.line(); got != w+"\r\n" {
			c.t.Fatalf("got %q, want %q", got, w+"\r\n")
		}
	}
}

func (c *client) expectEOF() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	if l, err := c.r.ReadString('\n'); err == nil || l != "" {
		c.t.Fatalf("want EOF, got %q, %v", l, err)
	}
}

// drainToEOF discards lines until the server closes the connection.
func (c *client) drainToEOF() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	for range 100 {
		if _, err := c.r.ReadString('\n'); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.t.Fatal("no EOF from server")
			}
			return
		}
	}
	c.t.Fatal("no EOF after 100 lines")
}

// checkGoroutines fails if the goroutine count does not return to base.
func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func joinLines(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

// x509HostnameError is the error type of a certificate name mismatch.
type x509HostnameError = x509.HostnameError

func mustServerCert(t *testing.T) tls.Certificate {
	t.Helper()
	cert, _, err := serverCert()
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// fakeTB records Error calls instead of failing the real test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprint(args...))
}

func (f *fakeTB) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}
