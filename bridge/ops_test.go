package bridge

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// opsStep is one typed request of the ops suite and the check of its result.
type opsStep struct {
	name  string
	req   map[string]any
	code  string // expected error code; "" expects a response
	check func(t *testing.T, r map[string]any)
}

// binaryBody is a message whose body is not UTF-8 (8-bit Latin-1), so a
// fetched body section must come back as base64.
var binaryBody = []byte("From: a@example.com\r\nSubject: latin1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me\r\n")

// runOpsSuite runs every typed op on a logged-in session in fresh mailboxes
// named after prefix, then logs out.
func runOpsSuite(t *testing.T, c *wsClient, prefix string) {
	box, box2, box3 := prefix+"Ops", prefix+"Ops2", prefix+"Ops3"
	uidOf := map[string]string{}
	msgs := func(r map[string]any) []map[string]any {
		var out []map[string]any
		for _, m := range list(r["messages"]) {
			out = append(out, m.(map[string]any))
		}
		return out
	}
	hasFlag := func(m map[string]any, f string) bool {
		for _, x := range list(m["flags"]) {
			if strings.EqualFold(x.(string), f) {
				return true
			}
		}
		return false
	}
	steps := []opsStep{
		{name: "create", req: map[string]any{"op": "create", "mailbox": box}},
		{name: "create2", req: map[string]any{"op": "create", "mailbox": box2}},
		{name: "subscribe", req: map[string]any{"op": "subscribe", "mailbox": box}},
		{name: "list subscribed", req: map[string]any{"op": "list", "subscribed": true}, check: func(t *testing.T, r map[string]any) {
			if !hasMailbox(r, box) {
				t.Errorf("%s not subscribed: %v", box, r)
			}
		}},
		{name: "unsubscribe", req: map[string]any{"op": "unsubscribe", "mailbox": box}},
		{name: "list specialUse status", req: map[string]any{"op": "list", "pattern": "*", "specialUse": true, "status": []string{"MESSAGES", "UNSEEN"}},
			check: func(t *testing.T, r map[string]any) {
				for _, m := range list(r["mailboxes"]) {
					mi := m.(map[string]any)
					if mi["name"] == box {
						if st, _ := mi["status"].(map[string]any); st == nil || st["messages"] == nil {
							t.Errorf("no status for %s: %v", box, mi)
						}
						return
					}
				}
				t.Errorf("%s not listed: %v", box, r)
			}},
		{name: "append base64 flags date", req: map[string]any{"op": "append", "mailbox": box, "flags": []string{`\Seen`},
			"date": "2026-03-02T10:00:00Z", "message": b64(testMessage("first message", "hello one"))}},
		{name: "append string", req: map[string]any{"op": "append", "mailbox": box, "message": string(testMessage("second message", "hello two"))}},
		{name: "append binary", req: map[string]any{"op": "append", "mailbox": box, "message": b64(binaryBody)}},
		{name: "status", req: map[string]any{"op": "status", "mailbox": box}, check: func(t *testing.T, r map[string]any) {
			if r["messages"] != jsonNum(3) || r["unseen"] != jsonNum(2) || r["uidValidity"] == nil || r["uidNext"] == nil {
				t.Errorf("status: %v", r)
			}
		}},
		{name: "search needs select", req: map[string]any{"op": "search"}, code: "bad_request"},
		{name: "select", req: map[string]any{"op": "select", "mailbox": box}, check: func(t *testing.T, r map[string]any) {
			if r["exists"] != jsonNum(3) || r["readOnly"] != false || r["mailbox"] != box {
				t.Errorf("select: %v", r)
			}
		}},
		{name: "fetch items", req: map[string]any{"op": "fetch", "uids": "1:*", "items": []string{"uid", "flags", "envelope", "bodystructure", "size", "internaldate"}},
			check: func(t *testing.T, r map[string]any) {
				ms := msgs(r)
				if len(ms) != 3 {
					t.Fatalf("fetch: %v", r)
				}
				for i, name := range []string{"one", "two", "bin"} {
					uidOf[name] = string(ms[i]["uid"].(json.Number))
					if ms[i]["size"] == nil || ms[i]["bodyStructure"] == nil || ms[i]["envelope"] == nil {
						t.Errorf("message %d lacks items: %v", i, ms[i])
					}
				}
				env := ms[0]["envelope"].(map[string]any)
				if env["subject"] != "first message" || !hasFlag(ms[0], `\Seen`) || hasFlag(ms[1], `\Seen`) {
					t.Errorf("first message: %v", ms[0])
				}
				if d, _ := ms[0]["internalDate"].(string); !strings.HasPrefix(d, "2026-03-02T10:00:00") {
					t.Errorf("internalDate %q", d)
				}
				from := list(env["from"])
				if len(from) != 1 || from[0].(map[string]any)["addr"] != "alice@example.com" {
					t.Errorf("from: %v", env["from"])
				}
			}},
	}
	runSteps(t, c, steps)

	body := func(r map[string]any) map[string]any {
		ms := msgs(r)
		if len(ms) != 1 || len(list(ms[0]["body"])) == 0 {
			t.Fatalf("body fetch: %v", r)
		}
		return list(ms[0]["body"])[0].(map[string]any)
	}
	steps = []opsStep{
		{name: "fetch text section", req: map[string]any{"op": "fetch", "uids": uidOf["two"], "body": []any{map[string]any{"section": "TEXT", "peek": true}}},
			check: func(t *testing.T, r map[string]any) {
				if b := body(r); b["text"] != "hello two\r\n" || b["section"] != "TEXT" {
					t.Errorf("text section: %v", b)
				}
			}},
		{name: "fetch binary section", req: map[string]any{"op": "fetch", "uids": uidOf["bin"], "body": []any{map[string]any{"section": "TEXT", "peek": true}}},
			check: func(t *testing.T, r map[string]any) {
				b := body(r)
				raw, err := base64.StdEncoding.DecodeString(b["base64"].(string))
				if err != nil || string(raw) != "caf\xe9 cr\xe8me\r\n" || b["text"] != nil {
					t.Errorf("binary section: %v", b)
				}
			}},
		{name: "fetch partial", req: map[string]any{"op": "fetch", "uids": uidOf["two"], "body": []any{map[string]any{"section": "TEXT", "peek": true, "partial": map[string]any{"offset": 2, "length": 5}}}},
			check: func(t *testing.T, r map[string]any) {
				if b := body(r); b["text"] != "llo t" || b["offset"] != jsonNum(2) {
					t.Errorf("partial: %v", b)
				}
			}},
		{name: "fetch header fields by seq", req: map[string]any{"op": "fetch", "seqs": "1", "body": []any{map[string]any{"section": "HEADER.FIELDS (SUBJECT)", "peek": true}}},
			check: func(t *testing.T, r map[string]any) {
				if b := body(r); !strings.Contains(b["text"].(string), "Subject: first message") {
					t.Errorf("header fields: %v", b)
				}
			}},
		{name: "fetch bad section", req: map[string]any{"op": "fetch", "uids": "1", "body": []any{map[string]any{"section": "TEXT] X"}}}, code: "bad_request"},
		{name: "search unseen", req: map[string]any{"op": "search", "criteria": []string{"UNSEEN"}}, check: func(t *testing.T, r map[string]any) {
			if r["count"] != jsonNum(2) {
				t.Errorf("search unseen: %v", r)
			}
		}},
		{name: "search all", req: map[string]any{"op": "search"}, check: func(t *testing.T, r map[string]any) {
			if r["count"] != jsonNum(3) || r["uids"] == "" {
				t.Errorf("search all: %v", r)
			}
		}},
		{name: "search injection", req: map[string]any{"op": "search", "criteria": []string{"ALL\r\nA1 DELETE INBOX"}}, code: "bad_request"},
		{name: "store add", req: map[string]any{"op": "store", "uids": uidOf["one"], "mode": "add", "flags": []string{`\Flagged`}},
			check: func(t *testing.T, r map[string]any) {
				if ms := msgs(r); len(ms) != 1 || !hasFlag(ms[0], `\Flagged`) || !hasFlag(ms[0], `\Seen`) {
					t.Errorf("store add: %v", r)
				}
			}},
		{name: "store remove", req: map[string]any{"op": "store", "uids": uidOf["one"], "mode": "remove", "flags": []string{`\Seen`}},
			check: func(t *testing.T, r map[string]any) {
				if ms := msgs(r); len(ms) != 1 || hasFlag(ms[0], `\Seen`) || !hasFlag(ms[0], `\Flagged`) {
					t.Errorf("store remove: %v", r)
				}
			}},
		{name: "store set", req: map[string]any{"op": "store", "uids": uidOf["one"], "mode": "set", "flags": []string{`\Answered`}},
			check: func(t *testing.T, r map[string]any) {
				if ms := msgs(r); len(ms) != 1 || !hasFlag(ms[0], `\Answered`) || hasFlag(ms[0], `\Flagged`) {
					t.Errorf("store set: %v", r)
				}
			}},
		{name: "store silent", req: map[string]any{"op": "store", "uids": uidOf["two"], "mode": "add", "flags": []string{`\Seen`}, "silent": true},
			check: func(t *testing.T, r map[string]any) {
				if len(msgs(r)) != 0 {
					t.Errorf("silent store returned messages: %v", r)
				}
			}},
		{name: "store bad flag", req: map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{"a b"}}, code: "bad_request"},
		{name: "copy", req: map[string]any{"op": "copy", "uids": uidOf["one"], "to": box2}},
		{name: "move", req: map[string]any{"op": "move", "uids": uidOf["two"], "to": box2}},
		{name: "expunge without deleted flag keeps it", req: map[string]any{"op": "expunge", "uids": uidOf["bin"]}},
		{name: "store deleted", req: map[string]any{"op": "store", "uids": uidOf["bin"], "mode": "add", "flags": []string{`\Deleted`}, "silent": true}},
		{name: "expunge", req: map[string]any{"op": "expunge", "uids": uidOf["bin"]}},
		{name: "search after", req: map[string]any{"op": "search"}, check: func(t *testing.T, r map[string]any) {
			if r["count"] != jsonNum(1) || r["uids"] != uidOf["one"] {
				t.Errorf("after move+expunge: %v", r)
			}
		}},
		{name: "status copy target", req: map[string]any{"op": "status", "mailbox": box2, "items": []string{"MESSAGES"}},
			check: func(t *testing.T, r map[string]any) {
				if r["messages"] != jsonNum(2) {
					t.Errorf("status %s: %v", box2, r)
				}
			}},
		{name: "rename", req: map[string]any{"op": "rename", "mailbox": box2, "to": box3}},
		{name: "delete", req: map[string]any{"op": "delete", "mailbox": box3}},
		{name: "select missing", req: map[string]any{"op": "select", "mailbox": box3}, code: "imap_no"},
		{name: "noop", req: map[string]any{"op": "noop"}},
	}
	runSteps(t, c, steps)

	c.ok(map[string]any{"op": "logout"})
	if code, reason := c.waitClose(waitFrame); code != websocket.StatusNormalClosure {
		t.Errorf("logout closed with %d %q", code, reason)
	}
	c.checkSeq()
}

