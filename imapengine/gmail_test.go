package imapengine

// Transcript tests of Gmail's IMAP extensions (X-GM-EXT-1) against the
// scripted imaptest server. Each script follows a section of Google's "IMAP
// Extensions" document (developers.google.com/gmail/imap/imap-extensions),
// named in a comment, with that section's example responses.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// gmailCaps is the CAPABILITY Gmail sends ("Checking for the presence of
// extensions": IMAP4rev1 UNSELECT LITERAL+ IDLE NAMESPACE QUOTA ID XLIST
// CHILDREN X-GM-EXT-1).
const gmailCaps = "UNSELECT LITERAL+ IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1"

// gmailClient is a client logged in to a scripted Gmail with INBOX selected.
func gmailClient(t *testing.T, caps string, handlers map[string]imaptest.HandlerFunc) (*Client, *imaptest.Server) {
	t.Helper()
	if handlers["SELECT"] == nil {
		handlers["SELECT"] = func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("* 4 EXISTS")
			c.Send("* OK [UIDVALIDITY 11] UIDs valid")
			c.Tagged(cmd, "OK [READ-WRITE] INBOX selected. (Success)")
		}
	}
	srv := transports[0].server(t, imaptest.Config{Capabilities: caps, Handlers: handlers})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	if _, err := c.SelectMailbox(context.Background(), "INBOX", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
	return c, srv
}

// TestGmail_FetchItems follows "Access to the Gmail unique message ID:
// X-GM-MSGID", "Access to the Gmail thread ID: X-GM-THRID" and "Access to
// the Gmail labels: X-GM-LABELS": the three items in the typed view.
func TestGmail_FetchItems(t *testing.T) {
	c, srv := gmailClient(t, gmailCaps, map[string]imaptest.HandlerFunc{
		"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send(`* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\Inbox \Sent Important "Muy Importante") UID 1)`)
			c.Send(`* 2 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1266894439832287888 X-GM-LABELS (foo) UID 2)`)
			c.Send(`* 3 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1266894439832287889 X-GM-LABELS () UID 3)`)
			c.Send(`* 4 FETCH (X-GM-THRID 1266894439832287890 X-GM-MSGID 1266894439832287890 X-GM-LABELS (\Drafts) UID 4)`)
			c.Tagged(cmd, "OK Success")
		},
	})
	msgs, err := c.FetchMessages(context.Background(), "1:4", "(X-GM-MSGID X-GM-THRID X-GM-LABELS)", &FetchOptions{UID: true})
	if err != nil || len(msgs) != 4 {
		t.Fatalf("fetch: %v %v", msgs, err)
	}
	if cmd, _ := srv.LastCommand("UID"); !strings.Contains(string(cmd.Line), "FETCH 1:4 (X-GM-MSGID X-GM-THRID X-GM-LABELS)") {
		t.Errorf("sent %q", cmd.Line)
	}
	m := msgs[0]
	if m.GmailMsgID != 1278455344230334865 || m.GmailThreadID != 1266894439832287888 ||
		!slices.Equal(m.GmailLabels, []string{`\Inbox`, `\Sent`, "Important", "Muy Importante"}) {
		t.Errorf("message 1: %+v", m)
	}
	if msgs[0].GmailThreadID != msgs[1].GmailThreadID || msgs[2].GmailThreadID == msgs[3].GmailThreadID {
		t.Error("thread IDs: messages 1-3 share a thread, 4 does not")
	}
	if !msgs[2].HasGmailLabels || len(msgs[2].GmailLabels) != 0 || !slices.Equal(msgs[3].GmailLabels, []string{`\Drafts`}) {
		t.Errorf("labels of 3, 4: %+v %+v", msgs[2], msgs[3])
	}
}

