package imapengine

// Live tests on every server of internal/imapservers' table (Dovecot, Cyrus,
// Courier) over plain TCP, STARTTLS and implicit TLS. Where a server lacks an
// extension the test asserts what the engine does instead (the fallback or
// the typed refusal), so every cell of docs/compatibility.md is exercised.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// netKind is one network way to reach a server.
type netKind struct {
	name string
	dial func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error)
}

var netKinds = []netKind{
	{"plain", func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error) {
		o.AllowPlaintextAuth = true
		return Dial(ctx, s.PlainAddr, o)
	}},
	{"starttls", func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error) {
		return DialStartTLS(ctx, s.PlainAddr, o)
	}},
	{"tls", func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error) {
		return DialTLS(ctx, s.TLSAddr, o)
	}},
}

// forServers runs f in parallel on every server × network kind.
func forServers(t *testing.T, f func(t *testing.T, s *imapservers.Server, k netKind)) {
	t.Helper()
	for _, s := range imapservers.All(t) {
		for _, k := range netKinds {
			t.Run(s.Name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				f(t, s, k)
			})
		}
	}
}

// srvDial connects without logging in; the client is shut down with the test.
func srvDial(t *testing.T, s *imapservers.Server, k netKind) *Client {
	t.Helper()
	o := &Options{TLSConfig: s.TLSConfig(), CommandTimeout: 10 * time.Second, GreetingTimeout: 10 * time.Second}
	c, err := k.dial(liveCtx(t), s, o)
	if err != nil {
		t.Fatalf("%s %s dial: %v", s.Name, k.name, err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// srvUser makes a fresh user and a client logged in as that user.
func srvUser(t *testing.T, s *imapservers.Server, k netKind) (*Client, string) {
	t.Helper()
	user, pw := s.NewUser(t)
	c := srvDial(t, s, k)
	liveOK(t, "login")(c.Login(liveCtx(t), user, pw))
	if c.State() != StateAuth {
		t.Fatalf("state after login = %s, want AUTH", c.State())
	}
	return c, user
}

// TestServers_Capabilities: login (and a refused one) on every server and
// kind; the capabilities after login are exactly what the table says is
// offered and lacking, so a profile (and docs/compatibility.md) cannot drift
// from the server.
func TestServers_Capabilities(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		c := srvDial(t, s, k)
		if c.State() != StateNonAuth {
			t.Fatalf("state = %s, want NONAUTH", c.State())
		}
		if k.name != "plain" && !c.IsTLS() {
			t.Fatal("IsTLS = false on a TLS connection")
		}
		_, err := c.Login(ctx, user, "wrong")
		var se *StatusError
		if !errors.As(err, &se) || se.Status != "NO" {
			t.Fatalf("bad login = %v, want a NO *StatusError", err)
		}
		liveOK(t, "login")(c.Login(ctx, user, pw))
		for _, capa := range s.Has {
			if !c.HasCapability(capa) {
				t.Errorf("%s: capability %s missing from %q", s.Name, capa, c.Capabilities())
			}
		}
		for _, capa := range s.Lacks {
			if c.HasCapability(capa) {
				t.Errorf("%s: capability %s offered, the table says it lacks it", s.Name, capa)
			}
		}
		if d := liveData(t, "namespace")(c.Namespace(ctx)); !slices.Equal(d, []string{s.Namespace}) {
			t.Errorf("namespace = %q, want %q", d, s.Namespace)
		}
		r, err := c.Logout(ctx)
		if err != nil || r.Typ != "BYE" {
			t.Fatalf("logout: %v %v", r, err)
		}
	})
}

// TestServers_SelectFetch is the smoke test of each server: a message
// delivered by a second connection is selected, fetched whole and in parts.
func TestServers_SelectFetch(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, user := srvUser(t, s, k)
		s.Deliver(t, user, liveMsg1)
		if d := liveData(t, "select")(c.Select(ctx, "INBOX", false)); !slices.Equal(d, []string{"1"}) {
			t.Fatalf("select = %q, want [1]", d)
		}
		r := liveOK(t, "fetch body")(c.Fetch(ctx, "1", "(BODY.PEEK[])"))
		if len(r.Data) < 2 || !r.Data[0].IsPair() || !bytes.Equal(r.Data[0].Literal(), liveMsg1) {
			t.Errorf("fetch body = %v", r)
		}
		d := liveData(t, "fetch items")(c.Fetch(ctx, "1", "(FLAGS UID RFC822.SIZE)"))
		if len(d) != 1 || !strings.Contains(d[0], "UID 1") || !strings.Contains(d[0], "RFC822.SIZE "+itoa(len(liveMsg1))) {
			t.Errorf("fetch items = %q", d)
		}
		r = liveOK(t, "fetch header")(c.Fetch(ctx, "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
		if len(r.Data) < 2 || string(r.Data[0].Literal()) != "Subject: Hello world\r\n\r\n" {
			t.Errorf("fetch header field = %v", r)
		}
	})
}
