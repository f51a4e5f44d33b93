package imapwire

import (
	"fmt"
	"io"
	"strconv"
)

// Chunk is one piece of a command as written to the wire: a line (Text)
// and, when Literal is not nil, the literal payload announced at the end of
// Text.
type Chunk struct {
	// Text ends with CRLF, or with "{N}\r\n" / "{N+}\r\n" (or the "~{...}"
	// literal8 forms) when Literal is not nil.
	Text []byte
	// Literal is the payload following Text, nil if none.
	Literal []byte
	// Sync is true for a synchronizing literal: the engine must wait for a
	// "+" continuation request before writing Literal.
	Sync bool
	// Stream, when not nil, is the payload instead of Literal: exactly Size
	// bytes read from it as they are written (see Encoder.LiteralStream).
	Stream io.Reader
	Size   int64
}

// HasLiteral reports whether a literal payload follows Text.
func (c Chunk) HasLiteral() bool { return c.Literal != nil || c.Stream != nil }

// Command is an encoded command: its chunks in wire order.
type Command struct {
	Chunks []Chunk
}

// EncoderOptions selects extensions the server announced.
type EncoderOptions struct {
	// LiteralPlus (RFC 7888 LITERAL+): every literal is non-synchronizing.
	LiteralPlus bool
	// LiteralMinus (RFC 7888 LITERAL-, IMAP4rev2): literals of at most
	// MaxNonSyncLiteral bytes are non-synchronizing.
	LiteralMinus bool
	// UTF8 (RFC 6855 UTF8=ACCEPT enabled): 8-bit strings may be sent as
	// quoted strings. Without it, Quoted, AString and ListMailbox send a
	// string containing bytes 0x80-0xFF as a literal, as RFC 3501 requires.
	UTF8 bool
}

// Encoder builds one command at a time. Arguments are validated as they are
// added; the first error is sticky and reported by Err and Command. The
// zero Encoder is not usable; call NewEncoder.
type Encoder struct {
	opts   EncoderOptions
	buf    []byte
	chunks []Chunk
	err    error
}

// NewEncoder returns an Encoder with options o.
func NewEncoder(o EncoderOptions) *Encoder { return &Encoder{opts: o} }

// Reset discards the command being built and the sticky error.
func (e *Encoder) Reset() { e.buf, e.chunks, e.err = nil, nil, nil }

// Err returns the first error met, which wraps ErrBadArgument.
func (e *Encoder) Err() error { return e.err }

