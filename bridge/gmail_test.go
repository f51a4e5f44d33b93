package bridge

import (
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// gmailCapabilities is what Gmail advertises (Google's "IMAP Extensions",
// "Checking for the presence of extensions").
const gmailCapabilities = "UNSELECT LITERAL+ IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1"

// gmailUID answers the UID commands the way the Gmail examples of Google's
// "IMAP Extensions" do: FETCH of the X-GM items ("Access to the Gmail unique
// message ID", "... thread ID", "... labels"), STORE X-GM-LABELS (the a011
// example) and SEARCH X-GM-RAW ("Extension of the SEARCH command").
func gmailUID(c *imaptest.Conn, cmd *imaptest.Command) {
	line := string(cmd.Line)
	switch {
	case strings.Contains(line, "SEARCH X-GM-RAW"):
		c.Send("* SEARCH 1 3")
	case strings.Contains(line, "STORE"):
		c.Send(`* 1 FETCH (X-GM-LABELS (\Inbox \Sent Important "Muy Importante" foo) UID 1)`)
	case strings.Contains(line, "FETCH"):
		c.Send(`* 1 FETCH (UID 1 X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\Inbox \Sent Important "Muy Importante"))`)
	case strings.Contains(line, "SEARCH"):
		c.Send("* SEARCH 1")
	}
	c.Tagged(cmd, "OK Success")
}

// gmailHarness is a bridge whose upstream "gmail" is a scripted Gmail.
func gmailHarness(t *testing.T, handlers map[string]imaptest.HandlerFunc) (*harness, *imaptest.Server) {
	t.Helper()
	if handlers["SELECT"] == nil {
		handlers["SELECT"] = func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("* 1 EXISTS")
			c.Send("* OK [UIDVALIDITY 11] UIDs valid")
			c.Send("* OK [UIDNEXT 2] Predicted next UID")
			c.Tagged(cmd, "OK [READ-WRITE] INBOX selected. (Success)")
		}
	}
	srv := imaptest.NewServer(t, imaptest.Config{Capabilities: gmailCapabilities, Handlers: handlers})
	ups := Upstream{Name: "gmail", Addr: srv.Addr(), Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true}
	return newHarness(t, Config{Upstreams: []Upstream{ups}}), srv
}

// TestGmailOps: the Gmail items, label store and X-GM-RAW search through
// the bridge's typed ops.
func TestGmailOps(t *testing.T) {
	t.Parallel()
	h, srv := gmailHarness(t, map[string]imaptest.HandlerFunc{"UID": gmailUID})
	c, _, err := h.dial(h.token(claims("user@gmail.com", "gmail", "write delete"), 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login("pass")
	c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	r := c.ok(map[string]any{"op": "fetch", "uids": "1", "items": []string{"gmailMsgId", "gmailThreadId", "gmailLabels"}})
	m := list(r["messages"])[0].(map[string]any)
	if m["gmailMsgId"] != "1278455344230334865" || m["gmailThreadId"] != "1266894439832287888" ||
		strings.Join(strs(list(m["gmailLabels"])), ",") != `\Inbox,\Sent,Important,Muy Importante` {
		t.Errorf("fetch: %v", m)
	}
	r = c.ok(map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{}, "labels": []string{"foo", `\Important`}})
	if m := list(r["messages"])[0].(map[string]any); !strings.Contains(strings.Join(strs(list(m["gmailLabels"])), ","), "foo") {
		t.Errorf("store labels: %v", r)
	}
	c.fails(map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{`\Seen`}, "labels": []string{"foo"}}, "bad_request")
	r = c.ok(map[string]any{"op": "search", "gmailRaw": "has:attachment in:unread"})
	if r["uids"] != "1,3" || r["count"] != jsonNum(2) {
		t.Errorf("search: %v", r)
	}
	var sent []string
	for _, cmd := range srv.Commands() {
		if cmd.Name == "UID" {
			sent = append(sent, string(cmd.Line[strings.IndexByte(string(cmd.Line), ' ')+1:]))
		}
	}
	for _, want := range []string{"UID FETCH 1 (UID X-GM-MSGID X-GM-THRID X-GM-LABELS)", `UID STORE 1 +X-GM-LABELS (foo \Important)`,
		`UID SEARCH X-GM-RAW "has:attachment in:unread"`} {
		found := false
		for _, s := range sent {
			found = found || strings.HasPrefix(s, want)
		}
		if !found {
			t.Errorf("no %q among %q", want, sent)
		}
	}
}

// TestGmailTooManyConnections: a login beyond Gmail's per-account
// connection limit is the error "limit" with the server's text, once: the
// bridge does not retry (one LOGIN on one connection).
func TestGmailTooManyConnections(t *testing.T) {
	t.Parallel()
	h, srv := gmailHarness(t, map[string]imaptest.HandlerFunc{
		"LOGIN": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Tagged(cmd, "NO [ALERT] Too many simultaneous connections. (Failure)")
		},
	})
	cl := claims("user@gmail.com", "gmail", "write")
	cl.Credential = auth.CredentialPassword
	c, _, err := h.dial(h.token(cl, 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.fails(map[string]any{"op": "login", "password": "pass"}, "limit")
	n := 0
	for _, cmd := range srv.Commands() {
		if cmd.Name == "LOGIN" {
			n++
		}
	}
	if n != 1 || srv.ConnCount() != 1 {
		t.Errorf("%d LOGINs on %d connections, want 1 on 1", n, srv.ConnCount())
	}
}

// TestServersGmailRefused: on the servers without X-GM-EXT-1 the Gmail items,
// label store and X-GM-RAW search are "unavailable", before anything is sent.
func TestServersGmailRefused(t *testing.T) {
	t.Parallel()
	for _, s := range imapservers.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			h := serverHarness(t, s)
			c, user, _ := openServer(t, h, s, "plain")
			s.Deliver(t, user, testMessage("gmail?", "x"))
			c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
			c.fails(map[string]any{"op": "fetch", "uids": "1", "items": []string{"gmailLabels"}}, "unavailable")
			c.fails(map[string]any{"op": "store", "uids": "1", "mode": "add", "flags": []string{}, "labels": []string{"foo"}}, "unavailable")
			c.fails(map[string]any{"op": "search", "gmailRaw": "in:unread"}, "unavailable")
		})
	}
}

// strs converts a JSON list of strings.
func strs(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i], _ = v.(string)
	}
	return out
}
