package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Credential modes carried in the "cred" claim.
const (
	// CredentialPassword: the browser sends the IMAP password in a login frame.
	CredentialPassword = "password"
	// CredentialMaster: the bridge logs in with server-side master-user credentials.
	CredentialMaster = "master"
	// CredentialOAuth: the token's "oauth_token" claim is used with XOAUTH2/OAUTHBEARER.
	CredentialOAuth = "oauth"
)

// Scope words of the "scope" claim.
const (
	// ScopeRead grants read-only access (the default when "write" is absent).
	ScopeRead = "read"
	// ScopeWrite grants flag changes, appends, copies, moves and mailbox management.
	ScopeWrite = "write"
	// ScopeDelete grants expunge and mailbox deletion; it needs ScopeWrite.
	ScopeDelete = "delete"
	// ScopeMailboxPrefix starts a "mailbox:<name>" scope restricting the
	// mailboxes a session may touch; <name> is percent-decoded.
	ScopeMailboxPrefix = "mailbox:"
)

// Claim limits, checked after the signature (the token size bounds them all).
const (
	// MaxClaimLength caps sub, ups, imap_user, jti and each mailbox scope, in bytes.
	MaxClaimLength = 256
	// MaxUpstreamNameLength caps the "ups" claim.
	MaxUpstreamNameLength = 64
	// MaxMailboxScopes caps the number of "mailbox:" scopes in one token.
	MaxMailboxScopes = 64
)

// redacted replaces every secret in String, GoString, LogValue and Format output.
const redacted = "[REDACTED]"

// Claims are the verified claims of a bridge token.
type Claims struct {
	// Subject ("sub") is the bridge user; required.
	Subject string
	// Issuer ("iss") and Audience ("aud") are as verified; Signer.Sign writes them.
	Issuer   string
	Audience []string
	// Upstream ("ups") names an upstream in the bridge configuration: 1 to
	// MaxUpstreamNameLength of [A-Za-z0-9_-], so it can never be a host name,
	// an address or a port. Empty means the bridge's default upstream.
	Upstream string
	// IMAPUser ("imap_user") is the IMAP login name; no control characters.
	IMAPUser string
	// Credential ("cred") is CredentialPassword, CredentialMaster or CredentialOAuth.
	Credential string
	// OAuthToken ("oauth_token") is the upstream access token, present exactly
	// when Credential is CredentialOAuth. It is never printed or marshalled.
	OAuthToken string `json:"-"`
	// Scopes ("scope") are the session's permissions.
	Scopes Scopes
	// ExpiresAt ("exp") is always set on a verified token; IssuedAt ("iat") is
	// zero when the token has none. Both are in UTC.
	ExpiresAt, IssuedAt time.Time
	// ID ("jti") is the token id, possibly empty.
	ID string
}

// String renders the claims with OAuthToken redacted.
func (c Claims) String() string {
	oauth := ""
	if c.OAuthToken != "" {
		oauth = redacted
	}
	return fmt.Sprintf("auth.Claims{sub=%q iss=%q aud=%q ups=%q imap_user=%q cred=%q oauth_token=%s scope=%q exp=%s iat=%s jti=%q}",
		c.Subject, c.Issuer, c.Audience, c.Upstream, c.IMAPUser, c.Credential, oauth, c.Scopes.String(),
		c.ExpiresAt.UTC().Format(time.RFC3339), c.IssuedAt.UTC().Format(time.RFC3339), c.ID)
}

// GoString is String, so %#v redacts too.
func (c Claims) GoString() string { return c.String() }

// Format implements fmt.Formatter so that no verb prints OAuthToken.
func (c Claims) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue renders the claims for log/slog without OAuthToken.
func (c Claims) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("sub", c.Subject), slog.String("ups", c.Upstream),
		slog.String("imap_user", c.IMAPUser), slog.String("cred", c.Credential),
		slog.String("scope", c.Scopes.String()), slog.Time("exp", c.ExpiresAt), slog.String("jti", c.ID),
	}
	if c.OAuthToken != "" {
		attrs = append(attrs, slog.String("oauth_token", redacted))
	}
	return slog.GroupValue(attrs...)
}

