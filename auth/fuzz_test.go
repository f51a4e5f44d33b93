package auth

import (
	"crypto"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary strings to Verify: no panic, every failure a
// *TokenError whose message does not quote the input, and any success
// carries well-formed claims.
func FuzzVerify(f *testing.F) {
	k := testKeys(f)
	c := baseClaims()
	seeds := []string{
		mint(f, jwt.SigningMethodHS256, testSecret, c),
		mint(f, jwt.SigningMethodEdDSA, k.ed, c, "kid", "d"),
		mint(f, jwt.SigningMethodHS256, testSecret, with(c, "scope", "write delete mailbox:INBOX")),
		b64(`{"alg":"none"}`) + "." + b64(`{"sub":"x"}`) + ".",
		b64(`{"alg":"EdDSA","kid":"d","crit":["x"]}`) + "." + b64(`{}`) + ".AA",
		"", ".", "..", "a.b.c", strings.Repeat(".", 100), "eyJ.eyJ.", "\xff\x00.\n.",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	hs := newVerifier(f, hsConfig())
	pk := newVerifier(f, pkConfig(map[string]crypto.PublicKey{"d": k.ed.Public(), "e": &k.ec.PublicKey}))
	f.Fuzz(func(t *testing.T, token string) {
		for _, v := range []*Verifier{hs, pk} {
			c, err := v.Verify(token)
			if err != nil {
				var te *TokenError
				if !errors.As(err, &te) || !errors.Is(err, ErrTokenInvalid) {
					t.Fatalf("untyped error %v", err)
				}
				if len(token) >= 8 && strings.Contains(err.Error(), token) {
					t.Fatalf("error quotes the token: %v", err)
				}
				continue
			}
			if c.Subject == "" || c.ExpiresAt.IsZero() {
				t.Fatalf("accepted claims %v", c)
			}
		}
	})
}
