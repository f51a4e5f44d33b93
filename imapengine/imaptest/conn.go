package imaptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Conn is one accepted connection as seen by the fake server. Its methods are
// meant to be called from the handler or script running in the connection's
// goroutine; Send, SendRaw, Tagged and Close are also safe from other
// goroutines.
//
// Write errors are not returned (handlers are scripts, not servers): the
// first one is remembered, reported by Err, and makes later writes no-ops.
// A client disconnect therefore never blocks a handler; its next read fails.
type Conn struct {
	srv *Server
	id  int
	raw io.ReadWriteCloser // the accepted stream, never replaced

	mu      sync.Mutex // guards rw, tlsConn, err, closed
	rw      io.ReadWriter
	tlsConn *tls.Conn
	err     error
	closed  bool

	writeMu sync.Mutex // serializes writes
	done    chan struct{}
	pending []byte // bytes read ahead by ClientSentNothing, owned by the reader
	one     [1]byte
}

// deadliner is a stream whose reads can time out.
type deadliner interface {
	SetReadDeadline(t time.Time) error
}

func newConn(s *Server, id int, raw io.ReadWriteCloser) *Conn {
	return &Conn{srv: s, id: id, raw: raw, rw: raw, done: make(chan struct{})}
}

// Server returns the server that accepted the connection.
func (c *Conn) Server() *Server { return c.srv }

// ID returns the connection's number: 1 for the first connection the server
// accepted, 2 for the next, and so on. Command.ConnID carries the same value.
func (c *Conn) ID() int { return c.id }

// Err returns the first write error, or ErrConnClosed after Close, or nil.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the connection is closed, by Close or by the server
// shutting down.
func (c *Conn) Done() <-chan struct{} { return c.done }

func (c *Conn) stream() io.ReadWriter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rw
}

// Send writes line followed by CRLF, in one Write call.
func (c *Conn) Send(line string) { c.SendRaw([]byte(line + "\r\n")) }

// SendRaw writes b verbatim in one Write call.
func (c *Conn) SendRaw(b []byte) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.Err() != nil {
		return
	}
	if _, err := c.stream().Write(b); err != nil {
		c.setErr(fmt.Errorf("imaptest: write: %w", err))
	}
}

// Tagged writes "<tag> <text>\r\n" for cmd, e.g. Tagged(cmd, "OK LOGIN completed").
func (c *Conn) Tagged(cmd *Command, text string) { c.Send(cmd.Tag + " " + text) }

func (c *Conn) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// read reads into p, consuming pending bytes first.
func (c *Conn) read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	n, err := c.stream().Read(p)
	if err != nil && n == 0 {
		if c.isClosed() {
			return 0, fmt.Errorf("%w: %w", ErrConnClosed, err)
		}
		return 0, fmt.Errorf("imaptest: read: %w", err)
	}
	return n, nil
}

// ReadLine returns the next line from the client, CRLF included. Like
// CPython's handler it reads one byte at a time, so it never consumes bytes
// past the line (a following TLS handshake or literal stays unread). A bare
// LF does not end a line. It fails with ErrLineTooLong after MaxLineLength
// bytes without CRLF, and with a wrapped io.EOF if the client closes first
// (io.ErrUnexpectedEOF if part of a line had arrived).
func (c *Conn) ReadLine() ([]byte, error) {
	var line []byte
	for {
		if len(line) >= MaxLineLength {
			return line, ErrLineTooLong
		}
		if _, err := c.read(c.one[:]); err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return line, fmt.Errorf("imaptest: read line: %w", io.ErrUnexpectedEOF)
			}
			return line, err
		}
		line = append(line, c.one[0])
		if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
			return line, nil
		}
	}
}

// ReadN reads exactly n bytes from the client. n must be between 0 and
// MaxLiteralSize, else it fails with ErrLiteralTooLarge.
func (c *Conn) ReadN(n int) ([]byte, error) {
	if n < 0 || n > MaxLiteralSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrLiteralTooLarge, n)
	}
	buf := make([]byte, n)
	got := 0
	for got < n {
		m, err := c.read(buf[got:])
		got += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("imaptest: read %d of %d bytes: %w", got, n, io.ErrUnexpectedEOF)
			}
			return buf[:got], err
		}
	}
	return buf, nil
}

// ClientSentNothing reports whether no byte arrives from the client within d.
// A byte that does arrive is kept for the next read. A client that closed the
// connection has sent nothing. On a stream without read deadlines it returns
// true after checking only bytes already buffered.
func (c *Conn) ClientSentNothing(d time.Duration) bool {
	if len(c.pending) > 0 {
		return false
	}
	dl, ok := c.stream().(deadliner)
	if !ok || dl.SetReadDeadline(time.Now().Add(d)) != nil {
		return true
	}
	defer func() { _ = dl.SetReadDeadline(time.Time{}) }()
	n, err := c.stream().Read(c.one[:])
	if n > 0 {
		c.pending = append(c.pending, c.one[0])
		return false
	}
	return err != nil
}

