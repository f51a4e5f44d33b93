package imapengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Streaming literals: FetchSection hands a body section to its caller as an
// io.Reader while it arrives, and AppendStream sends a message read from an
// io.Reader of declared size. Neither assembles the literal, so memory does
// not grow with the message; the reader's limits (MaxLiteralSize,
// MaxResponseSize, line and literal counts) still apply.

// Errors of the streaming calls.
var (
	// ErrNoSection: the server answered a FetchSection without a literal for
	// the section (no such message or part, or NIL).
	ErrNoSection = errors.New("imapengine: section not returned")
	// ErrShortSource: an AppendStream source ended (or failed) before its
	// declared size. The connection is closed: the server was promised
	// the bytes, so the stream state is lost (the server stores nothing).
	ErrShortSource = errors.New("imapengine: literal source shorter than its declared size")
	// ErrBadSection: a section specifier that is not of the form
	// "1.2", "TEXT", "1.HEADER", "2.MIME" or "" (the whole message).
	ErrBadSection = errors.New("imapengine: bad section specifier")
)

// errConsumerDone ends the pipe when fn returned before reading the whole
// section: the reader goroutine drops the rest.
var errConsumerDone = errors.New("imapengine: section consumer returned")

// StreamChunkSize is the size of the chunks a streamed literal is written in,
// both ways (imapwire.ReadChunkSize).
const StreamChunkSize = imapwire.ReadChunkSize

var sectionRe = regexp.MustCompile(`^(?:[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,8}){0,31})?(?:(?:^|\.)(?:HEADER|TEXT|MIME))?$`)

// sectionStream is one FetchSection waiting for, then feeding, its literal.
type sectionStream struct {
	suffix  []byte // "BODY[section]"
	uid     string // the UID it asked for
	claimed bool
	pw      *io.PipeWriter
	size    chan int64 // receives the literal size when it starts
	c       *Client
	once    sync.Once
	writing atomic.Bool // the reader goroutine waits for the consumer
}

// Write feeds the consumer; the reader goroutine's progress also counts as
// progress for CommandTimeout. Time spent waiting for a slow consumer is
// not the server's silence (see stallGuard).
func (s *sectionStream) Write(p []byte) (int, error) {
	s.writing.Store(true)
	n, err := s.pw.Write(p)
	s.c.lastResponse.Store(time.Now().UnixNano())
	s.writing.Store(false)
	return n, err
}

