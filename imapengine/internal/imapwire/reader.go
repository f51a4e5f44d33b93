package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"syscall"
)

// Reader frames IMAP responses from a byte stream. It is not safe for
// concurrent use, except Recycle; one goroutine per connection owns it.
type Reader struct {
	src io.Reader
	br  *bufio.Reader
	lim Limits
	// raw is src's socket when src is one: WaitData then releases the
	// buffer while it waits for readiness (idlebuf.go).
	raw syscall.RawConn
	// ps is what br reads: src, after the byte a buffer-less wait on a
	// source that is not a socket has read (idlebuf.go).
	ps *prefixSource
	// released is set while WaitData waits without a buffer (tests).
	released atomic.Bool
	// partial holds the start of a line interrupted by a transport error
	// (a deadline, typically), so the next ReadLine continues it.
	partial []byte
	// spare is a literal handed back by Recycle (from any goroutine), for
	// the next ReadN it fits.
	spare atomic.Pointer[[]byte]
	// stream, when set, may claim a literal for streaming (see SetStream).
	stream func(line []byte, n int64) io.Writer
}

// SetStream installs fn, consulted by ReadResponse before each literal with
// the line announcing it and its size (the limits are checked first). When
// fn returns a non-nil writer, the literal's bytes are copied to it in
// chunks of at most ReadChunkSize as they arrive instead of being
// assembled: the Response then holds an empty literal in its place, and the
// memory used does not grow with the literal. If the writer fails, the rest
// of the literal is read and dropped so the stream stays framed (the
// writer's owner keeps its own error). A writer with a method
// LiteralDone(error) is told when the literal ends: nil when complete, the
// read error when the stream was cut. A nil fn turns streaming off.
func (r *Reader) SetStream(fn func(line []byte, n int64) io.Writer) { r.stream = fn }

// CopyN copies exactly n bytes from the stream to w in chunks of at most
// ReadChunkSize bytes, without assembling them. A failed write does not stop
// the copy: the remaining bytes are read and dropped, so the stream stays
// framed. It returns the first read error, wrapped as ReadN's are (a short
// stream matches io.ErrUnexpectedEOF), and the first write error.
func (r *Reader) CopyN(w io.Writer, n int64) (readErr, writeErr error) {
	if n < 0 {
		return fmt.Errorf("%w: negative length %d", ErrSyntax, n), nil
	}
	buf := make([]byte, min(n, ReadChunkSize))
	var done int64
	for done < n {
		k := min(n-done, int64(len(buf)))
		// One read: what is buffered, else what the source has now (a
		// stalled server must not hold back the bytes already received).
		got, err := r.br.Read(buf[:k])
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if got > 0 && writeErr == nil {
			if _, werr := w.Write(buf[:got]); werr != nil {
				writeErr = werr
			}
		}
		done += int64(got)
		if err != nil {
			return shortRead(done, n, err), writeErr
		}
	}
	return nil, writeErr
}

// NewReader returns a Reader on src with a buffer of l.ReadBufferSize bytes
// (default ReadChunkSize). When src is a socket (a net.Conn that is a
// syscall.Conn, such as *net.TCPConn, which must not buffer by itself), the
// buffer is held only while data flows: WaitData returns it to a shared pool
// while it waits with nothing buffered.
// Zero fields of l take their defaults.
func NewReader(src io.Reader, l Limits) *Reader {
	l = l.WithDefaults()
	ps := &prefixSource{src: src}
	return &Reader{src: src, br: getBufReader(ps, l.ReadBufferSize), lim: l, raw: rawConnOf(src), ps: ps}
}

// Reset switches r to a new source and drops every buffered byte, including
// a partial line (used after STARTTLS: plaintext bytes are never parsed).
func (r *Reader) Reset(src io.Reader) {
	r.src = src
	r.ps.src, r.ps.n = src, 0
	r.br.Reset(r.ps)
	r.raw = rawConnOf(src)
	r.partial = nil
}

