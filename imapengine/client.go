package imapengine

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Client is one IMAP connection: imaplib's IMAP4, IMAP4_SSL and IMAP4_stream in
// one type. It is safe for concurrent use: commands issued from several
// goroutines are pipelined, and one reader goroutine owned by the Client reads
// every response and routes completions by tag. On any I/O or protocol error the
// connection is closed and every pending and later command fails with an
// ErrAbort-class error.
//
// Untagged responses accumulate per type, exactly as in imaplib, until a command
// result or Response pops them; with concurrent commands the untagged data of one
// may therefore be returned by another of the same type.
type Client struct {
	opts   Options
	limits Limits
	host   string
	port   int
	kind   connKind

	conn   net.Conn      // the TCP or TLS connection; nil for streams
	rw     io.ReadWriter // the current transport
	closer io.Closer     // closes the transport (and reaps a subprocess)
	r      *imapwire.Reader
	trace  tracer

	wsem chan struct{} // held for one whole command exchange on the wire

	mu        sync.Mutex
	state     State
	caps      []string
	proto     string
	tagPrefix string
	tagNum    int
	pending   map[string]*pending
	untagged  map[string][]Datum
	nuntagged int
	contResp  []byte
	contSet   bool
	contCh    chan struct{}
	readOnly  bool
	utf8      bool
	tls       bool
	welcome   []byte
	xatoms    map[string][]State
	enabled   map[string]bool // extensions enabled with ENABLE
	notifying bool            // NOTIFY SET is in effect: every STATUS is an event
	idler     *Idler
	rawWant   []*rawReq
	streams   []*sectionStream // FetchSection calls waiting for their literal
	closed    bool
	closeErr  error
	resume    chan io.ReadWriter // STARTTLS hand-off to the reader goroutine
	pauseNext *pending

	lastResponse atomic.Int64 // UnixNano of the last complete response read

	sel         seqMap                           // the selected mailbox's size and UIDs
	selGen      int                              // incremented when sel is reset (a new SELECT)
	selSize     atomic.Uint64                    // sel.count(), readable without c.mu
	closing     atomic.Bool                      // set by closeWith: the reader stops at its next step
	hookObserve atomic.Pointer[func(typ string)] // tests: called as the reader processes an untagged response
	evq         []Event                          // events waiting for flushEvents
	deliveries  []delivery                       // responses waiting for their command's sink
	// Events handed to OnEvent (guarded by mu): evOut waits for the
	// dispatcher goroutine, which runs only while evOut is not empty (an idle
	// connection holds neither goroutine nor queue); at most evCap wait, then
	// the reader waits on evRoom. evIdle is closed when the dispatcher stops.
	evOut      []Event
	evCap      int
	evRunning  bool
	evRoom     chan struct{}
	evIdle     chan struct{}
	eventsDone chan struct{} // closed once the reader has ended and every event is delivered (nil without OnEvent)
	// Event accounting for WaitEvents (guarded by mu): events queued so far,
	// the count queued when the last tagged response was read, and events
	// OnEvent has returned from; evWake is closed when evDelivered grows.
	evQueued, evMark, evDelivered uint64
	evWake                        chan struct{}
	readerDone                    chan struct{}
	readerStart                   bool
}

type connKind int

const (
	kindTCP connKind = iota
	kindTLS
	kindStream
	kindConn
)

// pending is one command waiting for its tagged completion.
type pending struct {
	tag, name  string
	done       chan struct{}
	typ        string
	text       []byte
	err        error
	expectBye  bool
	pauseAfter bool // STARTTLS: the reader stops after a tagged OK
	buffered   int  // bytes buffered by the reader when it paused
	seq        int  // issue order
	sink       func(typ string, resp *imapwire.Response)
	sinkTypes  []string
}

func newClient(opts *Options) *Client {
	var o Options
	if opts != nil {
		o = *opts
	}
	c := &Client{
		opts:       o,
		limits:     o.Limits.withDefaults(),
		state:      StateLogout,
		pending:    make(map[string]*pending),
		untagged:   make(map[string][]Datum),
		wsem:       make(chan struct{}, 1),
		contCh:     make(chan struct{}, 1),
		readerDone: make(chan struct{}),
		xatoms:     make(map[string][]State),
		enabled:    make(map[string]bool),
	}
	c.trace = tracer{log: o.Logger, level: o.Debug}
	return c
}

func newTagPrefix() string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	n := 4096 + int64(binary.BigEndian.Uint16(b[:]))%(65535-4096+1)
	return Int2AP(n)
}

// Host returns the host name the client connected to ("" for streams).
func (c *Client) Host() string { return c.host }

// Port returns the port connected to (0 for streams).
func (c *Client) Port() int { return c.port }

// Socket returns the network connection (imaplib's socket()), or nil for a
// stream connection. Reading from or writing to it corrupts the session.
func (c *Client) Socket() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// State returns the current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Welcome returns the raw greeting line (imaplib's welcome), nil if the greeting
// was a continuation.
func (c *Client) Welcome() []byte { c.mu.Lock(); defer c.mu.Unlock(); return c.welcome }

