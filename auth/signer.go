package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrSign is matched (errors.Is) by every error from Signer.Sign and the
// Signer constructors.
var ErrSign = errors.New("auth: cannot sign")

// Signer issues bridge tokens, for the embedded development server and for
// tests. Production tokens come from the deployment's own issuer. A Signer is
// safe for concurrent use once its fields are set.
type Signer struct {
	// Issuer and Audience are written as "iss" and "aud" when the Claims
	// passed to Sign leave them empty.
	Issuer   string
	Audience string
	// Type is the "typ" header; NewHMACSigner and NewEd25519Signer set
	// DefaultTokenType.
	Type string
	// Now is the clock for "iat" and "exp"; nil means time.Now.
	Now func() time.Time

	method jwt.SigningMethod
	key    any
	kid    string
}

// NewHMACSigner returns an HS256 signer; secret must hold at least
// MinHMACSecretSize bytes and is copied.
func NewHMACSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinHMACSecretSize {
		return nil, fmt.Errorf("%w: HMAC secret shorter than %d bytes", ErrSign, MinHMACSecretSize)
	}
	return &Signer{Type: DefaultTokenType, method: jwt.SigningMethodHS256, key: append([]byte(nil), secret...)}, nil
}

// NewEd25519Signer returns an EdDSA signer whose tokens carry kid (which may
// be empty when the verifier holds a single key).
func NewEd25519Signer(priv ed25519.PrivateKey, kid string) (*Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key has the wrong length", ErrSign)
	}
	if len(kid) > MaxClaimLength || hasControl(kid) {
		return nil, fmt.Errorf("%w: malformed kid", ErrSign)
	}
	return &Signer{Type: DefaultTokenType, method: jwt.SigningMethodEdDSA, key: priv, kid: kid}, nil
}

// Sign returns a token for c valid for ttl from now. It sets "iat" to now and
// "exp" to now+ttl (c.ExpiresAt and c.IssuedAt are ignored), fills an empty
// c.ID with 128 random bits, and refuses claims a Verifier would refuse
// (no subject, unknown credential mode, host-like upstream, ...).
func (s *Signer) Sign(c Claims, ttl time.Duration) (string, error) {
	if s == nil || s.method == nil {
		return "", fmt.Errorf("%w: signer not constructed with NewHMACSigner or NewEd25519Signer", ErrSign)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: ttl must be positive", ErrSign)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	iat := now().Truncate(time.Second)
	if c.ID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		c.ID = hex.EncodeToString(b[:])
	}
	if c.Issuer == "" {
		c.Issuer = s.Issuer
	}
	if len(c.Audience) == 0 && s.Audience != "" {
		c.Audience = []string{s.Audience}
	}
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, ID: c.ID,
			IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(iat.Add(ttl)),
		},
		Upstream: c.Upstream, IMAPUser: c.IMAPUser, Credential: c.Credential,
		OAuthToken: c.OAuthToken, Scope: c.Scopes.String(),
	}
	if _, err := tc.toClaims(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	t := jwt.NewWithClaims(s.method, tc)
	if s.Type != "" {
		t.Header["typ"] = s.Type
	} else {
		delete(t.Header, "typ")
	}
	if s.kid != "" {
		t.Header["kid"] = s.kid
	}
	out, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	return out, nil
}

// String describes the signer without its key.
func (s *Signer) String() string {
	if s == nil || s.method == nil {
		return "auth.Signer{}"
	}
	return fmt.Sprintf("auth.Signer{alg=%s kid=%q key=%s Issuer=%q Audience=%q Type=%q}",
		s.method.Alg(), s.kid, redacted, s.Issuer, s.Audience, s.Type)
}

// GoString is String, so %#v redacts too.
func (s *Signer) GoString() string { return s.String() }

// Format implements fmt.Formatter so that no verb prints the key.
func (s *Signer) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String()) }

// LogValue renders the signer for log/slog without its key.
func (s *Signer) LogValue() slog.Value { return slog.StringValue(s.String()) }
