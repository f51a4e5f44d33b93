package submit

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Scripted servers, only for what a real Postfix will not do: a "334"
// storm, a 10 MB greeting line, replies split mid-line, a connection
// dropped mid-DATA, a server that stops answering, no STARTTLS.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	certOnce sync.Once
	certTLS  tls.Certificate
	certPool *x509.CertPool
)

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IsCA: true, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		c, _ := x509.ParseCertificate(der)
		certPool = x509.NewCertPool()
		certPool.AddCert(c)
		certTLS = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return certTLS, certPool
}

// fake is a scripted SMTP server on loopback. Its handler gets the
// connection (TLS already on for implicit TLS) and a line reader.
type fake struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen []string // lines received
}

type fakeConn struct {
	net.Conn
	r *bufio.Reader
	f *fake
}

func (c *fakeConn) line() string {
	l, err := c.r.ReadString('\n')
	l = strings.TrimRight(l, "\r\n")
	if err == nil {
		c.f.mu.Lock()
		c.f.seen = append(c.f.seen, l)
		c.f.mu.Unlock()
	}
	return l
}

func (c *fakeConn) send(s string) { _, _ = io.WriteString(c.Conn, s) }

// startFake runs handler for each connection; implicit wraps them in TLS.
func startFake(t *testing.T, implicit bool, handler func(c *fakeConn)) *fake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := testCert(t)
	f := &fake{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer conn.Close()
				if implicit {
					conn = tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}})
				}
				handler(&fakeConn{Conn: conn, r: bufio.NewReader(conn), f: f})
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *fake) config(t *testing.T, sec Security) Config {
	_, pool := testCert(t)
	return Config{Addr: f.ln.Addr().String(), Security: sec, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
		CommandTimeout: 10 * time.Second, DataTimeout: 10 * time.Second}
}

func (f *fake) lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// ehloUntilAuth answers the greeting and EHLO with AUTH PLAIN and SIZE.
func ehlo(c *fakeConn) {
	c.send("220 fake ESMTP\r\n")
	c.line()
	c.send("250-fake\r\n250-SIZE 1000000\r\n250 AUTH PLAIN LOGIN\r\n")
}

var fakeEnv = Envelope{From: "a@example.test", To: []string{"b@example.test"}}

const fakeMsg = "Subject: x\r\n\r\nbody\r\n"

func fakeSend(t *testing.T, cfg Config, timeout time.Duration) (*Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return Send(ctx, cfg, Credentials{Username: "a", Password: "p"}, fakeEnv, strings.NewReader(fakeMsg), int64(len(fakeMsg)))
}

// okUntilData runs a full good session up to DATA's 354 and returns.
func okUntilData(c *fakeConn) {
	ehlo(c)
	c.line() // AUTH
	c.send("235 ok\r\n")
	c.line() // MAIL
	c.send("250 ok\r\n")
	c.line() // RCPT
	c.send("250 ok\r\n")
	c.line() // DATA
	c.send("354 go\r\n")
}

func TestFakeSplitReplies(t *testing.T) {
	// Every reply byte by byte, with pauses: the client reassembles lines.
	slow := func(c *fakeConn, s string) {
		for i := 0; i < len(s); i++ {
			_, _ = c.Conn.Write([]byte{s[i]})
			if i%3 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	f := startFake(t, true, func(c *fakeConn) {
		slow(c, "220 fake\r\n")
		c.line()
		slow(c, "250-fake\r\n250-SIZE 1000000\r\n250 AUTH PLAIN\r\n")
		c.line()
		slow(c, "235 2.7.0 ok\r\n")
		c.line()
		slow(c, "250 2.1.0 ok\r\n")
		c.line()
		slow(c, "250 2.1.5 ok\r\n")
		c.line()
		slow(c, "354 go\r\n")
		for c.line() != "." {
		}
		slow(c, "250 2.0.0 queued as X1\r\n")
		c.line()
		slow(c, "221 bye\r\n")
	})
	res, err := fakeSend(t, f.config(t, SecurityTLS), 30*time.Second)
	if err != nil || res.Reply != "2.0.0 queued as X1" && res.Reply != "queued as X1" {
		t.Fatalf("split replies: %+v %v", res, err)
	}
}

func TestFakeHugeGreeting(t *testing.T) {
	f := startFake(t, true, func(c *fakeConn) {
		chunk := strings.Repeat("x", 64<<10)
		c.send("220 ")
		for i := 0; i < 160; i++ { // 10 MB without a line end
			if _, err := io.WriteString(c.Conn, chunk); err != nil {
				return
			}
		}
		c.send("\r\n")
	})
	_, err := fakeSend(t, f.config(t, SecurityTLS), 30*time.Second)
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("10 MB greeting line: %v, want ErrProtocol", err)
	}
}

func TestFakeContinuationFlood(t *testing.T) {
	// Short lines forever in one reply: cut off by MaxResponseBytes.
	f := startFake(t, true, func(c *fakeConn) {
		c.send("220 fake\r\n")
		c.line()
		for i := 0; i < 1<<20; i++ {
			if _, err := io.WriteString(c.Conn, "250-X\r\n"); err != nil {
				return
			}
		}
	})
	cfg := f.config(t, SecurityTLS)
	cfg.MaxResponseBytes = 64 << 10
	if _, err := fakeSend(t, cfg, 30*time.Second); !errors.Is(err, ErrProtocol) {
		t.Fatalf("endless EHLO reply: %v, want ErrProtocol", err)
	}
}

func TestFakeAuthChallengeStorm(t *testing.T) {
	// "334" after "334": the exchange is abandoned after MaxAuthSteps.
	f := startFake(t, true, func(c *fakeConn) {
		ehlo(c)
		for i := 0; i < 100; i++ {
			l := c.line()
			if l == "" || l == "*" {
				c.send("501 cancelled\r\n")
				return
			}
			c.send("334 VXNlcm5hbWU6\r\n") // "Username:"
		}
	})
	cfg := f.config(t, SecurityTLS)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Send(ctx, cfg, Credentials{Username: "a", Password: "p", Mechanism: "LOGIN"}, fakeEnv, strings.NewReader(fakeMsg), int64(len(fakeMsg)))
	if !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("AUTH storm: %v", err)
	}
	if n := len(f.lines()); n > MaxAuthSteps+4 {
		t.Errorf("client answered %d lines, want at most %d", n, MaxAuthSteps+4)
	}
}

