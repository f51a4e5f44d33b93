package postfixtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// deliveryDeadline bounds the wait for Postfix to hand a message to Dovecot.
const deliveryDeadline = 30 * time.Second

// TestSmoke submits one message through the STARTTLS listener and one through
// the implicit-TLS listener as a fresh Dovecot user, and finds both in the
// recipient's Maildir; an unknown user and a foreign domain are refused at
// RCPT time; AUTH is not offered before STARTTLS.
func TestSmoke(t *testing.T) {
	s := Start(t)
	from, fromPW := s.Dovecot.NewUser(t)
	to, _ := s.Dovecot.NewUser(t)

	plain, err := smtp.Dial(s.SubmissionAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Errorf("AUTH offered before STARTTLS")
	}
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Errorf("STARTTLS not offered")
	}
	plain.Close()

	for i, dial := range []func() (*smtp.Client, error){
		func() (*smtp.Client, error) { return smtp.DialStartTLS(s.SubmissionAddr, s.TLSConfig()) },
		func() (*smtp.Client, error) { return smtp.DialTLS(s.SubmissionsAddr, s.TLSConfig()) },
	} {
		c, err := dial()
		if err != nil {
			t.Fatal(err)
		}
		if size, ok := c.MaxMessageSize(); !ok || int64(size) != s.SizeLimit {
			t.Errorf("SIZE = %d %v, want %d", size, ok, s.SizeLimit)
		}
		if err := c.Auth(sasl.NewPlainClient("", from, fromPW)); err != nil {
			t.Fatalf("AUTH PLAIN: %v\n%s", err, s.Log(4000))
		}
		if err := c.Mail(s.Address(from), nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(s.Address(to), nil); err != nil {
			t.Fatalf("RCPT known user: %v", err)
		}
		var se *smtp.SMTPError
		if err := c.Rcpt(s.Address("nobody-"+to), nil); !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
			t.Errorf("RCPT unknown user: %v, want 550 5.1.1", err)
		}
		if err := c.Rcpt("someone@elsewhere.invalid", nil); !errors.As(err, &se) || se.Code/100 != 5 {
			t.Errorf("RCPT foreign domain: %v, want a 5xx refusal", err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		subject := "smoke " + string(rune('A'+i))
		if _, err := w.Write([]byte("From: <" + s.Address(from) + ">\r\nTo: <" + s.Address(to) + ">\r\nSubject: " + subject + "\r\n\r\nhello\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
		waitMaildir(t, s, to, subject)
	}
}

// TestBadPassword: a wrong password is refused with 535.
func TestBadPassword(t *testing.T) {
	s := Start(t)
	user, _ := s.Dovecot.NewUser(t)
	c, err := smtp.DialTLS(s.SubmissionsAddr, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var se *smtp.SMTPError
	if err := c.Auth(sasl.NewPlainClient("", user, "wrong")); !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("AUTH with a wrong password: %v, want 535", err)
	}
}

// waitMaildir waits until a message with subject is in user's INBOX Maildir.
func waitMaildir(t *testing.T, s *Server, user, subject string) {
	t.Helper()
	dir := filepath.Join(s.Dovecot.Dir, "mail", user, "Maildir", "new")
	deadline := time.Now().Add(deliveryDeadline)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && strings.Contains(string(b), "Subject: "+subject+"\n") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%q not delivered to %s within %v\n%s", subject, user, deliveryDeadline, s.Log(4000))
}
