package imapengine

// Hostile-server tests of STARTTLS and TLS: /work/shared/spec/security.md
// section A (A1, A3–A11). Each test names the spec item it covers.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// secTimeout bounds every wait in the hostile-server tests, so a
// regression fails fast instead of hanging.
const secTimeout = 2 * time.Second

// secOpts returns client options with short deadlines and plaintext
// authentication allowed (tests that check the refusal clear the flag).
func secOpts() *Options {
	return &Options{
		AllowPlaintextAuth: true,
		ConnectTimeout:     secTimeout,
		GreetingTimeout:    secTimeout,
		CommandTimeout:     secTimeout,
	}
}

// secTLSOpts is secOpts trusting srv's test CA for "localhost".
func secTLSOpts(srv *imaptest.Server) *Options {
	o := secOpts()
	o.TLSConfig = &tls.Config{RootCAs: srv.CertPool(), ServerName: "localhost"}
	return o
}

// secCreds returns the LOGIN and AUTHENTICATE lines srv received.
func secCreds(srv *imaptest.Server) []string {
	var out []string
	for _, c := range srv.Commands() {
		if c.Name == "LOGIN" || c.Name == "AUTHENTICATE" {
			out = append(out, string(c.Line))
		}
	}
	return out
}

// secDrain reads client lines until the connection ends, keeping a scripted
// connection open so that the client, not an EOF, decides what happens.
func secDrain(c *imaptest.Conn) {
	for {
		if _, err := c.ReadLine(); err != nil {
			return
		}
	}
}

// secTagPrefix returns the letters of a client tag ("ABCD12" -> "ABCD").
func secTagPrefix(tag string) string { return strings.TrimRight(tag, "0123456789") }

// secSTARTTLSGreeting advertises STARTTLS and PLAIN in the greeting, so the client
// sends STARTTLS as its first command.
const secSTARTTLSGreeting = "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready"

