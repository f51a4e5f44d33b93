package imaptest

import (
	"errors"
	"time"
)

// Limits applied to everything the fake server reads from a client. They keep
// a misbehaving client under test from exhausting the test process's memory.
const (
	// MaxLineLength is the longest command or continuation line, CRLF
	// included, that Conn.ReadLine accepts before failing with ErrLineTooLong.
	MaxLineLength = 1 << 20

	// MaxLiteralSize is the largest byte count Conn.ReadN and Conn.ReadLiteral
	// accept before failing with ErrLiteralTooLarge.
	MaxLiteralSize = 64 << 20

	// EarlyDataWait is how long Conn.ReadLiteral waits for bytes the client
	// must not have sent yet (before the "+" continuation).
	EarlyDataWait = 50 * time.Millisecond
)

// Sentinel errors returned by Conn methods. Errors from the underlying stream
// are wrapped with %w, so errors.Is(err, io.EOF) and errors.Is(err,
// net.ErrClosed) also work.
var (
	// ErrLineTooLong reports a client line longer than MaxLineLength.
	ErrLineTooLong = errors.New("imaptest: line too long")

	// ErrLiteralTooLarge reports a byte count above MaxLiteralSize, or a
	// negative one.
	ErrLiteralTooLarge = errors.New("imaptest: literal too large")

	// ErrNoLiteral reports a command line that does not end with a literal
	// marker "{N}", "{N+}", "(~{N}" or "~{N}".
	ErrNoLiteral = errors.New("imaptest: no literal marker at end of line")

	// ErrEarlyLiteral reports that the client sent bytes of a synchronizing
	// literal before the server's "+" continuation.
	ErrEarlyLiteral = errors.New("imaptest: client sent literal data before continuation")

	// ErrConnClosed reports an operation on a connection that Close has
	// already shut down.
	ErrConnClosed = errors.New("imaptest: connection closed")

	// ErrPendingData reports a StartTLS call while plaintext bytes from the
	// client are still buffered (they would be lost by the upgrade).
	ErrPendingData = errors.New("imaptest: plaintext data pending before TLS")

	// ErrTLSActive reports a StartTLS call on a connection that already
	// uses TLS.
	ErrTLSActive = errors.New("imaptest: TLS already active")

	// ErrNoDeadline reports a stream that cannot time out reads, on which
	// ClientSentNothing cannot check anything.
	ErrNoDeadline = errors.New("imaptest: stream does not support read deadlines")
)
