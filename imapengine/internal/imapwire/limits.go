package imapwire

// Default limits. Each one bounds memory or work spent on data sent by the
// server; all of them can be overridden through [Limits].
const (
	// DefaultMaxLineLength is the longest response line accepted, CRLF
	// included (imaplib's _MAXLINE). A line of exactly this length is
	// accepted; one byte more fails with ErrLineTooLong.
	DefaultMaxLineLength = 1_000_000

	// DefaultMaxLiteralSize is the largest single literal accepted.
	DefaultMaxLiteralSize = 64 << 20

	// DefaultMaxResponseSize bounds the sum of all lines and literals of one
	// response.
	DefaultMaxResponseSize = 128 << 20

	// DefaultMaxDepth bounds the nesting of parenthesised lists.
	DefaultMaxDepth = 100

	// DefaultMaxLiterals bounds the literals of one response. The Reader
	// counts them as it frames the response and fails with ErrTooManyItems
	// when the next "{N}" would exceed the limit, before reading its bytes.
	// A FETCH of many body sections of one message, or a METADATA response
	// with many values, stays far below it.
	DefaultMaxLiterals = 10_000

	// DefaultMaxItems bounds the values (atoms, numbers, strings, NIL,
	// lists) a Scanner decodes from one response; past it the Scanner
	// records ErrTooManyItems at once. It bounds the memory of typed results
	// (each decoded value is a Go value several times its wire size).
	DefaultMaxItems = 100_000

	// MaxLiteralDigits is the most digits a literal byte count may have
	// (enough for any int64). More digits fail with ErrLiteralTooLarge.
	MaxLiteralDigits = 19

	// ReadChunkSize is the size of the Reader's buffer and of the chunks in
	// which large literals are read and grown.
	ReadChunkSize = 64 << 10

	// LiteralGrowth and LiteralTrustSize set how a literal's buffer grows
	// once its first ReadChunkSize bytes have arrived: to the announced size
	// when that is at most LiteralTrustSize, else LiteralGrowth-fold each
	// time it fills (1 MiB, 4 MiB, ...), capped at the announced size. So
	// a server makes the client allocate at most LiteralTrustSize or
	// LiteralGrowth times the bytes it has actually sent, whichever is
	// larger, and an attachment of up to 1 MiB is read with a single copy
	// of its first chunk instead of one per doubling.
	LiteralGrowth    = 4
	LiteralTrustSize = 1 << 20

	// DirectReadSize is the smallest remainder of a literal that is read
	// straight from the connection into the literal's own memory, bypassing
	// the Reader's buffer. Smaller remainders go through the buffer: one
	// system call then serves several small literals.
	DirectReadSize = 4 << 10

	// MaxRecycledLiteral is the largest literal buffer a Reader keeps for
	// reuse after Recycle; larger ones are left to the garbage collector.
	MaxRecycledLiteral = 2 << 20

	// MaxNumberDigits is the most digits a 32-bit number (nz-number,
	// number) may have.
	MaxNumberDigits = 10

	// MaxNumber64Digits is the most digits a 63-bit number (mod-sequence)
	// may have.
	MaxNumber64Digits = 19

	// MaxNonSyncLiteral is the largest literal sent as non-synchronizing
	// when only LITERAL- is available (RFC 7888).
	MaxNonSyncLiteral = 4096
)

// Limits bounds what a Reader or Scanner accepts from the server. A zero
// field means "use the default"; see [Limits.WithDefaults].
type Limits struct {
	// MaxLineLength is the longest line, CRLF included.
	// Default DefaultMaxLineLength. Raising it raises the memory a single
	// line can pin.
	MaxLineLength int
	// MaxLiteralSize is the largest single literal. Default
	// DefaultMaxLiteralSize. Memory is only allocated as bytes arrive (see
	// LiteralGrowth).
	MaxLiteralSize int64
	// MaxResponseSize bounds all lines and literals of one response.
	// Default DefaultMaxResponseSize.
	MaxResponseSize int64
	// MaxDepth bounds list nesting in the Scanner. Default DefaultMaxDepth.
	MaxDepth int
	// MaxLiterals bounds the literals of one response, counted by the
	// Reader as they arrive. Default DefaultMaxLiterals.
	MaxLiterals int
	// MaxItems bounds the values a Scanner decodes from one response.
	// Default DefaultMaxItems.
	MaxItems int
	// ReadBufferSize is the Reader's buffer, allocated per connection.
	// Default ReadChunkSize; a server with many idle connections may use
	// less (MinReadBufferSize at least): longer lines still work, and large
	// literals are read straight into their own memory.
	ReadBufferSize int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxLineLength:   DefaultMaxLineLength,
		MaxLiteralSize:  DefaultMaxLiteralSize,
		MaxResponseSize: DefaultMaxResponseSize,
		MaxDepth:        DefaultMaxDepth,
		MaxLiterals:     DefaultMaxLiterals,
		MaxItems:        DefaultMaxItems,
	}
}

// WithDefaults returns l with every zero or negative field replaced by its
// default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = d.MaxLineLength
	}
	if l.MaxLiteralSize <= 0 {
		l.MaxLiteralSize = d.MaxLiteralSize
	}
	if l.MaxResponseSize <= 0 {
		l.MaxResponseSize = d.MaxResponseSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxLiterals <= 0 {
		l.MaxLiterals = d.MaxLiterals
	}
	if l.MaxItems <= 0 {
		l.MaxItems = d.MaxItems
	}
	switch {
	case l.ReadBufferSize <= 0:
		l.ReadBufferSize = ReadChunkSize
	case l.ReadBufferSize < MinReadBufferSize:
		l.ReadBufferSize = MinReadBufferSize
	}
	return l
}

// MinReadBufferSize is the smallest Limits.ReadBufferSize used.
const MinReadBufferSize = 1 << 10
