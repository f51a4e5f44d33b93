package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
	"github.com/imapbridge/imapbridge/internal/postfixtest"
	"github.com/imapbridge/imapbridge/submit"
)

// composeWait bounds the wait for Postfix to deliver into Dovecot.
const composeWait = 60 * time.Second

// fakeSMTP is a go-smtp server with implicit TLS (the Dovecot fixture's
// certificate) for what a real Postfix will not do on demand: stall or drop
// mid-DATA, announce a small SIZE. It counts sessions to prove that a
// refused request caused no SMTP traffic.
type fakeSMTP struct {
	addr     string
	sessions atomic.Int32
	mode     string // "ok", "stall", "drop"
	release  chan struct{}
}

type fakeSession struct {
	f    *fakeSMTP
	conn *smtp.Conn
}

func (s *fakeSession) AuthMechanisms() []string { return []string{"PLAIN"} }
func (s *fakeSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}
func (s *fakeSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *fakeSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *fakeSession) Reset()                               {}
func (s *fakeSession) Logout() error                        { return nil }
func (s *fakeSession) Data(r io.Reader) error {
	switch s.f.mode {
	case "stall":
		_, _ = io.Copy(io.Discard, r)
		<-s.f.release
		return errors.New("released")
	case "drop":
		buf := make([]byte, 100)
		_, _ = io.ReadFull(r, buf)
		_ = s.conn.Conn().Close()
		return errors.New("dropped")
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

func startFakeSMTP(t *testing.T, dv *dovecottest.Server, mode string, size int64) *fakeSMTP {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dv.Dir, "server.pem"), filepath.Join(dv.Dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{addr: ln.Addr().String(), mode: mode, release: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		f.sessions.Add(1)
		return &fakeSession{f: f, conn: c}, nil
	}))
	srv.Domain = "fake.example.test"
	srv.MaxMessageBytes = size
	srv.AllowInsecureAuth = true
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
	}()
	t.Cleanup(func() {
		close(f.release)
		_ = srv.Close()
		wg.Wait()
	})
	return f
}

// composeHarness: upstream "smtp" is Dovecot (TLS) with the Postfix
// fixture, "fake" Dovecot with a fake SMTP server, "nosmtp" Dovecot alone.
func composeHarness(t *testing.T, lim Limits, fake *fakeSMTP) (*harness, *postfixtest.Server) {
	t.Helper()
	pf := postfixtest.Start(t)
	dv := pf.Dovecot
	ids := []string{"{user}@" + pf.Domain}
	ups := []Upstream{
		{Name: "smtp", Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig(),
			SMTP: &SMTP{Addr: pf.SubmissionAddr, TLSConfig: pf.TLSConfig(), Identities: ids, LocalName: "bridge.example.test"}},
		{Name: "nosmtp", Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig()},
	}
	if fake != nil {
		ups = append(ups, Upstream{Name: "fake", Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig(),
			SMTP: &SMTP{Addr: fake.addr, Security: submit.SecurityTLS, TLSConfig: dv.TLSConfig(), Identities: ids}})
	}
	return newHarness(t, Config{Upstreams: ups, Limits: lim}), pf
}

type composeUser struct {
	name, pw, email string
}

