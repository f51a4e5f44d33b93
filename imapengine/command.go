package imapengine

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// cmd describes one command to run.
type cmd struct {
	name       string                      // the command name written on the wire
	state      string                      // the name checked against the state table ("" = name)
	args       func(e *encoder)            // writes " arg" for each argument
	literator  func([]byte) ([]byte, bool) // AUTHENTICATE: challenge -> response, false = abort ("*")
	initial    []byte                      // SASL-IR initial response (already base64), written after the name
	hasInitial bool
	expectBye  bool // LOGOUT: a BYE completes it
	pauseAfter bool // STARTTLS: the reader pauses after a tagged OK
	secret     bool // the arguments are secret: traces show only the name
	holdWrite  bool // keep the write lock after sending (IDLE); the caller releases it
	onSent     func(*pending)
	// sink, when set, receives the untagged responses whose type is in
	// sinkTypes while the command is pending, instead of the accumulated
	// untagged responses; it runs in the reader goroutine without a lock.
	sink      func(typ string, resp *imapwire.Response)
	sinkTypes []string
}

// checkState returns imaplib's "illegal in state" error if name may not run now.
func (c *Client) checkStateLocked(name string) error {
	allowed, ok := commandStates[name]
	if !ok {
		allowed, ok = c.xatoms[name]
	}
	if !ok {
		return errorf("unknown command %s", name)
	}
	for _, s := range allowed {
		if s == c.state {
			return nil
		}
	}
	return &Error{Kind: KindError, Msg: fmt.Sprintf("command %s illegal in state %s, only allowed in states %s",
		name, c.state, statesString(allowed)), Err: ErrIllegalState}
}

func (c *Client) encoderOptions() imapwire.EncoderOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return imapwire.EncoderOptions{
		LiteralPlus:  c.hasCapLocked("LITERAL+"),
		LiteralMinus: c.hasCapLocked("LITERAL-"),
		UTF8:         c.utf8,
	}
}

// acquireWrite takes the write lock, giving up when ctx ends or the connection closes.
func (c *Client) acquireWrite(ctx context.Context) error {
	select {
	case c.wsem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.readerDone:
		return c.connError(ErrClosed)
	}
}

func (c *Client) releaseWrite() { <-c.wsem }

// write sends b; a failure closes the connection.
func (c *Client) write(b []byte) error {
	if _, err := c.rw.Write(b); err != nil {
		c.closeWith(err)
		return &Error{Kind: KindAbort, Msg: "socket error: " + err.Error(), Err: err}
	}
	return nil
}

// run sends one command and waits for its tagged completion, following
// imaplib's _command and _command_complete. It returns the tagged status and
// text. A tagged BAD is returned as an error.
//
// Cancellation: if ctx ends while waiting for the completion, run returns
// ctx.Err() and the command is abandoned (its response is read and dropped). If
// ctx ends while a command is half written or a literal is pending, the
// connection is closed because its stream state is unknown.
func (c *Client) run(ctx context.Context, k *cmd) (string, []byte, error) {
	p, err := c.send(ctx, k)
	if err != nil {
		return "", nil, err
	}
	return c.wait(ctx, k, p)
}

// send checks the state, encodes and writes one command, including literals
// after their continuation requests and SASL exchanges. It returns the pending
// completion. The write lock is released unless k.holdWrite.
func (c *Client) send(ctx context.Context, k *cmd) (*pending, error) {
	check := k.state
	if check == "" {
		check = k.name
	}
	c.mu.Lock()
	err := c.checkStateLocked(check)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	e := imapwire.NewEncoder(c.encoderOptions())
	if k.args != nil {
		k.args(e)
	}
	if k.hasInitial {
		e.SP().Bytes(k.initial)
	}
	e.CRLF()
	wcmd, err := e.Command()
	if err != nil {
		if k.secret {
			return nil, ErrBadArgument // never echo a secret argument
		}
		return nil, err
	}

	if err := c.acquireWrite(ctx); err != nil {
		return nil, inCommand(k.name, err)
	}
	holding := true
	defer func() {
		if holding {
			c.releaseWrite()
		}
	}()

	c.mu.Lock()
	if c.closed {
		err := c.connError(c.closeErr)
		c.mu.Unlock()
		return nil, inCommand(k.name, err)
	}
	if err := c.checkStateLocked(check); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	delete(c.untagged, "OK")
	delete(c.untagged, "NO")
	delete(c.untagged, "BAD")
	if _, ro := c.untagged["READ-ONLY"]; ro && !c.readOnly {
		c.mu.Unlock()
		return nil, &Error{Kind: KindReadOnly, Msg: "mailbox status changed to READ-ONLY", Err: ErrReadOnly}
	}
	if !k.expectBye {
		if err := c.byeErrLocked(); err != nil {
			c.mu.Unlock()
			return nil, inCommand(k.name, err)
		}
	}
	tag := c.tagPrefix + strconv.Itoa(c.tagNum)
	c.tagNum++
	p := &pending{tag: tag, name: k.name, done: make(chan struct{}), expectBye: k.expectBye, pauseAfter: k.pauseAfter,
		seq: c.tagNum, sink: k.sink, sinkTypes: k.sinkTypes}
	c.pending[tag] = p
	// This command owns the continuation requests from now on (the write
	// lock is held): drop a stale "+" signal left by an earlier exchange.
	select {
	case <-c.contCh:
	default:
	}
	if k.expectBye {
		// A BYE already received completes LOGOUT at once.
		if bye, ok := c.untagged["BYE"]; ok && len(bye) > 0 {
			delete(c.pending, tag)
			p.typ = "BYE"
			close(p.done)
		}
	}
	c.mu.Unlock()

	// A deadline for continuation requests, only when one will be awaited.
	var timeoutC <-chan time.Time
	if k.literator != nil || len(wcmd.Chunks) > 1 || wcmd.Chunks[0].HasLiteral() {
		t := time.NewTimer(c.opts.commandTimeout())
		defer t.Stop()
		timeoutC = t.C
	}

	// The command line, then each literal after its continuation request.
	head := make([]byte, 0, len(tag)+1+len(k.name)+len(wcmd.Chunks[0].Text))
	head = append(head, tag...)
	head = append(head, ' ')
	head = append(head, k.name...)
	for i, ch := range wcmd.Chunks {
		text := ch.Text
		if i == 0 {
			text = append(head, text...)
		}
		c.traceSend(text, k.secret, tag+" "+k.name)
		if err := c.write(text); err != nil {
			return nil, inCommand(k.name, err)
		}
		if !ch.HasLiteral() {
			continue
		}
		if ch.Sync {
			got, err := c.awaitContinuation(ctx, p, timeoutC)
			if err != nil {
				return nil, inCommand(k.name, err)
			}
			if !got {
				break // completed (NO/BAD) before the continuation: the literal is not sent
			}
		}
		if ch.Stream != nil {
			c.trace.log1(4, "> literal stream", "size", ch.Size)
			if err := c.writeStream(ctx, ch.Stream, ch.Size); err != nil {
				return nil, inCommand(k.name, err)
			}
			continue
		}
		c.trace.log1(4, "> literal", "size", len(ch.Literal))
		if err := c.write(ch.Literal); err != nil {
			return nil, inCommand(k.name, err)
		}
	}

	if k.literator != nil {
		if err := c.authExchange(ctx, p, k, timeoutC); err != nil {
			return nil, inCommand(k.name, err)
		}
	}
	if k.onSent != nil {
		k.onSent(p)
	}
	if k.holdWrite {
		holding = false // the caller releases it
	}
	return p, nil
}

