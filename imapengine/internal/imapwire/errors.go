package imapwire

import (
	"errors"
	"fmt"
	"io"
)

// Sentinel errors. Errors returned by this package wrap one of them (or
// io.EOF / io.ErrUnexpectedEOF / a transport error), so test with errors.Is.
var (
	// ErrLineTooLong reports a line longer than Limits.MaxLineLength.
	ErrLineTooLong = errors.New("imapwire: line too long")
	// ErrLiteralTooLarge reports a literal announced with more than
	// MaxLiteralDigits digits or above Limits.MaxLiteralSize.
	ErrLiteralTooLarge = errors.New("imapwire: literal too large")
	// ErrResponseTooLarge reports a response above Limits.MaxResponseSize.
	ErrResponseTooLarge = errors.New("imapwire: response too large")
	// ErrTooManyItems reports a response with more literals than
	// Limits.MaxLiterals or more values than Limits.MaxItems. It is
	// raised when the limit is crossed, not after the whole response was
	// read. The Reader's errors wrapping it also match ErrResponseTooLarge.
	ErrTooManyItems = errors.New("imapwire: too many literals or items in one response")
	// ErrTooDeep reports list nesting above Limits.MaxDepth.
	ErrTooDeep = errors.New("imapwire: nesting too deep")
	// ErrUnterminatedLine reports a line not ending in CRLF: a bare LF, or
	// EOF in the middle of a line. The EOF case also matches
	// io.ErrUnexpectedEOF.
	ErrUnterminatedLine = errors.New("imapwire: unterminated line")
	// ErrSyntax reports a response that does not follow the grammar.
	ErrSyntax = errors.New("imapwire: syntax error")
	// ErrNumberRange reports a number with too many digits or too large a
	// value.
	ErrNumberRange = errors.New("imapwire: number out of range")
	// ErrBadArgument reports a command argument that would break the
	// command line: NUL, CR, LF, or a trailing forged literal marker.
	ErrBadArgument = errors.New("imapwire: NUL, CR and LF not allowed in commands")
)

// errUnterminatedEOF is returned when the stream ends inside a line: it is
// both an ErrUnterminatedLine and an io.ErrUnexpectedEOF.
var errUnterminatedEOF = fmt.Errorf("%w at EOF: %w", ErrUnterminatedLine, io.ErrUnexpectedEOF)

// SyntaxError describes malformed response data found by the Scanner. Err is
// the sentinel (ErrSyntax, ErrNumberRange, ErrTooDeep, ...) returned by
// Unwrap.
type SyntaxError struct {
	// Msg says what was expected or found.
	Msg string
	// Offset is the byte offset of the error in line Line of the response.
	Offset int
	// Line is the index of the response line (Response.Lines) where the
	// error was found.
	Line int
	// Excerpt is a short piece of the line starting at Offset.
	Excerpt string
	// Err is the sentinel error.
	Err error
}

// maxExcerpt is the most bytes of input quoted in a SyntaxError.
const maxExcerpt = 24

// Error implements error.
func (e *SyntaxError) Error() string {
	err := e.Err
	if err == nil {
		err = ErrSyntax
	}
	return fmt.Sprintf("%v: %s at line %d offset %d near %q", err, e.Msg, e.Line, e.Offset, e.Excerpt)
}

// Unwrap returns the sentinel error.
func (e *SyntaxError) Unwrap() error { return e.Err }
