package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/imapbridge/imapbridge/imapengine"
)

// Security is how the bridge protects its connection to an upstream.
type Security string

// The upstream transports.
const (
	// SecurityTLS is implicit TLS (port 993), the default and the safe choice.
	SecurityTLS Security = "tls"
	// SecuritySTARTTLS is port 143 upgraded before any credential; the bridge
	// fails closed if the upgrade is not offered or is tampered with.
	SecuritySTARTTLS Security = "starttls"
	// SecurityPlain is cleartext IMAP. It is refused unless the upstream
	// sets AllowPlaintext and AllowPrivate: local development only.
	SecurityPlain Security = "plain"
	// SecurityStdio runs Command on the bridge host and speaks IMAP over its
	// stdin/stdout (a preauthenticated server such as Dovecot's imap binary).
	SecurityStdio Security = "stdio"
)

// Upstream is one IMAP server the bridge may connect to. Tokens name an
// upstream by Name; hosts and transports come only from configuration.
type Upstream struct {
	Name     string
	Addr     string   // host:port (not for stdio)
	Security Security // default SecurityTLS
	// Command is the argv of a stdio upstream. The argument "{user}" is
	// replaced by the token's IMAP user name, which must then match
	// SafeUserPattern. It is executed directly, never through a shell.
	Command []string
	// AllowPrivate permits loopback and private addresses and any port
	// (development and tests). Without it the bridge dials only public
	// addresses on 993 (143 with STARTTLS).
	AllowPrivate bool
	// AllowPlaintext permits SecurityPlain (with AllowPrivate).
	AllowPlaintext bool
	// TLSConfig, if set, is used for TLS and STARTTLS (e.g. a private CA).
	// Certificates are always verified.
	TLSConfig *tls.Config
	// MasterUser and MasterPassword log in on behalf of the token's user in
	// credential mode "master" (SASL PLAIN with the user as authorization
	// identity, RFC 4616), never sent to the browser.
	MasterUser     string
	MasterPassword string `json:"-"`
	// OAuthMechanism is "XOAUTH2" (default) or "OAUTHBEARER" for mode "oauth".
	OAuthMechanism string
	// MaxConnectionsPerAccount caps the IMAP connections held at once for one
	// IMAP user of this upstream, sessions and transfers together (across
	// replicas with Config.Cluster); zero means no such cap. Keep it below the
	// provider's per-account limit (RecommendedAccountConnections).
	MaxConnectionsPerAccount int
	// NoNotify makes status watches poll even when the server offers
	// NOTIFY (for a server whose NOTIFY misbehaves).
	NoNotify bool
	// LoginsPerSecond caps the IMAP connections (each one a login) the
	// bridge opens to this upstream per second, with LoginBurst at once, so
	// the server never sees a login storm from the bridge (security J7: a
	// thousand browsers reconnecting after a restart). A connection over the
	// rate waits for its turn, at most LoginWait; one that would wait longer
	// is refused (close 1013, retried by the SDK with backoff). Zero fields
	// take DefaultUpstreamLoginsPerSecond, DefaultUpstreamLoginBurst and
	// DefaultUpstreamLoginWait.
	LoginsPerSecond float64
	LoginBurst      int
	LoginWait       time.Duration
	// SMTP, if set, is the submission server for submit and saveDraft,
	// used with the session's credentials.
	SMTP *SMTP

	logins *rate.Limiter // built by New from LoginsPerSecond and LoginBurst
}

// Default login pacing per upstream (Upstream.LoginsPerSecond, LoginBurst,
// LoginWait).
const (
	DefaultUpstreamLoginsPerSecond = 50
	DefaultUpstreamLoginBurst      = 50
	DefaultUpstreamLoginWait       = 10 * time.Second
)

// ErrLoginRate reports a connection to an upstream refused because its
// login rate (Upstream.LoginsPerSecond) would have made it wait longer than
// Upstream.LoginWait.
var ErrLoginRate = errors.New("bridge: upstream login rate exceeded")

// LoginRateError is an ErrLoginRate with the wait that was refused.
type LoginRateError struct {
	Upstream string
	Wait     time.Duration // the wait the rate would have imposed
}

func (e *LoginRateError) Error() string {
	return fmt.Sprintf("%v: upstream %q, a turn in %v", ErrLoginRate, e.Upstream, e.Wait.Round(time.Millisecond))
}

// Unwrap makes errors.Is(err, ErrLoginRate) true.
func (e *LoginRateError) Unwrap() error { return ErrLoginRate }

// initLogins applies the login pacing defaults and builds the limiter.
func (u *Upstream) initLogins() {
	if u.LoginsPerSecond <= 0 {
		u.LoginsPerSecond = DefaultUpstreamLoginsPerSecond
	}
	if u.LoginBurst <= 0 {
		u.LoginBurst = DefaultUpstreamLoginBurst
	}
	if u.LoginWait <= 0 {
		u.LoginWait = DefaultUpstreamLoginWait
	}
	u.logins = rate.NewLimiter(rate.Limit(u.LoginsPerSecond), u.LoginBurst)
}

