package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyCase is one row of the token tables: want nil means accepted.
type verifyCase struct {
	name  string
	token string
	want  []error
}

func runVerifyCases(t *testing.T, v *Verifier, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(tc.token)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				if c.Subject == "" {
					t.Fatal("no subject")
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("Verify: %v, want errors.Is %v", err, w)
				}
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Errorf("Verify: %T is not a *TokenError", err)
			}
			checkErrorHygiene(t, tc.token, err)
		})
	}
}

// TestAlgNone covers security G1.
func TestAlgNone(t *testing.T) {
	v := newVerifier(t, hsConfig())
	payload := b64(`{"iss":"https://issuer.test","aud":"imap-bridge","sub":"alice","cred":"password","exp":4102444800}`)
	var cases []verifyCase
	for _, alg := range []string{"none", "None", "NONE", "nOnE", ""} {
		h := b64(`{"alg":"` + alg + `","typ":"imapbridge+jwt"}`)
		cases = append(cases,
			verifyCase{"empty sig " + alg, h + "." + payload + ".", []error{ErrTokenInvalid}},
			verifyCase{"junk sig " + alg, h + "." + payload + ".AAAA", []error{ErrTokenInvalid}},
		)
	}
	cases = append(cases, verifyCase{"no alg", b64(`{"typ":"imapbridge+jwt"}`) + "." + payload + ".", []error{ErrTokenInvalid}})
	runVerifyCases(t, v, cases)
}

