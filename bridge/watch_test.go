package bridge

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// Tests of watch (issue 16 item 3): a second connection APPENDs into a
// mailbox that is not selected and the session gets a status event with the
// new values, by NOTIFY (Dovecot offers it) and by polling (an upstream with
// NoNotify, and the devserver, which has no NOTIFY).

// statusOf returns a status event's value of key, -1 when absent.
func statusOf(f frame, key string) int64 {
	v, ok := f.obj("status")[key].(json.Number)
	if !ok {
		return -1
	}
	n, _ := v.Int64()
	return n
}

// mustStatus waits for a status event of mailbox.
func mustStatus(t *testing.T, c *wsClient, mailbox string, d time.Duration) frame {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		f, ok := c.waitEvent(protocol.EventStatus, time.Until(deadline))
		if !ok {
			t.Fatalf("no status event for %s within %s (events: %v)", mailbox, d, c.events)
		}
		if f.str("mailbox") == mailbox {
			return f
		}
	}
}

func TestDovecotWatch(t *testing.T) {
	t.Parallel()
	_, dv := dovecotHarness(t)
	poll := Upstream{Name: "poll", Addr: dv.PlainAddr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true, NoNotify: true}
	h := newHarness(t, Config{Upstreams: []Upstream{
		{Name: "plain", Addr: dv.PlainAddr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true}, poll},
		Limits: Limits{WatchPollInterval: 200 * time.Millisecond}})
	for _, tc := range []struct{ ups, mode string }{{"plain", protocol.WatchNotify}, {"poll", protocol.WatchPoll}} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			c, user := openDovecot(t, h, dv, tc.ups, auth.CredentialPassword)
			c.ok(map[string]any{"op": "create", "mailbox": "Watched"})
			c.ok(map[string]any{"op": "subscribe", "mailbox": "Watched"})
			c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
			r := c.ok(map[string]any{"op": "watch", "mailboxes": []string{"Watched", "INBOX"}})
			if r["mode"] != tc.mode {
				t.Fatalf("watch = %v, want mode %s", r, tc.mode)
			}
			if got := len(list(r["mailboxes"])); got != 2 {
				t.Errorf("watch snapshot has %d mailboxes: %v", got, r)
			}
			start := time.Now()
			if err := dv.DeliverTo(user, "Watched", testMessage("watched one", "hello")); err != nil {
				t.Fatal(err)
			}
			f := mustStatus(t, c, "Watched", 20*time.Second)
			t.Logf("%s: status event %v after the APPEND", tc.mode, time.Since(start).Round(time.Millisecond))
			if statusOf(f, "messages") != 1 || statusOf(f, "unseen") != 1 || statusOf(f, "uidNext") != 2 {
				t.Errorf("status event = %s", f)
			}
			// Requests still work while watching, and the watch goes on.
			c.ok(map[string]any{"op": "noop"})
			if err := dv.DeliverTo(user, "Watched", testMessage("watched two", "hello")); err != nil {
				t.Fatal(err)
			}
			if f := mustStatus(t, c, "Watched", 20*time.Second); statusOf(f, "messages") != 2 {
				t.Errorf("second status event = %s", f)
			}
			// The selected mailbox (NOTIFY sends no STATUS for it: the bridge asks).
			inbox := c.ok(map[string]any{"op": "status", "mailbox": "INBOX"})["messages"].(json.Number).String()
			dv.Deliver(t, user, testMessage("selected one", "hello"))
			f = mustStatus(t, c, "INBOX", 20*time.Second)
			if n, _ := json.Number(inbox).Int64(); statusOf(f, "messages") != n+1 {
				t.Errorf("INBOX status event = %s (had %s)", f, inbox)
			}
			c.checkSeq()
			// Watching every subscribed mailbox: the default.
			r = c.ok(map[string]any{"op": "watch"})
			names := map[string]bool{}
			for _, m := range list(r["mailboxes"]) {
				names[m.(map[string]any)["mailbox"].(string)] = true
			}
			if !names["Watched"] {
				t.Errorf("subscribed watch = %v", r)
			}
			c.ok(map[string]any{"op": "unwatch"})
			c.evRead = len(c.events) // events before the answer came before the unwatch
			if err := dv.DeliverTo(user, "Watched", testMessage("unwatched", "hello")); err != nil {
				t.Fatal(err)
			}
			c.ok(map[string]any{"op": "noop"})
			if f, ok := c.waitEvent(protocol.EventStatus, time.Second); ok {
				t.Errorf("status event after unwatch: %s", f)
			}
		})
	}
}

// TestDovecotWatchAgain: a second watch on the same session (the SDK's
// refresh after a gap or reconnect) keeps NOTIFY reporting every change
// (Dovecot stopped after one when NOTIFY SET came twice without NOTIFY NONE).
func TestDovecotWatchAgain(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "tls", auth.CredentialPassword)
	for range 2 {
		if r := c.ok(map[string]any{"op": "watch", "mailboxes": []string{"INBOX"}}); r["mode"] != protocol.WatchNotify {
			t.Fatalf("watch = %v", r)
		}
	}
	for i := 1; i <= 4; i++ {
		dv.Deliver(t, user, testMessage("again "+string(rune('0'+i)), "x"))
		for {
			f := mustStatus(t, c, "INBOX", 20*time.Second)
			if statusOf(f, "messages") == int64(i) {
				break
			}
		}
	}
}

// TestWatchPollingDevserver: the devserver has no NOTIFY; the watch polls and
// a message appended by a direct connection into another mailbox arrives as
// a status event; a mailbox the token does not allow is refused.
func TestWatchPollingDevserver(t *testing.T) {
	t.Parallel()
	ds, ups := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{ups}, Limits: Limits{WatchPollInterval: 100 * time.Millisecond, WatchPollBudget: 1}})
	c := h.openDev(ds, "write delete")
	c.ok(map[string]any{"op": "create", "mailbox": "Other"})
	c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	r := c.ok(map[string]any{"op": "watch", "mailboxes": []string{"INBOX", "Other"}})
	if r["mode"] != protocol.WatchPoll || r["intervalMs"] != jsonNum(100) {
		t.Fatalf("watch = %v", r)
	}
	user, pw := ds.User()
	p := peer(t, ds.Addr(), user, pw)
	if _, err := p.AppendMessage(ctx5(t), "Other", nil, time.Time{}, testMessage("polled", "x")); err != nil {
		t.Fatal(err)
	}
	f := mustStatus(t, c, "Other", 20*time.Second)
	if statusOf(f, "messages") != 1 {
		t.Errorf("status event = %s", f)
	}
	c.ok(map[string]any{"op": "unwatch"})

	h2 := newHarness(t, Config{Upstreams: []Upstream{ups}})
	user2, pw2 := ds.User()
	cl := claims(user2, "dev", "read mailbox:INBOX")
	c2, _, err := h2.dial(h2.token(cl, 0))
	if err != nil {
		t.Fatal(err)
	}
	c2.hello()
	c2.login(pw2)
	c2.fails(map[string]any{"op": "watch", "mailboxes": []string{"Other"}}, string(protocol.CodeForbidden))
}
