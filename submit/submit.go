// Package submit sends mail by SMTP submission (RFC 6409): port 587 with
// STARTTLS required, or port 465 with implicit TLS (RFC 8314), certificates
// always verified, AUTH PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER, SIZE, 8BITMIME
// and SMTPUTF8 when the server offers them, and a result per recipient: a
// "550 5.1.1" on one recipient is that recipient's error, not the whole
// send's. It also builds the message from a structured request (Build).
//
// It sits beside imapengine and imports nothing of the bridge. The SMTP
// protocol itself is github.com/emersion/go-smtp; this package adds the
// policy: required TLS, bounded replies, deadlines from the context, typed
// errors (errors.Is with the Err* values, errors.As with *ServerError and
// *RecipientError) and limits (recipients, size).
package submit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how the connection to the submission server is protected.
type Security string

// The transports; there is no cleartext one.
const (
	// SecuritySTARTTLS is port 587: the session is upgraded with STARTTLS
	// before AUTH, and the send fails with ErrTLSRequired if the server does
	// not offer it.
	SecuritySTARTTLS Security = "starttls"
	// SecurityTLS is port 465: TLS from the first byte.
	SecurityTLS Security = "tls"
)

// Limits and timeouts used when Config leaves them zero.
const (
	// DefaultDialTimeout bounds the TCP connect and the TLS handshake.
	DefaultDialTimeout = 15 * time.Second
	// DefaultCommandTimeout bounds each command's reply (greeting included)
	// and each write of the message body.
	DefaultCommandTimeout = 60 * time.Second
	// DefaultDataTimeout bounds the wait for the reply after the final dot.
	DefaultDataTimeout = 5 * time.Minute
	// DefaultMaxResponseBytes bounds everything the server may send in one
	// session (replies are small; a server that floods is cut off).
	DefaultMaxResponseBytes = 1 << 20
	// DefaultMaxMessageSize is the size limit when the server announces no
	// SIZE (or SIZE 0): 25 MiB.
	DefaultMaxMessageSize = 25 << 20
	// DefaultMaxRecipients bounds the envelope recipients of one message.
	DefaultMaxRecipients = 100
	// MaxAuthSteps bounds the challenges of one AUTH exchange: a server that
	// keeps sending "334" is cut off.
	MaxAuthSteps = 8
	// MaxAddressLength bounds one envelope address (RFC 5321 4.5.3.1.3).
	MaxAddressLength = 254
)

// Errors; match with errors.Is. Server replies are *ServerError (errors.As)
// wrapping one of these, and refused recipients *RecipientError.
var (
	// ErrConfig reports an invalid Config or Credentials.
	ErrConfig = errors.New("submit: invalid configuration")
	// ErrBadAddress reports an envelope address that is empty, too long or
	// contains CR, LF, NUL, spaces or angle brackets.
	ErrBadAddress = errors.New("submit: invalid envelope address")
	// ErrUnavailable reports that the server could not be reached, closed the
	// connection, or answered 421. Nothing was sent.
	ErrUnavailable = errors.New("submit: server unavailable")
	// ErrTimeout reports a command or write that exceeded its timeout.
	ErrTimeout = errors.New("submit: timeout")
	// ErrTLSRequired reports a server on the STARTTLS port that does not
	// offer STARTTLS: nothing, credentials included, is sent in cleartext.
	ErrTLSRequired = errors.New("submit: server does not offer STARTTLS")
	// ErrTLS reports a failed TLS handshake or certificate verification.
	ErrTLS = errors.New("submit: TLS failed")
	// ErrAuthUnsupported reports that the server offers none of the usable
	// AUTH mechanisms (or no AUTH at all).
	ErrAuthUnsupported = errors.New("submit: authentication mechanism not offered")
	// ErrAuthFailed reports refused credentials.
	ErrAuthFailed = errors.New("submit: authentication failed")
	// ErrTooLarge reports a message over the server's SIZE (or the default).
	ErrTooLarge = errors.New("submit: message too large")
	// ErrTooManyRecipients reports more envelope recipients than allowed.
	ErrTooManyRecipients = errors.New("submit: too many recipients")
	// ErrNoRecipients reports an envelope without recipients, or one whose
	// every recipient was refused (the Result lists them).
	ErrNoRecipients = errors.New("submit: no recipient accepted")
	// ErrUTF8Unsupported reports a non-ASCII address for a server without
	// SMTPUTF8.
	ErrUTF8Unsupported = errors.New("submit: server does not offer SMTPUTF8")
	// ErrRejected reports a refused MAIL FROM or message (a 4xx or 5xx reply).
	ErrRejected = errors.New("submit: refused by the server")
	// ErrProtocol reports a malformed, over-long or endless server reply.
	ErrProtocol = errors.New("submit: protocol error")
	// ErrRecipientRefused is wrapped by every *RecipientError.
	ErrRecipientRefused = errors.New("submit: recipient refused")
)

