package bridge

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// TestServersCondstoreQresync: CONDSTORE select, changedSince fetch and
// QRESYNC resync where the server offers them (Dovecot, Cyrus); on Courier,
// which offers neither, the documented fallback: select works without
// highestModSeq, a qresync select is a plain select (nothing vanished or
// changed reported), and changedSince / unchangedSince are refused with
// "unavailable" before anything is sent.
func TestServersCondstoreQresync(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			h := serverHarness(t, s)
			c, user, _ := openServer(t, h, s, "plain")
			for i := range 3 {
				s.Deliver(t, user, testMessage("cq "+strconv.Itoa(i), "body"))
			}
			r := c.ok(map[string]any{"op": "select", "mailbox": "INBOX", "condstore": true})
			if r["exists"] != jsonNum(3) || (r["highestModSeq"] != nil) != s.Offers("CONDSTORE") {
				t.Fatalf("condstore select: %v", r)
			}
			uv := r["uidValidity"]
			if !s.Offers("CONDSTORE") {
				c.fails(map[string]any{"op": "fetch", "uids": "1:*", "items": []string{"flags"}, "changedSince": 1}, "unavailable")
				c.fails(map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{`\Flagged`}, "unchangedSince": 1}, "unavailable")
				c.ok(map[string]any{"op": "store", "uids": "3", "mode": "add", "flags": []string{`\Deleted`}, "silent": true})
				c.ok(map[string]any{"op": "expunge", "uids": "3"})
				r = c.ok(map[string]any{"op": "select", "mailbox": "INBOX",
					"qresync": map[string]any{"uidValidity": uv, "modSeq": 1, "knownUids": "1:3"}})
				if r["exists"] != jsonNum(2) || len(list(r["vanished"])) != 0 || len(list(r["changed"])) != 0 {
					t.Fatalf("qresync select without QRESYNC: %v", r)
				}
				return
			}
			ms := r["highestModSeq"]
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
		})
	}
}

// TestServersSortThread: sort and thread on every server — the server's own
// SORT / THREAD=REFERENCES where offered (results equal to the raw UID SORT /
// UID THREAD), the client-side fallback where not (Courier lacks
// SORT=DISPLAY: "fallback": true, every message sorted).
func TestServersSortThread(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			h := serverHarness(t, s)
			c, _, _ := openServer(t, h, s, "plain")
			seed(t, c, "INBOX")
			r := c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "date", "reverse": true}}})
			want := rawUIDs(t, c, "sort", "(REVERSE DATE)", "UTF-8", "ALL")
			if got := numsOf(r["uids"]); !slices.Equal(got, want) || r["fallback"] != false {
				t.Errorf("sort date: %v (fallback %v), server %v", got, r["fallback"], want)
			}
			r = c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "displayfrom"}}})
			if got := numsOf(r["uids"]); len(got) != len(seedCorpus) || r["fallback"] != !s.Offers("SORT=DISPLAY") {
				t.Errorf("sort displayfrom: %v (fallback %v)", got, r["fallback"])
			}
			r = c.ok(map[string]any{"op": "thread", "algorithm": "references"})
			f := c.call(map[string]any{"op": "imaplib", "cmd": "uid", "args": []any{"thread", "REFERENCES", "UTF-8", "ALL"}})
			data, _ := f.m["data"].([]any)
			if len(data) != 1 || formatThreadJSON(r["threads"]) != data[0] || r["fallback"] != false {
				t.Errorf("thread: %v, server %s", r, f)
			}
		})
	}
}

// TestServersSpecialUse: the Sent folder's special use, as the bridge
// reports it: `\Sent` from Dovecot and from Cyrus (which sends it in lower
// case, `\sent`: attributes are case-insensitive), none from Courier, which
// lacks SPECIAL-USE (the folder is listed by name only).
func TestServersSpecialUse(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			h := serverHarness(t, s)
			c, _, _ := openServer(t, h, s, "plain")
			sent := s.Mailbox("Sent")
			if s.Name == imapservers.Dovecot { // Cyrus and Courier users start with one
				c.ok(map[string]any{"op": "create", "mailbox": sent})
			}
			r := c.ok(map[string]any{"op": "list", "pattern": "*", "specialUse": true})
			var got any = "not listed"
			for _, m := range list(r["mailboxes"]) {
				if mi := m.(map[string]any); mi["name"] == sent {
					got = mi["specialUse"]
				}
			}
			want := any(`\Sent`)
			if !s.Offers("SPECIAL-USE") {
				want = nil
			}
			if got != want {
				t.Errorf("specialUse of %s = %v, want %v (list %v)", sent, got, want, r)
			}
		})
	}
}

// serverRelayOver are the imaplib relay answers of Cyrus and Courier that
// differ from Dovecot's (relay_test.go's relayCases), each a documented
// server behaviour (docs/compatibility.md), keyed by relayKey.
var serverRelayOver = map[string]map[string]string{
	// UID EXPUNGE in a mailbox opened with EXAMINE: Cyrus refuses (read-only).
	// GETQUOTA of Dovecot's root name: Cyrus' root is the user's INBOX.
	imapservers.Cyrus: {"uid expunge 1:*": "NO", "getquota User quota": "NO"},
	// Courier answers NO to commands it does not offer (ID, MOVE, UNSELECT)
	// and to a search key it does not know (Dovecot and Cyrus: BAD, imaplib's error).
	imapservers.Courier: {"id name imapbridge-test": "NO", "search <nil> NOTAKEY": "NO",
		"move 3 INBOX.Relay": "NO", "uid move 2 INBOX.Relay": "NO", "unselect": "NO", "partial 1 BODY[TEXT] 0 3": "NO",
		"uid expunge 1:*": "NO"},
}

// serverRelayChecks are the data checks that differ from Dovecot's: on
// Courier the two MOVEs were refused, so the target holds the two copies.
var serverRelayChecks = map[string]map[string]func(*testing.T, []any){
	imapservers.Courier: {"examine INBOX.Relay": func(t *testing.T, data []any) {
		if len(data) != 1 || data[0] != "2" {
			t.Errorf("examine after the refused moves: %v, want [2]", data)
		}
	},
		// No maildirsize quota configured: root "ROOT" without resources,
		// and any root name answers with no resources.
		"getquotaroot INBOX": func(t *testing.T, data []any) {
			if got := fmt.Sprint(data); len(data) != 2 || !strings.Contains(got, "ROOT") || strings.Contains(got, "STORAGE") {
				t.Errorf("getquotaroot: %v, want the ROOT root without resources", data)
			}
		},
		"getquota User quota": func(t *testing.T, data []any) {
			if got := fmt.Sprint(data); strings.Contains(got, "STORAGE") {
				t.Errorf("getquota: %v, want no resources", data)
			}
		},
	},
}

// TestServersRelay relays every allow-listed imaplib command to Cyrus and
// Courier (Dovecot: TestDovecotRelay), in the server's personal namespace;
// where the server answers otherwise than Dovecot, the other answer is
// asserted.
func TestServersRelay(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		if s.Name == imapservers.Dovecot {
			continue // TestDovecotRelay, same cases
		}
		h := serverHarness(t, s)
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c, _, _ := openServer(t, h, s, "tls")
			runRelaySuiteOn(t, c, s.Mailbox("Relay"), serverRelayOver[s.Name], serverRelayChecks[s.Name])
		})
	}
}