// TestSecurity_A1_STARTTLSInjection writes the tagged OK and forged responses
// in one segment before the handshake (CVE-2021-22947 and friends), directly
// from a scripted server and through a MITM relay.
func TestSecurity_A1_STARTTLSInjection(t *testing.T) {
	injected := func(tag string) string {
		return tag + " OK Begin TLS now\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" +
			secTagPrefix(tag) + "1 OK LOGIN completed\r\n"
	}
	t.Run("script", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{
			Greeting: secSTARTTLSGreeting,
			Script: func(c *imaptest.Conn) {
				cmd, err := c.ReadCommand()
				if err != nil || cmd.Name != "STARTTLS" {
					return
				}
				c.SendRaw([]byte(injected(cmd.Tag)))
				if c.StartTLS() == nil {
					c.Serve()
				}
			},
		})
		c, err := DialStartTLS(context.Background(), srv.Addr(), secTLSOpts(srv))
		if err == nil {
			c.Shutdown()
			t.Fatal("DialStartTLS succeeded after an injected segment")
		}
		if !errors.Is(err, ErrSTARTTLSInjection) || !errors.Is(err, ErrAbort) {
			t.Fatalf("err = %v, want ErrSTARTTLSInjection (abort)", err)
		}
		srv.Close()
		if got := secCreds(srv); len(got) != 0 {
			t.Fatalf("credentials sent: %q", got)
		}
	})
	// Issue 20 item 6: the injected bytes arrive in a later segment, after
	// the reader stopped at the tagged OK, so the handshake reads them: the
	// error still says injection (and TLS handshake), not a dropped
	// connection; a certificate failure is a TLS handshake error only.
	t.Run("later-segment", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{
			Greeting: secSTARTTLSGreeting,
			Script: func(c *imaptest.Conn) {
				cmd, err := c.ReadCommand()
				if err != nil || cmd.Name != "STARTTLS" {
					return
				}
				c.Tagged(cmd, "OK Begin TLS now")
				if c.Sleep(100 * time.Millisecond) {
					c.SendRaw([]byte(injected(cmd.Tag)[len(cmd.Tag)+len(" OK Begin TLS now\r\n"):]))
					c.Sleep(secTimeout)
				}
			},
		})
		c, err := DialStartTLS(context.Background(), srv.Addr(), secTLSOpts(srv))
		if err == nil {
			c.Shutdown()
			t.Fatal("DialStartTLS succeeded after injected bytes")
		}
		if !errors.Is(err, ErrSTARTTLSInjection) || !errors.Is(err, ErrTLSHandshake) || !errors.Is(err, ErrAbort) {
			t.Fatalf("err = %v, want ErrSTARTTLSInjection and ErrTLSHandshake (abort)", err)
		}
		srv.Close()
		if got := secCreds(srv); len(got) != 0 {
			t.Fatalf("credentials sent: %q", got)
		}
	})
	t.Run("bad-certificate", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{
			Greeting: secSTARTTLSGreeting,
			Handlers: map[string]imaptest.HandlerFunc{"STARTTLS": imaptest.StartTLSHandler()},
		})
		o := secTLSOpts(srv)
		o.TLSConfig = &tls.Config{ServerName: "localhost"} // the test CA is not trusted
		c, err := DialStartTLS(context.Background(), srv.Addr(), o)
		if err == nil {
			c.Shutdown()
			t.Fatal("DialStartTLS trusted an unknown CA")
		}
		if !errors.Is(err, ErrTLSHandshake) || errors.Is(err, ErrSTARTTLSInjection) {
			t.Fatalf("err = %v, want ErrTLSHandshake only", err)
		}
	})
	t.Run("proxy", func(t *testing.T) {
		up := imaptest.NewServer(t, imaptest.Config{
			Greeting: secSTARTTLSGreeting,
			Handlers: map[string]imaptest.HandlerFunc{"STARTTLS": imaptest.StartTLSHandler()},
		})
		px := imaptest.NewProxy(t, up.Addr())
		px.OnServerData = func(b []byte) []byte {
			if i := bytes.Index(b, []byte(" OK Begin TLS negotiation now\r\n")); i > 0 {
				tag := string(b[bytes.LastIndexByte(b[:i], '\n')+1 : i])
				return append(b, injected(tag)[len(tag)+len(" OK Begin TLS now\r\n"):]...)
			}
			return b
		}
		addr := px.Addr()
		o := secTLSOpts(up)
		c, err := Dial(context.Background(), addr, o)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Shutdown()
		_, err = c.StartTLS(context.Background(), nil)
		if !errors.Is(err, ErrSTARTTLSInjection) {
			t.Fatalf("StartTLS err = %v, want ErrSTARTTLSInjection", err)
		}
		if c.IsTLS() {
			t.Fatal("IsTLS after a refused upgrade")
		}
		// The connection is closed: a later login fails fast and sends nothing.
		if _, err := c.Login(context.Background(), "user", "pass"); !errors.Is(err, ErrAbort) {
			t.Fatalf("Login after injection: %v, want abort", err)
		}
		select {
		case <-c.Done():
		case <-time.After(secTimeout):
			t.Fatal("connection not closed")
		}
		up.Close()
		if got := secCreds(up); len(got) != 0 {
			t.Fatalf("credentials sent: %q", got)
		}
	})
}