// errResponseTooLarge is returned by the connection once the server has sent
// more than MaxResponseBytes.
var errResponseTooLarge = errors.New("server sent too much")

// Config says where and how to submit.
type Config struct {
	// Addr is host:port of the submission server.
	Addr string
	// Security is SecuritySTARTTLS (default) or SecurityTLS.
	Security Security
	// TLSConfig sets the roots and server name (default: the system roots
	// and Addr's host). Verification cannot be disabled.
	TLSConfig *tls.Config
	// LocalName is the EHLO name (default "localhost").
	LocalName string
	// Timeouts and limits; zero means the Default* value.
	DialTimeout      time.Duration
	CommandTimeout   time.Duration
	DataTimeout      time.Duration
	MaxResponseBytes int64
	// MaxMessageSize applies when the server announces no SIZE; the
	// server's SIZE is the limit otherwise.
	MaxMessageSize int64
	MaxRecipients  int
	// Dial replaces the TCP dialer (tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Credentials authenticate the session: a password (PLAIN, else LOGIN) or an
// OAuth 2 access token (XOAUTH2 by default, OAUTHBEARER if set or if that is
// all the server offers). For a master user (Dovecot, Cyrus) set Username to
// the master user, Password to its password and AuthzID to the user mail is
// sent as: AUTH PLAIN with an authorization identity (RFC 4616).
type Credentials struct {
	// Mechanism forces "PLAIN", "LOGIN", "XOAUTH2" or "OAUTHBEARER".
	Mechanism string
	Username  string
	Password  string
	Token     string
	AuthzID   string
}

// mechanism picks the SASL mechanism for creds among the offered ones.
func (cr Credentials) mechanism(offered func(string) bool) (string, error) {
	if cr.Mechanism != "" {
		m := strings.ToUpper(cr.Mechanism)
		switch m {
		case "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER":
		default:
			return "", fmt.Errorf("%w: unknown mechanism %q", ErrConfig, cr.Mechanism)
		}
		if !offered(m) {
			return "", fmt.Errorf("%w: %s", ErrAuthUnsupported, m)
		}
		return m, nil
	}
	var prefs []string
	switch {
	case cr.Token != "":
		prefs = []string{"XOAUTH2", "OAUTHBEARER"}
	case cr.AuthzID != "":
		prefs = []string{"PLAIN"}
	default:
		prefs = []string{"PLAIN", "LOGIN"}
	}
	for _, m := range prefs {
		if offered(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w: need one of %s", ErrAuthUnsupported, strings.Join(prefs, ", "))
}

func (cr Credentials) client(mech string) sasl.Client {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainClient(cr.AuthzID, cr.Username, cr.Password)
	case "LOGIN":
		return sasl.NewLoginClient(cr.Username, cr.Password)
	case "OAUTHBEARER":
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: cr.Username, Token: cr.Token})
	default:
		return &xoauth2Client{user: cr.Username, token: cr.Token}
	}
}

