package imapengine

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Ports and protocol constants, as in imaplib.
const (
	Port    = 143 // IMAP4_PORT
	TLSPort = 993 // IMAP4_SSL_PORT
	CRLF    = "\r\n"
)

// AllowedVersions lists the protocol versions accepted, newest first (imaplib's
// AllowedVersions). A server advertising neither is rejected.
var AllowedVersions = [...]string{"IMAP4REV1", "IMAP4"}

// Default limits and deadlines. Every one can be changed in [Options] or [Limits].
const (
	// DefaultMaxLineLength is the longest response line accepted, CRLF included
	// (imaplib's _MAXLINE).
	DefaultMaxLineLength = imapwire.DefaultMaxLineLength
	// DefaultMaxLiteralSize bounds one literal sent by the server.
	DefaultMaxLiteralSize = imapwire.DefaultMaxLiteralSize
	// DefaultMaxResponseSize bounds all lines and literals of one response.
	DefaultMaxResponseSize = imapwire.DefaultMaxResponseSize
	// DefaultMaxDepth bounds parenthesised list nesting.
	DefaultMaxDepth = imapwire.DefaultMaxDepth
	// DefaultMaxLiterals bounds the literals of one response: the reader
	// refuses the response (ErrTooManyItems) as soon as one more literal is
	// announced, before reading it.
	DefaultMaxLiterals = imapwire.DefaultMaxLiterals
	// DefaultMaxItems bounds the values (list elements) the typed view decodes
	// from one response; past it the response is refused (ErrTooManyItems)
	// at once.
	DefaultMaxItems = imapwire.DefaultMaxItems
	// DefaultMaxUntagged bounds the untagged data retained between pops
	// (Client.Response, command results). Past it the connection is aborted rather
	// than buffering without bound.
	DefaultMaxUntagged = 100_000
	// DefaultConnectTimeout bounds TCP connect plus TLS handshake.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultGreetingTimeout bounds the wait for the server greeting.
	DefaultGreetingTimeout = 16 * time.Second
	// DefaultCommandTimeout bounds how long a pending command may go without a
	// complete response from the server; on expiry the connection is closed with
	// ErrTimeout (its stream state is unknown).
	DefaultCommandTimeout = 60 * time.Second
	// DefaultMaxAuthRounds bounds SASL continuation rounds.
	DefaultMaxAuthRounds = 10
	// DefaultMaxAuthChallenge bounds one SASL challenge, base64-decoded.
	DefaultMaxAuthChallenge = 64 << 10
)

// Limits bound everything the client reads from the server. The zero value of
// each field means its default.
type Limits struct {
	MaxLineLength    int   // default DefaultMaxLineLength
	MaxLiteralSize   int64 // default DefaultMaxLiteralSize
	MaxResponseSize  int64 // default DefaultMaxResponseSize
	MaxDepth         int   // default DefaultMaxDepth
	MaxLiterals      int   // literals per response; default DefaultMaxLiterals
	MaxItems         int   // typed view: values per response; default DefaultMaxItems
	MaxUntagged      int   // default DefaultMaxUntagged
	MaxAuthRounds    int   // default DefaultMaxAuthRounds
	MaxAuthChallenge int   // default DefaultMaxAuthChallenge
	// ReadBufferSize is the per-connection read buffer (default 64 KiB). A
	// program holding many idle connections can lower it.
	ReadBufferSize int
}

func (l Limits) withDefaults() Limits {
	orDefault(&l.MaxLineLength, DefaultMaxLineLength)
	orDefault(&l.MaxLiteralSize, DefaultMaxLiteralSize)
	orDefault(&l.MaxResponseSize, DefaultMaxResponseSize)
	orDefault(&l.MaxDepth, DefaultMaxDepth)
	orDefault(&l.MaxLiterals, DefaultMaxLiterals)
	orDefault(&l.MaxItems, DefaultMaxItems)
	orDefault(&l.MaxUntagged, DefaultMaxUntagged)
	orDefault(&l.MaxAuthRounds, DefaultMaxAuthRounds)
	orDefault(&l.MaxAuthChallenge, DefaultMaxAuthChallenge)
	return l
}