func runSteps(t *testing.T, c *wsClient, steps []opsStep) {
	t.Helper()
	for _, st := range steps {
		f := c.call(st.req)
		if st.code != "" {
			if f.errCode() != st.code {
				t.Fatalf("%s: want error %s, got %s", st.name, st.code, f)
			}
			continue
		}
		if f.str("type") != "response" {
			t.Fatalf("%s: %s", st.name, f)
		}
		if st.check != nil {
			st.check(t, f.result())
		}
	}
}

// jsonNum is n as the harness decodes JSON numbers.
func jsonNum(n int) any { return json.Number(strconv.Itoa(n)) }

func hasMailbox(r map[string]any, name string) bool {
	return slices.ContainsFunc(list(r["mailboxes"]), func(m any) bool { return m.(map[string]any)["name"] == name })
}

// TestOpsDevserver runs every typed op against the embedded devserver.
func TestOpsDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	c := h.openDev(ds, "write delete")
	// Special-use attributes of the sample folders.
	r := c.ok(map[string]any{"op": "list", "specialUse": true})
	for _, want := range [][2]string{{"Sent", `\Sent`}, {"Trash", `\Trash`}, {"Archive", `\Archive`}} {
		found := false
		for _, m := range list(r["mailboxes"]) {
			mi := m.(map[string]any)
			found = found || (mi["name"] == want[0] && mi["specialUse"] == want[1])
		}
		if !found {
			t.Errorf("%s is not %s: %v", want[0], want[1], r)
		}
	}
	runOpsSuite(t, c, "")
}

