package bridge

import (
	"strconv"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// dovecotHarness starts a bridge whose upstreams are the test Dovecot:
// "plain" (cleartext, loopback), "tls" (implicit TLS with the test CA),
// "master" (cleartext with the master user) and "stdio" (Dovecot's imap
// binary run for the token's user).
func dovecotHarness(t *testing.T) (*harness, *dovecottest.Server) {
	t.Helper()
	dv := dovecottest.Start(t)
	ups := []Upstream{
		{Name: "plain", Addr: dv.PlainAddr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true},
		{Name: "tls", Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig()},
		{Name: "master", Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig(),
			MasterUser: dv.Master.Name, MasterPassword: dv.Master.Password},
		{Name: "stdio", Security: SecurityStdio, Command: dv.StdioArgv("{user}")},
	}
	return newHarness(t, Config{Upstreams: ups}), dv
}

// openDovecot opens a session for a fresh Dovecot user on upstream ups with
// credential mode cred, logging in when it is password mode.
func openDovecot(t *testing.T, h *harness, dv *dovecottest.Server, ups, cred string) (*wsClient, string) {
	t.Helper()
	user, pw := dv.NewUser(t)
	cl := claims(user, ups, "write delete")
	cl.Credential = cred
	c, _, err := h.dial(h.token(cl, 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	if cred == auth.CredentialPassword {
		c.login(pw)
	}
	return c, user
}

// TestDovecotOps runs every typed op against Dovecot, over cleartext and TLS.
func TestDovecotOps(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	for _, ups := range []string{"plain", "tls"} {
		t.Run(ups, func(t *testing.T) {
			t.Parallel()
			c, _ := openDovecot(t, h, dv, ups, auth.CredentialPassword)
			runOpsSuite(t, c, "")
		})
	}
}

// TestDovecotRelay relays every allow-listed imaplib command to Dovecot.
func TestDovecotRelay(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, _ := openDovecot(t, h, dv, "tls", auth.CredentialPassword)
	runRelaySuite(t, c, "Relay", false)
}

// TestDovecotCondstoreQresync selects with CONDSTORE and resyncs with QRESYNC.
func TestDovecotCondstoreQresync(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	for i := range 3 {
		dv.Deliver(t, user, testMessage("cq "+strconv.Itoa(i), "body"))
	}
	r := c.ok(map[string]any{"op": "select", "mailbox": "INBOX", "condstore": true})
	if r["exists"] != jsonNum(3) || r["highestModSeq"] == nil {
		t.Fatalf("condstore select: %v", r)
	}
	uv, ms := r["uidValidity"], r["highestModSeq"]
	c.ok(map[string]any{"op": "store", "uids": "2", "mode": "add", "flags": []string{`\Flagged`}})
	c.ok(map[string]any{"op": "store", "uids": "3", "mode": "add", "flags": []string{`\Deleted`}, "silent": true})
	c.ok(map[string]any{"op": "expunge", "uids": "3"})
	r = c.ok(map[string]any{"op": "fetch", "uids": "1:*", "items": []string{"flags", "modseq"}, "changedSince": ms})
	if len(list(r["messages"])) != 1 {
		t.Errorf("changedSince: %v", r)
	}
	r = c.ok(map[string]any{"op": "select", "mailbox": "INBOX",
		"qresync": map[string]any{"uidValidity": uv, "modSeq": ms, "knownUids": "1:3"}})
	if len(list(r["vanished"])) != 1 || list(r["vanished"])[0] != "3" || len(list(r["changed"])) != 1 {
		t.Fatalf("qresync select: %v", r)
	}
	r = c.ok(map[string]any{"op": "fetch", "uids": "1:*", "items": []string{"modseq"}, "changedSince": ms, "vanished": true})
	if len(list(r["messages"])) != 1 {
		t.Errorf("vanished fetch: %v", r)
	}
}

// TestDovecotCredentialModes logs in with the master user, over stdio, and
// refuses a token naming an unknown upstream.
func TestDovecotCredentialModes(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	tests := []struct{ ups, cred string }{
		{"master", auth.CredentialMaster},
		{"stdio", auth.CredentialPassword},
	}
	for _, tc := range tests {
		t.Run(tc.ups, func(t *testing.T) {
			t.Parallel()
			user, _ := dv.NewUser(t)
			dv.Deliver(t, user, testMessage("for "+tc.ups, "hi"))
			cl := claims(user, tc.ups, "write")
			cl.Credential = tc.cred
			c, _, err := h.dial(h.token(cl, 0))
			if err != nil {
				t.Fatal(err)
			}
			c.hello()
			// docs/protocol.md: login is "forbidden" when the bridge logs
			// in itself; a stdio session is already authenticated.
			want := "forbidden"
			if tc.cred == auth.CredentialPassword {
				want = "bad_request"
			}
			c.fails(map[string]any{"op": "login", "password": "x"}, want)
			r := c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
			if r["exists"] != jsonNum(1) {
				t.Fatalf("select: %v", r)
			}
			r = c.ok(map[string]any{"op": "fetch", "uids": "1", "items": []string{"envelope"}})
			if env := list(r["messages"])[0].(map[string]any)["envelope"].(map[string]any); env["subject"] != "for "+tc.ups {
				t.Errorf("envelope: %v", env)
			}
		})
	}
	t.Run("master without config", func(t *testing.T) {
		t.Parallel()
		user, _ := dv.NewUser(t)
		cl := claims(user, "plain", "write")
		cl.Credential = auth.CredentialMaster
		c, _, err := h.dial(h.token(cl, 0))
		if err != nil {
			t.Fatal(err)
		}
		f, _ := c.next(waitFrame)
		if f.errCode() != "forbidden" {
			t.Errorf("want forbidden, got %s", f)
		}
		if code, _ := c.waitClose(waitFrame); code != 1008 {
			t.Errorf("close %d", code)
		}
	})
	t.Run("unknown upstream", func(t *testing.T) {
		t.Parallel()
		c, _, err := h.dial(h.token(claims("alice", "nosuch", "read"), 0))
		if err != nil {
			t.Fatal(err)
		}
		f, _ := c.next(waitFrame)
		if f.errCode() != "forbidden" {
			t.Errorf("want an error frame, got %s", f)
		}
		if code, _ := c.waitClose(waitFrame); code != 1008 {
			t.Errorf("close %d", code)
		}
	})
}
