package submit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/imapbridge/imapbridge/internal/postfixtest"
)

// deliveryDeadline bounds the wait for Postfix to hand a message to Dovecot.
const deliveryDeadline = 60 * time.Second

// testTimeout bounds one whole send in these tests.
const testTimeout = 2 * time.Minute

type liveUser struct {
	name, password, email string
}

func newUser(t *testing.T, s *postfixtest.Server) liveUser {
	name, pw := s.Dovecot.NewUser(t)
	return liveUser{name: name, password: pw, email: s.Address(name)}
}

func liveConfig(s *postfixtest.Server) Config {
	return Config{Addr: s.SubmissionAddr, Security: SecuritySTARTTLS, TLSConfig: s.TLSConfig(), LocalName: "client.example.test"}
}

func (u liveUser) creds() Credentials { return Credentials{Username: u.name, Password: u.password} }

// sendBuilt builds m and sends it as from.
func sendBuilt(t *testing.T, s *postfixtest.Server, cfg Config, from liveUser, m *Message) (*Result, string, []byte, error) {
	t.Helper()
	var buf bytes.Buffer
	id, err := Build(&buf, m)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := Send(ctx, cfg, from.creds(), m.Envelope(), bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	return res, id, buf.Bytes(), err
}

// stored waits for user's n-th delivered message (Dovecot's Maildir) and
// returns its bytes.
func stored(t *testing.T, s *postfixtest.Server, user string, n int) [][]byte {
	t.Helper()
	base := filepath.Join(s.Dovecot.Dir, "mail", user, "Maildir")
	deadline := time.Now().Add(deliveryDeadline)
	for {
		var msgs [][]byte
		for _, sub := range []string{"new", "cur"} {
			ents, _ := os.ReadDir(filepath.Join(base, sub))
			for _, e := range ents {
				if b, err := os.ReadFile(filepath.Join(base, sub, e.Name())); err == nil {
					msgs = append(msgs, b)
				}
			}
		}
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d messages after %v, want %d\n%s", user, len(msgs), deliveryDeadline, n, s.Log(3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// parsed is what a stored message parses back to.
type parsed struct {
	subject, from, to, cc, msgID, inReplyTo string
	bcc                                     bool
	text, html                              string
	files                                   map[string][]byte // filename -> bytes
	inline                                  map[string][]byte // Content-ID -> bytes
	types                                   []string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var p parsed
	p.files, p.inline = map[string][]byte{}, map[string][]byte{}
	p.subject, _ = r.Header.Subject()
	fmtList := func(k string) string {
		l, err := r.Header.AddressList(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		var s []string
		for _, a := range l {
			s = append(s, a.Name+" <"+a.Address+">")
		}
		return strings.Join(s, ", ")
	}
	p.from, p.to, p.cc = fmtList("From"), fmtList("To"), fmtList("Cc")
	p.bcc = r.Header.Has("Bcc")
	p.msgID, _ = r.Header.MessageID()
	if l, _ := r.Header.MsgIDList("In-Reply-To"); len(l) > 0 {
		p.inReplyTo = l[0]
	}
	ct, _, _ := r.Header.ContentType()
	p.types = append(p.types, ct)
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("part body: %v", err)
		}
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			p.types = append(p.types, ct)
			if id := h.Get("Content-Id"); id != "" {
				p.inline[strings.Trim(id, "<>")] = b
				continue
			}
			switch ct {
			case "text/plain":
				p.text = string(b)
			case "text/html":
				p.html = string(b)
			}
		case *mail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil {
				t.Fatalf("filename: %v", err)
			}
			ct, _, _ := h.ContentType()
			p.types = append(p.types, ct)
			if id := h.Get("Content-Id"); id != "" {
				p.inline[strings.Trim(id, "<>")] = b
				continue
			}
			p.files[name] = b
		}
	}
	return p
}

// lf normalises line endings: Dovecot's Maildir stores LF.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestLivePlainText(t *testing.T) {
	s := postfixtest.Start(t)
	t.Parallel()
	from, to := newUser(t, s), newUser(t, s)
	m := &Message{From: Address{"Alice Sender", from.email}, To: []Address{{"Bob", to.email}},
		Subject: "plain text", Text: "Hello Bob,\nline two.\n.\nA dot line above.\n"}
	res, id, _, err := sendBuilt(t, s, liveConfig(s), from, m)
	if err != nil {
		t.Fatalf("Send: %v\n%s", err, s.Log(3000))
	}
	if len(res.Accepted) != 1 || len(res.Refused) != 0 || res.Reply == "" {
		t.Errorf("result = %+v", res)
	}
	p := parse(t, stored(t, s, to.name, 1)[0])
	if p.subject != m.Subject || p.from != "Alice Sender <"+from.email+">" || p.to != "Bob <"+to.email+">" || p.msgID != id {
		t.Errorf("parsed back %+v", p)
	}
	if lf(p.text) != m.Text {
		t.Errorf("text = %q, want %q", p.text, m.Text)
	}
}