// xoauth2Client is Google's XOAUTH2: the token in the initial response; a
// challenge carries an error description, answered with an empty response so
// the server ends the exchange with its failure reply.
type xoauth2Client struct {
	user, token string
	answered    bool
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next([]byte) ([]byte, error) {
	if c.answered {
		return nil, fmt.Errorf("%w: XOAUTH2: unexpected challenge", ErrProtocol)
	}
	c.answered = true
	return []byte{}, nil
}

// boundedSASL fails an exchange after MaxAuthSteps challenges.
type boundedSASL struct {
	sasl.Client
	steps int
}

func (b *boundedSASL) Next(ch []byte) ([]byte, error) {
	b.steps++
	if b.steps > MaxAuthSteps {
		return nil, fmt.Errorf("%w: more than %d AUTH challenges", ErrProtocol, MaxAuthSteps)
	}
	return b.Client.Next(ch)
}

// Envelope is the SMTP envelope: MAIL FROM and RCPT TO addresses (bare
// addr-spec, no angle brackets).
type Envelope struct {
	From string
	To   []string
}

// Result is what the server did with each recipient.
type Result struct {
	// Accepted lists the recipients the server accepted, in envelope order.
	Accepted []string
	// Refused lists the refused ones with the server's reply.
	Refused []*RecipientError
	// Reply is the server's reply to the message (often its queue id).
	Reply string
	// Size is the number of message bytes sent.
	Size int64
}

// ServerError is an SMTP reply that refused a command.
type ServerError struct {
	// Command is the refused command ("MAIL", "RCPT", "DATA", "AUTH", ...).
	Command string
	// Code is the reply code (e.g. 550) and Enhanced its RFC 3463 status
	// code (e.g. [5 1 1]) when the server gave one.
	Code     int
	Enhanced [3]int
	// Message is the reply text.
	Message string
	kind    error
}

// Error describes the reply.
func (e *ServerError) Error() string {
	enh := ""
	if e.Enhanced != [3]int{} {
		enh = fmt.Sprintf(" %d.%d.%d", e.Enhanced[0], e.Enhanced[1], e.Enhanced[2])
	}
	return fmt.Sprintf("submit: %s refused: %d%s %s", e.Command, e.Code, enh, e.Message)
}

// Temporary reports a 4xx reply: the same send may succeed later.
func (e *ServerError) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// Unwrap returns the Err* kind of the reply.
func (e *ServerError) Unwrap() error { return e.kind }

// RecipientError is one refused recipient.
type RecipientError struct {
	Address string
	*ServerError
}

// Error describes the refusal.
func (e *RecipientError) Error() string {
	return fmt.Sprintf("submit: recipient <%s> refused: %d %s", e.Address, e.Code, e.Message)
}

// Unwrap returns ErrRecipientRefused and the server reply.
func (e *RecipientError) Unwrap() []error { return []error{ErrRecipientRefused, e.ServerError} }

// withDefaults fills zero fields and validates.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Security == "" {
		cfg.Security = SecuritySTARTTLS
	}
	if cfg.Security != SecuritySTARTTLS && cfg.Security != SecurityTLS {
		return cfg, fmt.Errorf("%w: unknown security %q", ErrConfig, cfg.Security)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return cfg, fmt.Errorf("%w: address must be host:port", ErrConfig)
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{}
	}
	if cfg.TLSConfig.InsecureSkipVerify {
		return cfg, fmt.Errorf("%w: certificate verification cannot be disabled", ErrConfig)
	}
	cfg.TLSConfig = cfg.TLSConfig.Clone()
	if cfg.TLSConfig.ServerName == "" {
		cfg.TLSConfig.ServerName = host
	}
	if cfg.TLSConfig.MinVersion < tls.VersionTLS12 {
		cfg.TLSConfig.MinVersion = tls.VersionTLS12
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if strings.ContainsAny(cfg.LocalName, " \r\n\x00") {
		return cfg, fmt.Errorf("%w: bad local name", ErrConfig)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DialTimeout, DefaultDialTimeout)
	def(&cfg.CommandTimeout, DefaultCommandTimeout)
	def(&cfg.DataTimeout, DefaultDataTimeout)
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{}).DialContext
	}
	return cfg, nil
}

