package imapengine

import (
	"context"
	"fmt"
	"time"
)

// Untagged is one untagged response delivered during IDLE: its type and
// imaplib-shaped data (a response with literals arrives as one item).
type Untagged struct {
	Typ  string
	Data []Datum
}

// Idler is an active or pending IDLE (RFC 2177), imaplib 3.14's Idler: Start
// sends IDLE, Next and Burst deliver the untagged responses, Done sends DONE.
// Untagged responses arriving while it is active go to the Idler instead of the
// client's accumulated responses; those not consumed when Done runs are put
// back there, in order. IDLE works on every connection kind, streams included.
type Idler struct {
	c        *Client
	duration time.Duration
	deadline time.Time
	started  bool
	finished bool
	saved    State
	k        *cmd
	p        *pending

	// guarded by c.mu
	capturing bool
	queue     []Untagged
	notify    chan struct{}
}

// Idle returns an Idler for the selected or authenticated connection
// (imaplib's idle). A positive duration ends iteration that long after the
// server accepted IDLE; zero means no limit. It fails at once if the server
// does not advertise IDLE.
func (c *Client) Idle(duration time.Duration) (*Idler, error) {
	if !c.HasCapability("IDLE") {
		return nil, &Error{Kind: KindError, Msg: "Server does not support IMAP4 IDLE", Err: ErrNotSupported}
	}
	return &Idler{c: c, duration: duration, notify: make(chan struct{}, 1)}, nil
}

// IdleFunc runs fn inside an IDLE, like imaplib's "with M.idle(duration) as
// idler:" block: Done always runs, and its error is returned if fn succeeded.
func (c *Client) IdleFunc(ctx context.Context, duration time.Duration, fn func(*Idler) error) error {
	idler, err := c.Idle(duration)
	if err != nil {
		return err
	}
	if err := idler.Start(ctx); err != nil {
		return err
	}
	ferr := fn(idler)
	derr := idler.Done(ctx)
	if ferr != nil {
		return ferr
	}
	return derr
}

func (i *Idler) push(typ string, data []Datum) {
	i.queue = append(i.queue, Untagged{Typ: typ, Data: data})
}

func (i *Idler) wake() {
	select {
	case i.notify <- struct{}{}:
	default:
	}
}

// Start sends IDLE and waits for the server's continuation request (imaplib's
// __enter__). Responses received before it are delivered first. A NO is
// "idle denied"; any other completion is an abort.
func (i *Idler) Start(ctx context.Context) error {
	c := i.c
	if i.started {
		return errorf("IDLE already started")
	}
	c.mu.Lock()
	if c.idler != nil {
		c.mu.Unlock()
		return errorf("another IDLE is active")
	}
	i.capturing = true
	c.idler = i
	c.mu.Unlock()
	i.started = true

	i.k = &cmd{name: "IDLE", holdWrite: true}
	p, err := c.send(ctx, i.k)
	if err != nil {
		i.stopCapture()
		return err
	}
	i.p = p
	timeout := time.NewTimer(c.opts.commandTimeout())
	defer timeout.Stop()
	got, err := c.awaitContinuation(ctx, p, timeout.C)
	if err == nil && !got && p.err == nil && p.typ == "OK" {
		// The "+" and a tagged OK were both ready (a server that ends the
		// IDLE at once): the IDLE did start, and iteration ends at once.
		select {
		case <-c.contCh:
			got = true
		default:
		}
	}
	if err != nil {
		i.stopCapture()
		c.releaseWrite()
		return inCommand("IDLE", err)
	}
	if !got {
		i.stopCapture()
		c.releaseWrite()
		i.finished = true
		if p.err != nil {
			return inCommand("IDLE", p.err)
		}
		if p.typ == "NO" {
			return &Error{Kind: KindError, Msg: fmt.Sprintf("idle denied: [%s]", pyBytes(p.text)), Err: newStatusError("IDLE", p.typ, p.text)}
		}
		return &Error{Kind: KindAbort, Msg: fmt.Sprintf("unexpected status response: %s", pyBytes([]byte(p.tag+" "+p.typ+" "+string(p.text)))), Err: ErrProtocol}
	}
	if i.duration > 0 {
		i.deadline = time.Now().Add(i.duration)
	}
	c.mu.Lock()
	i.saved = c.state
	c.state = StateIdling
	c.mu.Unlock()
	return nil
}