// TestGmail_StoreLabels follows "Access to the Gmail labels: X-GM-LABELS"
// (its a011 STORE 1 +X-GM-LABELS (foo) example): labels added and removed,
// system labels sent as atoms, others quoted when needed.
func TestGmail_StoreLabels(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	c, _ := gmailClient(t, gmailCaps, map[string]imaptest.HandlerFunc{
		"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
			mu.Lock()
			lines = append(lines, string(cmd.Line))
			mu.Unlock()
			if !strings.Contains(string(cmd.Line), ".SILENT") {
				c.Send(`* 1 FETCH (X-GM-LABELS (\Inbox \Sent Important "Muy Importante" foo) UID 1)`)
			}
			c.Tagged(cmd, "OK Success")
		},
	})
	ctx := context.Background()
	res, err := c.StoreGmailLabels(ctx, "1", "+X-GM-LABELS", []string{"foo"})
	if err != nil || len(res.Messages) != 1 || !slices.Contains(res.Messages[0].GmailLabels, "foo") {
		t.Fatalf("store +labels: %+v %v", res, err)
	}
	if _, err := c.StoreGmailLabels(ctx, "1", "-X-GM-LABELS.SILENT", []string{`\Important`, "Muy Importante"}); err != nil {
		t.Fatalf("store -labels: %v", err)
	}
	if _, err := c.StoreGmailLabels(ctx, "1", "+FLAGS", []string{"x"}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("store with +FLAGS = %v, want ErrBadArgument", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{` UID STORE 1 +X-GM-LABELS (foo)`, ` UID STORE 1 -X-GM-LABELS.SILENT (\Important "Muy Importante")`}
	for i, w := range want {
		if i >= len(lines) || !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d = %q, want suffix %q", i, lines, w)
		}
	}
}

// TestGmail_SearchRaw follows "Extension of the SEARCH command: X-GM-RAW"
// (its a005 SEARCH X-GM-RAW "has:attachment in:unread" example).
func TestGmail_SearchRaw(t *testing.T) {
	c, srv := gmailClient(t, gmailCaps, map[string]imaptest.HandlerFunc{
		"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("* SEARCH 123 12344 5992")
			c.Tagged(cmd, "OK SEARCH completed (Success)")
		},
	})
	sd, err := c.SearchGmailRaw(context.Background(), "has:attachment in:unread")
	if err != nil || !slices.Equal(sd.All, []uint32{123, 12344, 5992}) {
		t.Fatalf("search: %+v %v", sd, err)
	}
	if cmd, _ := srv.LastCommand("UID"); !strings.HasSuffix(string(cmd.Line), `UID SEARCH X-GM-RAW "has:attachment in:unread"`) {
		t.Errorf("sent %q", cmd.Line)
	}
}

// TestGmail_NeedsExtension: without X-GM-EXT-1 (Dovecot, Cyrus, Courier)
// the Gmail calls are refused before anything is sent.
func TestGmail_NeedsExtension(t *testing.T) {
	c, srv := gmailClient(t, "IDLE", map[string]imaptest.HandlerFunc{})
	ctx := context.Background()
	if _, err := c.StoreGmailLabels(ctx, "1", "+X-GM-LABELS", []string{"foo"}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("StoreGmailLabels = %v", err)
	}
	if _, err := c.SearchGmailRaw(ctx, "in:unread"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SearchGmailRaw = %v", err)
	}
	if _, ok := srv.LastCommand("UID"); ok {
		t.Error("a UID command reached the server")
	}
}