// fail records the first error.
func (e *Encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// checkToken validates a raw token: no NUL, CR or LF, no trailing literal
// marker.
func (e *Encoder) checkToken(what, s string) bool {
	if e.err != nil {
		return false
	}
	if err := CheckArg(s); err != nil {
		e.fail(fmt.Errorf("imapwire: %s argument: %w", what, err))
		return false
	}
	if endsInLiteralMarker([]byte(s)) {
		e.fail(fmt.Errorf("imapwire: %s argument %q ends like a literal: %w", what, s, ErrBadArgument))
		return false
	}
	return true
}

// Atom appends s verbatim after validating it: NUL, CR or LF, or a trailing
// "{digits}" / "{digits+}" (a forged literal), record ErrBadArgument.
func (e *Encoder) Atom(s string) *Encoder {
	if e.checkToken("atom", s) {
		e.buf = append(e.buf, s...)
	}
	return e
}

// Raw appends a raw imaplib argument (search criteria and the like) with the
// validation of Atom.
func (e *Encoder) Raw(s string) *Encoder {
	if e.checkToken("raw", s) {
		e.buf = append(e.buf, s...)
	}
	return e
}

// SP appends a space.
func (e *Encoder) SP() *Encoder {
	if e.err == nil {
		e.buf = append(e.buf, ' ')
	}
	return e
}

// Quoted appends s as a quoted string (imaplib _quote). See
// EncoderOptions.UTF8 for 8-bit strings.
func (e *Encoder) Quoted(s string) *Encoder {
	return e.quotedOrLiteral("quoted", s, Quote(s))
}

// AString appends s following imaplib _astring (see AString). See
// EncoderOptions.UTF8 for 8-bit strings.
func (e *Encoder) AString(s string) *Encoder {
	return e.quotedOrLiteral("astring", s, AString(s))
}

// ListMailbox appends s following imaplib _list_mailbox (see ListMailbox).
// See EncoderOptions.UTF8 for 8-bit strings.
func (e *Encoder) ListMailbox(s string) *Encoder {
	return e.quotedOrLiteral("mailbox", s, ListMailbox(s))
}

// quotedOrLiteral appends enc, the quoted form of s, or s as a literal when
// s had to be quoted, holds 8-bit bytes and UTF8 is off.
func (e *Encoder) quotedOrLiteral(what, s, enc string) *Encoder {
	if e.err != nil {
		return e
	}
	if err := CheckArg(s); err != nil {
		e.fail(fmt.Errorf("imapwire: %s argument: %w", what, err))
		return e
	}
	if !e.opts.UTF8 && enc != s && has8Bit(s) {
		return e.literal("", []byte(s))
	}
	e.buf = append(e.buf, enc...)
	return e
}

// has8Bit reports whether s has a byte above 0x7F.
func has8Bit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// Number appends n in decimal.
func (e *Encoder) Number(n uint64) *Encoder {
	if e.err == nil {
		e.buf = strconv.AppendUint(e.buf, n, 10)
	}
	return e
}

// Literal appends a literal carrying b, never validated. It is
// non-synchronizing ("{N+}") with LITERAL+, or with LITERAL- when b has at
// most MaxNonSyncLiteral bytes; otherwise synchronizing ("{N}", Chunk.Sync).
func (e *Encoder) Literal(b []byte) *Encoder { return e.literal("", b) }

// Literal8 appends a literal8 ("~{N}", RFC 3516) carrying b, with the
// synchronization rules of Literal.
func (e *Encoder) Literal8(b []byte) *Encoder { return e.literal("~", b) }

// LiteralStream appends a literal of size bytes to be read from r while the
// command is written (an APPEND of a message that is never held in memory),
// with the synchronization rules of Literal. prefix8 selects literal8
// ("~{N}").
func (e *Encoder) LiteralStream(r io.Reader, size int64, prefix8 bool) *Encoder {
	if e.err != nil {
		return e
	}
	if size < 0 || r == nil {
		e.fail(fmt.Errorf("imapwire: literal stream of size %d: %w", size, ErrBadArgument))
		return e
	}
	if prefix8 {
		e.buf = append(e.buf, '~')
	}
	sync := !e.opts.LiteralPlus && !(e.opts.LiteralMinus && size <= MaxNonSyncLiteral)
	e.buf = append(e.buf, '{')
	e.buf = strconv.AppendInt(e.buf, size, 10)
	if !sync {
		e.buf = append(e.buf, '+')
	}
	e.buf = append(e.buf, "}\r\n"...)
	e.chunks = append(e.chunks, Chunk{Text: e.buf, Stream: r, Size: size, Sync: sync})
	e.buf = nil
	return e
}

// literal ends the current chunk with a literal marker and payload.
func (e *Encoder) literal(prefix string, b []byte) *Encoder {
	if e.err != nil {
		return e
	}
	if b == nil {
		b = []byte{}
	}
	sync := !e.opts.LiteralPlus && !(e.opts.LiteralMinus && len(b) <= MaxNonSyncLiteral)
	e.buf = append(e.buf, prefix...)
	e.buf = append(e.buf, '{')
	e.buf = strconv.AppendInt(e.buf, int64(len(b)), 10)
	if !sync {
		e.buf = append(e.buf, '+')
	}
	e.buf = append(e.buf, "}\r\n"...)
	e.chunks = append(e.chunks, Chunk{Text: e.buf, Literal: b, Sync: sync})
	e.buf = nil
	return e
}

// Bytes appends b verbatim: fixed syntax written by the engine itself
// ("(", ")", "UTF8 ("), never user data.
func (e *Encoder) Bytes(b []byte) *Encoder {
	if e.err == nil {
		e.buf = append(e.buf, b...)
	}
	return e
}

// CRLF ends the current line and its chunk. A line that would end in a
// literal marker not written by Literal records ErrBadArgument.
func (e *Encoder) CRLF() *Encoder {
	if e.err != nil {
		return e
	}
	if endsInLiteralMarker(e.buf) {
		e.fail(fmt.Errorf("imapwire: command line ends like a literal: %w", ErrBadArgument))
		return e
	}
	e.buf = append(e.buf, '\r', '\n')
	e.chunks = append(e.chunks, Chunk{Text: e.buf})
	e.buf = nil
	return e
}

// errEmptyCommand is returned by Command when nothing was added.
var errEmptyCommand = fmt.Errorf("imapwire: empty command: %w", ErrBadArgument)

// Command finishes the command and returns it, ending the last line with
// CRLF if needed (also after a final literal). The Encoder is then empty and
// ready for the next command; the returned chunks are not reused.
func (e *Encoder) Command() (Command, error) {
	if e.err == nil {
		n := len(e.chunks)
		switch {
		case len(e.buf) > 0 || (n > 0 && e.chunks[n-1].Literal != nil):
			e.CRLF()
		case n == 0:
			e.fail(errEmptyCommand)
		}
	}
	chunks, err := e.chunks, e.err
	e.Reset()
	if err != nil {
		return Command{}, err
	}
	return Command{Chunks: chunks}, nil
}
