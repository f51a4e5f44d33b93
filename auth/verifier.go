// Package auth verifies the JWTs that authorize browser sessions on the
// bridge, and signs them for development and tests.
//
// A [Verifier] accepts exactly one key source — an HS256 secret or a set of
// public keys by kid — and pins one algorithm per key (RS256 for RSA, ES256
// for ECDSA P-256, EdDSA for Ed25519), so algorithm confusion and "alg: none"
// fail. exp, iss and aud are required; the leeway is bounded; the token length
// is checked before any parsing; the lifetime (exp - iat) is capped. Errors
// never contain the token, and secrets never appear in fmt or slog output.
package auth

import (
	"crypto"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verification limits and defaults (security G3, G6; RFC 8725).
const (
	// DefaultLeeway is the clock-skew allowance when Config.Leeway is zero.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the largest Config.Leeway accepted.
	MaxLeeway = 60 * time.Second
	// DefaultMaxLifetime is Config.MaxLifetime when zero.
	DefaultMaxLifetime = 15 * time.Minute
	// MaxLifetimeLimit is the largest Config.MaxLifetime accepted.
	MaxLifetimeLimit = 24 * time.Hour
	// DefaultMaxTokenSize is Config.MaxTokenSize when zero, in bytes.
	DefaultMaxTokenSize = 8 << 10
	// MaxTokenSizeLimit is the largest Config.MaxTokenSize accepted, in bytes.
	MaxTokenSizeLimit = 64 << 10
	// MinHMACSecretSize is the shortest Config.HMACSecret accepted, in bytes
	// (RFC 7518 §3.2: at least the hash size).
	MinHMACSecretSize = 32
	// DefaultTokenType is the typ header the Signer writes and a bridge
	// should set in Config.Type.
	DefaultTokenType = "imapbridge+jwt"
)

// Config configures a Verifier. Exactly one of HMACSecret and PublicKeys must
// be set.
type Config struct {
	// Issuer is the required "iss" value; empty is a config error.
	Issuer string
	// Audience must be one of the token's "aud" values; empty is a config error.
	Audience string
	// Type is the required "typ" header, compared case-insensitively and also
	// accepted with an "application/" prefix (RFC 7515 §4.1.9). Empty disables
	// the check — a risk when the issuer also signs other tokens (ID tokens,
	// refresh tokens) with the same key, iss and aud: those would then be
	// accepted as bridge tokens (RFC 8725 §3.11). Set it to DefaultTokenType.
	Type string
	// Leeway is the clock-skew allowance for exp, nbf and iat: zero means
	// DefaultLeeway, more than MaxLeeway or negative is a config error.
	Leeway time.Duration
	// MaxLifetime caps exp - iat, or exp - now (plus Leeway) when iat is
	// absent: zero means DefaultMaxLifetime; above MaxLifetimeLimit or
	// negative is a config error.
	MaxLifetime time.Duration
	// MaxTokenSize caps the token length in bytes before parsing: zero means
	// DefaultMaxTokenSize; above MaxTokenSizeLimit or negative is a config error.
	MaxTokenSize int
	// HMACSecret verifies HS256 tokens; at least MinHMACSecretSize bytes. It
	// is copied by NewVerifier and never printed or marshalled.
	HMACSecret []byte `json:"-"`
	// PublicKeys maps kid to an *rsa.PublicKey (RS256, at least
	// MinRSAKeyBits), *ecdsa.PublicKey on P-256 (ES256) or ed25519.PublicKey
	// (EdDSA); at most MaxKeys. A token naming an unknown kid is refused; a
	// token without kid is accepted only when there is exactly one key. Fill
	// it with LoadPEMKeys or LoadJWKS.
	PublicKeys map[string]crypto.PublicKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time `json:"-"`
}

// String describes the configuration without the secret.
func (c Config) String() string {
	src := "none"
	switch {
	case len(c.HMACSecret) > 0 && len(c.PublicKeys) > 0:
		src = "HMACSecret=" + redacted + " and PublicKeys"
	case len(c.HMACSecret) > 0:
		src = "HMACSecret=" + redacted
	case len(c.PublicKeys) > 0:
		kids := make([]string, 0, len(c.PublicKeys))
		for k := range c.PublicKeys {
			kids = append(kids, k)
		}
		sort.Strings(kids)
		src = fmt.Sprintf("PublicKeys=%q", kids)
	}
	return fmt.Sprintf("auth.Config{Issuer=%q Audience=%q Type=%q Leeway=%s MaxLifetime=%s MaxTokenSize=%d %s}",
		c.Issuer, c.Audience, c.Type, c.Leeway, c.MaxLifetime, c.MaxTokenSize, src)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so that no verb prints HMACSecret.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue renders the configuration for log/slog without the secret.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// verifyKey is one configured key with its pinned algorithm.
type verifyKey struct {
	alg string
	key any
}

// verifierState is everything Reload swaps at once.
type verifierState struct {
	cfg     Config // normalized, secret copied
	hmac    []byte
	keys    map[string]verifyKey
	parser  *jwt.Parser
	typeLow string
}

// Verifier verifies bridge tokens. It is safe for concurrent use; Reload
// swaps its configuration atomically.
type Verifier struct {
	state atomic.Pointer[verifierState]
}

// NewVerifier validates cfg and returns a Verifier. Errors match
// ErrInvalidConfig or ErrInvalidKey.
func NewVerifier(cfg Config) (*Verifier, error) {
	st, err := newState(cfg)
	if err != nil {
		return nil, err
	}
	v := &Verifier{}
	v.state.Store(st)
	return v, nil
}

// Reload replaces the whole configuration atomically, typically to rotate
// keys (security G12): tokens signed by a removed kid fail from the moment
// Reload returns, while in-flight Verify calls finish with the old keys. On
// error the previous configuration stays in force.
func (v *Verifier) Reload(cfg Config) error {
	st, err := newState(cfg)
	if err != nil {
		return err
	}
	v.state.Store(st)
	return nil
}

// String describes the verifier without secrets.
func (v *Verifier) String() string {
	if v == nil || v.state.Load() == nil {
		return "auth.Verifier{}"
	}
	return "auth.Verifier{" + v.state.Load().cfg.String() + "}"
}

// GoString is String, so %#v redacts too.
func (v *Verifier) GoString() string { return v.String() }

// Format implements fmt.Formatter so that no verb prints the secret.
func (v *Verifier) Format(f fmt.State, verb rune) { formatRedacted(f, verb, v.String()) }

// LogValue renders the verifier for log/slog without secrets.
func (v *Verifier) LogValue() slog.Value { return slog.StringValue(v.String()) }

// newState validates and normalizes cfg.
func newState(cfg Config) (*verifierState, error) {
	cerr := func(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }
	switch {
	case strings.TrimSpace(cfg.Issuer) == "":
		return nil, cerr("Issuer", "required")
	case strings.TrimSpace(cfg.Audience) == "":
		return nil, cerr("Audience", "required")
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return nil, cerr("Leeway", fmt.Sprintf("must be within [0, %s]", MaxLeeway))
	case cfg.MaxLifetime < 0 || cfg.MaxLifetime > MaxLifetimeLimit:
		return nil, cerr("MaxLifetime", fmt.Sprintf("must be within [0, %s]", MaxLifetimeLimit))
	case cfg.MaxTokenSize < 0 || cfg.MaxTokenSize > MaxTokenSizeLimit:
		return nil, cerr("MaxTokenSize", fmt.Sprintf("must be within [0, %d]", MaxTokenSizeLimit))
	case len(cfg.HMACSecret) > 0 && len(cfg.PublicKeys) > 0:
		return nil, cerr("HMACSecret", "set exactly one of HMACSecret and PublicKeys")
	case len(cfg.HMACSecret) == 0 && len(cfg.PublicKeys) == 0:
		return nil, cerr("PublicKeys", "set exactly one of HMACSecret and PublicKeys")
	case len(cfg.HMACSecret) > 0 && len(cfg.HMACSecret) < MinHMACSecretSize:
		return nil, cerr("HMACSecret", fmt.Sprintf("shorter than %d bytes", MinHMACSecretSize))
	case len(cfg.PublicKeys) > MaxKeys:
		return nil, cerr("PublicKeys", fmt.Sprintf("more than %d keys", MaxKeys))
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.MaxTokenSize == 0 {
		cfg.MaxTokenSize = DefaultMaxTokenSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	st := &verifierState{typeLow: strings.ToLower(cfg.Type)}
	var algs []string
	if len(cfg.HMACSecret) > 0 {
		st.hmac = append([]byte(nil), cfg.HMACSecret...)
		cfg.HMACSecret = st.hmac
		algs = []string{AlgHS256}
	} else {
		st.keys = make(map[string]verifyKey, len(cfg.PublicKeys))
		seen := map[string]bool{}
		for kid, k := range cfg.PublicKeys {
			alg, key, err := keyAlg(kid, k)
			if err != nil {
				return nil, err
			}
			st.keys[kid] = verifyKey{alg: alg, key: key}
			if !seen[alg] {
				seen[alg] = true
				algs = append(algs, alg)
			}
		}
		keys := make(map[string]crypto.PublicKey, len(cfg.PublicKeys))
		for kid, k := range cfg.PublicKeys {
			keys[kid] = k
		}
		cfg.PublicKeys = keys
	}
	st.cfg = cfg
	st.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	return st, nil
}

// Verify checks the token's length, signature, header and claims, and returns
// its claims. Every error is a *TokenError matching ErrTokenInvalid, and also
// ErrTokenTooLarge or ErrTokenExpired where they apply; golang-jwt's reason
// and this package's reason sentinels (ErrUnknownKeyID, ...) are in its chain.
func (v *Verifier) Verify(token string) (*Claims, error) {
	var st *verifierState
	if v != nil {
		st = v.state.Load()
	}
	if st == nil {
		return nil, &TokenError{Kind: ErrTokenInvalid, Reason: ErrNotConfigured}
	}
	if len(token) > st.cfg.MaxTokenSize {
		return nil, &TokenError{Kind: ErrTokenTooLarge}
	}
	var tc tokenClaims
	if _, err := st.parser.ParseWithClaims(token, &tc, st.keyfunc); err != nil {
		return nil, tokenErr(err)
	}
	var lifetime time.Duration
	if tc.IssuedAt != nil {
		lifetime = tc.ExpiresAt.Sub(tc.IssuedAt.Time)
		if lifetime <= 0 {
			return nil, tokenErr(fmt.Errorf("%w: exp not after iat", ErrBadClaim))
		}
	} else {
		lifetime = tc.ExpiresAt.Sub(st.cfg.Now()) - st.cfg.Leeway
	}
	if lifetime > st.cfg.MaxLifetime {
		return nil, tokenErr(ErrLifetimeExceeded)
	}
	c, err := tc.toClaims()
	if err != nil {
		return nil, tokenErr(err)
	}
	return c, nil
}

// keyfunc checks the header and returns the key pinned for the token's alg.
func (st *verifierState) keyfunc(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, ErrCriticalHeader
	}
	if st.typeLow != "" {
		typ, _ := t.Header["typ"].(string)
		typ = strings.ToLower(typ)
		if typ != st.typeLow && typ != "application/"+st.typeLow {
			return nil, ErrWrongType
		}
	}
	alg := ""
	if t.Method != nil {
		alg = t.Method.Alg()
	}
	if st.hmac != nil {
		if alg != AlgHS256 {
			return nil, ErrAlgorithmMismatch
		}
		return st.hmac, nil
	}
	var k verifyKey
	switch kid, present := t.Header["kid"]; {
	case present:
		s, ok := kid.(string)
		if !ok {
			return nil, ErrUnknownKeyID
		}
		if k, ok = st.keys[s]; !ok {
			return nil, ErrUnknownKeyID
		}
	case len(st.keys) == 1:
		for _, only := range st.keys {
			k = only
		}
	default:
		return nil, ErrKeyIDRequired
	}
	if alg != k.alg {
		return nil, ErrAlgorithmMismatch
	}
	return k.key, nil
}

// MaxLifetime returns the longest token lifetime in force: nothing the
// verifier accepts stays valid longer than MaxLifetime plus Leeway.
func (v *Verifier) MaxLifetime() time.Duration {
	st := v.state.Load()
	if st == nil {
		return 0
	}
	if st.cfg.MaxLifetime == 0 {
		return DefaultMaxLifetime
	}
	return st.cfg.MaxLifetime
}

// Leeway returns the clock-skew allowance in force: a session built on a
// token may last until ExpiresAt plus Leeway.
func (v *Verifier) Leeway() time.Duration {
	st := v.state.Load()
	if st == nil {
		return 0
	}
	return st.cfg.Leeway
}