// CheckAddress validates an envelope address: non-empty, at most
// MaxAddressLength bytes, with an "@", and no CR, LF, NUL, space, tab or
// angle bracket (which could inject SMTP commands).
func CheckAddress(a string) error {
	if a == "" || len(a) > MaxAddressLength || !strings.Contains(a, "@") ||
		strings.ContainsAny(a, "\r\n\x00 \t<>") {
		return fmt.Errorf("%w: %q", ErrBadAddress, a)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Send submits msg (size bytes, CRLF line endings) to env's recipients. It
// returns a Result whenever the server accepted the message for at least one
// recipient; refused recipients are in Result.Refused, not in the error. The
// error is non-nil when nothing was sent; then no recipient got the message.
// Cancelling ctx, or its deadline, ends the session at once.
func Send(ctx context.Context, cfg Config, creds Credentials, env Envelope, msg io.Reader, size int64) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := CheckAddress(env.From); err != nil {
		return nil, err
	}
	if len(env.To) == 0 {
		return nil, fmt.Errorf("%w: empty envelope", ErrNoRecipients)
	}
	if len(env.To) > cfg.MaxRecipients {
		return nil, fmt.Errorf("%w: %d > %d", ErrTooManyRecipients, len(env.To), cfg.MaxRecipients)
	}
	utf8 := !isASCII(env.From)
	for _, to := range env.To {
		if err := CheckAddress(to); err != nil {
			return nil, err
		}
		utf8 = utf8 || !isASCII(to)
	}
	s, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.send(creds, env, msg, size, utf8)
}

// session is one SMTP connection.
type session struct {
	ctx  context.Context
	cfg  Config
	conn *limitConn
	c    *smtp.Client
	stop func() bool
}

func dial(ctx context.Context, cfg Config) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	raw, err := cfg.Dial(dctx, "tcp", cfg.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("submit: connect: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: connect: %w", ErrUnavailable, err)
	}
	lc := &limitConn{Conn: raw, remaining: cfg.MaxResponseBytes, writeTimeout: cfg.CommandTimeout}
	s := &session{ctx: ctx, cfg: cfg, conn: lc}
	// Cancellation closes the connection, which ends any blocked read or write.
	s.stop = context.AfterFunc(ctx, func() { raw.Close() })
	var conn net.Conn = lc
	if cfg.Security == SecurityTLS {
		tc := tls.Client(lc, cfg.TLSConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			s.close()
			return nil, s.classify("TLS", err)
		}
		conn = tc
		s.c = smtp.NewClient(conn)
	} else {
		// NewClientStartTLS reads the greeting, says EHLO and upgrades; it
		// fails without sending anything else when STARTTLS is not offered.
		// go-smtp bounds the greeting and this first EHLO by its own 5-minute
		// default, before its timeouts can be set: clamp them to ours.
		lc.clamp = cfg.CommandTimeout
		c, err := smtp.NewClientStartTLS(conn, cfg.TLSConfig)
		lc.clamp = 0
		if err != nil {
			s.close()
			if err.Error() == errNoStartTLS {
				return nil, fmt.Errorf("%w on %s", ErrTLSRequired, cfg.Addr)
			}
			return nil, s.classify("STARTTLS", err)
		}
		s.c = c
	}
	s.c.CommandTimeout = cfg.CommandTimeout
	s.c.SubmissionTimeout = cfg.DataTimeout
	if err := s.c.Hello(cfg.LocalName); err != nil {
		s.close()
		return nil, s.classify("EHLO", err)
	}
	if _, ok := s.c.TLSConnectionState(); !ok {
		s.close()
		return nil, fmt.Errorf("%w: no TLS session", ErrTLS)
	}
	return s, nil
}

// errNoStartTLS is go-smtp's error text for a server without STARTTLS (it
// has no exported value).
const errNoStartTLS = "smtp: server doesn't support STARTTLS"

func (s *session) close() {
	s.stop()
	if s.c != nil {
		_ = s.c.Close()
	} else {
		_ = s.conn.Close()
	}
}

