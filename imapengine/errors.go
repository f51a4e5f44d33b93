package imapengine

import (
	"errors"
	"fmt"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Kind tells which of imaplib's three exception classes an [*Error] stands for.
type Kind int

const (
	// KindError is imaplib's IMAP4.error: a logical or program error, a tagged BAD,
	// a failed login or authentication. The connection may still be usable.
	KindError Kind = iota
	// KindAbort is imaplib's IMAP4.abort: the connection is unusable (EOF, BYE,
	// protocol violation, I/O failure). Every later command fails.
	KindAbort
	// KindReadOnly is imaplib's IMAP4.readonly: the mailbox is or became READ-ONLY
	// while a writable selection was expected.
	KindReadOnly
)

func (k Kind) String() string {
	switch k {
	case KindAbort:
		return "abort"
	case KindReadOnly:
		return "readonly"
	default:
		return "error"
	}
}

// Error is every error the client reports for an IMAP-level condition. Its Kind
// mirrors imaplib's exception hierarchy (readonly ⊂ abort ⊂ error): use
// errors.Is(err, ErrAbort), errors.Is(err, ErrReadOnly) or errors.Is(err, ErrIMAP)
// to test the class, and errors.As with *StatusError for a server's NO/BAD.
type Error struct {
	Kind    Kind
	Command string // the command during which it happened ("" outside a command)
	Msg     string // the imaplib-compatible message, without the command prefix
	Err     error  // the cause, if any (a sentinel such as ErrLineTooLong, a *StatusError, an I/O error)
}

// Error formats like imaplib: "command: NAME => msg" inside a command, else msg.
func (e *Error) Error() string {
	if e.Command != "" {
		return "imapengine: command: " + e.Command + " => " + e.Msg
	}
	return "imapengine: " + e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports class membership: every *Error is ErrIMAP; KindAbort and KindReadOnly
// are ErrAbort; KindReadOnly is ErrReadOnly.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrIMAP:
		return true
	case ErrAbort:
		return e.Kind == KindAbort || e.Kind == KindReadOnly
	case ErrReadOnly:
		return e.Kind == KindReadOnly
	}
	return false
}

// Class sentinels, matched by [*Error.Is].
var (
	// ErrIMAP matches every *Error (imaplib's IMAP4.error, the base class).
	ErrIMAP = errors.New("imapengine: error")
	// ErrAbort matches errors after which the connection is unusable (IMAP4.abort).
	ErrAbort = errors.New("imapengine: abort")
	// ErrReadOnly matches the READ-ONLY condition (IMAP4.readonly).
	ErrReadOnly = errors.New("imapengine: mailbox is read-only")
)

// Lifecycle and argument sentinels. They are wrapped by *Error or returned as is.
var (
	// ErrClosed: the connection is closed; no further command can run.
	ErrClosed = errors.New("imapengine: connection closed")
	// ErrBadArgument: an argument contains NUL, CR or LF, or could forge a literal
	// (imaplib raises ValueError). Nothing was written. It is the wire
	// encoder's sentinel, so encoder errors match it as they are.
	ErrBadArgument = imapwire.ErrBadArgument
	// ErrInvalidTimeout: a negative Options.Timeout (imaplib's timeout=0).
	ErrInvalidTimeout = errors.New("imapengine: Non-blocking socket (timeout=0) is not supported")
	// ErrIllegalState: the command is not allowed in the current state.
	ErrIllegalState = errors.New("imapengine: command illegal in this state")
	// ErrTimeout: a command, greeting or literal did not complete within its deadline;
	// the connection is closed because its stream state is unknown.
	ErrTimeout = errors.New("imapengine: timeout")
	// ErrTLSRequired: STARTTLS is required but the server does not offer it, or a
	// cleartext login was refused (see Options.AllowPlaintextAuth).
	ErrTLSRequired = errors.New("imapengine: TLS required")
	// ErrSTARTTLSInjection: plaintext bytes followed the tagged STARTTLS OK,
	// in the same segment or where the server's first TLS record should
	// have been; they were never parsed and the connection was closed. The
	// second case also matches ErrTLSHandshake.
	ErrSTARTTLSInjection = errors.New("imapengine: plaintext data after STARTTLS response (injection attempt)")
	// ErrTLSHandshake: the TLS handshake of STARTTLS or implicit TLS failed
	// (certificate, protocol version, or data that is not TLS), as opposed to
	// a connection that dropped. The crypto/tls error is wrapped too.
	ErrTLSHandshake = errors.New("imapengine: TLS handshake failed")
	// ErrPreauthPlaintext: the server greeted with PREAUTH on a connection that
	// must be upgraded with STARTTLS.
	ErrPreauthPlaintext = errors.New("imapengine: PREAUTH on unencrypted connection")
	// ErrAuthAborted is returned by an Authenticate callback to make the client send
	// "*" (imaplib's callback returning None).
	ErrAuthAborted = errors.New("imapengine: authentication aborted by client")
	// ErrNotSupported: the server lacks a capability the call needs, or a mechanism
	// is unavailable.
	ErrNotSupported = errors.New("imapengine: not supported")
	// ErrProtocol: the server broke the protocol (unexpected tagged response,
	// unparseable line, stray data).
	ErrProtocol = errors.New("imapengine: protocol error")
	// ErrServerBye: the server sent BYE.
	ErrServerBye = errors.New("imapengine: server said BYE")
)

// StatusError is a server's tagged NO or BAD (or an unexpected status) with its
// response code and human-readable text.
type StatusError struct {
	Command string // the command name, e.g. "LOGIN"
	Status  string // "NO", "BAD", ...
	Code    string // the response code's name, e.g. "AUTHENTICATIONFAILED", or ""
	Arg     string // the response code's argument, if any
	Text    string // the full text after the status, code included
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("imapengine: %s %s %s", e.Command, e.Status, e.Text)
}

func errorf(format string, args ...any) *Error {
	return &Error{Kind: KindError, Msg: fmt.Sprintf(format, args...)}
}

// inCommand returns err re-labelled as raised inside command name, as imaplib's
// "command: NAME => msg" wrapping does. Non-*Error values are returned unchanged.
func inCommand(name string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Command == "" {
		c := *e
		c.Command = name
		return &c
	}
	return err
}

// Limit sentinels, re-exported from the wire codec so callers can match them
// with errors.Is: a response line, literal, whole response or list nesting
// exceeded its limit (see Limits).
var (
	ErrLineTooLong      = imapwire.ErrLineTooLong
	ErrLiteralTooLarge  = imapwire.ErrLiteralTooLarge
	ErrResponseTooLarge = imapwire.ErrResponseTooLarge
	ErrTooDeep          = imapwire.ErrTooDeep
	// ErrTooManyItems: a response carried more literals than
	// Limits.MaxLiterals or (typed view) more values than Limits.MaxItems;
	// it also matches ErrResponseTooLarge.
	ErrTooManyItems = imapwire.ErrTooManyItems
)
