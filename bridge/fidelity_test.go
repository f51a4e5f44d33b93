package bridge

import (
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
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

// relayReq is an imaplib relay request.
func relayReq(cmd string, args ...any) map[string]any {
	req := map[string]any{"op": "imaplib", "cmd": cmd}
	if args != nil {
		req["args"] = args
	}
	return req
}

// raises sends req and checks that the answer is imaplib's exception exc
// with a message starting with msg; it returns the frame.
func raises(t *testing.T, c *wsClient, req map[string]any, exc, msg string) frame {
	t.Helper()
	f := c.call(req)
	e, _ := f.obj("error")["imaplib"].(map[string]any)
	got, _ := e["message"].(string)
	if f.errCode() != "imaplib" || e["exception"] != exc || !strings.HasPrefix(got, msg) {
		t.Fatalf("%v: want IMAP4.%s(%q...), got %s", req, exc, msg, f)
	}
	return f
}

// runImaplibErrors checks the exceptions CPython 3.11's imaplib raises for
// illegal states, unknown UID commands and tagged BADs (texts as CPython
// 3.11 writes them against Dovecot), that NO stays data, and that the
// session goes on (issue 11 item 4).
func runImaplibErrors(t *testing.T, c *wsClient, dev bool) {
	t.Helper()
	raises(t, c, relayReq("fetch", "1", "(FLAGS)"), "error", "command FETCH illegal in state AUTH, only allowed in states SELECTED")
	raises(t, c, relayReq("expunge"), "error", "command EXPUNGE illegal in state AUTH, only allowed in states SELECTED")
	raises(t, c, relayReq("uid", "BOGUS", "1"), "error", "Unknown IMAP4 UID command: BOGUS")
	raises(t, c, relayReq("uid", "bogus", "1"), "error", "Unknown IMAP4 UID command: BOGUS")
	raises(t, c, relayReq("uid", "fetch", "1", "(FLAGS)"), "error", "command FETCH illegal in state AUTH, only allowed in states SELECTED")
	// The bridge's own refusals stay apart: a known command not relayed.
	c.fails(relayReq("uid", "LOGIN", "a", "b"), "forbidden")
	if f := c.call(relayReq("select", "Nope")); f.str("typ") != "NO" {
		t.Fatalf("select of a missing mailbox: want typ NO data, got %s", f)
	}
	if f := c.call(relayReq("select", "INBOX")); f.str("typ") != "OK" {
		t.Fatalf("select: %s", f)
	}
	raises(t, c, relayReq("enable", "CONDSTORE"), "error", "command ENABLE illegal in state SELECTED, only allowed in states AUTH")
	if !dev {
		f := raises(t, c, relayReq("fetch", "0", "(FLAGS)"), "error", "FETCH command error: BAD [b'Error in IMAP command FETCH: Invalid messageset")
		if im, _ := f.obj("error")["imap"].(map[string]any); im["type"] != "BAD" {
			t.Errorf("no imap member: %s", f)
		}
		raises(t, c, relayReq("search", nil, "NOTAKEY"), "error", "SEARCH command error: BAD [b'Error in IMAP command SEARCH: Unknown argument NOTAKEY")
		raises(t, c, relayReq("uid", "SEARCH", nil, "NOTAKEY"), "error", "UID command error: BAD [b'Error in IMAP command UID SEARCH: Unknown argument NOTAKEY")
	} else {
		raises(t, c, relayReq("getacl", "INBOX"), "error", "GETACL command error: BAD [b'")
	}
	if f := c.call(relayReq("noop")); f.str("typ") != "OK" {
		t.Fatalf("noop after the exceptions: %s", f)
	}
}

// TestImaplibErrorsDovecot runs runImaplibErrors on Dovecot and checks
// IMAP4.readonly: a mailbox whose ACL gives its owner only "lr" selects
// READ-ONLY, and the next command raises readonly until a new select.
func TestImaplibErrorsDovecot(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "plain", "password")
	runImaplibErrors(t, c, false)

	// A peer creates the mailbox and sets the ACL before this session
	// first looks at it (Dovecot caches ACLs per session).
	pw, _ := dv.Password(user)
	p := peer(t, dv.PlainAddr, user, pw)
	if _, err := collectNO(p.Create(ctx5(t), "Shared")); err != nil {
		t.Fatal(err)
	}
	if _, err := collectNO(p.SetACL(ctx5(t), "Shared", "owner", "lr")); err != nil {
		t.Fatal(err)
	}
	raises(t, c, relayReq("select", "Shared"), "readonly", "Shared is not writable")
	raises(t, c, relayReq("store", "1", "+FLAGS", `(\Seen)`), "readonly", "mailbox status changed to READ-ONLY")
	raises(t, c, relayReq("noop"), "readonly", "mailbox status changed to READ-ONLY")
	// select(readonly=True) is what imaplib wants for such a mailbox.
	if f := c.call(relayReq("select", "Shared", true)); f.str("typ") != "OK" {
		t.Fatalf("select readonly: %s", f)
	}
	if f := c.call(relayReq("noop")); f.str("typ") != "OK" {
		t.Fatalf("noop after select readonly: %s", f)
	}
}

// TestImaplibErrorsDevserver runs runImaplibErrors on the devserver.
func TestImaplibErrorsDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	runImaplibErrors(t, h.openDev(ds, "write delete"), true)
}

// cutProxy forwards one TCP connection at a time to addr and, once armed,
// closes both sides right after forwarding the first client bytes holding
// trigger: the command reaches the server, its answer never comes back.
type cutProxy struct {
	ln      net.Listener
	addr    string
	mu      sync.Mutex
	trigger string
}

