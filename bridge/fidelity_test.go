package bridge

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// Tests of the relay's imaplib fidelity (issue 11): control characters in
// mailbox names, event order, event mailbox names, imaplib's exceptions and
// non-string arguments. Each runs on Dovecot and, where it can show the
// behaviour, on the embedded devserver.

// controlNameCases are requests naming a mailbox with a C0 control or DEL:
// each must be refused with bad_request before any IMAP traffic.
func controlNameCases() []map[string]any {
	bad := "INBOX\r\nX1 LOGOUT"
	return []map[string]any{
		{"op": "imaplib", "cmd": "select", "args": []any{bad}},
		{"op": "imaplib", "cmd": "examine", "args": []any{"INBOX\x00"}},
		{"op": "imaplib", "cmd": "status", "args": []any{"IN\x7fBOX", "(MESSAGES)"}},
		{"op": "imaplib", "cmd": "create", "args": []any{"a\tb"}},
		{"op": "imaplib", "cmd": "rename", "args": []any{"INBOX", "x\ny"}},
		{"op": "imaplib", "cmd": "list", "args": []any{"", "*\r\n"}},
		{"op": "imaplib", "cmd": "append", "args": []any{"IN\x1bBOX", nil, nil, "Subject: x\r\n\r\nx\r\n"}},
		{"op": "imaplib", "cmd": "uid", "args": []any{"COPY", "1", "Trash\r\nX2 LOGOUT"}},
		{"op": "select", "mailbox": bad},
		{"op": "status", "mailbox": "INBOX\r"},
		{"op": "create", "mailbox": "Projects\x7f"},
		{"op": "rename", "mailbox": "A", "to": "B\n"},
		{"op": "copy", "uids": "1", "to": "Trash\r\n"},
		{"op": "append", "mailbox": "Sent\x00", "message": map[string]any{"base64": "eA=="}},
		{"op": "list", "pattern": "%\r\nX3 LOGOUT"},
	}
}

// runControlNames sends every control-character case and checks that the
// session goes on: each is bad_request, and the next command works.
func runControlNames(t *testing.T, c *wsClient) {
	t.Helper()
	for _, req := range controlNameCases() {
		f := c.fails(req, "bad_request")
		if msg, _ := f.obj("error")["message"].(string); !strings.Contains(msg, "control character") {
			t.Errorf("%v: message %q", req, msg)
		}
		if f := c.call(map[string]any{"op": "imaplib", "cmd": "noop"}); f.str("typ") != "OK" {
			t.Fatalf("noop after %v: %s", req, f)
		}
	}
	// The relay's own select of the real name still works afterwards.
	if f := c.call(map[string]any{"op": "imaplib", "cmd": "select", "args": []any{"INBOX"}}); f.str("typ") != "OK" {
		t.Fatalf("select INBOX: %s", f)
	}
}

// TestControlCharMailboxDovecot: Dovecot echoes a mailbox name raw in its
// NO text, so a CR LF in it used to cost the session (issue 11 item 3).
func TestControlCharMailboxDovecot(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, _ := openDovecot(t, h, dv, "plain", "password")
	runControlNames(t, c)
}

// TestControlCharMailboxDevserver is the same on the embedded server.
func TestControlCharMailboxDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	runControlNames(t, h.openDev(ds, "write delete"))
}

// untilAnswer sends req and returns the events received before its answer,
// and the answer.
func untilAnswer(t *testing.T, c *wsClient, req map[string]any) ([]frame, frame) {
	t.Helper()
	id := c.send(req)
	var evs []frame
	deadline := time.Now().Add(waitFrame)
	for {
		f, ok := c.next(time.Until(deadline))
		if !ok {
			t.Fatalf("%v: no answer (reader: %v)", req, c.rerr)
		}
		switch f.str("type") {
		case protocol.TypeEvent:
			if f.str("event") != protocol.EventState {
				evs = append(evs, f)
			}
		case protocol.TypeResponse, protocol.TypeError:
			if f.str("id") == id {
				return evs, f
			}
		}
	}
}