// stallGuard applies CommandTimeout while a FetchSection waits for its
// literal and while fn consumes it (c.wait applies it only after): when
// nothing has been read from the server for CommandTimeout, and the reader
// goroutine is not merely waiting for the consumer, the connection is closed
// with ErrTimeout, so a half-open link fails the call instead of blocking it
// forever; fn's reads then fail with an error matching both ErrTimeout and
// io.ErrUnexpectedEOF. The returned func stops the guard.
func (c *Client) stallGuard(st *sectionStream, name string) (stop func()) {
	limit := c.opts.commandTimeout()
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	t = time.AfterFunc(limit, func() {
		next := limit // the consumer is slow: look again later
		if !st.writing.Load() {
			idle := time.Since(time.Unix(0, c.lastResponse.Load()))
			if idle >= limit {
				// The consumer sees the cause (a literal cut by the
				// timeout), then the connection closes.
				err := fmt.Errorf("%w: %s: no data for %v (%w)", ErrTimeout, name, limit, io.ErrUnexpectedEOF)
				st.end(err)
				c.closeWith(err)
				return
			}
			next = limit - idle
		}
		mu.Lock()
		if !stopped {
			t.Reset(next)
		}
		mu.Unlock()
	})
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// LiteralDone is called by the wire reader when the literal has been read
// (err nil) or cut (err set): the consumer sees EOF or the error.
func (s *sectionStream) LiteralDone(err error) { s.end(err) }

func (s *sectionStream) end(err error) {
	s.once.Do(func() {
		if err == nil {
			_ = s.pw.Close()
		} else {
			_ = s.pw.CloseWithError(err)
		}
	})
}

// streamFor is the wire reader's stream hook: a literal announced as
// "BODY[section] {N}" (optionally with "<origin>") in a FETCH response that
// names the UID of a waiting FetchSection goes to that call.
func (c *Client) streamFor(line []byte, n int64) io.Writer {
	if len(line) < 2 || line[0] != '*' {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.streams {
		if s.claimed || !matchesSection(line, s.suffix, s.uid) {
			continue
		}
		s.claimed = true
		s.size <- n // buffered, one value
		return s
	}
	return nil
}

// matchesSection reports whether line, which ends in a literal marker, is
// "* N FETCH (... UID uid ... BODY[section]{N}" for this section and UID.
func matchesSection(line, suffix []byte, uid string) bool {
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return false
	}
	head := bytes.TrimRight(line[:i], " ")
	if j := len(head) - 1; j > 0 && head[j] == '>' {
		if k := bytes.LastIndexByte(head, '<'); k > 0 {
			head = head[:k]
		}
	}
	if !bytes.HasSuffix(head, suffix) || !bytes.Contains(line, []byte(" FETCH (")) {
		return false
	}
	// The UID item precedes the body in every server seen (Dovecot, Cyrus,
	// Courier): require it, so an unsolicited or pipelined FETCH of another
	// message is never taken for this one.
	return bytes.Contains(line, []byte("UID "+uid+" ")) || bytes.Contains(line, []byte("UID "+uid+")"))
}

// FetchSection streams one body section of the message with the given UID
// (UID FETCH uid (UID BODY.PEEK[section])) to fn as it arrives: fn gets a
// reader of exactly size bytes (the section as stored, transfer-encoded;
// see imap.DecodeTransfer) and runs in the caller's goroutine while the
// connection's reader goroutine feeds it, so the section is never held in
// memory. section is "" for the whole message, or e.g. "1.2", "TEXT",
// "2.MIME". The connection's other traffic waits while fn reads: use a
// dedicated connection for long transfers.
//
// If the server cuts the connection mid-literal, fn's reads fail with an
// error matching io.ErrUnexpectedEOF (never a clean EOF). If nothing arrives
// for CommandTimeout while the call waits for the literal or fn waits for
// data (a half-open link; time the server spends waiting for a slow fn does
// not count), the connection is closed and fn's reads and the call fail with
// ErrTimeout. If fn returns
// early, or ctx ends, the rest of the literal is read and dropped, so the
// connection stays usable. A reply without the section fails with
// ErrNoSection. The limits of Options.Limits apply as for any literal.
func (c *Client) FetchSection(ctx context.Context, uid uint32, section string, fn func(r io.Reader, size int64) error) error {
	if !sectionRe.MatchString(section) {
		return fmt.Errorf("%w: %q", ErrBadSection, section)
	}
	if uid == 0 {
		return fmt.Errorf("%w: UID 0", ErrBadSection)
	}
	pr, pw := io.Pipe()
	u := strconv.FormatUint(uint64(uid), 10)
	st := &sectionStream{suffix: []byte("BODY[" + section + "]"), uid: u, pw: pw, size: make(chan int64, 1), c: c}
	c.mu.Lock()
	c.streams = append(c.streams, st)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		for i, s := range c.streams {
			if s == st {
				c.streams = append(c.streams[:i], c.streams[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		_ = pr.CloseWithError(errConsumerDone)
	}()
	k := &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("FETCH").SP().Raw(u).SP().Raw("(UID BODY.PEEK[" + section + "])")
	}}
	// This command's FETCH responses are consumed here, not accumulated.
	k.sink, k.sinkTypes = func(string, *imapwire.Response) {}, []string{"FETCH"}
	p, err := c.send(ctx, k)
	if err != nil {
		return err
	}
	stopGuard := c.stallGuard(st, k.name)
	var fnErr error
	consume := func(size int64) {
		stop := context.AfterFunc(ctx, func() { st.end(ctx.Err()) })
		fnErr = fn(pr, size)
		stop()
		_ = pr.CloseWithError(errConsumerDone)
	}
	select {
	case size := <-st.size:
		consume(size)
	case <-p.done:
		select {
		case size := <-st.size: // an empty literal completes at once
			consume(size)
		default:
		}
	case <-ctx.Done():
		stopGuard()
		return ctx.Err()
	}
	stopGuard()
	typ, text, err := c.wait(ctx, k, p)
	st.end(ErrClosed) // a literal cut by a closed connection
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return err
	}
	if err := (Result{Typ: typ, Data: []Datum{Bytes(text)}}).Check(k.name); err != nil {
		return err
	}
	c.mu.Lock()
	claimed := st.claimed
	c.mu.Unlock()
	if !claimed {
		return fmt.Errorf("%w: UID %d BODY[%s]", ErrNoSection, uid, section)
	}
	return nil
}

// writeStream writes exactly size bytes from r as a literal, checking ctx
// between chunks. A short or failing source, or ctx ending, closes the
// connection: the server expects the bytes, so the stream cannot go on.
func (c *Client) writeStream(ctx context.Context, r io.Reader, size int64) error {
	buf := make([]byte, min(size, StreamChunkSize))
	var sent int64
	for sent < size {
		if err := ctx.Err(); err != nil {
			c.closeWith(err)
			return err
		}
		k := min(size-sent, int64(len(buf)))
		n, err := io.ReadFull(r, buf[:k])
		if n > 0 {
			if werr := c.write(buf[:n]); werr != nil {
				return werr
			}
			sent += int64(n)
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: %d of %d bytes", ErrShortSource, sent, size)
			} else {
				err = fmt.Errorf("%w: after %d of %d bytes: %w", ErrShortSource, sent, size, err)
			}
			c.closeWith(err)
			return &Error{Kind: KindAbort, Msg: err.Error(), Err: err}
		}
	}
	return nil
}

