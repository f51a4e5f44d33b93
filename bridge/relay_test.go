package bridge

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// relayCase is one imaplib relay call and what it must answer.
type relayCase struct {
	cmd  string
	args []any
	typ  string // expected typ on Dovecot
	dev  string // expected typ on the devserver when different ("-": skip there)
	// check inspects the data list (only when the typ is "OK").
	check func(t *testing.T, data []any)
}

// dataString asserts that d is a JSON string datum.
func dataString(t *testing.T, d any) string {
	t.Helper()
	s, ok := d.(string)
	if !ok {
		t.Fatalf("datum %v is not a string", d)
	}
	return s
}

// relayCases covers every command of protocol.ImaplibCommands on mailbox
// box (which the cases create, fill and delete).
func relayCases(box string) []relayCase {
	box2 := box + "2"
	text := testMessage("relay one", "relay body")
	strOK := func(substr string) func(t *testing.T, data []any) {
		return func(t *testing.T, data []any) {
			var all []string
			for _, d := range data {
				all = append(all, strings.ToUpper(dataString(t, d)))
			}
			if !strings.Contains(strings.Join(all, "\n"), strings.ToUpper(substr)) {
				t.Errorf("data %v lacks %q", data, substr)
			}
		}
	}
	pair := func(wantBinary bool) func(t *testing.T, data []any) {
		return func(t *testing.T, data []any) {
			p, ok := data[0].([]any)
			if !ok || len(p) != 2 {
				t.Fatalf("not a (header, literal) pair: %v", data)
			}
			dataString(t, p[0])
			if wantBinary {
				o, _ := p[1].(map[string]any)
				raw, err := base64.StdEncoding.DecodeString(o["base64"].(string))
				if err != nil || !strings.Contains(string(raw), "caf\xe9") {
					t.Errorf("binary literal: %v", p[1])
				}
			} else if s := dataString(t, p[1]); s != "relay body\r\n" {
				t.Errorf("literal %q", s)
			}
		}
	}
	return []relayCase{
		{cmd: "capability", typ: "OK", check: strOK("IMAP4rev1")},
		{cmd: "noop", typ: "OK"},
		{cmd: "namespace", typ: "OK", check: strOK("(")},
		{cmd: "id", args: []any{"name", "imapbridge-test"}, typ: "OK", dev: "BAD"},
		{cmd: "enable", args: []any{"CONDSTORE"}, typ: "OK"},
		{cmd: "create", args: []any{box}, typ: "OK"},
		{cmd: "create", args: []any{box}, typ: "NO"},
		{cmd: "subscribe", args: []any{box}, typ: "OK"},
		{cmd: "lsub", args: []any{"", "*"}, typ: "OK", check: strOK(box)},
		{cmd: "unsubscribe", args: []any{box}, typ: "OK"},
		{cmd: "list", args: []any{"", box}, typ: "OK", check: strOK(box)},
		{cmd: "rename", args: []any{box, box2}, typ: "OK"},
		{cmd: "create", args: []any{box}, typ: "OK"},
		{cmd: "append", args: []any{box2, `(\Seen)`, nil, b64(text)}, typ: "OK"},
		{cmd: "append", args: []any{box2, nil, "2026-03-02T10:00:00Z", b64(binaryBody)}, typ: "OK"},
		{cmd: "append", args: []any{box2, nil, nil, string(testMessage("relay three", "three"))}, typ: "OK"},
		{cmd: "status", args: []any{box2, "(MESSAGES UNSEEN)"}, typ: "OK", check: strOK("MESSAGES 3")},
		{cmd: "select", args: []any{box2}, typ: "OK", check: strOK("3")},
		{cmd: "fetch", args: []any{"1:3", "(FLAGS)"}, typ: "OK", check: func(t *testing.T, data []any) {
			if len(data) != 3 || !strings.Contains(strings.ToUpper(dataString(t, data[0])), `\SEEN`) {
				t.Errorf("fetch flags: %v", data)
			}
		}},
		{cmd: "fetch", args: []any{"1", "(BODY.PEEK[TEXT])"}, typ: "OK", check: pair(false)},
		{cmd: "fetch", args: []any{"2", "(BODY.PEEK[TEXT])"}, typ: "OK", check: pair(true)},
		{cmd: "search", args: []any{nil, "ALL"}, typ: "OK", check: strOK("1 2 3")},
		{cmd: "search", args: []any{nil, "NOTAKEY"}, typ: "BAD", dev: "NO"},
		{cmd: "uid", args: []any{"SEARCH", nil, "ALL"}, typ: "OK"},
		{cmd: "uid", args: []any{"fetch", "1:*", "(UID FLAGS)"}, typ: "OK", check: func(t *testing.T, data []any) {
			if len(data) != 3 {
				t.Errorf("uid fetch: %v", data)
			}
		}},
		{cmd: "store", args: []any{"1", "+FLAGS", `(\Flagged)`}, typ: "OK", check: strOK(`\Flagged`)},
		{cmd: "uid", args: []any{"store", "1", "-FLAGS", `(\Flagged)`}, typ: "OK"},
		{cmd: "sort", args: []any{"(DATE)", "UTF-8", "ALL"}, typ: "OK", dev: "BAD"},
		{cmd: "thread", args: []any{"REFERENCES", "UTF-8", "ALL"}, typ: "OK", dev: "BAD"},
		{cmd: "uid", args: []any{"sort", "(SUBJECT)", "UTF-8", "ALL"}, typ: "OK", dev: "BAD"},
		{cmd: "uid", args: []any{"thread", "ORDEREDSUBJECT", "UTF-8", "ALL"}, typ: "OK", dev: "BAD"},
		{cmd: "copy", args: []any{"1", box}, typ: "OK"},
		{cmd: "uid", args: []any{"copy", "1", box}, typ: "OK"},
		{cmd: "move", args: []any{"3", box}, typ: "OK"},
		{cmd: "uid", args: []any{"move", "2", box}, typ: "OK"},
		{cmd: "store", args: []any{"1", "+FLAGS.SILENT", `(\Deleted)`}, typ: "OK"},
		{cmd: "expunge", typ: "OK", check: strOK("1")},
		{cmd: "recent", typ: "OK"},
		{cmd: "response", args: []any{"EXISTS"}, typ: "EXISTS"},
		{cmd: "check", typ: "OK"},
		{cmd: "partial", args: []any{"1", "BODY[TEXT]", "0", "3"}, typ: "BAD"},
		{cmd: "examine", args: []any{box}, typ: "OK", check: strOK("4")},
		{cmd: "uid", args: []any{"expunge", "1:*"}, typ: "OK", dev: "-"},
		{cmd: "unselect", typ: "OK"},
		{cmd: "select", args: []any{box}, typ: "OK"},
		{cmd: "close", typ: "OK"},
		{cmd: "getquotaroot", args: []any{"INBOX"}, typ: "OK", dev: "BAD", check: func(t *testing.T, data []any) {
			if len(data) != 2 {
				t.Fatalf("getquotaroot: %v", data)
			}
			for _, d := range data {
				if o, _ := d.(map[string]any); o == nil || o["list"] == nil {
					t.Errorf("getquotaroot datum %v is not {\"list\":[...]}", d)
				}
			}
			if !strings.Contains(dataString(t, list(data[1].(map[string]any)["list"])[0]), "STORAGE") {
				t.Errorf("quota list: %v", data[1])
			}
		}},
		{cmd: "getquota", args: []any{"User quota"}, typ: "OK", dev: "BAD", check: strOK("STORAGE")},
		{cmd: "getacl", args: []any{"INBOX"}, typ: "OK", dev: "BAD"},
		{cmd: "myrights", args: []any{"INBOX"}, typ: "OK", dev: "BAD"},
		{cmd: "delete", args: []any{box}, typ: "OK"},
		{cmd: "delete", args: []any{box2}, typ: "OK"},
		{cmd: "delete", args: []any{box2}, typ: "NO"},
	}
}

