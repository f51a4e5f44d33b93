package auth

import (
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Token rejection kinds. Every error returned by [Verifier.Verify] is a
// *[TokenError]; errors.Is reports ErrTokenInvalid for all of them and, in
// addition, ErrTokenTooLarge or ErrTokenExpired for those two cases, so a
// caller can tell "refresh the token" (expired) from "refuse" (anything else).
var (
	// ErrTokenInvalid reports a token that was refused for any reason.
	ErrTokenInvalid = errors.New("auth: token invalid")
	// ErrTokenTooLarge reports a token longer than Config.MaxTokenSize; it is
	// refused before any parsing (security G6).
	ErrTokenTooLarge = errors.New("auth: token too large")
	// ErrTokenExpired reports a token whose exp lies further in the past than
	// the leeway allows.
	ErrTokenExpired = errors.New("auth: token expired")
)

// Reasons wrapped by a *TokenError in addition to golang-jwt's own sentinels
// (jwt.ErrTokenSignatureInvalid, jwt.ErrTokenInvalidAudience, ...).
var (
	// ErrUnknownKeyID reports a kid header naming no configured key.
	ErrUnknownKeyID = errors.New("auth: unknown key id")
	// ErrKeyIDRequired reports a token without kid while several keys are configured.
	ErrKeyIDRequired = errors.New("auth: key id required")
	// ErrAlgorithmMismatch reports a token whose alg is not the one pinned for its key.
	ErrAlgorithmMismatch = errors.New("auth: algorithm not allowed for this key")
	// ErrWrongType reports a typ header other than Config.Type.
	ErrWrongType = errors.New("auth: wrong token type")
	// ErrCriticalHeader reports a crit header; no extension is understood, so
	// RFC 7515 §4.1.11 requires refusal.
	ErrCriticalHeader = errors.New("auth: critical header not understood")
	// ErrLifetimeExceeded reports exp - iat (or exp - now) above Config.MaxLifetime.
	ErrLifetimeExceeded = errors.New("auth: token lifetime exceeds the maximum")
	// ErrBadClaim reports a missing, duplicated or malformed application claim
	// (sub, ups, imap_user, cred, oauth_token, scope).
	ErrBadClaim = errors.New("auth: bad claim")
	// ErrNotConfigured reports Verify on a Verifier not made by NewVerifier.
	ErrNotConfigured = errors.New("auth: verifier not configured")
)

// ErrInvalidConfig is matched (errors.Is) by every *ConfigError.
var ErrInvalidConfig = errors.New("auth: invalid config")

// ErrInvalidKey is matched (errors.Is) by every *KeyError.
var ErrInvalidKey = errors.New("auth: invalid key")

// TokenError is the error type of [Verifier.Verify]. Its message is built from
// fixed texts only: it never contains the token, a claim value or a header
// value, so it may be logged and sent to a client as is.
type TokenError struct {
	// Kind is ErrTokenInvalid, ErrTokenTooLarge or ErrTokenExpired.
	Kind error
	// Reason is the underlying cause: one of this package's reason sentinels
	// or golang-jwt's error (which may quote header values — do not print it
	// on its own).
	Reason error
}

// Error returns "auth: token ...: reason" made of sentinel texts only.
func (e *TokenError) Error() string {
	kind := e.Kind
	if kind == nil {
		kind = ErrTokenInvalid
	}
	msg := kind.Error()
	if r := describeReason(e.Reason); r != "" {
		msg += ": " + r
	}
	return msg
}

// Unwrap exposes Kind, ErrTokenInvalid and Reason to errors.Is and errors.As.
func (e *TokenError) Unwrap() []error {
	out := make([]error, 0, 3)
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Kind != ErrTokenInvalid {
		out = append(out, ErrTokenInvalid)
	}
	if e.Reason != nil {
		out = append(out, e.Reason)
	}
	return out
}

// knownReasons lists the sentinels whose fixed texts may appear in a
// TokenError message, most specific first.
var knownReasons = []error{
	ErrUnknownKeyID, ErrKeyIDRequired, ErrAlgorithmMismatch, ErrWrongType,
	ErrCriticalHeader, ErrLifetimeExceeded, ErrBadClaim, ErrNotConfigured,
	jwt.ErrTokenMalformed, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenRequiredClaimMissing,
	jwt.ErrTokenInvalidAudience, jwt.ErrTokenExpired, jwt.ErrTokenUsedBeforeIssued,
	jwt.ErrTokenInvalidIssuer, jwt.ErrTokenNotValidYet, jwt.ErrInvalidType,
	jwt.ErrTokenUnverifiable, jwt.ErrTokenInvalidClaims,
}

// describeReason renders the known sentinels in err's chain, never err's own text.
func describeReason(err error) string {
	if err == nil {
		return ""
	}
	var parts []string
	for _, s := range knownReasons {
		if errors.Is(err, s) {
			parts = append(parts, strings.TrimPrefix(s.Error(), "auth: "))
		}
	}
	if len(parts) == 0 {
		return "rejected"
	}
	return strings.Join(parts, "; ")
}

// tokenErr builds a *TokenError, choosing ErrTokenExpired when jwt says so.
func tokenErr(reason error) *TokenError {
	kind := ErrTokenInvalid
	if errors.Is(reason, jwt.ErrTokenExpired) {
		kind = ErrTokenExpired
	}
	return &TokenError{Kind: kind, Reason: reason}
}

// ConfigError reports an unusable [Config] field. It never quotes secrets.
type ConfigError struct {
	// Field names the Config field, e.g. "Leeway".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "auth: invalid config: Field: reason".
func (e *ConfigError) Error() string {
	return "auth: invalid config: " + e.Field + ": " + e.Reason
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// KeyError reports a public key that could not be loaded or is not acceptable.
type KeyError struct {
	// Source is a file path or a key id; never key material.
	Source string
	// Reason says what is wrong.
	Reason string
	// Err is an underlying error, if any.
	Err error
}

// Error returns "auth: invalid key: source: reason[: cause]".
func (e *KeyError) Error() string {
	msg := "auth: invalid key"
	if e.Source != "" {
		msg += ": " + e.Source
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrInvalidKey.
func (e *KeyError) Is(target error) bool { return target == ErrInvalidKey }

// Unwrap returns the underlying error.
func (e *KeyError) Unwrap() error { return e.Err }