func TestLiveHTMLInlineImage(t *testing.T) {
	s := postfixtest.Start(t)
	t.Parallel()
	from, to := newUser(t, s), newUser(t, s)
	img := make([]byte, 30000)
	_, _ = rand.Read(img)
	m := &Message{From: Address{"", from.email}, To: []Address{{"", to.email}}, Subject: "html",
		Text: "see the picture", HTML: `<p>see <img src="cid:pic1@example.test"></p>`,
		Attachments: []Attachment{{Filename: "pic.png", ContentType: "image/png", ContentID: "pic1@example.test", Inline: true, Body: bytes.NewReader(img)}}}
	if _, _, _, err := sendBuilt(t, s, liveConfig(s), from, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	p := parse(t, stored(t, s, to.name, 1)[0])
	if p.types[0] != "multipart/alternative" {
		t.Errorf("top type %q, want multipart/alternative (types %v)", p.types[0], p.types)
	}
	if lf(p.html) != m.HTML || lf(p.text) != m.Text {
		t.Errorf("bodies: text %q html %q", p.text, p.html)
	}
	if !bytes.Equal(p.inline["pic1@example.test"], img) {
		t.Errorf("inline image: %d bytes back, want the %d sent", len(p.inline["pic1@example.test"]), len(img))
	}
}

// TestLiveAttachmentsNonASCII: three attachments (one of 10 MB), non-ASCII
// subject, names and filenames, Cc and Bcc: every recipient gets the same
// bytes; no copy names the Bcc recipient.
func TestLiveAttachmentsNonASCII(t *testing.T) {
	s := postfixtest.Start(t)
	t.Parallel()
	from, to, cc, bcc := newUser(t, s), newUser(t, s), newUser(t, s), newUser(t, s)
	big := make([]byte, 10<<20)
	_, _ = rand.Read(big)
	files := map[string][]byte{
		"résumé – 2026.pdf": []byte("%PDF-1.4 not really\n"),
		"日本語のメモ.txt":        []byte("こんにちは\n"),
		"big.bin":           big,
	}
	m := &Message{From: Address{"Zoë Ärger", from.email}, To: []Address{{"Jürgen Grüße", to.email}},
		Cc: []Address{{"李小龍", cc.email}}, Bcc: []Address{{"Hidden", bcc.email}},
		Subject: "Grüße aus Köln — 日本語の件名, a long one that needs folding across more than one encoded word",
		Text:    "Anbei drei Dateien. Ça va? 👍\n"}
	for _, name := range []string{"résumé – 2026.pdf", "日本語のメモ.txt", "big.bin"} {
		m.Attachments = append(m.Attachments, Attachment{Filename: name, Body: bytes.NewReader(files[name])})
	}
	res, _, raw, err := sendBuilt(t, s, liveConfig(s), from, m)
	if err != nil {
		t.Fatalf("Send: %v\n%s", err, s.Log(3000))
	}
	if len(res.Accepted) != 3 {
		t.Errorf("accepted %v", res.Accepted)
	}
	if bytes.Contains(raw, []byte(bcc.email)) || bytes.Contains(raw, []byte("Hidden")) {
		t.Errorf("the built message names the Bcc recipient")
	}
	if !bytes.Contains(raw, []byte("filename*=utf-8''r%C3%A9sum%C3%A9")) {
		t.Errorf("non-ASCII filename is not RFC 2231-encoded")
	}
	// The To recipient's copy is parsed in full; Cc's and Bcc's have the
	// same body (compared as bytes, cheaper under -race than parsing 10 MB
	// three times) and the same header fields.
	body := func(raw []byte) []byte {
		_, b, _ := bytes.Cut(raw, []byte("\n\n"))
		return b
	}
	toCopy := stored(t, s, to.name, 1)[0]
	for _, u := range []liveUser{to, cc, bcc} {
		got := stored(t, s, u.name, 1)[0]
		if bytes.Contains(got, []byte("Hidden")) {
			t.Errorf("%s's copy names the Bcc recipient", u.name)
		}
		if u != to {
			if !bytes.Equal(body(got), body(toCopy)) {
				t.Errorf("%s's copy differs from the To recipient's", u.name)
			}
			r, err := mail.CreateReader(bytes.NewReader(got)) // the header only: no part is read
			if err != nil {
				t.Fatal(err)
			}
			subj, _ := r.Header.Subject()
			ccl, _ := r.Header.AddressList("Cc")
			if subj != m.Subject || len(ccl) != 1 || ccl[0].Name != "李小龍" || r.Header.Has("Bcc") {
				t.Errorf("%s: header fields back: %q %v", u.name, subj, ccl)
			}
			continue
		}
		p := parse(t, got)
		if p.subject != m.Subject || p.from != "Zoë Ärger <"+from.email+">" || p.to != "Jürgen Grüße <"+to.email+">" || p.cc != "李小龍 <"+cc.email+">" || p.bcc {
			t.Errorf("%s: header fields back: %+v", u.name, p)
		}
		if lf(p.text) != m.Text {
			t.Errorf("text %q", p.text)
		}
		if len(p.files) != 3 {
			t.Errorf("%s: %d attachments back, want 3", u.name, len(p.files))
		}
		for name, want := range files {
			if sha256.Sum256(p.files[name]) != sha256.Sum256(want) {
				t.Errorf("%s: attachment %q: %d bytes back, not the %d sent", u.name, name, len(p.files[name]), len(want))
			}
		}
	}
}

// TestLiveRefusedRecipient: one unknown user among two known ones is
// reported alone (550 5.1.1); the others get the message.
func TestLiveRefusedRecipient(t *testing.T) {
	s := postfixtest.Start(t)
	t.Parallel()
	from, a, b := newUser(t, s), newUser(t, s), newUser(t, s)
	ghost := s.Address("ghost-" + a.name)
	m := &Message{From: Address{"", from.email}, To: []Address{{"", a.email}, {"", ghost}, {"", b.email}}, Subject: "partial", Text: "x"}
	res, _, _, err := sendBuilt(t, s, liveConfig(s), from, m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(res.Accepted) != 2 || res.Accepted[0] != a.email || res.Accepted[1] != b.email {
		t.Errorf("accepted %v", res.Accepted)
	}
	if len(res.Refused) != 1 {
		t.Fatalf("refused %v", res.Refused)
	}
	r := res.Refused[0]
	if r.Address != ghost || r.Code != 550 || r.Enhanced != [3]int{5, 1, 1} || !errors.Is(r, ErrRecipientRefused) || r.Temporary() {
		t.Errorf("refused %+v %v", r, r)
	}
	stored(t, s, a.name, 1)
	stored(t, s, b.name, 1)

	// All refused: an error, and the result lists them.
	m.To = []Address{{"", ghost}}
	res, _, _, err = sendBuilt(t, s, liveConfig(s), from, m)
	if !errors.Is(err, ErrNoRecipients) || res == nil || len(res.Refused) != 1 {
		t.Errorf("all refused: %v %+v", err, res)
	}
	// Another domain: relay refused.
	m.To = []Address{{"", "someone@elsewhere.invalid"}}
	if _, _, _, err = sendBuilt(t, s, liveConfig(s), from, m); !errors.Is(err, ErrNoRecipients) {
		t.Errorf("foreign domain: %v", err)
	}
}

// TestLiveImplicitTLSAndMaster: port-465 style, and a master-user login
// (AUTH PLAIN with an authorization identity) sending as the user.
func TestLiveImplicitTLSAndMaster(t *testing.T) {
	s := postfixtest.Start(t)
	t.Parallel()
	from, to := newUser(t, s), newUser(t, s)
	cfg := liveConfig(s)
	cfg.Addr, cfg.Security = s.SubmissionsAddr, SecurityTLS
	m := &Message{From: Address{"", from.email}, To: []Address{{"", to.email}}, Subject: "via 465", Text: "x"}
	if _, _, _, err := sendBuilt(t, s, cfg, from, m); err != nil {
		t.Fatalf("implicit TLS: %v", err)
	}
	var buf bytes.Buffer
	m.Subject = "as master"
	if _, err := Build(&buf, m); err != nil {
		t.Fatal(err)
	}
	creds := Credentials{Username: s.Dovecot.Master.Name, Password: s.Dovecot.Master.Password, AuthzID: from.name}
	if _, err := Send(context.Background(), cfg, creds, m.Envelope(), &buf, int64(buf.Len())); err != nil {
		t.Fatalf("master user: %v\n%s", err, s.Log(2000))
	}
	stored(t, s, to.name, 2)
}

func TestLiveRefusals(t *testing.T) {
	s := postfixtest.Start(t)
	t.Parallel()
	from, to := newUser(t, s), newUser(t, s)
	env := Envelope{From: from.email, To: []string{to.email}}
	msg := "Subject: x\r\n\r\nx\r\n"
	send := func(cfg Config, cr Credentials, size int64) error {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, err := Send(ctx, cfg, cr, env, strings.NewReader(msg), size)
		return err
	}
	var se *ServerError
	if err := send(liveConfig(s), Credentials{Username: from.name, Password: "wrong"}, int64(len(msg))); !errors.Is(err, ErrAuthFailed) || !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("wrong password: %v", err)
	}
	cfg := liveConfig(s)
	cfg.TLSConfig = cfg.TLSConfig.Clone()
	cfg.TLSConfig.RootCAs = x509.NewCertPool() // not the test CA
	if err := send(cfg, from.creds(), int64(len(msg))); !errors.Is(err, ErrTLS) {
		t.Errorf("unknown CA: %v", err)
	}
	cfg = liveConfig(s)
	cfg.TLSConfig = cfg.TLSConfig.Clone()
	cfg.TLSConfig.ServerName = "other.example.test"
	if err := send(cfg, from.creds(), int64(len(msg))); !errors.Is(err, ErrTLS) {
		t.Errorf("wrong host name: %v", err)
	}
	if err := send(liveConfig(s), from.creds(), s.SizeLimit+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over SIZE: %v", err)
	}
	if err := send(liveConfig(s), Credentials{Username: from.name, Password: from.password, Mechanism: "XOAUTH2"}, int64(len(msg))); !errors.Is(err, ErrAuthUnsupported) {
		t.Errorf("XOAUTH2 not offered: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Send(ctx, liveConfig(s), from.creds(), env, strings.NewReader(msg), int64(len(msg))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