// loginTurn waits for the upstream's login limiter: nil when the
// connection may go ahead, a *LoginRateError when its turn is more than
// LoginWait away, ctx's error when ctx ends first (the turn is given back).
func (u *Upstream) loginTurn(ctx context.Context) error {
	if u.logins == nil {
		return nil
	}
	r := u.logins.Reserve()
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if d > u.LoginWait {
		r.Cancel()
		return &LoginRateError{Upstream: u.Name, Wait: d}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// redacted replaces a secret in String, Format and LogValue output.
const redacted = "[REDACTED]"

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// String describes the upstream with MasterPassword redacted (security D5).
func (u Upstream) String() string {
	return fmt.Sprintf("{Name:%s Addr:%s Security:%s Command:%q AllowPrivate:%t AllowPlaintext:%t TLSConfig:%t MasterUser:%s MasterPassword:%s OAuthMechanism:%s}",
		u.Name, u.Addr, u.Security, u.Command, u.AllowPrivate, u.AllowPlaintext, u.TLSConfig != nil,
		u.MasterUser, redact(u.MasterPassword), u.OAuthMechanism)
}

// GoString is String, so %#v redacts too.
func (u Upstream) GoString() string { return u.String() }

// Format implements fmt.Formatter so that no verb prints MasterPassword,
// also when the upstream is printed inside a Config.
func (u Upstream) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, u.String()) }

// LogValue renders the upstream for log/slog without MasterPassword.
func (u Upstream) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.Name), slog.String("addr", u.Addr),
		slog.String("security", string(u.Security)), slog.Bool("allow_private", u.AllowPrivate),
		slog.String("master_user", u.MasterUser), slog.String("master_password", redact(u.MasterPassword)))
}

// SafeUserPattern is what an IMAP user name must match to be substituted into
// a stdio upstream's Command.
var SafeUserPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,127}$`)

// ErrUpstreamConfig reports an invalid upstream definition.
var ErrUpstreamConfig = errors.New("bridge: invalid upstream")

// Validate checks the upstream definition as New does (name, security,
// host, port, TLS settings), so a configuration loader can refuse it with a
// clear error before anything starts. Errors wrap ErrUpstreamConfig, and
// ErrBadHost for a malformed host.
func (u Upstream) Validate() error { return u.validate() }

func (u *Upstream) validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w %q: %w", ErrUpstreamConfig, u.Name, fmt.Errorf(f, a...))
	}
	if u.Name == "" {
		return bad("empty name")
	}
	if u.SMTP != nil {
		if err := u.SMTP.validate(u); err != nil {
			return bad("%w", err)
		}
	}
	if u.Security == "" {
		u.Security = SecurityTLS
	}
	switch u.Security {
	case SecurityStdio:
		if len(u.Command) == 0 {
			return bad("stdio needs a command")
		}
		return nil
	case SecurityTLS, SecuritySTARTTLS:
	case SecurityPlain:
		if !u.AllowPlaintext || !u.AllowPrivate {
			return bad("plaintext needs AllowPlaintext and AllowPrivate")
		}
	default:
		return bad("unknown security %q", u.Security)
	}
	if u.TLSConfig != nil && u.TLSConfig.InsecureSkipVerify {
		return bad("certificate verification cannot be disabled")
	}
	host, ps, err := net.SplitHostPort(u.Addr)
	if err != nil || host == "" {
		return bad("address must be host:port")
	}
	if err := ValidateHost(host); err != nil {
		return bad("%w", err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port <= 0 || port > 65535 {
		return bad("bad port")
	}
	if !u.AllowPrivate {
		switch {
		case u.Security == SecurityTLS && port == 993:
		case u.Security == SecuritySTARTTLS && port == 143:
		default:
			return bad("port %d not allowed for %s", port, u.Security)
		}
	}
	return nil
}

// dial connects to the upstream (not yet authenticated, except stdio).
func (u *Upstream) dial(ctx context.Context, imapUser string, d *Dialer, opts imapengine.Options) (*imapengine.Client, error) {
	if err := u.loginTurn(ctx); err != nil {
		return nil, err
	}
	opts.Dialer = d
	if u.TLSConfig != nil {
		opts.TLSConfig = u.TLSConfig
	}
	switch u.Security {
	case SecurityStdio:
		argv := make([]string, len(u.Command))
		for i, a := range u.Command {
			if strings.Contains(a, "{user}") {
				if !SafeUserPattern.MatchString(imapUser) {
					return nil, fmt.Errorf("%w: user name not allowed for this upstream", ErrForbidden)
				}
				a = strings.ReplaceAll(a, "{user}", imapUser)
			}
			argv[i] = a
		}
		return imapengine.DialStream(ctx, argv, &opts)
	case SecurityTLS:
		return imapengine.DialTLS(ctx, u.Addr, &opts)
	case SecuritySTARTTLS:
		return imapengine.DialStartTLS(ctx, u.Addr, &opts)
	default:
		opts.AllowPlaintextAuth = true
		return imapengine.Dial(ctx, u.Addr, &opts)
	}
}