// TestOpsScopes checks that the token's scopes gate the typed ops.
func TestOpsScopes(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	tests := []struct {
		scope string
		req   map[string]any
		code  string
	}{
		{"write", map[string]any{"op": "expunge", "uids": "1"}, "forbidden"},
		{"write", map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{`\Deleted`}}, "forbidden"},
		{"write", map[string]any{"op": "delete", "mailbox": "Junk"}, "forbidden"},
		{"read", map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{`\Seen`}}, "forbidden"},
		{"read", map[string]any{"op": "append", "mailbox": "INBOX", "message": "x"}, "forbidden"},
		{"read", map[string]any{"op": "create", "mailbox": "New"}, "forbidden"},
		{"read mailbox:Sent", map[string]any{"op": "status", "mailbox": "INBOX"}, "forbidden"},
		{"write delete", map[string]any{"op": "login", "password": "again"}, "bad_request"},
	}
	for _, tc := range tests {
		c := h.openDev(ds, tc.scope)
		mb := "INBOX"
		if strings.Contains(tc.scope, "mailbox:") {
			mb = "Sent"
		}
		c.ok(map[string]any{"op": "select", "mailbox": mb, "readOnly": tc.scope == "read"})
		c.fails(tc.req, tc.code)
		c.close()
	}
	// Before login every op is refused with "auth".
	user, _ := ds.User()
	c, _, err := h.dial(h.token(claims(user, "dev", "write"), 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.fails(map[string]any{"op": "select", "mailbox": "INBOX"}, "auth")
	c.fails(map[string]any{"op": "login", "password": "wrong"}, "auth")
}

// waitSessions waits until the server has n sessions.
func waitSessions(t *testing.T, h *harness, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for h.srv.Sessions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions, want %d", h.srv.Sessions(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