// TestSecurity_A3_PreTLSDataDiscarded sends LIST, EXISTS and an ALERT before
// the STARTTLS OK: none of it may survive the upgrade, and only the post-TLS
// capabilities count (LOGINDISABLED is trusted in neither direction).
func TestSecurity_A3_PreTLSDataDiscarded(t *testing.T) {
	tests := []struct {
		name        string
		greeting    string
		postCaps    string
		wantLoginOK bool
	}{
		{"pre-TLS LOGINDISABLED dropped", "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi", "AUTH=PLAIN", true},
		{"post-TLS LOGINDISABLED honoured", "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi", "AUTH=PLAIN LOGINDISABLED", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{
				Greeting:     tt.greeting,
				Capabilities: tt.postCaps,
				Script: func(c *imaptest.Conn) {
					cmd, err := c.ReadCommand()
					if err != nil || cmd.Name != "STARTTLS" {
						return
					}
					c.Send(`* LIST () "/" Phish`)
					c.Send("* 3 EXISTS")
					c.Send("* OK [ALERT] Password expired, visit https://evil.example")
					c.Tagged(cmd, "OK Begin TLS negotiation now")
					if c.StartTLS() == nil {
						c.Serve()
					}
				},
			})
			o := secTLSOpts(srv)
			o.AllowPlaintextAuth = false
			c, err := DialStartTLS(context.Background(), srv.Addr(), o)
			if err != nil {
				t.Fatalf("DialStartTLS: %v", err)
			}
			defer c.Shutdown()
			if !c.IsTLS() {
				t.Fatal("not TLS")
			}
			for typ := range c.Untagged() {
				if typ == "LIST" || typ == "EXISTS" || typ == "ALERT" {
					t.Errorf("pre-TLS %s reached the caller: %v", typ, c.Untagged()[typ])
				}
			}
			if c.HasCapability("STARTTLS") {
				t.Error("pre-TLS capabilities kept")
			}
			if got := c.HasCapability("LOGINDISABLED"); got == tt.wantLoginOK {
				t.Errorf("LOGINDISABLED = %v", got)
			}
			if n := secCount(srv, "CAPABILITY"); n != 1 {
				t.Errorf("CAPABILITY sent %d times after TLS, want 1", n)
			}
			_, err = c.Login(context.Background(), "user", "pass")
			if (err == nil) != tt.wantLoginOK {
				t.Fatalf("Login err = %v, want ok=%v", err, tt.wantLoginOK)
			}
			if !tt.wantLoginOK && len(secCreds(srv)) != 0 {
				t.Fatal("LOGIN sent despite LOGINDISABLED")
			}
		})
	}
}

// secCount returns how many commands named name srv received.
func secCount(srv *imaptest.Server, name string) int {
	n := 0
	for _, c := range srv.Commands() {
		if c.Name == name {
			n++
		}
	}
	return n
}