// Buffered returns the number of bytes buffered but not yet consumed.
func (r *Reader) Buffered() int { return r.br.Buffered() + r.ps.n + len(r.partial) }

// WaitData blocks until at least one byte can be read without blocking and
// returns the read error, if any. It consumes nothing. On a socket with
// nothing buffered, the read buffer goes back to the shared pool while it
// waits (see NewReader).
func (r *Reader) WaitData() error {
	if len(r.partial) > 0 {
		return nil
	}
	if r.br.Buffered() == 0 && r.ps.n == 0 {
		if r.raw != nil {
			r.releaseWhileWaiting()
		} else if err := r.releaseWhileReading(); err != nil {
			return err
		}
	}
	_, err := r.br.Peek(1)
	return err
}

// ReadLine reads one line and returns it without its CRLF; the caller owns
// the slice. At a clean end of stream it returns io.EOF. A line ended by a
// bare LF, or cut by EOF, fails with ErrUnterminatedLine (the EOF case also
// matches io.ErrUnexpectedEOF). A line longer than Limits.MaxLineLength
// (CRLF included) fails with ErrLineTooLong without buffering more than the
// limit. Any other read error is returned as is, and the bytes of the line
// read so far are kept for the next call.
func (r *Reader) ReadLine() ([]byte, error) { return r.readLine(nil) }

// readLine is ReadLine placing the line in memory from p (see packer), or,
// with a nil p, in its own allocation with room for the CRLF.
func (r *Reader) readLine(p *packer) ([]byte, error) {
	maxLen := r.lim.MaxLineLength
	// A line longer than the buffer is gathered as copies of its fragments
	// and joined once at its exact size: at most twice its length is
	// allocated (append's growth of large slices, 1.25-fold, would allocate
	// about five times it).
	var frags [][]byte
	n := 0
	if len(r.partial) > 0 {
		frags, n = append(frags, r.partial), len(r.partial)
	}
	r.partial = nil
	for {
		frag, err := r.br.ReadSlice('\n')
		n += len(frag)
		switch {
		case err == nil:
			if n > maxLen {
				return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrLineTooLong, n, maxLen)
			}
			if n < 2 || lastButOne(frags, frag) != '\r' {
				return nil, fmt.Errorf("%w: bare LF", ErrUnterminatedLine)
			}
			var line []byte
			if p != nil {
				line = p.alloc(n - 2)
			} else {
				line = make([]byte, n-2, n)
			}
			off := 0
			for _, f := range frags {
				off += copy(line[off:n-2], f)
			}
			copy(line[off:n-2], frag)
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			// No LF in n bytes: the line, CRLF included, is longer than n.
			if n >= maxLen {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, maxLen)
			}
			frags = append(frags, bytes.Clone(frag))
		case err == io.EOF:
			if n == 0 {
				return nil, io.EOF
			}
			return nil, errUnterminatedEOF
		default:
			if n > 0 {
				r.partial = bytes.Join(append(frags, frag), nil)
			}
			return nil, err
		}
	}
}

// lastButOne returns the byte before the last of the concatenation of frags
// and last (which ends in '\n'), or 0.
func lastButOne(frags [][]byte, last []byte) byte {
	if len(last) >= 2 {
		return last[len(last)-2]
	}
	for i := len(frags) - 1; i >= 0; i-- {
		if f := frags[i]; len(f) > 0 {
			return f[len(f)-1]
		}
	}
	return 0
}