// runRelaySuite relays every allow-listed imaplib command on a logged-in
// session and checks the answers; dev selects the devserver's expectations.
func runRelaySuite(t *testing.T, c *wsClient, box string, dev bool) {
	runRelay(t, c, box, func(rc relayCase) string {
		if dev && rc.dev != "" {
			return rc.dev
		}
		return rc.typ
	}, nil)
}

// runRelaySuiteOn is runRelaySuite on a server of internal/imapservers:
// over (keyed by relayKey) holds the answers that differ from Dovecot's
// ("-": not sent there), checks the data checks that differ.
func runRelaySuiteOn(t *testing.T, c *wsClient, box string, over map[string]string, checks map[string]func(*testing.T, []any)) {
	runRelay(t, c, box, func(rc relayCase) string {
		if w, ok := over[relayKey(rc)]; ok {
			return w
		}
		return rc.typ
	}, checks)
}

// relayKey names a relay case: its command and arguments.
func relayKey(rc relayCase) string {
	return strings.TrimSpace(rc.cmd + " " + strings.Trim(fmt.Sprint(rc.args), "[]"))
}

func runRelay(t *testing.T, c *wsClient, box string, wantOf func(relayCase) string, checks map[string]func(*testing.T, []any)) {
	seen := map[string]bool{}
	for _, rc := range relayCases(box) {
		seen[rc.cmd] = true
		want := wantOf(rc)
		if want == "-" {
			continue
		}
		if ck, ok := checks[relayKey(rc)]; ok {
			rc.check = ck
		}
		req := map[string]any{"op": "imaplib", "cmd": rc.cmd}
		if rc.args != nil {
			req["args"] = rc.args
		}
		f := c.call(req)
		if want == "BAD" {
			// imaplib raises IMAP4.error on a tagged BAD (issue 11).
			checkRaisedBAD(t, f, rc.cmd, rc.args)
			continue
		}
		if f.str("type") != protocol.TypeResponse {
			t.Fatalf("%s %v: %s", rc.cmd, rc.args, f)
		}
		if got := f.str("typ"); got != want {
			t.Fatalf("%s: typ %q, want %q: %s", relayKey(rc), got, want, f)
		}
		data := list(f.m["data"])
		if f.m["data"] == nil {
			t.Fatalf("%s: no data member: %s", rc.cmd, f)
		}
		for _, d := range data {
			checkDatum(t, d)
		}
		if want == "OK" && rc.check != nil {
			rc.check(t, data)
		}
	}
	for _, name := range protocol.ImaplibCommands {
		if !seen[name] {
			t.Errorf("relay command %q not covered", name)
		}
	}
}

