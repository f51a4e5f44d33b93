package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Secrets the log tests look for.
const (
	secMasterPassword = "M4ster-Pa55word-QwE"
	secOAuthToken     = "ya29.oauth-Access-Token-AbC"
	secWrongPassword  = "wrong-Pa55word-JkL"
)

// secLeaks returns the secrets found in text.
func secLeaks(text string, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			found = append(found, s)
		}
	}
	return found
}

// TestSecurityLogRedaction covers D4: the bridge's slog output and its
// error frames never hold a password (good or bad), the PLAIN blob, the
// master password, an OAuth token or a JWT (whole, its signature, or
// URL-encoded), whether the login succeeds or fails. The engine's trace
// is off in the bridge (session.connectUpstream sets Options.Logger to nil),
// so slog is the only sink.
func TestSecurityLogRedaction(t *testing.T) {
	fake := secFake()
	fake.Capabilities = "AUTH=PLAIN AUTH=XOAUTH2"
	fake.Handlers["AUTHENTICATE"] = imaptest.AuthPlainHandler()
	e := newSecEnv(t, fake, func(c *Config) {
		c.Upstreams[0].MasterUser = "master"
		c.Upstreams[0].MasterPassword = secMasterPassword
		c.Upstreams = append(c.Upstreams, Upstream{Name: "down", Addr: "127.0.0.1:1", Security: SecurityPlain,
			AllowPlaintext: true, AllowPrivate: true})
	})
	var frames bytes.Buffer
	collect := func(c *secClient) {
		for _, ef := range c.errs {
			b, _ := protocol.Encode(ef)
			frames.Write(b)
		}
	}
	var tokens []string

	// Password mode: a failed then a successful login.
	tok := e.token(nil)
	tokens = append(tokens, tok)
	c := e.mustDial(tok)
	c.hello()
	c.send(`{"id":"bad","op":"login","password":"` + secWrongPassword + `"}`)
	f := c.await("bad")
	b, _ := protocol.Encode(f)
	frames.Write(b)
	c.send(`{"id":"good","op":"login","password":"` + secPassword + `"}`)
	if code := c.awaitError("good"); code != "" {
		t.Fatalf("login: %s", code)
	}
	c.send(`{"id":"o","op":"logout"}`)
	c.closed()
	collect(c)

	// Master mode (AUTHENTICATE PLAIN with the master password).
	tok = e.token(func(c *auth.Claims) { c.Credential = auth.CredentialMaster })
	tokens = append(tokens, tok)
	c = e.mustDial(tok)
	c.hello()
	c.send(`{"id":"o","op":"logout"}`)
	c.closed()
	collect(c)

	// OAuth mode.
	tok = e.token(func(c *auth.Claims) { c.Credential = auth.CredentialOAuth; c.OAuthToken = secOAuthToken })
	tokens = append(tokens, tok)
	c = e.mustDial(tok)
	c.hello()
	c.send(`{"id":"o","op":"logout"}`)
	c.closed()
	collect(c)

	// A failing upstream, a first-frame token and a refused query token.
	tok = e.token(func(c *auth.Claims) { c.Upstream = "down" })
	tokens = append(tokens, tok)
	c = e.mustDial("")
	c.send(`{"id":"a","op":"auth","token":` + secJSON(tok) + `}`)
	c.closed()
	collect(c)
	tok = e.token(nil)
	tokens = append(tokens, tok)
	if c, _, err := e.dial("", secDialOpts{query: "token=" + url.QueryEscape(tok)}); err == nil {
		c.closed()
		collect(c)
	}
	// An invalid token.
	bad := tok[:len(tok)-4] + "AAAA"
	tokens = append(tokens, bad)
	c = e.mustDial(bad)
	c.closed()
	collect(c)

	secrets := []string{secPassword, secWrongPassword, secMasterPassword, secOAuthToken,
		base64.StdEncoding.EncodeToString([]byte(secUser + "\x00master\x00" + secMasterPassword)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + secUser + "\x00" + secPassword))}
	for _, tk := range tokens {
		parts := strings.Split(tk, ".")
		secrets = append(secrets, tk, url.QueryEscape(tk), parts[len(parts)-1])
	}
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("no log output captured")
	}
	if found := secLeaks(logs, secrets); len(found) > 0 {
		t.Errorf("secrets in the slog output: %q", found)
	}
	if found := secLeaks(frames.String(), secrets); len(found) > 0 {
		t.Errorf("secrets in error frames: %q", found)
	}
	// Every log line is JSON.
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

// TestSecurityValueRedaction covers D5: fmt, slog and JSON renderings of
// Config, Upstream and Claims never show the master password, the HMAC
// secret or the OAuth token.
func TestSecurityValueRedaction(t *testing.T) {
	v, err := auth.NewVerifier(auth.Config{Issuer: secIssuer, Audience: secAudience, HMACSecret: secHMAC})
	if err != nil {
		t.Fatal(err)
	}
	ups := Upstream{Name: "corp", Addr: "imap.example.com:993", MasterUser: "master", MasterPassword: secMasterPassword}
	cfg := Config{Upstreams: []Upstream{ups}, AllowedOrigins: []string{secOrigin}, Verifier: v}
	claims := auth.Claims{Subject: secUser, Credential: auth.CredentialOAuth, OAuthToken: secOAuthToken}
	secrets := []string{secMasterPassword, string(secHMAC), secOAuthToken}

	var renders []string
	for _, val := range []any{cfg, &cfg, ups, &ups, claims, &claims} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			renders = append(renders, fmt.Sprintf(verb, val))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", val)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", val)
		renders = append(renders, buf.String())
		if b, err := json.Marshal(val); err == nil {
			renders = append(renders, string(b))
		}
	}
	renders = append(renders, fmt.Sprint(fmt.Errorf("bridge: connect %v: %w", ups, ErrUpstreamConfig)))
	for i, r := range renders {
		if found := secLeaks(r, secrets); len(found) > 0 {
			t.Errorf("render %d leaks %q: %s", i, found, r)
		}
	}
	// The redacted forms still say which upstream it is.
	if s := fmt.Sprint(ups); !strings.Contains(s, "corp") || !strings.Contains(s, "master") {
		t.Errorf("Upstream renders as %q", s)
	}
}