// stopCapture ends capture and moves queued responses back to the client's
// accumulated untagged responses, in order.
func (i *Idler) stopCapture() {
	c := i.c
	c.mu.Lock()
	defer c.mu.Unlock()
	i.capturing = false
	if c.idler == i {
		c.idler = nil
	}
	for _, u := range i.queue {
		_ = c.appendUntaggedLocked(u.Typ, u.Data)
		if u.Typ == "BYE" {
			c.byeLocked(lastBytes(u.Data))
		}
	}
	i.queue = nil
}

func lastBytes(d []Datum) []byte {
	if len(d) == 0 {
		return nil
	}
	return d[len(d)-1].Bytes()
}

// Next returns the next untagged response (imaplib's next(idler)). ok is false
// when iteration is over: the duration elapsed with nothing queued, or the
// server ended the IDLE. Without a duration Next waits until a response, the
// end of ctx, or the end of the connection. Queued responses are delivered
// even after the deadline. A BYE is delivered like any other response.
func (i *Idler) Next(ctx context.Context) (u Untagged, ok bool, err error) {
	var deadline time.Time
	if i.duration > 0 {
		deadline = i.deadline
	}
	return i.pop(ctx, deadline)
}

func (i *Idler) pop(ctx context.Context, deadline time.Time) (Untagged, bool, error) {
	c := i.c
	for {
		c.mu.Lock()
		if c.idler != i || c.state != StateIdling {
			c.mu.Unlock()
			return Untagged{}, false, errorf("_pop() only works during IDLE")
		}
		if len(i.queue) > 0 {
			u := i.queue[0]
			i.queue = i.queue[1:]
			c.mu.Unlock()
			return u, true, nil
		}
		closed, cerr := c.closed, c.closeErr
		c.mu.Unlock()
		if closed {
			return Untagged{}, false, c.connError(cerr)
		}
		select {
		case <-i.p.done:
			return Untagged{}, false, nil // the server ended the IDLE
		default:
		}
		var timer <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return Untagged{}, false, nil
			}
			t := time.NewTimer(d)
			timer = t.C
			defer t.Stop()
		}
		select {
		case <-i.notify:
		case <-timer:
		case <-i.p.done:
		case <-c.readerDone:
		case <-ctx.Done():
			return Untagged{}, false, ctx.Err()
		}
	}
}

// Burst returns a burst of responses (imaplib's burst(interval)): it waits for
// one as Next does, then keeps collecting while each next response arrives
// within interval of the previous one. Queued responses come out at once; an
// interval <= 0 drains only what is queued.
func (i *Idler) Burst(ctx context.Context, interval time.Duration) ([]Untagged, error) {
	first, ok, err := i.Next(ctx)
	if err != nil || !ok {
		return nil, err
	}
	out := []Untagged{first}
	for {
		var dl time.Time
		if interval > 0 {
			dl = time.Now().Add(interval)
		} else {
			dl = time.Now().Add(-time.Nanosecond)
		}
		u, ok, err := i.pop(ctx, dl)
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, u)
	}
}

// Done ends the IDLE (imaplib's __exit__): the state is restored, responses not
// consumed go back to the client's accumulated responses, DONE is sent and the
// tagged completion awaited. A BAD completion is an error; a NO is ignored. A
// BYE among the leftovers is reported as an abort.
func (i *Idler) Done(ctx context.Context) error {
	c := i.c
	if !i.started || i.finished {
		return nil
	}
	i.finished = true
	c.mu.Lock()
	if c.state == StateIdling {
		c.state = i.saved
	}
	c.mu.Unlock()
	i.stopCapture()
	defer c.releaseWrite()
	select {
	case <-i.p.done:
	default:
		c.traceSend([]byte("DONE\r\n"), false, "")
		if err := c.write([]byte("DONE\r\n")); err != nil {
			return inCommand("IDLE", err)
		}
	}
	_, _, err := c.wait(ctx, i.k, i.p)
	return err
}