// checkRaisedBAD asserts the error frame of a call the server answered
// BAD: imaplib's IMAP4.error with "NAME command error: BAD [b'...']".
func checkRaisedBAD(t *testing.T, f frame, cmd string, args []any) {
	t.Helper()
	name := strings.ToUpper(cmd)
	if cmd == "uid" {
		name = "UID"
	}
	exc, _ := f.obj("error")["imaplib"].(map[string]any)
	msg, _ := exc["message"].(string)
	if f.errCode() != "imaplib" || exc["exception"] != "error" || !strings.HasPrefix(msg, name+" command error: BAD [b") {
		t.Fatalf("%s %v: want imaplib's error for a BAD, got %s", cmd, args, f)
	}
	if im, _ := f.obj("error")["imap"].(map[string]any); im["type"] != "BAD" {
		t.Errorf("%s %v: no imap BAD member: %s", cmd, args, f)
	}
}

// checkDatum asserts the datum shapes of docs/protocol.md: a string, null,
// {"base64"}, {"list"} or a two-element array of strings/{"base64"}.
func checkDatum(t *testing.T, d any) {
	t.Helper()
	switch v := d.(type) {
	case nil, string:
	case map[string]any:
		if _, ok := v["base64"].(string); ok && len(v) == 1 {
			return
		}
		if l, ok := v["list"].([]any); ok && len(v) == 1 {
			for _, x := range l {
				checkDatum(t, x)
			}
			return
		}
		t.Errorf("bad datum object %v", v)
	case []any:
		if len(v) != 2 {
			t.Errorf("pair of %d elements: %v", len(v), v)
		}
		for _, x := range v {
			if x == nil {
				t.Errorf("null inside a pair: %v", v)
			}
			if _, ok := x.([]any); ok {
				t.Errorf("nested pair: %v", v)
			}
		}
	default:
		t.Errorf("bad datum %T %v", d, d)
	}
}

// TestRelayDevserver relays every allow-listed command to the devserver.
func TestRelayDevserver(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	runRelaySuite(t, h.openDev(ds, "write delete"), "Relay", true)
}

// TestRelayRefused checks forbidden, unknown and scope-refused relay calls.
func TestRelayRefused(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	c := h.openDev(ds, "write")
	forbidden := []string{"login", "login_cram_md5", "authenticate", "starttls", "proxyauth", "xatom", "logout", "idle",
		"socket", "shutdown", "open", "send", "readline", "setacl", "deleteacl", "setquota", "setannotation"}
	for _, name := range forbidden {
		c.fails(map[string]any{"op": "imaplib", "cmd": name, "args": []any{"x"}}, "forbidden")
	}
	tests := []struct {
		req  map[string]any
		code string
	}{
		{map[string]any{"op": "imaplib", "cmd": "frobnicate"}, "bad_request"},
		{map[string]any{"op": "imaplib", "cmd": "uid", "args": []any{"login", "a", "b"}}, "forbidden"},
		{map[string]any{"op": "imaplib", "cmd": "expunge"}, "forbidden"}, // no "delete" scope
		{map[string]any{"op": "imaplib", "cmd": "store", "args": []any{"1", "+FLAGS", `(\Deleted)`}}, "forbidden"},
		{map[string]any{"op": "imaplib", "cmd": "fetch", "args": []any{"1", "(FLAGS)\r\nA1 LOGOUT"}}, "bad_request"},
		{map[string]any{"op": "imaplib", "cmd": "search", "args": []any{nil, "ALL {5}"}}, "bad_request"},
		{map[string]any{"op": "imaplib", "cmd": "select", "args": []any{b64([]byte("INBOX"))}}, "bad_request"},
	}
	for _, tc := range tests {
		f := c.call(tc.req)
		if f.errCode() != tc.code {
			t.Errorf("%v: want %s, got %s", tc.req, tc.code, f)
		}
	}
	// The session still works.
	if f := c.call(map[string]any{"op": "imaplib", "cmd": "noop"}); f.str("typ") != "OK" {
		t.Fatalf("noop after refusals: %s", f)
	}
	if !slices.Contains(protocol.ImaplibCommands, "partial") {
		t.Fatal("allow-list changed; update relayCases")
	}
}