// AppendStream appends a message of exactly size bytes read from r to
// mailbox, byte-exact, without holding it in memory: a non-synchronizing
// literal with LITERAL+ (or LITERAL- up to 4 KiB), else after the server's
// continuation request. flags and date are as for AppendMessage; with
// UIDPLUS the result names the new UID. If r yields fewer than size bytes
// (or fails), the connection is closed and the error matches ErrShortSource;
// bytes after size are not read.
func (c *Client) AppendStream(ctx context.Context, mailbox string, flags []imap.Flag, date time.Time, r io.Reader, size int64) (*imap.AppendUID, error) {
	if mailbox == "" {
		mailbox = "INBOX"
	}
	m := c.mailboxName(mailbox)
	fl := make([]string, len(flags))
	for i, f := range flags {
		fl[i] = string(f)
	}
	flagStr := strings.Join(fl, " ")
	var dt string
	if !date.IsZero() {
		s, err := Time2Internaldate(date)
		if err != nil {
			return nil, err
		}
		dt = s
	}
	utf8 := c.UTF8Enabled()
	k := &cmd{name: "APPEND", args: func(e *encoder) {
		e.SP().Raw(m)
		if flagStr != "" {
			e.SP().Raw(imapwire.SetQuote(flagStr))
		}
		if dt != "" {
			e.SP().Raw(dt)
		}
		e.SP()
		if utf8 {
			e.Bytes([]byte("UTF8 (")).LiteralStream(r, size, true).Bytes([]byte(")"))
		} else {
			e.LiteralStream(r, size, false)
		}
	}}
	text, err := c.collect(ctx, k, nil, nil)
	if err != nil {
		return nil, err
	}
	if code, arg, ok := imap.ParseResponseCode(text); ok && code == "APPENDUID" {
		if au, err := imap.ParseAppendUID(arg); err == nil {
			return au, nil
		}
	}
	return nil, nil
}