// TestAlgorithmConfusion covers security G2.
func TestAlgorithmConfusion(t *testing.T) {
	k := testKeys(t)
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsaOnly := newVerifier(t, pkConfig(map[string]crypto.PublicKey{"r": &k.rsa.PublicKey}))
	mixed := newVerifier(t, pkConfig(map[string]crypto.PublicKey{
		"r": &k.rsa.PublicKey, "e": &k.ec.PublicKey, "d": k.ed.Public()}))
	hs := newVerifier(t, hsConfig())
	c := baseClaims()

	t.Run("rsa-only", func(t *testing.T) {
		runVerifyCases(t, rsaOnly, []verifyCase{
			{"RS256 ok", mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", "r"), nil},
			{"RS256 without kid, single key", mint(t, jwt.SigningMethodRS256, k.rsa, c), nil},
			{"HS256 keyed with the PEM", mint(t, jwt.SigningMethodHS256, pemBytes, c, "kid", "r"), []error{jwt.ErrTokenSignatureInvalid}},
			{"HS256 keyed with the DER", mint(t, jwt.SigningMethodHS256, der, c, "kid", "r"), []error{jwt.ErrTokenSignatureInvalid}},
			{"ES256", mint(t, jwt.SigningMethodES256, k.ec, c, "kid", "r"), []error{jwt.ErrTokenSignatureInvalid}},
			{"PS256", mint(t, jwt.SigningMethodPS256, k.rsa, c, "kid", "r"), []error{jwt.ErrTokenSignatureInvalid}},
			{"RS512", mint(t, jwt.SigningMethodRS512, k.rsa, c, "kid", "r"), []error{jwt.ErrTokenSignatureInvalid}},
		})
	})
	t.Run("mixed", func(t *testing.T) {
		runVerifyCases(t, mixed, []verifyCase{
			{"ES256 ok", mint(t, jwt.SigningMethodES256, k.ec, c, "kid", "e"), nil},
			{"EdDSA ok", mint(t, jwt.SigningMethodEdDSA, k.ed, c, "kid", "d"), nil},
			{"ES256 under the RSA kid", mint(t, jwt.SigningMethodES256, k.ec, c, "kid", "r"), []error{ErrAlgorithmMismatch}},
			{"RS256 under the EC kid", mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", "e"), []error{ErrAlgorithmMismatch}},
			{"EdDSA under the RSA kid", mint(t, jwt.SigningMethodEdDSA, k.ed, c, "kid", "r"), []error{ErrAlgorithmMismatch}},
			{"HS256 keyed with the PEM", mint(t, jwt.SigningMethodHS256, pemBytes, c, "kid", "r"), []error{jwt.ErrTokenSignatureInvalid}},
			{"unknown kid", mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", "gone"), []error{ErrUnknownKeyID}},
			{"kid not a string", mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", 7), []error{ErrUnknownKeyID}},
			{"missing kid, several keys", mint(t, jwt.SigningMethodRS256, k.rsa, c), []error{ErrKeyIDRequired}},
			{"right kid, other key", mint(t, jwt.SigningMethodEdDSA, k.ed2, c, "kid", "d"), []error{jwt.ErrTokenSignatureInvalid}},
			{"crit header", mint(t, jwt.SigningMethodES256, k.ec, c, "kid", "e", "crit", []string{"exp"}), []error{ErrCriticalHeader}},
		})
	})
	t.Run("hmac", func(t *testing.T) {
		runVerifyCases(t, hs, []verifyCase{
			{"HS256 ok", mint(t, jwt.SigningMethodHS256, testSecret, c), nil},
			{"HS256 with any kid", mint(t, jwt.SigningMethodHS256, testSecret, c, "kid", "x"), nil},
			{"HS384", mint(t, jwt.SigningMethodHS384, testSecret, c), []error{jwt.ErrTokenSignatureInvalid}},
			{"HS256 other secret", mint(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), c), []error{jwt.ErrTokenSignatureInvalid}},
			{"RS256", mint(t, jwt.SigningMethodRS256, k.rsa, c), []error{jwt.ErrTokenSignatureInvalid}},
		})
	})
}

// TestTimeClaims covers security G3 with the default 30 s leeway, and the
// lifetime cap.
func TestTimeClaims(t *testing.T) {
	v := newVerifier(t, hsConfig())
	c := baseClaims()
	s := func(m map[string]any) string { return mint(t, jwt.SigningMethodHS256, testSecret, m) }
	u := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	runVerifyCases(t, v, []verifyCase{
		{"valid", s(c), nil},
		{"no exp", s(with(c, "exp", nil)), []error{jwt.ErrTokenRequiredClaimMissing}},
		{"exp now-61s", s(with(c, "iat", u(-5*time.Minute), "exp", u(-61*time.Second))), []error{ErrTokenExpired, jwt.ErrTokenExpired}},
		{"exp now-31s", s(with(c, "iat", u(-5*time.Minute), "exp", u(-31*time.Second))), []error{ErrTokenExpired}},
		{"exp now-20s", s(with(c, "iat", u(-5*time.Minute), "exp", u(-20*time.Second))), nil},
		{"nbf now+2min", s(with(c, "nbf", u(2*time.Minute))), []error{jwt.ErrTokenNotValidYet}},
		{"nbf now+20s", s(with(c, "nbf", u(20*time.Second))), nil},
		{"iat now+2min", s(with(c, "iat", u(2*time.Minute))), []error{jwt.ErrTokenUsedBeforeIssued}},
		{"iat now+20s", s(with(c, "iat", u(20*time.Second))), nil},
		{"exp not a number", s(with(c, "exp", "tomorrow")), []error{ErrTokenInvalid}},
		{"exp before iat", s(with(c, "iat", u(20*time.Second), "exp", u(10*time.Second))), []error{ErrBadClaim}},
		{"lifetime 15min", s(with(c, "exp", u(15*time.Minute))), nil},
		{"lifetime 15min+1s", s(with(c, "exp", u(15*time.Minute+time.Second))), []error{ErrLifetimeExceeded}},
		{"lifetime a year", s(with(c, "exp", u(365*24*time.Hour))), []error{ErrLifetimeExceeded}},
		{"no iat, exp now+15min+30s", s(with(c, "iat", nil, "exp", u(15*time.Minute+30*time.Second))), nil},
		{"no iat, exp now+16min", s(with(c, "iat", nil, "exp", u(16*time.Minute))), []error{ErrLifetimeExceeded}},
	})
}

// TestClockSkew covers security G11: ±59 s pass and ±61 s fail with a 60 s leeway.
func TestClockSkew(t *testing.T) {
	fresh := mint(t, jwt.SigningMethodHS256, testSecret, with(baseClaims(), "nbf", testNow.Unix()))
	ending := mint(t, jwt.SigningMethodHS256, testSecret, with(baseClaims(),
		"iat", testNow.Add(-5*time.Minute).Unix(), "exp", testNow.Unix()))
	for _, tc := range []struct {
		name  string
		token string
		skew  time.Duration
		ok    bool
	}{
		{"verifier 59s behind the issuer", fresh, -59 * time.Second, true},
		{"verifier 61s behind the issuer", fresh, -61 * time.Second, false},
		{"verifier 59s past exp", ending, 59 * time.Second, true},
		{"verifier 61s past exp", ending, 61 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hsConfig()
			cfg.Leeway = MaxLeeway
			cfg.Now = at(tc.skew)
			_, err := newVerifier(t, cfg).Verify(tc.token)
			if (err == nil) != tc.ok {
				t.Fatalf("Verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestAudienceIssuerType covers security G4.
func TestAudienceIssuerType(t *testing.T) {
	v := newVerifier(t, hsConfig())
	c := baseClaims()
	s := func(m map[string]any, hdr ...any) string {
		return mint(t, jwt.SigningMethodHS256, testSecret, m, hdr...)
	}
	idToken := with(c, "aud", "webmail-client-id", "nonce", "n", "azp", "webmail-client-id")
	runVerifyCases(t, v, []verifyCase{
		{"aud missing", s(with(c, "aud", nil)), []error{jwt.ErrTokenRequiredClaimMissing}},
		{"aud other-svc", s(with(c, "aud", "other-svc")), []error{jwt.ErrTokenInvalidAudience}},
		{"aud array containing ours", s(with(c, "aud", []string{"other", testAudience})), nil},
		{"aud array without ours", s(with(c, "aud", []string{"other", "more"})), []error{jwt.ErrTokenInvalidAudience}},
		{"aud case differs", s(with(c, "aud", "IMAP-BRIDGE")), []error{jwt.ErrTokenInvalidAudience}},
		{"iss wrong", s(with(c, "iss", "https://evil.test")), []error{jwt.ErrTokenInvalidIssuer}},
		{"iss missing", s(with(c, "iss", nil)), []error{jwt.ErrTokenRequiredClaimMissing}},
		{"ID token from the same IdP", s(idToken, "typ", "JWT"), []error{ErrWrongType}},
		{"typ missing", s(c, "typ", nil), []error{ErrWrongType}},
		{"typ JWT", s(c, "typ", "JWT"), []error{ErrWrongType}},
		{"typ not a string", s(c, "typ", 1), []error{ErrWrongType}},
		{"typ upper case", s(c, "typ", "IMAPBRIDGE+JWT"), nil},
		{"typ with application/", s(c, "typ", "application/imapbridge+jwt"), nil},
	})
	cfg := hsConfig()
	cfg.Type = ""
	unchecked := newVerifier(t, cfg)
	if _, err := unchecked.Verify(s(c, "typ", nil)); err != nil {
		t.Errorf("Type \"\": typ missing refused: %v", err)
	}
}

// TestTokenSize covers security G6.
func TestTokenSize(t *testing.T) {
	v := newVerifier(t, hsConfig())
	dots := strings.Repeat(".", 1<<20)
	over := strings.Repeat("a", DefaultMaxTokenSize+1)
	runVerifyCases(t, v, []verifyCase{
		{"1 MB of dots", dots, []error{ErrTokenTooLarge}},
		{"8 KiB + 1", over, []error{ErrTokenTooLarge}},
		{"8 KiB of garbage", over[1:], []error{ErrTokenInvalid}},
		{"empty", "", []error{ErrTokenInvalid}},
		{"padded valid", mint(t, jwt.SigningMethodHS256, testSecret, with(baseClaims(), "pad", strings.Repeat("p", 5000))), nil},
		{"too large valid", mint(t, jwt.SigningMethodHS256, testSecret, with(baseClaims(), "pad", strings.Repeat("p", 7000))), []error{ErrTokenTooLarge}},
	})
	if _, err := v.Verify(over[1:]); errors.Is(err, ErrTokenTooLarge) {
		t.Error("8 KiB token reported as too large")
	}
	allocs := testing.AllocsPerRun(20, func() { _, _ = v.Verify(dots) })
	if allocs > 1 {
		t.Errorf("oversize rejection allocates %.0f times, want at most 1", allocs)
	}
	cfg := hsConfig()
	cfg.MaxTokenSize = 100
	if _, err := newVerifier(t, cfg).Verify(mint(t, jwt.SigningMethodHS256, testSecret, baseClaims())); !errors.Is(err, ErrTokenTooLarge) {
		t.Errorf("MaxTokenSize 100: %v", err)
	}
}

// TestKeyRotation covers security G12, with Verify running during Reload.
func TestKeyRotation(t *testing.T) {
	k := testKeys(t)
	c := baseClaims()
	t1 := mint(t, jwt.SigningMethodEdDSA, k.ed, c, "kid", "k1")
	t2 := mint(t, jwt.SigningMethodEdDSA, k.ed2, c, "kid", "k2")
	both := pkConfig(map[string]crypto.PublicKey{"k1": k.ed.Public(), "k2": k.ed2.Public()})
	v := newVerifier(t, both)
	for _, tok := range []string{t1, t2} {
		if _, err := v.Verify(tok); err != nil {
			t.Fatalf("before rotation: %v", err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := v.Verify(t2); err != nil {
					t.Errorf("k2 token failed during rotation: %v", err)
					return
				}
			}
		}
	}()
	if err := v.Reload(pkConfig(map[string]crypto.PublicKey{"k2": k.ed2.Public()})); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	close(stop)
	wg.Wait()
	if _, err := v.Verify(t1); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("removed key: %v, want ErrUnknownKeyID", err)
	}
	if _, err := v.Verify(t2); err != nil {
		t.Errorf("kept key: %v", err)
	}
	bad := both
	bad.Leeway = time.Hour
	if err := v.Reload(bad); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad Reload: %v", err)
	}
	if _, err := v.Verify(t2); err != nil {
		t.Errorf("after a failed Reload the old config must stay: %v", err)
	}
}

// TestConfigValidation covers the F1-style configuration refusals.
func TestConfigValidation(t *testing.T) {
	k := testKeys(t)
	mod := func(f func(*Config)) Config { c := hsConfig(); f(&c); return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"valid HMAC", hsConfig(), nil},
		{"valid keys", pkConfig(map[string]crypto.PublicKey{"a": &k.rsa.PublicKey}), nil},
		{"max leeway", mod(func(c *Config) { c.Leeway = MaxLeeway }), nil},
		{"empty issuer", mod(func(c *Config) { c.Issuer = "" }), ErrInvalidConfig},
		{"blank issuer", mod(func(c *Config) { c.Issuer = "  " }), ErrInvalidConfig},
		{"empty audience", mod(func(c *Config) { c.Audience = "" }), ErrInvalidConfig},
		{"leeway 61s", mod(func(c *Config) { c.Leeway = 61 * time.Second }), ErrInvalidConfig},
		{"negative leeway", mod(func(c *Config) { c.Leeway = -time.Second }), ErrInvalidConfig},
		{"lifetime too long", mod(func(c *Config) { c.MaxLifetime = 25 * time.Hour }), ErrInvalidConfig},
		{"token size too large", mod(func(c *Config) { c.MaxTokenSize = MaxTokenSizeLimit + 1 }), ErrInvalidConfig},
		{"negative token size", mod(func(c *Config) { c.MaxTokenSize = -1 }), ErrInvalidConfig},
		{"short secret", mod(func(c *Config) { c.HMACSecret = testSecret[:31] }), ErrInvalidConfig},
		{"no key source", mod(func(c *Config) { c.HMACSecret = nil }), ErrInvalidConfig},
		{"two key sources", mod(func(c *Config) { c.PublicKeys = map[string]crypto.PublicKey{"a": k.ed.Public()} }), ErrInvalidConfig},
		{"RSA 1024", pkConfig(map[string]crypto.PublicKey{"a": &k.rsa1024.PublicKey}), ErrInvalidKey},
		{"ECDSA P-384", pkConfig(map[string]crypto.PublicKey{"a": &k.ec384.PublicKey}), ErrInvalidKey},
		{"private key", pkConfig(map[string]crypto.PublicKey{"a": k.rsa}), ErrInvalidKey},
		{"nil key", pkConfig(map[string]crypto.PublicKey{"a": nil}), ErrInvalidKey},
		{"HMAC bytes as public key", pkConfig(map[string]crypto.PublicKey{"a": testSecret}), ErrInvalidKey},
		{"short Ed25519", pkConfig(map[string]crypto.PublicKey{"a": k.ed.Public().(ed25519.PublicKey)[:16]}), ErrInvalidKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewVerifier(tc.cfg)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("NewVerifier: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewVerifier: %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "auth: ") || strings.Contains(err.Error(), string(testSecret[:31])) {
				t.Errorf("bad message %q", err)
			}
		})
	}
}

// TestConfigCopied checks that later changes to the caller's map and secret
// do not reach the verifier.
func TestConfigCopied(t *testing.T) {
	secret := append([]byte(nil), testSecret...)
	cfg := hsConfig()
	cfg.HMACSecret = secret
	v := newVerifier(t, cfg)
	tok := mint(t, jwt.SigningMethodHS256, testSecret, baseClaims())
	secret[0] ^= 0xff
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("secret was not copied: %v", err)
	}
	k := testKeys(t)
	keys := map[string]crypto.PublicKey{"a": k.ed.Public()}
	v = newVerifier(t, pkConfig(keys))
	delete(keys, "a")
	if _, err := v.Verify(mint(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), "kid", "a")); err != nil {
		t.Errorf("key map was not copied: %v", err)
	}
}

func TestZeroVerifier(t *testing.T) {
	for _, v := range []*Verifier{nil, {}} {
		if _, err := v.Verify("a.b.c"); !errors.Is(err, ErrNotConfigured) || !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("Verify on %v: %v", v, err)
		}
	}
}
