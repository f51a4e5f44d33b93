package imapengine

// Live tests against a real Dovecot (internal/dovecottest), over the four
// connection kinds: plain TCP, STARTTLS, implicit TLS and the preauthenticated
// stdio subprocess. Every test uses fresh users, so all run in parallel.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// liveTimeout bounds each live test's context; Dovecot answers in
// milliseconds, IDLE notifications within about a second.
const liveTimeout = 20 * time.Second

// liveKind is one way to reach Dovecot.
type liveKind struct {
	name   string
	stream bool // preauthenticated subprocess: no login
	dial   func(ctx context.Context, s *dovecottest.Server, user string, o *Options) (*Client, error)
}

var liveKinds = []liveKind{
	{"plain", false, func(ctx context.Context, s *dovecottest.Server, _ string, o *Options) (*Client, error) {
		o.AllowPlaintextAuth = true
		return Dial(ctx, s.PlainAddr, o)
	}},
	{"starttls", false, func(ctx context.Context, s *dovecottest.Server, _ string, o *Options) (*Client, error) {
		return DialStartTLS(ctx, s.PlainAddr, o)
	}},
	{"tls", false, func(ctx context.Context, s *dovecottest.Server, _ string, o *Options) (*Client, error) {
		return DialTLS(ctx, s.TLSAddr, o)
	}},
	{"stream", true, func(ctx context.Context, s *dovecottest.Server, user string, o *Options) (*Client, error) {
		return DialStream(ctx, s.StdioArgv(user), o)
	}},
}

// forLiveKinds runs f in parallel over every connection kind (or only over
// the network ones when network is set).
func forLiveKinds(t *testing.T, network bool, f func(t *testing.T, s *dovecottest.Server, k liveKind)) {
	t.Helper()
	s := dovecottest.Start(t)
	for _, k := range liveKinds {
		if network && k.stream {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f(t, s, k)
		})
	}
}

// liveCtx returns a context bounded by liveTimeout and ended with the test.
func liveCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	t.Cleanup(cancel)
	return ctx
}