// orDefault replaces a zero or negative limit or duration with its default.
func orDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (l Limits) wire() imapwire.Limits {
	return imapwire.Limits{
		MaxLineLength:   l.MaxLineLength,
		MaxLiteralSize:  l.MaxLiteralSize,
		MaxResponseSize: l.MaxResponseSize,
		MaxDepth:        l.MaxDepth,
		// Each literal is one imaplib item: no response may carry more
		// than MaxUntagged of them either.
		MaxLiterals:    min(l.MaxLiterals, l.MaxUntagged),
		MaxItems:       l.MaxItems,
		ReadBufferSize: l.ReadBufferSize,
	}
}

// Options configures a connection. The zero value is usable: verified TLS,
// default limits and deadlines, no logging.
type Options struct {
	// Timeout is imaplib's timeout: when positive it bounds connecting and each
	// command's wait for completion (overriding ConnectTimeout and
	// CommandTimeout). Zero means "not set" (imaplib's None): the defaults below
	// and the context apply. Negative is imaplib's timeout=0 and is refused with
	// ErrInvalidTimeout before anything is dialled.
	Timeout time.Duration
	// ConnectTimeout bounds dial and TLS handshake (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// GreetingTimeout bounds the wait for the greeting (default DefaultGreetingTimeout).
	GreetingTimeout time.Duration
	// CommandTimeout bounds how long a pending command may go without a complete
	// response (a long FETCH that keeps delivering is not cut off; a silent or
	// trickling server is); on expiry the connection is closed with ErrTimeout.
	// Default DefaultCommandTimeout; an active IDLE is not bounded by it.
	CommandTimeout time.Duration

	// TLSConfig is used for implicit TLS and STARTTLS. Nil means a config that
	// verifies the certificate against the system roots and the host name. The
	// client never lowers verification and raises MinVersion to TLS 1.2.
	TLSConfig *tls.Config
	// AllowPlaintextAuth permits LOGIN and AUTHENTICATE on a TCP connection that is
	// not protected by TLS. Danger: the password crosses the network in the clear.
	// Subprocess (stream) connections never need it.
	AllowPlaintextAuth bool

	// Limits bounds what is read from the server.
	Limits Limits

	// Logger receives debug traces at slog.LevelDebug. Nil disables tracing.
	// Passwords, tokens and SASL payloads are always redacted.
	Logger *slog.Logger
	// Debug is imaplib's debug level: 1 logs NO/BAD/BYE, 3 capabilities, 4 every
	// line sent and received (redacted), 5 every untagged response stored.
	Debug int

	// Dialer dials TCP; nil means a net.Dialer.
	Dialer interface {
		DialContext(ctx context.Context, network, address string) (net.Conn, error)
	}
	// Stderr receives a stream (subprocess) connection's standard error; nil discards it.
	Stderr io.Writer

	// OnEvent receives unsolicited data (EXISTS, EXPUNGE with its UID, flag
	// changes, VANISHED, RECENT, ALERT, BYE) in the order it arrived, from a
	// goroutine the client owns (started while events wait; one at a time),
	// never under a lock. It must not call Shutdown
	// or Logout synchronously, and should hand slow work elsewhere: while
	// EventQueue events are waiting, the reader waits too.
	OnEvent func(Event)
	// EventQueue is the buffer between the reader and OnEvent (default DefaultEventQueue).
	EventQueue int

	startTLS bool // set by DialStartTLS: PREAUTH before TLS is refused
}

// timeout picks Timeout when set, else the specific setting, else its default.
func (o *Options) timeout(specific, def time.Duration) time.Duration {
	switch {
	case o.Timeout > 0:
		return o.Timeout
	case specific > 0:
		return specific
	}
	return def
}

func (o *Options) connectTimeout() time.Duration {
	return o.timeout(o.ConnectTimeout, DefaultConnectTimeout)
}

func (o *Options) greetingTimeout() time.Duration {
	return o.timeout(o.GreetingTimeout, DefaultGreetingTimeout)
}

func (o *Options) commandTimeout() time.Duration {
	return o.timeout(o.CommandTimeout, DefaultCommandTimeout)
}