// TestSecurity_A4_STARTTLSStripped: with STARTTLS required, a server whose
// capabilities lack STARTTLS (or that answers CAPABILITY with BAD) gets
// ErrTLSRequired and never a credential.
func TestSecurity_A4_STARTTLSStripped(t *testing.T) {
	tests := []struct {
		name string
		cfg  imaptest.Config
	}{
		{"stripped from greeting", imaptest.Config{Greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready"}},
		{"stripped from CAPABILITY", imaptest.Config{Greeting: "* OK ready", Capabilities: "AUTH=PLAIN"}},
		{"CAPABILITY BAD", imaptest.Config{Greeting: "* OK ready", Handlers: map[string]imaptest.HandlerFunc{
			"CAPABILITY": func(c *imaptest.Conn, cmd *imaptest.Command) { c.Tagged(cmd, "BAD no") },
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, tt.cfg)
			c, err := DialStartTLS(context.Background(), srv.Addr(), secTLSOpts(srv))
			if err == nil {
				c.Shutdown()
				t.Fatal("DialStartTLS succeeded without STARTTLS")
			}
			if !errors.Is(err, ErrTLSRequired) {
				t.Fatalf("err = %v, want ErrTLSRequired", err)
			}
			srv.Close()
			if got := secCreds(srv); len(got) != 0 {
				t.Fatalf("credentials sent: %q", got)
			}
		})
	}
}

// TestSecurity_A5_STARTTLSRefused: NO or BAD to STARTTLS is an error, the
// required mode closes, and the optional mode never falls back to a cleartext
// login unless AllowPlaintextAuth says so.
func TestSecurity_A5_STARTTLSRefused(t *testing.T) {
	for _, reply := range []string{"NO [UNAVAILABLE] no TLS", "BAD unknown", "BAD"} {
		t.Run(reply, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{
				Greeting: secSTARTTLSGreeting,
				Handlers: map[string]imaptest.HandlerFunc{"STARTTLS": func(c *imaptest.Conn, cmd *imaptest.Command) {
					c.Tagged(cmd, reply)
				}},
			})
			c, err := DialStartTLS(context.Background(), srv.Addr(), secTLSOpts(srv))
			if err == nil {
				c.Shutdown()
				t.Fatal("DialStartTLS succeeded after a refusal")
			}
			// A bare "BAD" is not even a well-formed completion (imaplib's
			// tagre needs text): it aborts with a protocol error instead.
			var se *StatusError
			if strings.Contains(reply, " ") && (!errors.As(err, &se) || se.Command != "STARTTLS") {
				t.Fatalf("err = %v, want a STARTTLS *StatusError", err)
			}
			if !errors.Is(err, ErrIMAP) {
				t.Fatalf("err = %v, want an imapengine error", err)
			}

			o := secTLSOpts(srv)
			o.AllowPlaintextAuth = false
			c, err = Dial(context.Background(), srv.Addr(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Shutdown()
			if _, err := c.StartTLS(context.Background(), nil); err == nil {
				t.Fatal("StartTLS succeeded")
			}
			if _, err := c.Login(context.Background(), "user", "pass"); !errors.Is(err, ErrTLSRequired) {
				t.Fatalf("cleartext fallback: Login err = %v, want ErrTLSRequired", err)
			}
			if got := secCreds(srv); len(got) != 0 {
				t.Fatalf("credentials sent: %q", got)
			}
		})
	}
}

// TestSecurity_A6_PreauthPlaintext: PREAUTH on a connection that must be
// upgraded is refused before any command; over implicit TLS it is accepted.
func TestSecurity_A6_PreauthPlaintext(t *testing.T) {
	srv := imaptest.NewServer(t, imaptest.Config{Greeting: "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in"})
	c, err := DialStartTLS(context.Background(), srv.Addr(), secTLSOpts(srv))
	if err == nil {
		c.Shutdown()
		t.Fatal("PREAUTH accepted on a plaintext connection")
	}
	if !errors.Is(err, ErrPreauthPlaintext) || !strings.Contains(err.Error(), "PREAUTH on unencrypted connection") {
		t.Fatalf("err = %v, want ErrPreauthPlaintext", err)
	}
	srv.Close()
	if cmds := srv.Commands(); len(cmds) != 0 {
		t.Fatalf("commands sent after PREAUTH: %v", cmds)
	}

	tsrv := imaptest.NewServer(t, imaptest.Config{TLS: true, Greeting: "* PREAUTH [CAPABILITY IMAP4rev1] logged in"})
	c, err = DialTLS(context.Background(), tsrv.Addr(), secTLSOpts(tsrv))
	if err != nil {
		t.Fatalf("PREAUTH over implicit TLS: %v", err)
	}
	defer c.Shutdown()
	if c.State() != StateAuth {
		t.Fatalf("state = %s, want AUTH", c.State())
	}
}

// TestSecurity_A7_StrayTaggedOK: a tagged OK that answers nothing — sent
// before the command, for a tag never issued, or twice — is a protocol error
// that closes the connection; STARTTLS never succeeds on it.
func TestSecurity_A7_StrayTaggedOK(t *testing.T) {
	tests := []struct {
		name   string
		script func(c *imaptest.Conn)
	}{
		{"OK before STARTTLS is written", func(c *imaptest.Conn) {
			c.Send("A1 OK Begin TLS now")
			secDrain(c)
		}},
		{"tag never issued", func(c *imaptest.Conn) {
			cmd, err := c.ReadCommand()
			if err != nil {
				return
			}
			c.Send(secTagPrefix(cmd.Tag) + "9999 OK Begin TLS now")
			secDrain(c)
		}},
		{"duplicate completion", func(c *imaptest.Conn) {
			cmd, err := c.ReadCommand()
			if err != nil {
				return
			}
			c.SendRaw([]byte(cmd.Tag + " NO [UNAVAILABLE] later\r\n" + cmd.Tag + " OK Begin TLS now\r\n"))
			secDrain(c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{Greeting: secSTARTTLSGreeting, Script: tt.script})
			c, err := Dial(context.Background(), srv.Addr(), secTLSOpts(srv))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Shutdown()
			if _, err := c.StartTLS(context.Background(), nil); err == nil {
				t.Fatal("StartTLS succeeded on a stray completion")
			}
			if c.IsTLS() {
				t.Fatal("IsTLS without a handshake")
			}
			select {
			case <-c.Done():
			case <-time.After(secTimeout):
				t.Fatal("connection not closed")
			}
			if err := c.Err(); !errors.Is(err, ErrProtocol) {
				t.Fatalf("close cause = %v, want ErrProtocol", err)
			}
		})
	}
}

// TestSecurity_A8_GarbageGreeting: in TLS-required mode a greeting that is not
// IMAP fails the dial and nothing is sent.
func TestSecurity_A8_GarbageGreeting(t *testing.T) {
	tests := []struct {
		name string
		raw  string // "" means EOF at once
	}{
		{"HTTP", "HTTP/1.1 400 Bad Request\r\n"},
		{"empty line", "\r\n"},
		{"BAD", "* BAD\r\n"},
		{"EOF", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
				if tt.raw == "" {
					return
				}
				c.SendRaw([]byte(tt.raw))
				secDrain(c)
			}})
			c, err := DialStartTLS(context.Background(), srv.Addr(), secTLSOpts(srv))
			if err == nil {
				c.Shutdown()
				t.Fatal("dial succeeded on a garbage greeting")
			}
			if !errors.Is(err, ErrIMAP) {
				t.Fatalf("err = %v, want an imapengine error", err)
			}
			srv.Close()
			if cmds := srv.Commands(); len(cmds) != 0 {
				t.Fatalf("commands sent: %v", cmds)
			}
		})
	}
}