// liveDial connects without logging in; the client is shut down with the test.
func liveDial(t *testing.T, s *dovecottest.Server, k liveKind, user string) *Client {
	t.Helper()
	o := &Options{TLSConfig: s.TLSConfig(), CommandTimeout: 10 * time.Second, GreetingTimeout: 10 * time.Second}
	c, err := k.dial(liveCtx(t), s, user, o)
	if err != nil {
		t.Fatalf("%s dial: %v", k.name, err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// liveLogin connects as user (logging in unless the kind is preauthenticated).
func liveLogin(t *testing.T, s *dovecottest.Server, k liveKind, user, pw string) *Client {
	t.Helper()
	c := liveDial(t, s, k, user)
	if !k.stream {
		liveOK(t, "login")(c.Login(liveCtx(t), user, pw))
	}
	if c.State() != StateAuth {
		t.Fatalf("state after login = %s, want AUTH", c.State())
	}
	return c
}

// liveUser makes a fresh user and a client logged in as that user.
func liveUser(t *testing.T, s *dovecottest.Server, k liveKind) (*Client, string) {
	t.Helper()
	user, pw := s.NewUser(t)
	return liveLogin(t, s, k, user, pw), user
}

// liveOK returns a checker that fails the test unless a call returned OK.
func liveOK(t *testing.T, what string) func(Result, error) Result {
	t.Helper()
	return func(r Result, err error) Result {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r.Typ != "OK" {
			t.Fatalf("%s: typ %q, data %v", what, r.Typ, strs(r.Data))
		}
		return r
	}
}

// liveData is liveOK returning the data as strings.
func liveData(t *testing.T, what string) func(Result, error) []string {
	t.Helper()
	return func(r Result, err error) []string {
		t.Helper()
		return strs(liveOK(t, what)(r, err).Data)
	}
}

// wantStatus checks that err is a server NO or BAD with the given code ("" for any).
func wantStatus(t *testing.T, what string, err error, status, code string) {
	t.Helper()
	var se *StatusError
	if !errors.Is(err, ErrIMAP) || !errors.As(err, &se) {
		t.Fatalf("%s: err = %v, want a *StatusError", what, err)
	}
	if se.Status != status || (code != "" && se.Code != code) {
		t.Fatalf("%s: status %q code %q (%s), want %s [%s]", what, se.Status, se.Code, se.Text, status, code)
	}
}

// hasItem reports whether any datum (header and literal joined) contains sub.
func hasItem(data []string, sub string) bool {
	return slices.ContainsFunc(data, func(d string) bool { return strings.Contains(d, sub) })
}

// flagSet returns the sorted flags of the FETCH datum d.
func flagSet(d string) []string {
	var out []string
	for _, f := range ParseFlags([]byte(d)) {
		out = append(out, string(f))
	}
	slices.Sort(out)
	return out
}

// Messages appended by the message tests: a thread of two and a multipart.
var (
	liveDate = time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 0))
	liveMsg1 = []byte("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n" +
		"Subject: Hello world\r\nMessage-ID: <m1@example.org>\r\nDate: Tue, 02 Jan 2024 03:04:05 +0000\r\n\r\n" +
		"First message body.\r\n")
	liveMsg2 = []byte("From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n" +
		"Subject: Re: Hello world\r\nMessage-ID: <m2@example.org>\r\nIn-Reply-To: <m1@example.org>\r\n" +
		"References: <m1@example.org>\r\nDate: Wed, 03 Jan 2024 03:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"Viele Grüße aus Köln\r\n")
	liveMsg3 = []byte("From: Carol <carol@example.org>\r\nTo: Alice <alice@example.org>\r\n" +
		"Subject: Zebra report\r\nMessage-ID: <m3@example.org>\r\nDate: Thu, 04 Jan 2024 03:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n")
)

// appendThree appends the three messages to mailbox.
func appendThree(t *testing.T, c *Client, mailbox string) {
	t.Helper()
	ctx := liveCtx(t)
	r := liveOK(t, "append 1")(c.Append(ctx, mailbox, `(\Seen $Work)`, liveDate, liveMsg1))
	if !bytes.Contains(r.First(), []byte("[APPENDUID ")) {
		t.Errorf("append: %v, want APPENDUID (UIDPLUS)", strs(r.Data))
	}
	liveOK(t, "append 2")(c.Append(ctx, mailbox, "", time.Time{}, liveMsg2))
	liveOK(t, "append 3")(c.Append(ctx, mailbox, `\Draft`, time.Time{}, liveMsg3))
}

// TestDovecot_Login covers login, a refused login, the master-user login and
// logout on every network connection; the stream is already authenticated.
func TestDovecot_Login(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		c := liveDial(t, s, k, user)
		if k.stream {
			if c.State() != StateAuth {
				t.Fatalf("stream state = %s, want AUTH (PREAUTH)", c.State())
			}
		} else {
			if c.State() != StateNonAuth {
				t.Fatalf("state = %s, want NONAUTH", c.State())
			}
			if k.name != "plain" && !c.IsTLS() {
				t.Fatal("IsTLS = false on a TLS connection")
			}
			_, err := c.Login(ctx, user, "wrong")
			wantStatus(t, "bad login", err, "NO", "AUTHENTICATIONFAILED")
			d := liveData(t, "login")(c.Login(ctx, user, pw))
			if len(d) != 1 || !strings.Contains(d[0], "Logged in") {
				t.Errorf("login data = %q", d)
			}
		}
		for _, capa := range []string{"IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "QUOTA", "ACL", "METADATA", "CONDSTORE", "QRESYNC"} {
			if !c.HasCapability(capa) {
				t.Errorf("capability %s missing from %q", capa, c.Capabilities())
			}
		}
		t.Logf("%s capabilities: %s", k.name, strings.Join(c.Capabilities(), " "))
		r, err := c.Logout(ctx)
		if err != nil || r.Typ != "BYE" {
			t.Fatalf("logout: %v %v", r, err)
		}
		if c.State() != StateLogout {
			t.Errorf("state after logout = %s", c.State())
		}
		if k.stream {
			return
		}
		// The master user acts as the user and sees the user's mail.
		s.Deliver(t, user, liveMsg1)
		m := liveDial(t, s, k, "")
		name, mpw := s.MasterLogin(user)
		liveOK(t, "master login")(m.Login(ctx, name, mpw))
		if d := liveData(t, "select as master")(m.Select(ctx, "", false)); !slices.Equal(d, []string{"1"}) {
			t.Errorf("select as master = %q, want [1]", d)
		}
		liveOK(t, "logout")(okBye(m.Logout(ctx)))
	})
}

