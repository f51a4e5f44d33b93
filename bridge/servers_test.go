package bridge

import (
	"testing"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// serverHarness starts a bridge whose upstreams are one server of
// internal/imapservers: "plain" (cleartext, loopback) and "tls" (implicit TLS
// with the test CA).
func serverHarness(t *testing.T, s *imapservers.Server) *harness {
	t.Helper()
	ups := []Upstream{
		{Name: "plain", Addr: s.PlainAddr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true},
		{Name: "tls", Addr: s.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: s.TLSConfig()},
	}
	return newHarness(t, Config{Upstreams: ups})
}

// openServer opens a logged-in session for a fresh user of s on upstream ups.
func openServer(t *testing.T, h *harness, s *imapservers.Server, ups string) (*wsClient, string, string) {
	t.Helper()
	user, pw := s.NewUser(t)
	cl := claims(user, ups, "write delete")
	cl.Credential = auth.CredentialPassword
	c, _, err := h.dial(h.token(cl, 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login(pw)
	return c, user, pw
}

// TestServersOps runs every typed op on every server of the table, over
// cleartext and TLS, in the server's personal namespace.
func TestServersOps(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		h := serverHarness(t, s)
		for _, ups := range []string{"plain", "tls"} {
			t.Run(s.Name+"/"+ups, func(t *testing.T) {
				t.Parallel()
				c, _, _ := openServer(t, h, s, ups)
				runOpsSuite(t, c, s.Prefix)
			})
		}
	}
}

// TestServersEvents: the session's auto-IDLE pushes exists, flags and
// expunge events from a second connection on every server.
func TestServersEvents(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			h := serverHarness(t, s)
			c, user, pw := openServer(t, h, s, "plain")
			s.Deliver(t, user, testMessage("already there", "x"))
			p := peer(t, s.PlainAddr, user, pw)
			if _, err := p.Select(ctx5(t), "INBOX", false); err != nil {
				t.Fatal(err)
			}
			// Dovecot notifies IDLE clients within ~0.5 s, Cyrus polls every
			// imapidlepoll (1 s in the fixture), Courier without FAM every
			// IMAP_IDLE_TIMEOUT (2 s): a deadline, not a latency claim.
			runEventsSuite(t, c, p, 1, waitFrame)
		})
	}
}
