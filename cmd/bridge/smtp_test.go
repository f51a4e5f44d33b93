package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/submit"
)

// TestSMTPConfig: an upstream's "smtp" section loads into bridge.SMTP, and
// its mistakes (cleartext, a port other than 587/465 for a public server,
// a bad identity, an unknown member) are configuration errors.
func TestSMTPConfig(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := func(smtp string) string {
		p := filepath.Join(dir, "c.json")
		text := `{"allowedOrigins":["https://a.example"],"upstreams":[{"name":"u","addr":"imap.example.com:993","smtp":` + smtp +
			`}],"auth":{"issuer":"i","audience":"a","hmacSecretFile":"` + secret + `"}}`
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	l, err := loadFile(cfg(`{"addr":"smtp.example.com:587","identities":["{user}@example.com"],"sentMailbox":"Gesendet","savesSent":true}`))
	if err != nil {
		t.Fatal(err)
	}
	m := l.cfg.Upstreams[0].SMTP
	if m == nil || m.Addr != "smtp.example.com:587" || m.Security != "" || len(m.Identities) != 1 || m.SentMailbox != "Gesendet" || !m.SavesSent {
		t.Fatalf("smtp = %+v", m)
	}
	if l, err = loadFile(cfg(`{"addr":"smtp.example.com:465","security":"tls"}`)); err != nil || l.cfg.Upstreams[0].SMTP.Security != submit.SecurityTLS {
		t.Fatalf("tls: %v", err)
	}
	for _, tc := range []struct{ smtp, err string }{
		{`{"addr":"smtp.example.com:25"}`, "port 25 not allowed"},
		{`{"addr":"smtp.example.com:587","security":"plain"}`, "unknown security"},
		{`{"addr":"smtp.example.com:465","security":"starttls"}`, "not allowed"},
		{`{"addr":"smtp.example.com:587","identities":["nobody"]}`, "bad identity"},
		{`{"addr":"smtp.example.com"}`, "host:port"},
		{`{"addr":"smtp.example.com:587","password":"x"}`, "unknown field"},
	} {
		if _, err := loadFile(cfg(tc.smtp)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err %v, want %q", tc.smtp, err, tc.err)
		}
	}
}