// okBye turns Logout's ('BYE', ...) into OK for liveOK.
func okBye(r Result, err error) (Result, error) {
	if r.Typ == "BYE" {
		r.Typ = "OK"
	}
	return r, err
}

// TestDovecot_PlaintextRefused: a cleartext connection without
// AllowPlaintextAuth never sends the password.
func TestDovecot_PlaintextRefused(t *testing.T) {
	s := dovecottest.Start(t)
	c, err := Dial(liveCtx(t), s.PlainAddr, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	user, pw := s.NewUser(t)
	if _, err := c.Login(liveCtx(t), user, pw); !errors.Is(err, ErrTLSRequired) {
		t.Fatalf("login over cleartext = %v, want ErrTLSRequired", err)
	}
}

// TestDovecot_Authenticate covers CRAM-MD5, SASL PLAIN (also with the master
// user as authentication identity), LOGIN and the callback form.
func TestDovecot_Authenticate(t *testing.T) {
	tests := []struct {
		name   string
		master bool
		auth   func(ctx context.Context, c *Client, user, pw string) (Result, error)
	}{
		{"LoginCRAMMD5", false, func(ctx context.Context, c *Client, u, p string) (Result, error) { return c.LoginCRAMMD5(ctx, u, p) }},
		{"CRAMMD5Auth", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.AuthenticateSASL(ctx, CRAMMD5Auth(u, p))
		}},
		{"PlainAuth", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.AuthenticateSASL(ctx, PlainAuth("", u, p))
		}},
		{"LoginPlain", false, func(ctx context.Context, c *Client, u, p string) (Result, error) { return c.LoginPlain(ctx, u, p) }},
		{"LoginAuth", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.AuthenticateSASL(ctx, LoginAuth(u, p))
		}},
		{"Authenticate PLAIN callback", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.Authenticate(ctx, "plain", func([]byte) ([]byte, error) { return []byte("\x00" + u + "\x00" + p), nil })
		}},
		{"PlainAuth master", true, nil},
	}
	forLiveKinds(t, true, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := liveCtx(t)
				user, pw := s.NewUser(t)
				c := liveDial(t, s, k, "")
				var r Result
				var err error
				if tt.master {
					r, err = c.AuthenticateSASL(ctx, PlainAuth(user, s.Master.Name, s.Master.Password))
				} else {
					r, err = tt.auth(ctx, c, user, pw)
				}
				liveOK(t, tt.name)(r, err)
				if c.State() != StateAuth || !c.HasCapability("QUOTA") {
					t.Errorf("after %s: state %s, capabilities %q", tt.name, c.State(), c.Capabilities())
				}
				if tt.master {
					return
				}
				c2 := liveDial(t, s, k, "")
				_, err = tt.auth(ctx, c2, user, pw+"x")
				wantStatus(t, tt.name+" wrong password", err, "NO", "AUTHENTICATIONFAILED")
			})
		}
	})
}