// formatRedacted writes s for every verb (quoted for %q), so the struct's
// fields are never reached by fmt's reflection.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

// Scopes are the permissions parsed from the "scope" claim. Note that the
// zero Scopes grant write access to every mailbox: a Verifier never produces
// it from a token (no "write" means ReadOnly), but a Signer caller must set
// ReadOnly for a read-only token.
type Scopes struct {
	// ReadOnly is true unless the scope contains "write".
	ReadOnly bool
	// MayDelete is true when the scope contains both "write" and "delete".
	MayDelete bool
	// Mailboxes lists the "mailbox:" patterns; empty means every mailbox.
	// See AllowsMailbox for the matching rules.
	Mailboxes []string
}

// ParseScopes parses a space-separated scope claim. Unknown words are an
// error rather than ignored: a mistyped restriction must not widen access.
func ParseScopes(s string) (Scopes, error) {
	var write, del bool
	sc := Scopes{}
	for _, w := range strings.Fields(s) {
		switch {
		case w == ScopeRead:
		case w == ScopeWrite:
			write = true
		case w == ScopeDelete:
			del = true
		case strings.HasPrefix(w, ScopeMailboxPrefix):
			name, err := url.PathUnescape(w[len(ScopeMailboxPrefix):])
			if err != nil || !validMailboxPattern(name) {
				return Scopes{}, fmt.Errorf("%w: scope: malformed mailbox", ErrBadClaim)
			}
			if len(sc.Mailboxes) == MaxMailboxScopes {
				return Scopes{}, fmt.Errorf("%w: scope: more than %d mailboxes", ErrBadClaim, MaxMailboxScopes)
			}
			sc.Mailboxes = append(sc.Mailboxes, name)
		default:
			return Scopes{}, fmt.Errorf("%w: scope: unknown word", ErrBadClaim)
		}
	}
	sc.ReadOnly = !write
	sc.MayDelete = write && del
	return sc, nil
}

// validMailboxPattern accepts non-empty UTF-8 without control characters,
// with "*" allowed only as the last character and "%" not at all.
func validMailboxPattern(p string) bool {
	if p == "" || p == "*" || len(p) > MaxClaimLength || !utf8.ValidString(p) || hasControl(p) {
		return false
	}
	if strings.ContainsRune(p, '%') || strings.Contains(strings.TrimSuffix(p, "*"), "*") {
		return false
	}
	return true
}

// String renders the scopes in claim syntax (mailbox names percent-encoded).
func (s Scopes) String() string {
	words := []string{ScopeRead}
	if !s.ReadOnly {
		words = []string{ScopeWrite}
		if s.MayDelete {
			words = append(words, ScopeDelete)
		}
	}
	for _, m := range s.Mailboxes {
		words = append(words, ScopeMailboxPrefix+url.PathEscape(m))
	}
	return strings.Join(words, " ")
}