func newCutProxy(t *testing.T, addr string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, addr: addr}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", addr, waitFrame)
			if err != nil {
				down.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); defer down.Close(); _, _ = io.Copy(down, up) }()
			go func() {
				defer wg.Done()
				defer up.Close()
				defer down.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := down.Read(buf)
					if n > 0 {
						if _, werr := up.Write(buf[:n]); werr != nil {
							return
						}
						p.mu.Lock()
						cut := p.trigger != "" && strings.Contains(string(buf[:n]), p.trigger)
						p.mu.Unlock()
						if cut {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// arm makes the proxy cut the connection after the next bytes holding s.
func (p *cutProxy) arm(s string) { p.mu.Lock(); p.trigger = s; p.mu.Unlock() }

// TestImaplibAbortDovecot: the IMAP connection is lost while a relayed
// NOOP runs. imaplib raises IMAP4.abort("command: NOOP => socket error:
// EOF"); the relay says so, then the session ends as for any lost upstream
// (error unavailable, close 4503).
func TestImaplibAbortDovecot(t *testing.T) {
	t.Parallel()
	dv := dovecottest.Start(t)
	px := newCutProxy(t, dv.PlainAddr)
	h := newHarness(t, Config{Upstreams: []Upstream{{Name: "cut", Addr: px.ln.Addr().String(),
		Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true}}})
	c, _ := openDovecot(t, h, dv, "cut", "password")
	if f := c.call(relayReq("noop")); f.str("typ") != "OK" {
		t.Fatalf("noop: %s", f)
	}
	px.arm("NOOP")
	// The proxy's cut reaches the engine as EOF or as a reset, depending on
	// whether the peer's FIN or RST lands first; imaplib words both alike.
	raises(t, c, relayReq("noop"), "abort", "command: NOOP => socket error: ")
	for {
		f, ok := c.next(waitFrame)
		if !ok || f.str("type") != protocol.TypeEvent {
			if f.errCode() != "unavailable" {
				t.Errorf("after the abort: %s (ok %v)", f, ok)
			}
			break
		}
	}
	if code, _ := c.waitClose(waitFrame); code != protocol.CloseUpstream {
		t.Errorf("close %d, want %d", code, protocol.CloseUpstream)
	}
}

// runScalarArgs relays JSON booleans and integers where imaplib takes a
// bool or an int, with Python's meaning, and refuses them (and objects and
// arrays) elsewhere (issue 11 item 5).
func runScalarArgs(t *testing.T, c *wsClient) {
	t.Helper()
	// select(mailbox, readonly): EXAMINE for a true value, SELECT else;
	// imaplib keeps the READ-ONLY code for response('READ-ONLY').
	for _, tc := range []struct {
		ro   any
		want bool
	}{{true, true}, {false, false}, {1, true}, {0, false}, {nil, false}, {"", false}, {"yes", true}} {
		if f := c.call(relayReq("select", "INBOX", tc.ro)); f.str("typ") != "OK" {
			t.Fatalf("select readonly=%v: %s", tc.ro, f)
		}
		f := c.call(relayReq("response", "READ-ONLY"))
		if got := list(f.m["data"])[0] != nil; got != tc.want {
			t.Errorf("select readonly=%v: READ-ONLY %v, want %v (%s)", tc.ro, got, tc.want, f)
		}
	}
	// append(mailbox, flags, date_time, message) with seconds since the epoch.
	msg := string(testMessage("epoch", "x"))
	if f := c.call(relayReq("append", "INBOX", nil, 1767225600, msg)); f.str("typ") != "OK" {
		t.Fatalf("append with an epoch date: %s", f)
	}
	c.call(relayReq("select", "INBOX"))
	f := c.call(relayReq("fetch", "*", "(INTERNALDATE)"))
	if d := dataString(t, list(f.m["data"])[0]); !strings.Contains(d, `1-Jan-2026 00:00:00 +0000"`) {
		t.Errorf("internal date of the epoch append: %s", d)
	}
	// partial(message_num, message_part, start, length) with integers:
	// sent (Dovecot and the devserver have no PARTIAL and answer BAD).
	raises(t, c, relayReq("partial", 1, "BODY[TEXT]", 0, 3), "error", "PARTIAL command error: BAD [b'")
	// Refused where imaplib takes a string (Python's TypeError), and
	// objects and arrays everywhere but append's message.
	for _, req := range []map[string]any{
		relayReq("fetch", 1, "(FLAGS)"),
		relayReq("fetch", "1", true),
		relayReq("select", "INBOX", []any{true}),
		relayReq("select", "INBOX", map[string]any{"x": true}),
		relayReq("partial", "1", "BODY[TEXT]", true, 3),
		relayReq("partial", "1", "BODY[TEXT]", -1, 3),
		relayReq("store", "1", "+FLAGS", false),
	} {
		c.fails(req, "bad_request")
	}
	if f := c.call(relayReq("noop")); f.str("typ") != "OK" {
		t.Fatalf("noop: %s", f)
	}
}

// TestScalarArgsDovecot runs runScalarArgs on Dovecot.
func TestScalarArgsDovecot(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, _ := openDovecot(t, h, dv, "plain", "password")
	runScalarArgs(t, c)
}

// TestScalarArgsDevserver runs runScalarArgs on the devserver.
func TestScalarArgsDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	runScalarArgs(t, h.openDev(ds, "write delete"))
}