func (s *session) send(creds Credentials, env Envelope, msg io.Reader, size int64, utf8 bool) (*Result, error) {
	c := s.c
	if creds.Username != "" || creds.Token != "" {
		mech, err := creds.mechanism(c.SupportsAuth)
		if err != nil {
			return nil, err
		}
		if err := c.Auth(&boundedSASL{Client: creds.client(mech)}); err != nil {
			return nil, s.classify("AUTH", err)
		}
	}
	limit := s.cfg.MaxMessageSize
	if n, ok := c.MaxMessageSize(); ok && n > 0 {
		limit = int64(n)
	}
	if size > limit {
		_ = c.Quit()
		return nil, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, size, limit)
	}
	if ok, _ := c.Extension("SMTPUTF8"); utf8 && !ok {
		_ = c.Quit()
		return nil, ErrUTF8Unsupported
	}
	if err := c.Mail(env.From, &smtp.MailOptions{Size: size, UTF8: utf8}); err != nil {
		return nil, s.classify("MAIL", err)
	}
	res := &Result{}
	for _, to := range env.To {
		err := c.Rcpt(to, nil)
		if err == nil {
			res.Accepted = append(res.Accepted, to)
			continue
		}
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code == 421 {
			return nil, s.classify("RCPT", err)
		}
		res.Refused = append(res.Refused, &RecipientError{Address: to, ServerError: s.serverError("RCPT", se)})
	}
	if len(res.Accepted) == 0 {
		_ = c.Reset()
		_ = c.Quit()
		return res, fmt.Errorf("%w: all %d refused", ErrNoRecipients, len(res.Refused))
	}
	w, err := c.Data()
	if err != nil {
		return nil, s.classify("DATA", err)
	}
	n, err := io.Copy(w, msg)
	res.Size = n
	if err != nil {
		return nil, s.classify("DATA", err)
	}
	reply, err := w.CloseWithResponse()
	if err != nil {
		return nil, s.classify("DATA", err)
	}
	res.Reply = reply.StatusText
	_ = c.Quit()
	return res, nil
}

func (s *session) serverError(cmd string, se *smtp.SMTPError) *ServerError {
	e := &ServerError{Command: cmd, Code: se.Code, Message: se.Message}
	if se.EnhancedCode != smtp.NoEnhancedCode {
		e.Enhanced = [3]int(se.EnhancedCode)
	}
	switch {
	case se.Code == 421:
		e.kind = ErrUnavailable
	case cmd == "AUTH" && (se.Code == 535 || se.Code == 534 || se.Code == 454 || se.Code == 500 || se.Code == 501):
		e.kind = ErrAuthFailed
	case cmd == "AUTH" && se.Code == 504:
		e.kind = ErrAuthUnsupported
	case se.Code == 552 || e.Enhanced == [3]int{5, 3, 4} || e.Enhanced == [3]int{5, 2, 3}:
		e.kind = ErrTooLarge
	case cmd == "STARTTLS" || cmd == "TLS":
		e.kind = ErrTLS
	default:
		e.kind = ErrRejected
	}
	return e
}

// classify turns an error of command cmd into one of the package's kinds.
func (s *session) classify(cmd string, err error) error {
	if s.ctx.Err() != nil {
		return fmt.Errorf("submit: %s: %w", cmd, s.ctx.Err())
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return s.serverError(cmd, se)
	}
	var (
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		he   x509.HostnameError
		rhe  tls.RecordHeaderError
		alrt tls.AlertError
		ne   net.Error
	)
	switch {
	case errors.Is(err, ErrProtocol):
		return fmt.Errorf("submit: %s: %w", cmd, err)
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &rhe), errors.As(err, &alrt):
		return fmt.Errorf("%w: %s: %w", ErrTLS, cmd, err)
	case errors.Is(err, errResponseTooLarge), errors.Is(err, smtp.ErrTooLongLine):
		return fmt.Errorf("%w: %s: %w", ErrProtocol, cmd, err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %s: %w", ErrTimeout, cmd, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.As(err, &ne):
		return fmt.Errorf("%w: %s: connection lost: %w", ErrUnavailable, cmd, err)
	case cmd == "STARTTLS" && strings.Contains(err.Error(), "tls"):
		return fmt.Errorf("%w: %s: %w", ErrTLS, cmd, err)
	default:
		return fmt.Errorf("%w: %s: %w", ErrProtocol, cmd, err)
	}
}

// limitConn bounds what the server may send and puts a deadline on every
// write (go-smtp writes the message body without one).
type limitConn struct {
	net.Conn
	remaining    int64
	writeTimeout time.Duration
	clamp        time.Duration // if set, no deadline lies further ahead
}

func (c *limitConn) SetDeadline(t time.Time) error {
	if c.clamp > 0 && !t.IsZero() {
		if max := time.Now().Add(c.clamp); t.After(max) {
			t = max
		}
	}
	return c.Conn.SetDeadline(t)
}

func (c *limitConn) Read(p []byte) (int, error) {
	if c.remaining <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.Conn.Read(p)
	c.remaining -= int64(n)
	return n, err
}

func (c *limitConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	return c.Conn.Write(p)
}