// TestSecurity_A9_CertValidation: self-signed, wrong name, expired and
// IP-literal-against-a-name certificates fail the handshake with a typed
// x509 error; a certificate with the IP SAN succeeds.
func TestSecurity_A9_CertValidation(t *testing.T) {
	type check func(error) bool
	var (
		unknownCA = func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }
		hostname  = func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) }
		expired   = func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}
	)
	loopback := net.ParseIP("127.0.0.1")
	tests := []struct {
		name       string
		cert       imaptest.CertOptions
		trust      bool   // trust the certificate's own pool
		serverName string // "" means the dialled host
		want       check  // nil means success
	}{
		{"self-signed", imaptest.CertOptions{SelfSigned: true}, false, "localhost", unknownCA},
		{"SAN mismatch", imaptest.CertOptions{DNSNames: []string{"mail.example.com"}}, true, "localhost", hostname},
		{"expired", imaptest.CertOptions{NotAfter: time.Now().Add(-time.Hour)}, true, "localhost", expired},
		{"IP literal, localhost-only cert", imaptest.CertOptions{}, true, "", hostname},
		{"IP SAN", imaptest.CertOptions{IPs: []net.IP{loopback}}, true, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, pool := imaptest.NewCert(t, tt.cert)
			srv := imaptest.NewServer(t, imaptest.Config{TLS: true, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
			o := secOpts()
			o.TLSConfig = &tls.Config{ServerName: tt.serverName}
			if tt.trust {
				o.TLSConfig.RootCAs = pool
			} else {
				_, other := imaptest.NewCert(t, imaptest.CertOptions{})
				o.TLSConfig.RootCAs = other
			}
			c, err := DialTLS(context.Background(), srv.Addr(), o)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("DialTLS: %v", err)
				}
				c.Shutdown()
				return
			}
			if err == nil {
				c.Shutdown()
				t.Fatal("handshake succeeded")
			}
			if !tt.want(err) {
				t.Fatalf("err = %v (%T), not the expected x509 error", err, err)
			}
			var ve *tls.CertificateVerificationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *tls.CertificateVerificationError", err)
			}
		})
	}
}