// TestGmail_SpecialUseList follows "Special-Use Extension of the LIST
// command": the [Gmail] folders carry \All, \Drafts, \Important, \Sent,
// \Junk, \Flagged and \Trash on every LIST, without RETURN (SPECIAL-USE).
// \Important (RFC 8457) was not a known special use before this test.
func TestGmail_SpecialUseList(t *testing.T) {
	c, _ := gmailClient(t, gmailCaps, map[string]imaptest.HandlerFunc{
		"LIST": func(c *imaptest.Conn, cmd *imaptest.Command) {
			for _, l := range []string{
				`* LIST (\HasNoChildren) "/" "INBOX"`,
				`* LIST (\Noselect \HasChildren) "/" "[Gmail]"`,
				`* LIST (\HasNoChildren \All) "/" "[Gmail]/All Mail"`,
				`* LIST (\HasNoChildren \Drafts) "/" "[Gmail]/Drafts"`,
				`* LIST (\HasNoChildren \Important) "/" "[Gmail]/Important"`,
				`* LIST (\HasNoChildren \Sent) "/" "[Gmail]/Sent Mail"`,
				`* LIST (\HasNoChildren \Junk) "/" "[Gmail]/Spam"`,
				`* LIST (\HasNoChildren \Flagged) "/" "[Gmail]/Starred"`,
				`* LIST (\HasNoChildren \Trash) "/" "[Gmail]/Trash"`,
			} {
				c.Send(l)
			}
			c.Tagged(cmd, "OK Success")
		},
	})
	lds, err := c.ListMailboxes(context.Background(), "", "*", &ListOptions{SpecialUse: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ld := range lds {
		got[ld.Name] = ld.SpecialUse()
	}
	want := map[string]string{"INBOX": "", "[Gmail]": "", "[Gmail]/All Mail": `\All`, "[Gmail]/Drafts": `\Drafts`,
		"[Gmail]/Important": `\Important`, "[Gmail]/Sent Mail": `\Sent`, "[Gmail]/Spam": `\Junk`, "[Gmail]/Starred": `\Flagged`,
		"[Gmail]/Trash": `\Trash`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: special use %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	for _, ld := range lds {
		if ld.Name == "[Gmail]/Important" && !ld.HasAttr(`\Important`) {
			t.Errorf("[Gmail]/Important lost its attribute: %v", ld.Attrs)
		}
	}
}

// TestGmail_IdleEndedByServer: Gmail ends an IDLE by itself after about 29
// minutes (RFC 2177 §3: clients re-issue IDLE at least every 29 minutes; the
// server may end it first) with the tagged OK, no DONE asked. IdleLoop
// issues a new IDLE at once, and the EXISTS sent just before the server's OK
// and during the next IDLE both reach OnEvent, in order.
func TestGmail_IdleEndedByServer(t *testing.T) {
	var mu sync.Mutex
	idles, dones := 0, 0
	srv := transports[0].server(t, imaptest.Config{Capabilities: gmailCaps, Handlers: map[string]imaptest.HandlerFunc{
		"SELECT": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("* 1 EXISTS")
			c.Tagged(cmd, "OK [READ-WRITE] INBOX selected. (Success)")
		},
		"IDLE": func(c *imaptest.Conn, cmd *imaptest.Command) {
			mu.Lock()
			idles++
			n := idles
			mu.Unlock()
			c.Send("+ idling")
			if n == 1 {
				c.Send("* 2 EXISTS")
				c.Tagged(cmd, "OK IDLE terminated (Success)")
				return
			}
			c.Send("* 3 EXISTS")
			if line, err := c.ReadLine(); err == nil && string(line) == "DONE\r\n" {
				mu.Lock()
				dones++
				mu.Unlock()
				c.Tagged(cmd, "OK IDLE terminated (Success)")
			}
		},
	}})
	log := &eventLog{}
	o := transports[0].options(srv)
	o.OnEvent = log.on
	c := transports[0].mustDial(t, srv, o)
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	stop, _ := runLoop(c, &IdleOptions{Refresh: time.Hour, Watchdog: time.Hour})
	log.waitFor(t, "exists 3", func(e Event) bool { return e.Kind == EventExists && e.Count == 3 })
	if err := stop(); err != nil {
		t.Fatalf("IdleLoop: %v", err)
	}
	var counts []uint32
	for _, e := range log.all() {
		if e.Kind == EventExists {
			counts = append(counts, e.Count)
		}
	}
	if !slices.Equal(counts, []uint32{1, 2, 3}) && !slices.Equal(counts, []uint32{2, 3}) {
		t.Errorf("exists events %v, want 2 then 3", counts)
	}
	mu.Lock()
	defer mu.Unlock()
	if idles != 2 || dones != 1 {
		t.Errorf("%d IDLEs, %d DONEs; want 2 and 1 (no DONE for the IDLE the server ended)", idles, dones)
	}
}

// TestGmail_TooManyConnections: Gmail refuses a login beyond the account's
// connection limit with "NO [ALERT] Too many simultaneous connections.
// (Failure)"; the error is ErrTooManyConnections (and still the server's
// *StatusError), and the client sends nothing more: no retry.
func TestGmail_TooManyConnections(t *testing.T) {
	srv := transports[0].server(t, imaptest.Config{Capabilities: gmailCaps, Handlers: map[string]imaptest.HandlerFunc{
		"LOGIN": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Tagged(cmd, "NO [ALERT] Too many simultaneous connections. (Failure)")
		},
	}})
	c := transports[0].mustDial(t, srv, nil)
	_, err := c.Login(context.Background(), "user@gmail.com", "pass")
	var se *StatusError
	if !errors.Is(err, ErrTooManyConnections) || !errors.As(err, &se) || se.Code != "ALERT" {
		t.Fatalf("login = %v, want ErrTooManyConnections with the ALERT status", err)
	}
	n := 0
	for _, cmd := range srv.Commands() {
		if cmd.Name == "LOGIN" {
			n++
		}
	}
	if n != 1 || srv.ConnCount() != 1 {
		t.Errorf("%d LOGINs on %d connections, want 1 on 1", n, srv.ConnCount())
	}
	// An ordinary refusal is not the connection limit.
	if errors.Is(loginRefusal("LOGIN", "NO", []byte("[AUTHENTICATIONFAILED] Invalid credentials (Failure)")), ErrTooManyConnections) {
		t.Error("AUTHENTICATIONFAILED classified as too many connections")
	}
}