// AllowsMailbox reports whether the scopes permit the mailbox name. With no
// "mailbox:" scope every mailbox is allowed. Otherwise a pattern matches a
// name exactly, or, when the pattern ends in "*", every name starting with
// what precedes the "*" ("Archive/*" matches "Archive/2025" but not
// "Archive"; list both to allow the parent). "INBOX" is case-insensitive, also
// as the first level of a hierarchy ("inbox/x" and "INBOX/x" are the same);
// everything else compares byte for byte. Names are the UTF-8 form the engine
// takes, before modified UTF-7 encoding.
func (s Scopes) AllowsMailbox(name string) bool {
	if len(s.Mailboxes) == 0 {
		return true
	}
	if name == "" {
		return false
	}
	name = canonicalInbox(name)
	for _, p := range s.Mailboxes {
		p = canonicalInbox(p)
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

// canonicalInbox upper-cases a leading "inbox" that is the whole name or is
// followed by a hierarchy delimiter ('/' or '.').
func canonicalInbox(name string) string {
	const inbox = "INBOX"
	if len(name) < len(inbox) || !strings.EqualFold(name[:len(inbox)], inbox) {
		return name
	}
	if len(name) == len(inbox) || name[len(inbox)] == '/' || name[len(inbox)] == '.' {
		return inbox + name[len(inbox):]
	}
	return name
}

// hasControl reports C0 controls and DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// validUpstreamName reports whether s is a configuration name, not a host.
func validUpstreamName(s string) bool {
	if len(s) > MaxUpstreamNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// tokenClaims is the wire form of the claims. Its UnmarshalJSON refuses
// duplicate keys and matches names exactly (encoding/json alone would take
// the last duplicate and match "SUB" to "sub").
type tokenClaims struct {
	jwt.RegisteredClaims
	Upstream   string `json:"ups,omitempty"`
	IMAPUser   string `json:"imap_user,omitempty"`
	Credential string `json:"cred,omitempty"`
	OAuthToken string `json:"oauth_token,omitempty"`
	Scope      string `json:"scope,omitempty"`
}

// UnmarshalJSON decodes one JSON object with exact, unique keys. Unknown
// claims are ignored, as RFC 7519 §4 requires.
func (t *tokenClaims) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: claims are not a JSON object", ErrBadClaim)
	}
	*t = tokenClaims{}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: malformed claims", ErrBadClaim)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fmt.Errorf("%w: duplicate claim", ErrBadClaim)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%w: malformed claims", ErrBadClaim)
		}
		if err := t.setClaim(key, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: malformed claims", ErrBadClaim)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after claims", ErrBadClaim)
	}
	return nil
}

// setClaim decodes one known claim; a wrong JSON type is an error.
func (t *tokenClaims) setClaim(key string, raw json.RawMessage) error {
	var dst any
	switch key {
	case "iss":
		dst = &t.Issuer
	case "sub":
		dst = &t.Subject
	case "aud":
		dst = &t.Audience
	case "exp":
		dst = &t.ExpiresAt
	case "nbf":
		dst = &t.NotBefore
	case "iat":
		dst = &t.IssuedAt
	case "jti":
		dst = &t.ID
	case "ups":
		dst = &t.Upstream
	case "imap_user":
		dst = &t.IMAPUser
	case "cred":
		dst = &t.Credential
	case "oauth_token":
		dst = &t.OAuthToken
	case "scope":
		dst = &t.Scope
	default:
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: claim %s has the wrong type", ErrBadClaim, key)
	}
	return nil
}

// toClaims validates the application claims and converts them.
func (t *tokenClaims) toClaims() (*Claims, error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrBadClaim, what) }
	switch {
	case t.Subject == "" || len(t.Subject) > MaxClaimLength || hasControl(t.Subject) || !utf8.ValidString(t.Subject):
		return nil, bad("sub missing or malformed")
	case !validUpstreamName(t.Upstream):
		return nil, bad("ups is not an upstream name")
	case len(t.IMAPUser) > MaxClaimLength || hasControl(t.IMAPUser) || !utf8.ValidString(t.IMAPUser):
		return nil, bad("imap_user malformed")
	case len(t.ID) > MaxClaimLength || hasControl(t.ID):
		return nil, bad("jti malformed")
	}
	switch t.Credential {
	case CredentialPassword, CredentialMaster:
		if t.OAuthToken != "" {
			return nil, bad("oauth_token without cred oauth")
		}
	case CredentialOAuth:
		if t.OAuthToken == "" || hasControl(t.OAuthToken) {
			return nil, bad("cred oauth needs a well-formed oauth_token")
		}
	default:
		return nil, bad("cred missing or unknown")
	}
	sc, err := ParseScopes(t.Scope)
	if err != nil {
		return nil, err
	}
	c := &Claims{
		Subject: t.Subject, Issuer: t.Issuer, Audience: append([]string(nil), t.Audience...),
		Upstream: t.Upstream, IMAPUser: t.IMAPUser, Credential: t.Credential, OAuthToken: t.OAuthToken,
		Scopes: sc, ID: t.ID,
	}
	if t.ExpiresAt != nil {
		c.ExpiresAt = t.ExpiresAt.UTC()
	}
	if t.IssuedAt != nil {
		c.IssuedAt = t.IssuedAt.UTC()
	}
	return c, nil
}