// Capabilities returns the server's capabilities, upper-cased, as imaplib's
// capabilities tuple.
func (c *Client) Capabilities() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.caps...)
}

// HasCapability reports whether name (case-insensitive) is advertised.
func (c *Client) HasCapability(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hasCapLocked(name)
}

func (c *Client) hasCapLocked(name string) bool {
	name = strings.ToUpper(name)
	for _, cp := range c.caps {
		if cp == name {
			return true
		}
	}
	return false
}

// ProtocolVersion returns imaplib's PROTOCOL_VERSION: "IMAP4REV1" or "IMAP4".
func (c *Client) ProtocolVersion() string { c.mu.Lock(); defer c.mu.Unlock(); return c.proto }

// TagPrefix returns imaplib's tagpre: four letters A–P.
func (c *Client) TagPrefix() string { c.mu.Lock(); defer c.mu.Unlock(); return c.tagPrefix }

// TagNum returns the number the next tag will carry (imaplib's tagnum).
func (c *Client) TagNum() int { c.mu.Lock(); defer c.mu.Unlock(); return c.tagNum }

// IsReadOnly reports imaplib's is_readonly: the last Select asked for read-only.
func (c *Client) IsReadOnly() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.readOnly }

// UTF8Enabled reports imaplib's utf8_enabled (after ENABLE UTF8=ACCEPT).
func (c *Client) UTF8Enabled() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.utf8 }

// IsTLS reports whether the connection is protected by TLS.
func (c *Client) IsTLS() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.tls }

// ContinuationResponse returns the text after "+ " of the last continuation
// request (imaplib's continuation_response); ok is false for a bare "+" or none.
func (c *Client) ContinuationResponse() (text []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.contResp, c.contSet
}

// Untagged returns a copy of the untagged responses accumulated so far
// (imaplib's untagged_responses), without popping them.
func (c *Client) Untagged() map[string][]Datum {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string][]Datum, len(c.untagged))
	for k, v := range c.untagged {
		m[k] = append([]Datum(nil), v...)
	}
	return m
}

// Err returns the error that closed the connection, or nil while it is open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Done is closed when the connection has ended and its reader goroutine has exited.
func (c *Client) Done() <-chan struct{} { return c.readerDone }

// Shutdown closes the connection without LOGOUT (imaplib's shutdown) and waits
// for the reader goroutine to exit. It never waits for the processing of a
// response the reader is handling: the reader checks for the close between
// the steps of that processing (each bounded by Limits) and exits at the next
// one. A FetchEach callback, which runs in the reader, is waited for until it
// returns (no message is delivered once Shutdown began). It is safe to call
// more than once.
func (c *Client) Shutdown() error {
	c.closeWith(ErrClosed)
	c.mu.Lock()
	started := c.readerStart
	c.mu.Unlock()
	if started {
		<-c.readerDone
	}
	return nil
}

// Close is Shutdown, for io.Closer.
func (c *Client) Close() error { return c.Shutdown() }

// closeWith marks the client closed with cause err, fails every pending command
// and closes the transport. The first cause wins.
func (c *Client) closeWith(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closing.Store(true)
	c.closeErr = err
	pend := c.pending
	c.pending = make(map[string]*pending)
	raws := c.rawWant
	c.rawWant = nil
	idler := c.idler
	resume := c.resume
	c.resume = nil
	closer := c.closer
	started := c.readerStart
	c.mu.Unlock()

	aerr := c.connError(err)
	for _, p := range pend {
		p.err = aerr
		close(p.done)
	}
	for _, r := range raws {
		r.err = aerr
		close(r.done)
	}
	if idler != nil {
		idler.wake()
	}
	if resume != nil {
		close(resume)
	}
	if closer != nil {
		_ = closer.Close()
	}
	if !started {
		c.mu.Lock()
		if !c.readerStart {
			c.readerStart = true
			close(c.readerDone)
		}
		c.mu.Unlock()
	}
}

// connError turns the cause of a connection's end into the error pending
// commands see, with imaplib's messages.
func (c *Client) connError(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, imapwire.ErrLineTooLong):
		return &Error{Kind: KindError, Msg: "got more than " + strconv.Itoa(c.limits.MaxLineLength) + " bytes", Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: KindAbort, Msg: "socket error: EOF", Err: err}
	case errors.Is(err, imapwire.ErrUnterminatedLine):
		return &Error{Kind: KindAbort, Msg: "socket error: unterminated line", Err: err}
	case errors.Is(err, ErrClosed):
		return &Error{Kind: KindAbort, Msg: "connection closed", Err: err}
	case errors.Is(err, ErrTimeout):
		return &Error{Kind: KindAbort, Msg: "timeout", Err: err}
	}
	return &Error{Kind: KindAbort, Msg: "socket error: " + err.Error(), Err: err}
}
