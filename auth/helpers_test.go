package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "imap-bridge"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// testKeys are generated once per process.
type testKeySet struct {
	rsa     *rsa.PrivateKey
	rsa1024 *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	ec384   *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	ed2     ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keysVal  testKeySet
	keysErr  error
)

func testKeys(t testing.TB) testKeySet {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		keysVal.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		var e error
		keysVal.rsa1024, e = rsa.GenerateKey(rand.Reader, 1024)
		must(e)
		keysVal.ec, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		keysVal.ec384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(e)
		_, keysVal.ed, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		_, keysVal.ed2, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		keysErr = err
	})
	if keysErr != nil {
		t.Fatalf("generate keys: %v", keysErr)
	}
	return keysVal
}

// at returns a clock fixed at testNow+d.
func at(d time.Duration) func() time.Time {
	return func() time.Time { return testNow.Add(d) }
}

// baseClaims are valid claims issued at testNow for ten minutes.
func baseClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "alice", "cred": "password",
		"iat": testNow.Unix(), "exp": testNow.Add(10 * time.Minute).Unix(), "scope": "read",
		"jti": "t-1",
	}
}

// with returns a copy of m with the given changes; a nil value deletes the key.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

// b64 is unpadded base64url.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw signs the exact header and payload JSON texts with method and key.
func signRaw(t testing.TB, method jwt.SigningMethod, key any, header, payload string) string {
	t.Helper()
	in := b64(header) + "." + b64(payload)
	sig, err := method.Sign(in, key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// mint signs claims with a header {"alg", "typ": DefaultTokenType} plus extra
// header fields (a nil value deletes the field).
func mint(t testing.TB, method jwt.SigningMethod, key any, claims map[string]any, hdr ...any) string {
	t.Helper()
	h := with(map[string]any{"alg": method.Alg(), "typ": DefaultTokenType}, hdr...)
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	pj, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return signRaw(t, method, key, string(hj), string(pj))
}

// hsConfig is a valid HS256 configuration at testNow.
func hsConfig() Config {
	return Config{Issuer: testIssuer, Audience: testAudience, Type: DefaultTokenType,
		HMACSecret: testSecret, Now: at(0)}
}

// pkConfig is a valid public-key configuration at testNow.
func pkConfig(keys map[string]crypto.PublicKey) Config {
	return Config{Issuer: testIssuer, Audience: testAudience, Type: DefaultTokenType,
		PublicKeys: keys, Now: at(0)}
}

func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// checkErrorHygiene fails when err's message quotes the token or its parts.
func checkErrorHygiene(t testing.TB, token string, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "auth: ") {
		t.Errorf("error %q does not start with the package name", msg)
	}
	for _, part := range append(strings.Split(token, "."), token) {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("error %q quotes the token", msg)
		}
	}
}
