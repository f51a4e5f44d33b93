package bridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/imapengine"
)

// runEventsSuite checks the pushed events of a session idling on INBOX while
// a second IMAP connection (p, with INBOX selected) changes the mailbox.
// INBOX holds n messages when it starts; window bounds every wait for an
// event: a deadline for a loaded machine (waitFrame), not a latency claim —
// the delays are logged, and e2e/tests/live.test.mjs measures push latency.
func runEventsSuite(t *testing.T, c *wsClient, p *imapengine.Client, n int, window time.Duration) {
	r := c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	if r["exists"] != jsonNum(n) {
		t.Fatalf("select: %v", r)
	}
	c.mustEvent("state", window) // idle
	append1 := func(subject string) {
		t.Helper()
		if _, err := p.Append(ctx5(t), "INBOX", "", time.Time{}, testMessage(subject, "x")); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	append1("event one")
	e := c.mustEvent("exists", window)
	if e.num("count") != int64(n+1) || e.str("mailbox") != "INBOX" {
		t.Errorf("exists: %s", e)
	}
	t.Logf("exists after %s", time.Since(start))

	// The new message's UID, from the bridge (a request in the middle of IDLE).
	r = c.ok(map[string]any{"op": "fetch", "seqs": strconv.Itoa(n + 1), "items": []string{"uid"}})
	uid := list(r["messages"])[0].(map[string]any)["uid"].(interface{ String() string }).String()

	if _, err := p.Noop(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UID(ctx5(t), "STORE", uid, "+FLAGS", `(\Flagged)`); err != nil {
		t.Fatal(err)
	}
	e = c.mustEvent("flags", window)
	if strconv.FormatInt(e.num("uid"), 10) != uid || e.num("seqnum") != int64(n+1) || len(list(e.m["flags"])) == 0 {
		t.Errorf("flags: %s", e)
	}

	if _, err := p.UID(ctx5(t), "STORE", uid, "+FLAGS.SILENT", `(\Deleted)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Expunge(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	e = c.mustEvent("expunge", window)
	if strconv.FormatInt(e.num("uid"), 10) != uid || e.num("seqnum") != int64(n+1) {
		t.Errorf("expunge: %s", e)
	}

	// Idling resumed after the request: another append is pushed too.
	c.ok(map[string]any{"op": "noop"})
	append1("event two")
	// Courier follows an EXPUNGE with EXISTS of the new count (n here), a
	// valid RFC 3501 §7.3.1 update: the append's exists comes after it.
	e = c.mustEvent("exists", window)
	if e.num("count") == int64(n) {
		e = c.mustEvent("exists", window)
	}
	if e.num("count") != int64(n+1) {
		t.Errorf("second exists: %s", e)
	}
	c.checkSeq()
}

// TestEventsDevserver pushes events from a second connection and Deliver.
func TestEventsDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	c := h.openDev(ds, "write delete")
	user, pw := ds.User()
	p := peer(t, ds.Addr(), user, pw)
	if _, err := p.Select(ctx5(t), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	runEventsSuite(t, c, p, 40, waitFrame)

	start := time.Now()
	if err := ds.Deliver(); err != nil {
		t.Fatal(err)
	}
	if e := c.mustEvent("exists", waitFrame); e.num("count") != 42 {
		t.Errorf("delivered exists: %s", e)
	}
	t.Logf("Deliver pushed after %s", time.Since(start))
	c.checkSeq()
}

// TestEventsDovecot pushes events from a second connection to Dovecot.
func TestEventsDovecot(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	dv.Deliver(t, user, testMessage("already there", "x"))
	pw, _ := dv.Password(user)
	p := peer(t, dv.PlainAddr, user, pw)
	if _, err := p.Select(ctx5(t), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	// Dovecot notifies IDLE clients after up to ~0.5 s (logged, not asserted).
	runEventsSuite(t, c, p, 1, waitFrame)
}