// ReadN reads exactly n bytes, into a recycled buffer when one fits (see
// Recycle). Otherwise up to ReadChunkSize bytes are allocated at once and
// larger reads grow the buffer as bytes arrive (see LiteralGrowth), so memory
// follows the data received (at most LiteralTrustSize or LiteralGrowth times
// it), not the size announced. n above Limits.MaxLiteralSize fails with
// ErrLiteralTooLarge before reading. If the stream ends early, ReadN
// returns the bytes received so far and an error matching
// io.ErrUnexpectedEOF; other read errors are returned with the bytes so far.
func (r *Reader) ReadN(n int64) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: negative length %d", ErrSyntax, n)
	}
	if n > r.lim.MaxLiteralSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrLiteralTooLarge, n, r.lim.MaxLiteralSize)
	}
	buf := r.takeSpare(n)
	if buf != nil {
		buf = buf[:n]
	} else {
		buf = make([]byte, min(n, ReadChunkSize))
	}
	got, err := r.fill(buf)
	if err != nil {
		return buf[:got], shortRead(int64(got), n, err)
	}
	for int64(len(buf)) < n {
		grown := make([]byte, min(max(LiteralGrowth*int64(len(buf)), LiteralTrustSize), n))
		copy(grown, buf)
		got, err := r.fill(grown[len(buf):])
		buf = grown[:len(buf)+got]
		if err != nil {
			return buf, shortRead(int64(len(buf)), n, err)
		}
	}
	return buf, nil
}

// Recycle hands back a literal returned by ReadN whose bytes the caller no
// longer uses: a later ReadN that fits reuses its memory, so a stream of
// literals read and dropped one by one needs the memory of the largest.
// The Reader keeps one such buffer, the largest, and none above
// MaxRecycledLiteral bytes or at most MaxPackedSize (a small literal may
// share its memory with others of its response: see MaxPackedSize).
// Recycle is safe to call from any goroutine.
func (r *Reader) Recycle(b []byte) {
	if cap(b) <= MaxPackedSize || cap(b) > MaxRecycledLiteral {
		return
	}
	b = b[:0]
	for {
		cur := r.spare.Load()
		if cur != nil && cap(*cur) >= cap(b) {
			return
		}
		if r.spare.CompareAndSwap(cur, &b) {
			return
		}
	}
}

// takeSpare returns the recycled buffer if it holds n > 0 bytes, else nil
// (leaving a smaller one in place).
func (r *Reader) takeSpare(n int64) []byte {
	cur := r.spare.Load()
	if n <= 0 || cur == nil || int64(cap(*cur)) < n || !r.spare.CompareAndSwap(cur, nil) {
		return nil
	}
	return *cur
}

// fill reads len(p) bytes: what the buffer holds first, then, when at least
// DirectReadSize bytes remain, straight from the source into p (one copy
// instead of two, as bufio does only for reads larger than its buffer).
func (r *Reader) fill(p []byte) (int, error) {
	got := 0
	if b := r.br.Buffered(); b > 0 {
		got, _ = r.br.Read(p[:min(len(p), b)]) // served from the buffer: no error
	}
	if len(p)-got >= DirectReadSize {
		m, err := io.ReadFull(r.ps, p[got:])
		return got + m, err
	}
	m, err := io.ReadFull(r.br, p[got:])
	return got + m, err
}

// shortRead wraps the error that cut a literal after got of want bytes.
func shortRead(got, want int64, err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("imapwire: literal cut after %d of %d bytes: %w", got, want, err)
}

