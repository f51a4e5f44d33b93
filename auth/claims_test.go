package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestApplicationClaims(t *testing.T) {
	v := newVerifier(t, hsConfig())
	c := baseClaims()
	s := func(m map[string]any) string { return mint(t, jwt.SigningMethodHS256, testSecret, m) }
	raw := func(payload string) string {
		return signRaw(t, jwt.SigningMethodHS256, testSecret, `{"alg":"HS256","typ":"imapbridge+jwt"}`, payload)
	}
	exp := testNow.Add(5 * time.Minute).Unix()
	okPayload := fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"alice","cred":"password","exp":%d}`, testIssuer, testAudience, exp)
	runVerifyCases(t, v, []verifyCase{
		{"minimal", raw(okPayload), nil},
		{"master", s(with(c, "cred", "master", "ups", "primary", "imap_user", "alice@example.test")), nil},
		{"oauth", s(with(c, "cred", "oauth", "oauth_token", "ya29.token")), nil},
		{"oauth without token", s(with(c, "cred", "oauth")), []error{ErrBadClaim}},
		{"oauth token with password", s(with(c, "oauth_token", "ya29.token")), []error{ErrBadClaim}},
		{"cred missing", s(with(c, "cred", nil)), []error{ErrBadClaim}},
		{"cred unknown", s(with(c, "cred", "kerberos")), []error{ErrBadClaim}},
		{"cred upper case", s(with(c, "cred", "PASSWORD")), []error{ErrBadClaim}},
		{"sub missing", s(with(c, "sub", nil)), []error{ErrBadClaim}},
		{"sub with newline", s(with(c, "sub", "alice\r\nbob")), []error{ErrBadClaim}},
		{"sub too long", s(with(c, "sub", strings.Repeat("a", MaxClaimLength+1))), []error{ErrBadClaim}},
		{"ups host", s(with(c, "ups", "imap.attacker.test")), []error{ErrBadClaim}},
		{"ups host:port", s(with(c, "ups", "127.0.0.1:993")), []error{ErrBadClaim}},
		{"ups name", s(with(c, "ups", "Primary_eu-1")), nil},
		{"imap_user NUL", s(with(c, "imap_user", "a\x00b")), []error{ErrBadClaim}},
		{"scope write delete mailboxes", s(with(c, "scope", "write delete mailbox:INBOX mailbox:Archive%2F*")), nil},
		{"scope unknown word", s(with(c, "scope", "read mailboxes:INBOX")), []error{ErrBadClaim}},
		{"scope not a string", s(with(c, "scope", []string{"read"})), []error{ErrBadClaim}},
		{"sub not a string", s(with(c, "sub", 5)), []error{ErrBadClaim}},
		{"claims not an object", raw(`["sub"]`), []error{ErrTokenInvalid}},
		{"duplicate sub", raw(strings.Replace(okPayload, `"sub":"alice"`, `"sub":"alice","sub":"bob"`, 1)), []error{ErrBadClaim}},
		{"duplicate cred", raw(strings.Replace(okPayload, `"cred":"password"`, `"cred":"password","cred":"master"`, 1)), []error{ErrBadClaim}},
		{"case-variant sub only", raw(strings.Replace(okPayload, `"sub"`, `"SUB"`, 1)), []error{ErrBadClaim}},
		{"trailing data", raw(okPayload + `{}`), []error{ErrTokenInvalid}},
	})

	got, err := v.Verify(s(with(c, "cred", "oauth", "oauth_token", "ya29.token", "ups", "primary",
		"imap_user", "alice@example.test", "scope", "write delete mailbox:INBOX mailbox:Sent%20Items",
		"aud", []string{"x", testAudience})))
	if err != nil {
		t.Fatal(err)
	}
	want := &Claims{Subject: "alice", Issuer: testIssuer, Audience: []string{"x", testAudience}, Upstream: "primary",
		IMAPUser: "alice@example.test", Credential: CredentialOAuth, OAuthToken: "ya29.token",
		Scopes:    Scopes{MayDelete: true, Mailboxes: []string{"INBOX", "Sent Items"}},
		ExpiresAt: testNow.Add(10 * time.Minute), IssuedAt: testNow, ID: "t-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("claims\n got %v\nwant %v", got, want)
	}
	if got.OAuthToken != "ya29.token" {
		t.Error("OAuthToken lost")
	}
}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Scopes
		wantErr bool
	}{
		{"", Scopes{ReadOnly: true}, false},
		{"read", Scopes{ReadOnly: true}, false},
		{"delete", Scopes{ReadOnly: true}, false},
		{"write", Scopes{}, false},
		{"read write", Scopes{}, false},
		{"write delete", Scopes{MayDelete: true}, false},
		{"  write\tdelete  ", Scopes{MayDelete: true}, false},
		{"mailbox:INBOX mailbox:Archive/*", Scopes{ReadOnly: true, Mailboxes: []string{"INBOX", "Archive/*"}}, false},
		{"mailbox:Sent%20Items", Scopes{ReadOnly: true, Mailboxes: []string{"Sent Items"}}, false},
		{"mailbox:%C3%A9t%C3%A9", Scopes{ReadOnly: true, Mailboxes: []string{"été"}}, false},
		{"admin", Scopes{}, true},
		{"Write", Scopes{}, true},
		{"mailbox:", Scopes{}, true},
		{"mailbox:*", Scopes{}, true},
		{"mailbox:a*b", Scopes{}, true},
		{"mailbox:a%25", Scopes{}, true},
		{"mailbox:%zz", Scopes{}, true},
		{"mailbox:a%0Db", Scopes{}, true},
		{"mailbox:%FF", Scopes{}, true},
		{strings.Repeat("mailbox:a ", MaxMailboxScopes+1), Scopes{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseScopes(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrBadClaim) {
					t.Fatalf("ParseScopes: %v, want ErrBadClaim", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			back, err := ParseScopes(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("round trip via %q: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestAllowsMailbox(t *testing.T) {
	restricted := Scopes{Mailboxes: []string{"INBOX", "Archive/*", "Sent Items", "inbox/Team/*"}}
	for _, tc := range []struct {
		scopes Scopes
		name   string
		want   bool
	}{
		{Scopes{}, "anything", true},
		{Scopes{}, "", true},
		{restricted, "INBOX", true},
		{restricted, "inbox", true},
		{restricted, "InBoX", true},
		{restricted, "INBOXES", false},
		{restricted, "Archive/2025", true},
		{restricted, "Archive/2025/Q1", true},
		{restricted, "Archive", false},
		{restricted, "archive/2025", false},
		{restricted, "Archived", false},
		{restricted, "Sent Items", true},
		{restricted, "sent items", false},
		{restricted, "Sent", false},
		{restricted, "INBOX/Team/x", true},
		{restricted, "Inbox/Team/x", true},
		{restricted, "INBOX/Other", false},
		{restricted, "", false},
		{Scopes{Mailboxes: []string{"INBOX.*"}}, "inbox.Sub", true},
		{Scopes{Mailboxes: []string{"INBOX.*"}}, "INBOX", false},
	} {
		if got := tc.scopes.AllowsMailbox(tc.name); got != tc.want {
			t.Errorf("%v.AllowsMailbox(%q) = %v, want %v", tc.scopes.Mailboxes, tc.name, got, tc.want)
		}
	}
}

// TestRedaction covers security D5 for every type holding a secret.
func TestRedaction(t *testing.T) {
	const oauth = "ya29.SECRET-OAUTH-TOKEN"
	secret := []byte("SUPER-SECRET-HMAC-KEY-0123456789abcdef")
	claims := Claims{Subject: "alice", Credential: CredentialOAuth, OAuthToken: oauth}
	cfg := hsConfig()
	cfg.HMACSecret = secret
	v := newVerifier(t, cfg)
	signer, err := NewHMACSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{oauth, string(secret), fmt.Sprintf("%x", secret), fmt.Sprint([]byte(secret)),
		fmt.Sprintf("%d", secret[:4]), "U1VQRVItU0VDUkVU"}
	values := map[string]any{"claims": claims, "claims ptr": &claims, "config": cfg, "config ptr": &cfg,
		"verifier": v, "signer": signer, "nested": struct{ C Claims }{claims}}
	for name, val := range values {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			outs = append(outs, fmt.Sprintf(verb, val))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", val)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", val)
		outs = append(outs, buf.String())
		if j, err := json.Marshal(val); err == nil {
			outs = append(outs, string(j))
		}
		for _, out := range outs {
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("%s: output %q leaks a secret", name, out)
				}
			}
		}
	}
	if !strings.Contains(fmt.Sprint(claims), redacted) || !strings.Contains(fmt.Sprint(cfg), redacted) {
		t.Error("redaction marker missing")
	}
}
