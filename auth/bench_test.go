package auth

import (
	"crypto"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkVerify(b *testing.B) {
	k := testKeys(b)
	c := baseClaims()
	pk := newVerifier(b, pkConfig(map[string]crypto.PublicKey{"r": &k.rsa.PublicKey, "e": &k.ec.PublicKey, "d": k.ed.Public()}))
	for _, bc := range []struct {
		name  string
		v     *Verifier
		token string
	}{
		{"HS256", newVerifier(b, hsConfig()), mint(b, jwt.SigningMethodHS256, testSecret, c)},
		{"RS256", pk, mint(b, jwt.SigningMethodRS256, k.rsa, c, "kid", "r")},
		{"ES256", pk, mint(b, jwt.SigningMethodES256, k.ec, c, "kid", "e")},
		{"EdDSA", pk, mint(b, jwt.SigningMethodEdDSA, k.ed, c, "kid", "d")},
		{"oversize-1MB", pk, strings.Repeat(".", 1<<20)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = bc.v.Verify(bc.token)
			}
		})
	}
}