func TestFakeDropMidData(t *testing.T) {
	f := startFake(t, true, func(c *fakeConn) {
		okUntilData(c)
		c.line() // some of the message, then the connection drops
	})
	res, err := fakeSend(t, f.config(t, SecurityTLS), 30*time.Second)
	if !errors.Is(err, ErrUnavailable) || res != nil {
		t.Fatalf("drop mid-DATA: %+v %v, want ErrUnavailable and no result", res, err)
	}
}

func TestFakeSlowAfterData(t *testing.T) {
	release := make(chan struct{})
	f := startFake(t, true, func(c *fakeConn) {
		okUntilData(c)
		for c.line() != "." {
		}
		<-release // never answers the final dot in time
	})
	defer close(release)
	cfg := f.config(t, SecurityTLS)
	cfg.DataTimeout = 300 * time.Millisecond
	res, err := fakeSend(t, cfg, 30*time.Second)
	if !errors.Is(err, ErrTimeout) || res != nil {
		t.Fatalf("no reply to the final dot: %+v %v, want ErrTimeout", res, err)
	}
	// The context's deadline ends it too.
	cfg.DataTimeout = time.Minute
	if _, err := fakeSend(t, cfg, 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("context deadline: %v", err)
	}
}

func TestFakeNoSTARTTLS(t *testing.T) {
	f := startFake(t, false, func(c *fakeConn) {
		c.send("220 fake\r\n")
		c.line()
		c.send("250-fake\r\n250 AUTH PLAIN\r\n")
		for l := c.line(); l != ""; l = c.line() {
			c.send("500 no\r\n")
		}
	})
	if _, err := fakeSend(t, f.config(t, SecuritySTARTTLS), 30*time.Second); !errors.Is(err, ErrTLSRequired) {
		t.Fatalf("no STARTTLS: %v, want ErrTLSRequired", err)
	}
	for _, l := range f.lines() {
		if strings.HasPrefix(strings.ToUpper(l), "AUTH") || strings.HasPrefix(strings.ToUpper(l), "MAIL") {
			t.Errorf("sent %q in cleartext", l)
		}
	}
}

func TestFake421AndDown(t *testing.T) {
	f := startFake(t, true, func(c *fakeConn) {
		ehlo(c)
		c.line()
		c.send("235 ok\r\n")
		c.line()
		c.send("250 ok\r\n")
		c.line()
		c.send("421 4.3.2 shutting down\r\n")
	})
	if _, err := fakeSend(t, f.config(t, SecurityTLS), 30*time.Second); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("421: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := f.config(t, SecurityTLS)
	cfg.Addr = addr
	if _, err := fakeSend(t, cfg, 30*time.Second); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("nothing listening: %v", err)
	}
}

func TestEnvelopeChecks(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:1"}
	for _, env := range []Envelope{
		{From: "a@example.test\r\nRCPT TO:<x@y>", To: []string{"b@example.test"}},
		{From: "a@example.test", To: []string{"b@example.test>\r\nDATA"}},
		{From: "a@example.test", To: []string{"b@exa\x00mple.test"}},
		{From: "", To: []string{"b@example.test"}},
	} {
		if _, err := Send(context.Background(), cfg, Credentials{}, env, strings.NewReader(""), 0); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: %v, want ErrBadAddress", env, err)
		}
	}
	many := Envelope{From: "a@example.test"}
	for i := 0; i <= DefaultMaxRecipients; i++ {
		many.To = append(many.To, "b@example.test")
	}
	if _, err := Send(context.Background(), cfg, Credentials{}, many, strings.NewReader(""), 0); !errors.Is(err, ErrTooManyRecipients) {
		t.Errorf("%d recipients: %v", len(many.To), err)
	}
	if _, err := Send(context.Background(), Config{Addr: "127.0.0.1:1", TLSConfig: &tls.Config{InsecureSkipVerify: true}}, Credentials{}, fakeEnv, strings.NewReader(""), 0); !errors.Is(err, ErrConfig) {
		t.Errorf("InsecureSkipVerify: %v", err)
	}
}
