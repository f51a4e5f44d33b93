// Package bridgebench measures what the bridge costs (issue 4 item 6): the
// round trip of a command through the bridge against the engine alone, the
// push latency of new mail against a direct IDLE client, and the memory of an
// idle session.
//
// The harness runs a bridge.Server in process behind httptest, signs HS256
// tokens for it, and talks to it with github.com/coder/websocket as a browser
// would (Origin header, subprotocols "imapbridge.v1" and "bearer.<jwt>"). The
// programs under cmd/ drive the measurements; run.sh runs them all.
package bridgebench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge"
)

// Settings of the benchmark bridge.
const (
	// Issuer and Audience are the token claims the bench verifier requires.
	Issuer   = "imapbridge-bench"
	Audience = "imapbridge"
	// Origin is the browser origin the bench clients send; the bridge allows
	// exactly it.
	Origin = "http://bench.localhost"
	// UpstreamName is the name of the one upstream the bench bridge knows.
	UpstreamName = "bench"
	// TokenTTL is the lifetime of a bench token (the verifier's default
	// maximum lifetime is 15 minutes).
	TokenTTL = 14 * time.Minute
	// SecretSize is the length of the random HS256 secret.
	SecretSize = 32
	// MaxBenchSessions is the session cap of the bench bridge (and its
	// per-user cap): above any N the programs open.
	MaxBenchSessions = 20000
)

// ErrBench reports a benchmark run that cannot go on (a refused login, an
// unexpected frame, a missing event).
var ErrBench = errors.New("bridgebench: benchmark failed")

// Upstream is the IMAP server under test and the account used on it.
type Upstream struct {
	// Label names the server in reports ("devserver", "dovecot").
	Label string
	// Addr is the plain-IMAP host:port on loopback.
	Addr string
	// User and Password log in (LOGIN over loopback plaintext).
	User, Password string
}

// Bridge is an in-process bridge.Server served over loopback HTTP.
type Bridge struct {
	// Server is the bridge under test.
	Server *bridge.Server
	// HTTP serves Server on a loopback port.
	HTTP   *httptest.Server
	signer *auth.Signer
	up     Upstream
}

// NewSecret returns a random HS256 secret of SecretSize bytes.
func NewSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("bridgebench: secret: %w", err)
	}
	return b, nil
}

// NewSigner returns the HS256 signer of bench tokens for secret.
func NewSigner(secret []byte) (*auth.Signer, error) {
	s, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	s.Issuer, s.Audience = Issuer, Audience
	return s, nil
}

// StartBridge starts a bridge for up, verifying HS256 tokens made with
// secret. Limits that would throttle a benchmark (sessions per user and in
// total, handshakes per IP, frames per second, transfers and tickets per
// user) are raised to MaxBenchSessions, and so is the upstream's login
// pacing; everything else is the bridge's default.
func StartBridge(up Upstream, secret []byte) (*Bridge, error) {
	return StartBridgeWith(up, secret, nil)
}

// StartBridgeWith is StartBridge with a last change to the configuration
// (a dial hook, other limits) made by adjust, when set.
func StartBridgeWith(up Upstream, secret []byte, adjust func(*bridge.Config)) (*Bridge, error) {
	signer, err := NewSigner(secret)
	if err != nil {
		return nil, err
	}
	srv, err := NewServer(up, secret, adjust)
	if err != nil {
		return nil, err
	}
	return &Bridge{Server: srv, HTTP: httptest.NewServer(srv), signer: signer, up: up}, nil
}

// NewServer is the bench bridge.Server of StartBridgeWith, not yet served.
func NewServer(up Upstream, secret []byte, adjust func(*bridge.Config)) (*bridge.Server, error) {
	v, err := auth.NewVerifier(auth.Config{Issuer: Issuer, Audience: Audience, Type: auth.DefaultTokenType, HMACSecret: secret})
	if err != nil {
		return nil, err
	}
	cfg := bridge.Config{
		Verifier:       v,
		AllowedOrigins: []string{Origin},
		Upstreams: []bridge.Upstream{{Name: UpstreamName, Addr: up.Addr, Security: bridge.SecurityPlain,
			AllowPrivate: true, AllowPlaintext: true, LoginsPerSecond: MaxBenchSessions, LoginBurst: MaxBenchSessions}},
		DefaultUpstream: UpstreamName,
		Limits: bridge.Limits{SessionsPerUser: MaxBenchSessions, MaxSessions: MaxBenchSessions,
			HandshakesPerIP: MaxBenchSessions, HandshakeBurst: MaxBenchSessions,
			FramesPerSecond: MaxBenchSessions, FrameBurst: MaxBenchSessions,
			TransfersPerUser: MaxBenchSessions, TicketsPerUser: MaxBenchSessions},
	}
	if adjust != nil {
		adjust(&cfg)
	}
	return bridge.New(cfg)
}

// URL is the WebSocket endpoint.
func (b *Bridge) URL() string { return WSURL(b.HTTP.URL) }

// WSURL turns the bridge's http:// base URL into its ws:// endpoint.
func WSURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/ws" }

// Token signs a password-mode token for the upstream's user.
func (b *Bridge) Token() (string, error) { return SignToken(b.signer, b.up.User) }

// SignToken signs a password-mode, read-write token for IMAP user user.
func SignToken(s *auth.Signer, user string) (string, error) {
	scopes, err := auth.ParseScopes("write delete")
	if err != nil {
		return "", err
	}
	return s.Sign(auth.Claims{Subject: user, Upstream: UpstreamName, IMAPUser: user,
		Credential: auth.CredentialPassword, Scopes: scopes}, TokenTTL)
}

// OpenSession dials the bridge, logs in with the upstream's password and
// selects mailbox, so the session is idling (auto-IDLE) when it returns.
func (b *Bridge) OpenSession(ctx context.Context, mailbox string) (*Session, error) {
	tok, err := b.Token()
	if err != nil {
		return nil, err
	}
	return OpenSession(ctx, b.URL(), tok, b.up.Password, mailbox)
}

// Close shuts the bridge down (sessions get close 1012) and stops the HTTP
// server.
func (b *Bridge) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := b.Server.Shutdown(ctx)
	b.HTTP.Close()
	return err
}
