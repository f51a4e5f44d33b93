package bridge

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// secMapClaims are valid claims as a map, for hand-made tokens.
func secMapClaims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	m := jwt.MapClaims{"iss": secIssuer, "aud": secAudience, "sub": secUser, "ups": secUpstream,
		"imap_user": secUser, "cred": auth.CredentialPassword, "scope": "read write",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	if mod != nil {
		mod(m)
	}
	return m
}

// secHS256 signs claims with the harness secret and typ (omitted if "").
func secHS256(t *testing.T, c jwt.MapClaims, typ string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	delete(tok.Header, "typ")
	if typ != "" {
		tok.Header["typ"] = typ
	}
	s, err := tok.SignedString(secHMAC)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secNone builds an unsigned token with the given alg spelling.
func secNone(alg string, c jwt.MapClaims) string {
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": auth.DefaultTokenType})
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

// TestSecurityTokens covers G1, G3, G4 and D7 end to end: every bad token
// closes the session with 4401 before any IMAP connection; the good ones
// reach hello.
func TestSecurityTokens(t *testing.T) {
	e := newSecEnv(t, secFake(), nil)
	now := time.Now()
	typ := auth.DefaultTokenType
	cases := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"valid", secHS256(t, secMapClaims(nil), typ), true},
		{"alg none", secNone("none", secMapClaims(nil)), false},
		{"alg None", secNone("None", secMapClaims(nil)), false},
		{"alg NONE", secNone("NONE", secMapClaims(nil)), false},
		{"no exp", secHS256(t, secMapClaims(func(m jwt.MapClaims) { delete(m, "exp") }), typ), false},
		{"exp now-61s (leeway 30s)", secHS256(t, secMapClaims(func(m jwt.MapClaims) {
			m["iat"], m["exp"] = now.Add(-2*time.Minute).Unix(), now.Add(-61*time.Second).Unix()
		}), typ), false},
		{"exp now-20s (within leeway)", secHS256(t, secMapClaims(func(m jwt.MapClaims) {
			m["iat"], m["exp"] = now.Add(-2*time.Minute).Unix(), now.Add(-20*time.Second).Unix()
		}), typ), true}, // verified, then ended at once by the expiry timer (see below)
		{"nbf now+2min", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["nbf"] = now.Add(2 * time.Minute).Unix() }), typ), false},
		{"iat in the future", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["iat"] = now.Add(5 * time.Minute).Unix() }), typ), false},
		{"lifetime 1h", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["exp"] = now.Add(time.Hour).Unix() }), typ), false},
		{"aud missing", secHS256(t, secMapClaims(func(m jwt.MapClaims) { delete(m, "aud") }), typ), false},
		{"aud other", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["aud"] = "other-svc" }), typ), false},
		{"aud list with ours", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["aud"] = []string{"other", secAudience} }), typ), true},
		{"wrong iss", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["iss"] = "https://evil.test" }), typ), false},
		{"typ missing", secHS256(t, secMapClaims(nil), ""), false},
		{"typ JWT (an ID token)", secHS256(t, secMapClaims(nil), "JWT"), false},
		{"ups is a host (D7)", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["ups"] = "imap.attacker.test" }), typ), false},
		{"ups is host:port (D7)", secHS256(t, secMapClaims(func(m jwt.MapClaims) { m["ups"] = "127.0.0.2:993" }), typ), false},
		{"bad signature", secHS256(t, secMapClaims(nil), typ)[:40] + "x" + secHS256(t, secMapClaims(nil), typ)[41:], false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.waitIdle()
			conns := e.imap.ConnCount()
			c := e.mustDial(tc.tok)
			if tc.ok && tc.name == "exp now-20s (within leeway)" {
				// The verifier accepts it and the session lives until exp
				// plus the leeway (10 s from now): it says hello.
				if c.hello() == nil {
					t.Errorf("no hello")
				}
				for _, ef := range c.errs {
					if ef.Error.Code == protocol.CodeAuth {
						t.Errorf("refused by the verifier: %+v", ef.Error)
					}
				}
				c.c.Close(websocket.StatusNormalClosure, "")
				return
			}
			if tc.ok {
				c.hello()
				_ = c.c.Close(websocket.StatusNormalClosure, "")
				return
			}
			if got := c.closed(); got != protocol.CloseAuth {
				t.Errorf("close %d, want 4401", got)
			}
			if len(c.errs) != 1 || c.errs[0].Error.Code != protocol.CodeAuth {
				t.Errorf("errors %+v", c.errs)
			}
			if e.imap.ConnCount() != conns {
				t.Error("the IMAP server was contacted")
			}
		})
	}
}

// TestSecurityAlgorithmConfusion covers G2: a bridge pinned to EdDSA refuses
// an HS256 token signed with its public key's bytes, and other algorithms.
func TestSecurityAlgorithmConfusion(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: secIssuer, Audience: secAudience, Type: auth.DefaultTokenType,
		PublicKeys: map[string]crypto.PublicKey{"k1": pub}})
	if err != nil {
		t.Fatal(err)
	}
	e := newSecEnv(t, secFake(), func(c *Config) { c.Verifier = v })
	good, err := auth.NewEd25519Signer(priv, "k1")
	if err != nil {
		t.Fatal(err)
	}
	good.Issuer, good.Audience = secIssuer, secAudience
	okTok, err := good.Sign(secClaims(nil), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.mustDial(okTok).hello()

	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for name, key := range map[string][]byte{"pem": pemBytes, "der": der, "raw": pub} {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, secMapClaims(nil))
		tok.Header["typ"], tok.Header["kid"] = auth.DefaultTokenType, "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("HS256 with public key "+name, func(t *testing.T) {
			if got := e.mustDial(s).closed(); got != protocol.CloseAuth {
				t.Errorf("close %d, want 4401", got)
			}
		})
	}
	if n := e.imap.ConnCount(); n != 1 {
		t.Errorf("IMAP connections %d, want 1 (the good token)", n)
	}
}