// ReadResponse reads one complete response: a line, and while the current
// line ends in a literal marker "{N}" (or "~{N}"), N literal bytes and the
// next line. It follows imaplib 3.14.8:
//
//   - empty lines before the first line are skipped;
//   - after a literal, empty lines are skipped only while the parenthesis
//     depth of the response so far (quoted strings and literal contents
//     ignored) is above zero (gh-88574);
//   - "{N}" with more than MaxLiteralDigits digits or N above
//     Limits.MaxLiteralSize fails with ErrLiteralTooLarge before any
//     allocation;
//   - lines plus literals above Limits.MaxResponseSize fail with
//     ErrResponseTooLarge;
//   - a literal marker past Limits.MaxLiterals in one response fails with
//     ErrTooManyItems (which also matches ErrResponseTooLarge) as soon as
//     its line is read.
//
// io.EOF is returned only at a response boundary; EOF inside a response
// matches io.ErrUnexpectedEOF. After any error other than io.EOF the stream
// position is unknown and the connection should be closed.
func (r *Reader) ReadResponse() (*Response, error) {
	var line []byte
	var err error
	// Small lines and literals share chunks, lines apart from literals: a
	// parsed message that keeps only literal bytes lets the lines go.
	var lines, lits packer
	for len(line) == 0 {
		if line, err = r.readLine(&lines); err != nil {
			return nil, err
		}
	}
	// One allocation covers the common one-literal response.
	ra := &struct {
		Response
		lines [2][]byte
		lits  [1][]byte
	}{}
	resp := &ra.Response
	resp.Lines, resp.Literals = ra.lines[:0], ra.lits[:0]
	var total int64
	depth := 0
	for {
		total += int64(len(line))
		if total > r.lim.MaxResponseSize {
			return nil, fmt.Errorf("%w: limit %d", ErrResponseTooLarge, r.lim.MaxResponseSize)
		}
		resp.Lines = appendDoubling(resp.Lines, line)
		n, ok, err := literalSize(line)
		if err != nil {
			return nil, err
		}
		if !ok {
			resp.Lines, resp.Literals = clipSlack(resp.Lines), clipSlack(resp.Literals)
			return resp, nil
		}
		if len(resp.Literals) >= r.lim.MaxLiterals {
			return nil, fmt.Errorf("%w: more than %d literals, limit %d (%w)", ErrTooManyItems, len(resp.Literals), r.lim.MaxLiterals, ErrResponseTooLarge)
		}
		if n > r.lim.MaxLiteralSize {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrLiteralTooLarge, n, r.lim.MaxLiteralSize)
		}
		if total+n > r.lim.MaxResponseSize {
			return nil, fmt.Errorf("%w: limit %d", ErrResponseTooLarge, r.lim.MaxResponseSize)
		}
		depth += parenDepth(line)
		var w io.Writer
		if r.stream != nil {
			w = r.stream(line, n)
		}
		if w != nil {
			err, _ := r.CopyN(w, n)
			if d, ok := w.(interface{ LiteralDone(error) }); ok {
				d.LiteralDone(err)
			}
			if err != nil {
				return nil, err
			}
			resp.Literals = appendDoubling(resp.Literals, []byte{})
		} else if n <= MaxPackedSize {
			lit := lits.alloc(int(n))
			if got, err := io.ReadFull(r.br, lit); err != nil {
				return nil, shortRead(int64(got), n, err)
			}
			resp.Literals = appendDoubling(resp.Literals, lit)
		} else {
			lit, err := r.ReadN(n)
			if err != nil {
				return nil, err
			}
			resp.Literals = appendDoubling(resp.Literals, lit)
		}
		total += n
		for {
			line, err = r.readLine(&lines)
			if err == io.EOF {
				return nil, fmt.Errorf("imapwire: stream ended after a literal: %w", io.ErrUnexpectedEOF)
			}
			if err != nil {
				return nil, err
			}
			if len(line) > 0 || depth <= 0 {
				break
			}
		}
	}
}

// appendDoubling is append doubling the capacity when it grows: the lines
// and literals of a response with many literals cost at most about twice
// their final size in allocations (append grows large slices 1.25-fold,
// about five times in total).
func appendDoubling(s [][]byte, b []byte) [][]byte {
	if len(s) == cap(s) {
		grown := make([][]byte, len(s), max(2*cap(s), 4))
		copy(grown, s)
		s = grown
	}
	return append(s, b)
}

// clipSlack returns s without the capacity appendDoubling left beyond an
// eighth of its length: the response is live while it is parsed, and its
// slice headers (24 bytes per line or literal) would otherwise count up to
// twice.
func clipSlack(s [][]byte) [][]byte {
	if n := len(s); cap(s) > n+n/8+4 {
		return slices.Clone(s)
	}
	return s
}