func openCompose(t *testing.T, h *harness, pf *postfixtest.Server, ups, scope string) (*wsClient, composeUser) {
	t.Helper()
	name, pw := pf.Dovecot.NewUser(t)
	c, _, err := h.dial(h.token(claims(name, ups, scope), 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login(pw)
	return c, composeUser{name, pw, pf.Address(name)}
}

// messages returns the flags and raw bytes of every message of mailbox,
// waiting (up to composeWait) until there are at least n.
func messages(t *testing.T, pf *postfixtest.Server, u composeUser, mailbox string, n int) []*imap.Message {
	t.Helper()
	p := peer(t, pf.Dovecot.PlainAddr, u.name, u.pw)
	deadline := time.Now().Add(composeWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
		sel, err := p.SelectMailbox(ctx, mailbox, &imapengine.SelectOptions{ReadOnly: true})
		var msgs []*imap.Message
		if err == nil && sel.Exists > 0 {
			msgs, err = p.FetchMessages(ctx, "1:*", "(UID FLAGS BODY.PEEK[])", &imapengine.FetchOptions{UID: true})
		}
		cancel()
		if err == nil && len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: %d messages (err %v), want %d\n%s", u.name, mailbox, len(msgs), err, n, pf.Log(2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func count(t *testing.T, pf *postfixtest.Server, u composeUser, mailbox string) uint32 {
	t.Helper()
	p := peer(t, pf.Dovecot.PlainAddr, u.name, u.pw)
	st, err := p.MailboxStatus(ctx5(t), mailbox, "MESSAGES")
	var se *imapengine.StatusError
	if errors.As(err, &se) {
		return 0 // no such mailbox: nothing was stored
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Messages
}

// uidOf reads the "uid" member of a decoded result.
func uidOf(m map[string]any) uint32 {
	n, _ := m["uid"].(json.Number).Int64()
	return uint32(n)
}

func addr(email string) map[string]any { return map[string]any{"email": email} }

// TestComposeLive: a reply with an attachment (taken from a message the
// browser stored, as after an upload) and a saved draft, sent through
// Postfix: the recipient's copy parses back, the refused recipient is
// reported alone, Sent has the copy with \Seen, the original \Answered, the
// draft is gone; a forward sets $Forwarded.
func TestComposeLive(t *testing.T) {
	t.Parallel()
	h, pf := composeHarness(t, Limits{}, nil)
	c, me := openCompose(t, h, pf, "smtp", "write delete")
	newU := func() composeUser {
		u := composeUser{}
		u.name, u.pw = pf.Dovecot.NewUser(t)
		u.email = pf.Address(u.name)
		return u
	}
	to, hidden := newU(), newU()

	pf.Dovecot.Deliver(t, me.name, testMessage("question", "are we on?"))
	inbox := c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	uv := inbox["uidValidity"]

	pdf := make([]byte, 30<<10) // the append op's frame is at most 64 KiB
	_, _ = rand.Read(pdf)
	upload := "Content-Type: application/pdf; name=\"plan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"plan.pdf\"\r\nSubject: upload\r\n\r\n" + base64.StdEncoding.EncodeToString(pdf) + "\r\n"
	ar := c.ok(map[string]any{"op": "append", "mailbox": "INBOX", "flags": []string{`\Seen`}, "message": b64([]byte(upload))})

	// A draft first, then replaced by a second version.
	d1 := c.ok(map[string]any{"op": "saveDraft", "from": addr(me.email), "to": []any{addr(to.email)}, "subject": "Re: question", "text": "v1"})
	d1d := d1["draft"].(map[string]any)
	if d1d["mailbox"] != "Drafts" || d1["messageId"] == "" {
		t.Fatalf("saveDraft: %v", d1)
	}
	d2 := c.ok(map[string]any{"op": "saveDraft", "from": addr(me.email), "to": []any{addr(to.email)},
		"bcc": []any{addr("hidden@" + pf.Domain)}, "subject": "Re: question", "text": "v2",
		"draft": map[string]any{"mailbox": "Drafts", "uid": d1d["uid"], "uidValidity": d1d["uidValidity"]}})
	if d2["replaced"] != true {
		t.Fatalf("draft not replaced: %v", d2)
	}
	d2d := d2["draft"].(map[string]any)
	drafts := messages(t, pf, me, "Drafts", 1)
	var v2 *imap.Message
	for _, m := range drafts {
		if uint32(m.UID) == uidOf(d2d) {
			v2 = m
		}
		if uint32(m.UID) == uidOf(d1d) {
			t.Errorf("draft v1 still in Drafts")
		}
	}
	if v2 == nil || !slices.Contains(v2.Flags, imap.FlagDraft) || !bytes.Contains(v2.Sections[0].Data, []byte("Bcc: <hidden@")) {
		t.Fatalf("draft v2: %+v", v2)
	}

	ghost := "ghost-" + to.name + "@" + pf.Domain
	res := c.ok(map[string]any{"op": "submit", "from": map[string]any{"name": "Me Ünicode", "email": me.email},
		"to": []any{map[string]any{"name": "Bøb", "email": to.email}, addr(ghost)}, "bcc": []any{addr(hidden.email)},
		"subject": "Re: question — ja", "text": "yes we are\n", "html": "<p>yes we are</p>",
		"attachments": []any{map[string]any{"mailbox": "INBOX", "uid": ar["uid"], "part": "1", "filename": "plan – final.pdf"}},
		"inReplyTo":   "<question@example.com>", "references": []string{"<question@example.com>"},
		"original": map[string]any{"mailbox": "INBOX", "uid": 1, "uidValidity": uv, "action": "reply"},
		"draft":    map[string]any{"mailbox": "Drafts", "uid": d2d["uid"]}})
	if acc := list(res["accepted"]); len(acc) != 2 || acc[0] != to.email || acc[1] != hidden.email {
		t.Errorf("accepted %v", res["accepted"])
	}
	ref := list(res["refused"])
	if len(ref) != 1 || ref[0].(map[string]any)["email"] != ghost || ref[0].(map[string]any)["enhanced"] != "5.1.1" {
		t.Errorf("refused %v", res["refused"])
	}
	sent, _ := res["sent"].(map[string]any)
	if sent["mailbox"] != "Sent" || sent["uid"] == nil || res["draftRemoved"] != true || res["sentError"] != nil {
		t.Errorf("result %v", res)
	}

	got := messages(t, pf, to, "INBOX", 1)[0].Sections[0].Data
	r, err := mail.CreateReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Header.Subject(); s != "Re: question — ja" {
		t.Errorf("subject %q", s)
	}
	if l, _ := r.Header.MsgIDList("In-Reply-To"); len(l) != 1 || l[0] != "question@example.com" {
		t.Errorf("In-Reply-To %v", l)
	}
	if id, _ := r.Header.MessageID(); "<"+id+">" != res["messageId"] {
		t.Errorf("Message-ID %q, result %v", id, res["messageId"])
	}
	if bytes.Contains(got, []byte(hidden.name)) {
		t.Errorf("Bcc recipient named in the delivered copy")
	}
	if h := messages(t, pf, hidden, "INBOX", 1)[0].Sections[0].Data; bytes.Contains(h, []byte(hidden.name)) {
		t.Errorf("the Bcc recipient's copy names it")
	}
	var att []byte
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if ah, ok := p.Header.(*mail.AttachmentHeader); ok {
			if name, _ := ah.Filename(); name != "plan – final.pdf" {
				t.Errorf("filename %q", name)
			}
			att, _ = io.ReadAll(p.Body)
		}
	}
	if !bytes.Equal(att, pdf) {
		t.Errorf("attachment: %d bytes back, want the %d stored", len(att), len(pdf))
	}

	sentMsgs := messages(t, pf, me, "Sent", 1)
	if !slices.Contains(sentMsgs[0].Flags, imap.FlagSeen) || !bytes.Contains(sentMsgs[0].Sections[0].Data, []byte(res["messageId"].(string))) {
		t.Errorf("Sent copy: flags %v", sentMsgs[0].Flags)
	}
	inboxMsgs := messages(t, pf, me, "INBOX", 1)
	if !slices.Contains(inboxMsgs[0].Flags, imap.FlagAnswered) {
		t.Errorf("original flags %v, want \\Answered", inboxMsgs[0].Flags)
	}
	if n := count(t, pf, me, "Drafts"); n != 0 {
		t.Errorf("Drafts holds %d messages after the draft was sent, want 0", n)
	}

	// Forward: $Forwarded on the original.
	c.ok(map[string]any{"op": "submit", "from": addr(me.email), "to": []any{addr(to.email)}, "subject": "Fwd: question", "text": "fyi",
		"original": map[string]any{"mailbox": "INBOX", "uid": 1, "action": "forward"}})
	if fl := messages(t, pf, me, "INBOX", 1)[0].Flags; !slices.Contains(fl, imap.Flag(FlagForwarded)) {
		t.Errorf("original flags %v, want $Forwarded", fl)
	}
}

// TestComposeAbuse: every refusal of item 6 happens before any SMTP traffic
// (the fake server counts sessions) and appends nothing to Sent.
func TestComposeAbuse(t *testing.T) {
	t.Parallel()
	pf := postfixtest.Start(t)
	fake := startFakeSMTP(t, pf.Dovecot, "ok", 0)
	h, _ := composeHarness(t, Limits{MaxRecipients: 3, SendsPerMinute: 2}, fake)
	c, me := openCompose(t, h, pf, "fake", "write delete")
	msg := func(extra map[string]any) map[string]any {
		m := map[string]any{"op": "submit", "from": addr(me.email), "to": []any{addr("x@" + pf.Domain)}, "subject": "s", "text": "t"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		req  map[string]any
		code string
	}{
		{"From of another user", msg(map[string]any{"from": addr("someone-else@" + pf.Domain)}), "forbidden"},
		{"From of another domain", msg(map[string]any{"from": addr(me.name + "@evil.example")}), "forbidden"},
		{"too many recipients", msg(map[string]any{"to": []any{addr("a@x.test"), addr("b@x.test")}, "bcc": []any{addr("c@x.test"), addr("d@x.test")}}), "limit"},
		{"CRLF in subject", msg(map[string]any{"subject": "hi\r\nBcc: victim@x.test"}), "bad_request"},
		{"LF in a name", msg(map[string]any{"to": []any{map[string]any{"name": "a\nb", "email": "a@x.test"}}}), "bad_request"},
		{"NUL in an address", msg(map[string]any{"to": []any{addr("a\x00@x.test")}}), "bad_request"},
		{"CR in In-Reply-To", msg(map[string]any{"inReplyTo": "<a@b>\rX: y"}), "bad_request"},
		{"injection in filename", msg(map[string]any{"attachments": []any{map[string]any{"mailbox": "INBOX", "uid": 1, "part": "1", "filename": "a\r\nX: y"}}}), "bad_request"},
		{"no recipient", msg(map[string]any{"to": []any{}}), "bad_request"},
	}
	for _, tc := range cases {
		c.fails(tc.req, tc.code)
	}
	if n := fake.sessions.Load(); n != 0 {
		t.Errorf("%d SMTP sessions after refused requests, want 0", n)
	}
	// Sends per user per minute: two pass, the third is refused without
	// traffic.
	c.ok(msg(nil))
	c.ok(msg(nil))
	c.fails(msg(nil), "limit")
	if n := fake.sessions.Load(); n != 2 {
		t.Errorf("%d SMTP sessions, want 2", n)
	}
	// A read-only session may not send.
	name, pw := pf.Dovecot.NewUser(t)
	ro, _, err := h.dial(h.token(claims(name, "fake", "read"), 0))
	if err != nil {
		t.Fatal(err)
	}
	ro.hello()
	ro.login(pw)
	ro.fails(map[string]any{"op": "submit", "from": addr(pf.Address(name)), "to": []any{addr("x@" + pf.Domain)}, "text": "t"}, "forbidden")
	// No SMTP section: not_configured, for both ops.
	nc, ncu := openCompose(t, h, pf, "nosmtp", "write")
	nc.fails(map[string]any{"op": "submit", "from": addr(ncu.email), "to": []any{addr("x@" + pf.Domain)}, "text": "t"}, "not_configured")
	nc.fails(map[string]any{"op": "saveDraft", "from": addr(ncu.email), "text": "t"}, "not_configured")
}

// TestComposeSMTPFailures: SMTP down, stalled after DATA, dropped mid-DATA,
// a SIZE too small: a typed error and nothing in Sent.
func TestComposeSMTPFailures(t *testing.T) {
	t.Parallel()
	pf := postfixtest.Start(t)
	dv := pf.Dovecot
	stall := startFakeSMTP(t, dv, "stall", 0)
	drop := startFakeSMTP(t, dv, "drop", 0)
	small := startFakeSMTP(t, dv, "ok", 2000)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	ids := []string{"{user}@" + pf.Domain}
	mk := func(name, addr string, sec submit.Security, tc *tls.Config) Upstream {
		return Upstream{Name: name, Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig(),
			SMTP: &SMTP{Addr: addr, Security: sec, TLSConfig: tc, Identities: ids}}
	}
	h := newHarness(t, Config{Limits: Limits{SubmitTimeout: 2 * time.Second}, Upstreams: []Upstream{
		mk("down", down, submit.SecurityTLS, dv.TLSConfig()),
		mk("stall", stall.addr, submit.SecurityTLS, dv.TLSConfig()),
		mk("drop", drop.addr, submit.SecurityTLS, dv.TLSConfig()),
		mk("small", small.addr, submit.SecurityTLS, dv.TLSConfig()),
		mk("postfix", pf.SubmissionAddr, submit.SecuritySTARTTLS, pf.TLSConfig()),
	}})
	for _, tc := range []struct{ ups, code string }{
		{"down", "unavailable"}, {"stall", "timeout"}, {"drop", "unavailable"}, {"small", "limit"},
	} {
		t.Run(tc.ups, func(t *testing.T) {
			t.Parallel()
			c, me := openCompose(t, h, pf, tc.ups, "write")
			c.fails(map[string]any{"op": "submit", "from": addr(me.email), "to": []any{addr("x@" + pf.Domain)},
				"subject": "s", "text": strings.Repeat("long enough to pass SIZE 2000. ", 100)}, tc.code)
			if n := count(t, pf, me, "Sent"); n != 0 {
				t.Errorf("Sent holds %d messages after a failed send", n)
			}
		})
	}
}

// TestComposeSavesSent: with savesSent (Gmail) the bridge appends no Sent
// copy; with a configured sentMailbox and no \Sent mailbox, that one is used.
func TestComposeSavesSent(t *testing.T) {
	t.Parallel()
	pf := postfixtest.Start(t)
	dv := pf.Dovecot
	fake := startFakeSMTP(t, dv, "ok", 0)
	ids := []string{"{user}@" + pf.Domain}
	mk := func(name string, m SMTP) Upstream {
		m.Addr, m.Security, m.TLSConfig, m.Identities = fake.addr, submit.SecurityTLS, dv.TLSConfig(), ids
		return Upstream{Name: name, Addr: dv.TLSAddr, Security: SecurityTLS, AllowPrivate: true, TLSConfig: dv.TLSConfig(), SMTP: &m}
	}
	h := newHarness(t, Config{Upstreams: []Upstream{mk("saves", SMTP{SavesSent: true}), mk("named", SMTP{SentMailbox: "Outbox"})}})
	req := func(u composeUser) map[string]any {
		return map[string]any{"op": "submit", "from": addr(u.email), "to": []any{addr("x@" + pf.Domain)}, "text": "t"}
	}
	c, me := openCompose(t, h, pf, "saves", "write")
	if r := c.ok(req(me)); r["sent"] != nil || r["sentError"] != nil {
		t.Errorf("savesSent: %v", r)
	}
	if n := count(t, pf, me, "Sent"); n != 0 {
		t.Errorf("Sent holds %d with savesSent", n)
	}
	c2, me2 := openCompose(t, h, pf, "named", "write")
	if r := c2.ok(req(me2)); r["sent"].(map[string]any)["mailbox"] != "Outbox" {
		t.Errorf("sentMailbox: %v", r)
	}
	if n := count(t, pf, me2, "Outbox"); n != 1 {
		t.Errorf("Outbox holds %d, want 1", n)
	}
}