// wait waits for p's tagged completion and returns run's result.
func (c *Client) wait(ctx context.Context, k *cmd, p *pending) (string, []byte, error) {
	limit := c.opts.commandTimeout()
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for {
		select {
		case <-p.done:
			return c.complete(k, p)
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-timeout.C:
			// The deadline counts from the last complete response, so a long
			// FETCH that keeps delivering is not cut off, but a silent or
			// trickling server is.
			if idle := time.Since(time.Unix(0, c.lastResponse.Load())); idle < limit {
				timeout.Reset(limit - idle)
				continue
			}
			c.closeWith(fmt.Errorf("%w: %s", ErrTimeout, k.name))
			<-p.done
			return c.complete(k, p)
		}
	}
}

// complete turns a finished pending command into run's result.
func (c *Client) complete(k *cmd, p *pending) (string, []byte, error) {
	if p.err != nil {
		return "", nil, inCommand(k.name, p.err)
	}
	if !k.expectBye {
		c.mu.Lock()
		err := c.byeErrLocked()
		c.mu.Unlock()
		if err != nil {
			return "", nil, inCommand(k.name, err)
		}
	}
	if p.typ == "BAD" {
		return p.typ, p.text, &Error{Kind: KindError,
			Msg: fmt.Sprintf("%s command error: BAD [%s]", k.name, pyBytes(p.text)),
			Err: newStatusError(k.name, p.typ, p.text)}
	}
	return p.typ, p.text, nil
}

func newStatusError(name, typ string, text []byte) *StatusError {
	se := &StatusError{Command: name, Status: typ, Text: string(text)}
	if code, arg, ok := matchResponseCode(text); ok {
		se.Code, se.Arg = code, string(arg)
	}
	return se
}

// byeErrLocked is imaplib's _check_bye.
func (c *Client) byeErrLocked() error {
	bye := c.untagged["BYE"]
	if len(bye) == 0 {
		return nil
	}
	return &Error{Kind: KindAbort, Msg: decodeReplace(bye[len(bye)-1].Bytes()), Err: ErrServerBye}
}

// awaitContinuation waits for a "+" (true) or p's completion (false).
func (c *Client) awaitContinuation(ctx context.Context, p *pending, timeout <-chan time.Time) (bool, error) {
	select {
	case <-c.contCh:
		return true, nil
	case <-p.done:
		return false, nil
	case <-ctx.Done():
		c.closeWith(ctx.Err())
		return false, ctx.Err()
	case <-timeout:
		c.closeWith(fmt.Errorf("%w: waiting for continuation", ErrTimeout))
		return false, c.connError(ErrTimeout)
	}
}

// untaggedResult is imaplib's _untagged_response.
func (c *Client) untaggedResult(typ string, text []byte, name string) Result {
	if typ == "NO" {
		return Result{Typ: typ, Data: []Datum{Bytes(text)}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.popUntaggedLocked(name)
	if !ok {
		return Result{Typ: typ, Data: []Datum{None()}}
	}
	return Result{Typ: typ, Data: data}
}

// simple runs a command and returns imaplib's "tagged" result.
func (c *Client) simple(ctx context.Context, k *cmd) (Result, error) {
	typ, text, err := c.run(ctx, k)
	if err != nil {
		return Result{}, err
	}
	return Result{Typ: typ, Data: []Datum{Bytes(text)}}, nil
}

// untaggedCmd runs a command and returns imaplib's "untagged NAME" result.
func (c *Client) untaggedCmd(ctx context.Context, k *cmd, name string) (Result, error) {
	typ, text, err := c.run(ctx, k)
	if err != nil {
		return Result{}, err
	}
	return c.untaggedResult(typ, text, name), nil
}

// encoder is the wire encoder commands write their arguments with.
type encoder = imapwire.Encoder