// expectBefore sends req and checks that its answer is a response preceded
// by at least want[kind] events of each kind, all naming mailbox.
func expectBefore(t *testing.T, c *wsClient, req map[string]any, mailbox string, want map[string]int) frame {
	t.Helper()
	evs, f := untilAnswer(t, c, req)
	if f.str("type") != protocol.TypeResponse {
		t.Fatalf("%v: %s", req, f)
	}
	got := map[string]int{}
	for _, e := range evs {
		got[e.str("event")]++
		if e.str("mailbox") != mailbox {
			t.Errorf("%v: event %s names %q, want %q", req, e, e.str("mailbox"), mailbox)
		}
	}
	for k, n := range want {
		if got[k] < n {
			t.Errorf("%v: %d %s events before the response, want %d (events: %v; response %s)", req, got[k], k, n, evs, f)
		}
	}
	return f
}

// TestEventOrderDovecot: untagged data Dovecot sends before a command's
// tagged line reach the browser as events before the command's response,
// for EXPUNGE, STORE, COPY/MOVE and NOOP, relayed and typed (issue 11
// item 1).
func TestEventOrderDovecot(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "plain", "password")
	for i := range 6 {
		dv.Deliver(t, user, testMessage("order "+strconv.Itoa(i), "x"))
	}
	pw, _ := dv.Password(user)
	p := peer(t, dv.PlainAddr, user, pw)
	if _, err := p.Select(ctx5(t), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	relay := func(cmd string, args ...any) map[string]any {
		return map[string]any{"op": "imaplib", "cmd": cmd, "args": args}
	}
	peerAppend := func() {
		t.Helper()
		if _, err := p.Append(ctx5(t), "INBOX", "", time.Time{}, testMessage("peer", "x")); err != nil {
			t.Fatal(err)
		}
	}
	expectBefore(t, c, relay("select", "INBOX"), "INBOX", nil)

	// EXPUNGE: one expunge event per message, before the response.
	expectBefore(t, c, relay("store", "1:2", "+FLAGS.SILENT", `(\Deleted)`), "INBOX", nil)
	expectBefore(t, c, relay("expunge"), "INBOX", map[string]int{"expunge": 2})
	uids := list(c.ok(map[string]any{"op": "fetch", "seqs": "1:*", "items": []string{"uid"}})["messages"])
	first := uids[0].(map[string]any)["uid"].(json.Number).String()
	c.ok(map[string]any{"op": "store", "uids": first, "mode": "add", "flags": []string{`\Deleted`}, "silent": true})
	expectBefore(t, c, map[string]any{"op": "expunge", "uids": first}, "INBOX", map[string]int{"expunge": 1})

	// STORE: the EXISTS of a message a peer appended just before.
	peerAppend()
	expectBefore(t, c, relay("store", "1", "+FLAGS", `(\Flagged)`), "INBOX", map[string]int{"exists": 1})
	peerAppend()
	expectBefore(t, c, map[string]any{"op": "store", "uids": "1:*", "mode": "add", "flags": []string{`\Seen`}}, "INBOX",
		map[string]int{"exists": 1})

	// COPY and MOVE into the selected mailbox: its new EXISTS.
	expectBefore(t, c, relay("copy", "1", "INBOX"), "INBOX", map[string]int{"exists": 1})
	expectBefore(t, c, map[string]any{"op": "copy", "uids": "1:*", "to": "INBOX"}, "INBOX", map[string]int{"exists": 1})
	expectBefore(t, c, relay("move", "1", "INBOX"), "INBOX", map[string]int{"exists": 1, "expunge": 1})
	expectBefore(t, c, map[string]any{"op": "move", "uids": first + ":*", "to": "INBOX"}, "INBOX", map[string]int{"exists": 1, "expunge": 1})

	// NOOP: a peer's append, flag change and expunge.
	if _, err := p.Noop(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	peerAppend()
	if _, err := p.Store(ctx5(t), "1", "+FLAGS", `(\Answered)`); err != nil {
		t.Fatal(err)
	}
	expectBefore(t, c, relay("noop"), "INBOX", map[string]int{"exists": 1, "flags": 1})
	peerAppend()
	if _, err := p.Store(ctx5(t), "2", "+FLAGS", `(\Answered)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Store(ctx5(t), "3", "+FLAGS.SILENT", `(\Deleted)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Expunge(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	expectBefore(t, c, map[string]any{"op": "noop"}, "INBOX", map[string]int{"exists": 1, "flags": 1, "expunge": 1})
	c.checkSeq()
}

// TestEventOrderDevserver: the same order on the embedded server, which
// refuses a copy into the selected mailbox, so only EXPUNGE shows it.
func TestEventOrderDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	c := h.openDev(ds, "write delete")
	relay := func(cmd string, args ...any) map[string]any {
		return map[string]any{"op": "imaplib", "cmd": cmd, "args": args}
	}
	expectBefore(t, c, relay("select", "INBOX"), "INBOX", nil)
	expectBefore(t, c, relay("store", "1:3", "+FLAGS.SILENT", `(\Deleted)`), "INBOX", nil)
	expectBefore(t, c, relay("expunge"), "INBOX", map[string]int{"expunge": 3})
	c.ok(map[string]any{"op": "store", "uids": "1:*", "mode": "add", "flags": []string{`\Deleted`}, "silent": true})
	expectBefore(t, c, map[string]any{"op": "expunge", "uids": "1:*"}, "INBOX", map[string]int{"expunge": 1})
	c.checkSeq()
}

// runEventMailboxNames selects mailboxes by relay arguments quoted and
// encoded in the ways imaplib users write them, and by the typed op, and
// checks that the events name each mailbox as LIST reports it (issue 11
// item 2). A copy into the selected mailbox makes the event.
func runEventMailboxNames(t *testing.T, c *wsClient, dev bool) {
	t.Helper()
	relay := func(cmd string, args ...any) map[string]any {
		return map[string]any{"op": "imaplib", "cmd": cmd, "args": args}
	}
	msg := string(testMessage("names", "x"))
	for _, name := range []string{"Oracle Renamed", "Été 2026"} {
		c.ok(map[string]any{"op": "create", "mailbox": name})
		c.ok(map[string]any{"op": "append", "mailbox": name, "message": b64([]byte(msg))})
	}
	listed := map[string]bool{}
	for _, m := range list(c.ok(map[string]any{"op": "list"})["mailboxes"]) {
		listed[m.(map[string]any)["name"].(string)] = true
	}
	tests := []struct {
		sel  map[string]any
		want string
	}{
		{relay("select", `"Oracle Renamed"`), "Oracle Renamed"},
		{relay("examine", `"Oracle Renamed"`), "Oracle Renamed"},
		{relay("select", "Oracle Renamed"), "Oracle Renamed"},
		{relay("select", "&AMk-t&AOk- 2026"), "Été 2026"},
		{relay("select", `"&AMk-t&AOk- 2026"`), "Été 2026"},
		{relay("select", "Été 2026"), "Été 2026"},
		{relay("select", "inbox"), "INBOX"},
		{relay("select"), "INBOX"},
		{map[string]any{"op": "select", "mailbox": "Été 2026"}, "Été 2026"},
		{map[string]any{"op": "select", "mailbox": "Oracle Renamed"}, "Oracle Renamed"},
	}
	for _, tc := range tests {
		if !listed[tc.want] {
			t.Fatalf("LIST does not report %q: %v", tc.want, listed)
		}
		if f := c.call(tc.sel); f.str("type") != protocol.TypeResponse || (f.m["typ"] != nil && f.str("typ") != "OK") {
			t.Fatalf("%v: %s", tc.sel, f)
		}
		if tc.want == "INBOX" || dev {
			// Appending to the selected mailbox (the devserver refuses a
			// copy into it): its EXISTS comes before the append's or the
			// next noop's answer.
			evs, f := untilAnswer(t, c, map[string]any{"op": "append", "mailbox": tc.want, "message": b64([]byte(msg))})
			more, _ := untilAnswer(t, c, map[string]any{"op": "noop"})
			if f.str("type") != protocol.TypeResponse || len(evs)+len(more) == 0 {
				t.Fatalf("append to %q: %s, events %v %v", tc.want, f, evs, more)
			}
			for _, e := range append(evs, more...) {
				if e.str("mailbox") != tc.want {
					t.Errorf("%v: event %s, want mailbox %q", tc.sel, e, tc.want)
				}
			}
			continue
		}
		expectBefore(t, c, relay("copy", "1", `"`+tc.want+`"`), tc.want, map[string]int{"exists": 1})
	}
	c.checkSeq()
}

// TestEventMailboxNamesDovecot runs runEventMailboxNames on Dovecot.
func TestEventMailboxNamesDovecot(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, _ := openDovecot(t, h, dv, "plain", "password")
	runEventMailboxNames(t, c, false)
}

// TestEventMailboxNamesDevserver runs runEventMailboxNames on the devserver.
func TestEventMailboxNamesDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	runEventMailboxNames(t, h.openDev(ds, "write delete"), true)
}