// LiteralSize parses the literal marker at the end of a command line: "{N}"
// (synchronizing), "{N+}" or "{N-}" (non-synchronizing, RFC 7888), optionally
// preceded by "~" (RFC 3516) and by "(" as in UTF-8 mode APPEND "(~{N}". It
// fails with ErrNoLiteral or ErrLiteralTooLarge.
func LiteralSize(line []byte) (n int, sync bool, err error) {
	s := string(trimCRLF(line))
	if !strings.HasSuffix(s, "}") {
		return 0, false, ErrNoLiteral
	}
	open := strings.LastIndexByte(s, '{')
	if open < 0 {
		return 0, false, ErrNoLiteral
	}
	num := s[open+1 : len(s)-1]
	sync = true
	if strings.HasSuffix(num, "+") || strings.HasSuffix(num, "-") {
		num, sync = num[:len(num)-1], false
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, false, fmt.Errorf("%w: %q", ErrNoLiteral, s[open:])
	}
	if len(num) > 10 {
		return 0, false, fmt.Errorf("%w: %s bytes", ErrLiteralTooLarge, num)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v > MaxLiteralSize {
		return 0, false, fmt.Errorf("%w: %s bytes", ErrLiteralTooLarge, num)
	}
	return v, sync, nil
}

// ReadLiteral is CPython's _read_literal: it takes N from the literal marker
// at the end of cmd.Line (see LiteralSize). For a synchronizing literal it
// first checks that the client has sent nothing further (waiting
// EarlyDataWait; ErrEarlyLiteral if it has), then sends "+". It reads exactly
// N bytes, then the trailing line ("\r\n", or ")\r\n" in UTF-8 mode, or the
// rest of the command) and returns both.
func (c *Conn) ReadLiteral(cmd *Command) (data, trailer []byte, err error) {
	n, sync, err := LiteralSize(cmd.Line)
	if err != nil {
		return nil, nil, err
	}
	if sync {
		if !c.ClientSentNothing(EarlyDataWait) {
			return nil, nil, ErrEarlyLiteral
		}
		c.Send("+")
	}
	data, err = c.ReadN(n)
	if err != nil {
		return data, nil, err
	}
	trailer, err = c.ReadLine()
	return data, trailer, err
}

// StartTLS runs the server side of a STARTTLS upgrade on this connection with
// the server's TLS configuration (the test certificate unless
// Config.TLSConfig overrides it) and waits for the handshake. It fails with
// ErrPendingData if plaintext bytes are still buffered, and with
// ErrTLSActive if the connection already uses TLS.
func (c *Conn) StartTLS() error {
	if len(c.pending) > 0 {
		return ErrPendingData
	}
	c.mu.Lock()
	already := c.tlsConn != nil
	c.mu.Unlock()
	if already {
		return ErrTLSActive
	}
	cfg, err := c.srv.tlsConfig()
	if err != nil {
		return err
	}
	nc, ok := c.stream().(net.Conn)
	if !ok {
		nc = rwConn{c.stream()}
	}
	tc := tls.Server(nc, cfg)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrConnClosed
	}
	c.rw, c.tlsConn = tc, tc
	c.mu.Unlock()
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("imaptest: TLS handshake: %w", err)
	}
	return nil
}

// Sleep pauses for d and reports true, or returns false early when the
// connection closes. Handlers use it so that Server.Close never waits for a
// scripted pause.
func (c *Conn) Sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.done:
		return false
	}
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close closes the connection (with a TLS close_notify if TLS is active).
// Blocked reads and writes fail, and the command loop ends. It is idempotent.
func (c *Conn) Close() { c.close(true) }

// close shuts the connection; graceful sends a TLS close_notify first.
func (c *Conn) close(graceful bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.err == nil {
		c.err = ErrConnClosed
	}
	tc := c.tlsConn
	close(c.done)
	c.mu.Unlock()
	if graceful && tc != nil {
		if nc, ok := c.raw.(net.Conn); ok {
			_ = nc.SetWriteDeadline(time.Now().Add(closeNotifyTimeout))
		}
		_ = tc.Close()
	}
	_ = c.raw.Close()
}

// closeNotifyTimeout bounds the TLS close_notify write in Close.
const closeNotifyTimeout = time.Second

// rwConn adapts a plain stream (stdio, pipes) to net.Conn for crypto/tls.
type rwConn struct{ io.ReadWriter }

func (rwConn) Close() error                     { return nil }
func (rwConn) LocalAddr() net.Addr              { return stdioAddr{} }
func (rwConn) RemoteAddr() net.Addr             { return stdioAddr{} }
func (rwConn) SetDeadline(time.Time) error      { return ErrNoDeadline }
func (rwConn) SetReadDeadline(time.Time) error  { return ErrNoDeadline }
func (rwConn) SetWriteDeadline(time.Time) error { return ErrNoDeadline }

type stdioAddr struct{}

func (stdioAddr) Network() string { return "stdio" }
func (stdioAddr) String() string  { return "stdio" }
