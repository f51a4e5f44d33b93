package bridge

import (
	"strings"
	"testing"
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