// TestSecurity_A9_NoInsecureSkipVerify: no engine source file turns
// certificate verification off.
func TestSecurity_A9_NoInsecureSkipVerify(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("InsecureSkipVerify")) {
			t.Errorf("%s mentions InsecureSkipVerify", f)
		}
	}
}

// TestSecurity_A10_TLSFloor: a server capped at TLS 1.1 fails the handshake,
// for implicit TLS and STARTTLS, even when the caller's config asks for TLS 1.0.
func TestSecurity_A10_TLSFloor(t *testing.T) {
	cert, pool := imaptest.NewCert(t, imaptest.CertOptions{})
	old := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	for _, callerMin := range []uint16{0, tls.VersionTLS10} {
		name := "default"
		if callerMin != 0 {
			name = "caller asks TLS1.0"
		}
		t.Run(name, func(t *testing.T) {
			o := secOpts()
			o.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: callerMin}

			srv := imaptest.NewServer(t, imaptest.Config{TLS: true, TLSConfig: old})
			if c, err := DialTLS(context.Background(), srv.Addr(), o); err == nil {
				c.Shutdown()
				t.Fatal("implicit TLS 1.1 accepted")
			}

			ssrv := imaptest.NewServer(t, imaptest.Config{
				Greeting:  secSTARTTLSGreeting,
				TLSConfig: old,
				Handlers:  map[string]imaptest.HandlerFunc{"STARTTLS": imaptest.StartTLSHandler()},
			})
			if c, err := DialStartTLS(context.Background(), ssrv.Addr(), o); err == nil {
				c.Shutdown()
				t.Fatal("STARTTLS to TLS 1.1 accepted")
			}
			ssrv.Close()
			if got := secCreds(ssrv); len(got) != 0 {
				t.Fatalf("credentials sent: %q", got)
			}
		})
	}
}

// TestSecurity_A11_PlaintextAuth: on a cleartext TCP connection LOGIN and
// AUTHENTICATE are refused without AllowPlaintextAuth, and LOGIN is never sent
// when the server advertises LOGINDISABLED.
func TestSecurity_A11_PlaintextAuth(t *testing.T) {
	plain := func(c *Client) error {
		_, err := c.AuthenticateSASL(context.Background(), PlainAuth("", "user", "pass"))
		return err
	}
	login := func(c *Client) error { _, err := c.Login(context.Background(), "user", "pass"); return err }
	loginPlain := func(c *Client) error { _, err := c.LoginPlain(context.Background(), "user", "pass"); return err }
	tests := []struct {
		name  string
		caps  string
		allow bool
		tls   bool
		call  func(*Client) error
		want  error // nil means success
	}{
		{"LOGIN refused", "AUTH=PLAIN", false, false, login, ErrTLSRequired},
		{"AUTHENTICATE PLAIN refused", "AUTH=PLAIN", false, false, plain, ErrTLSRequired},
		{"LoginPlain refused", "AUTH=PLAIN", false, false, loginPlain, ErrTLSRequired},
		{"LOGINDISABLED honoured", "AUTH=PLAIN LOGINDISABLED", true, false, login, ErrNotSupported},
		{"LOGINDISABLED over TLS", "AUTH=PLAIN LOGINDISABLED", false, true, login, ErrNotSupported},
		{"allowed explicitly", "AUTH=PLAIN", true, false, login, nil},
		{"TLS needs no flag", "AUTH=PLAIN", false, true, login, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{
				TLS:          tt.tls,
				Capabilities: tt.caps,
				Handlers:     map[string]imaptest.HandlerFunc{"AUTHENTICATE": imaptest.FakeAuthHandler()},
			})
			o := secTLSOpts(srv)
			o.AllowPlaintextAuth = tt.allow
			var c *Client
			var err error
			if tt.tls {
				c, err = DialTLS(context.Background(), srv.Addr(), o)
			} else {
				c, err = Dial(context.Background(), srv.Addr(), o)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Shutdown()
			err = tt.call(c)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got := secCreds(srv); len(got) != 0 {
				t.Fatalf("credentials sent: %q", got)
			}
		})
	}
}
