package clustertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// Client behaviour, as the SDK's (web/sdk: reconnect with backoff, the
// server's retry hint on 1012 and 4429, resync after every connect).
const (
	clientFrameLimit  = 16 << 20                // largest server frame a client reads
	clientOpTimeout   = 60 * time.Second        // one request's answer (the bridge's own command timeout)
	clientDialTimeout = 20 * time.Second        // WebSocket handshake and hello
	backoffStart      = 200 * time.Millisecond  // first retry after an unexpected close
	backoffMax        = 3 * time.Second         // retries never wait longer than this (unless hinted)
	upstreamHeader    = "X-Imapbridge-Upstream" // nginx.sh's response header: the replica that served the handshake
)

// account is one Dovecot user with its bridge token.
type account struct {
	name, password, token string
}

// closed is a WebSocket close as a client saw it.
type closed struct {
	code   websocket.StatusCode
	reason string
	at     time.Time
}

// reconnect is one recovery: from the close to live again (selected and
// resynced); hint is the part the server asked the client to wait.
type reconnect struct {
	total, hint time.Duration
	code        websocket.StatusCode
}

// request is a test-driven request sent on a live session.
type request struct {
	req   any
	reply chan answer
}

// answer is a request's result or error.
type answer struct {
	raw json.RawMessage
	err error
}

// client is one SDK-like session: it keeps a mailbox cache (UIDs and
// flags of INBOX) across reconnects and announces each new message once.
type client struct {
	id   int
	acct *account
	url  string
	// origin is the page origin the handshake carries.
	origin string
	cmds   chan request

	mu          sync.Mutex
	uidValidity uint32
	uidNext     uint32
	modSeq      uint64              // highest mod-sequence applied by the last resync
	flags       map[uint32][]string // the cache: UID -> flags (sorted, without \Recent)
	announced   map[string]int      // subject -> times announced as new
	live        bool                // selected and resynced on an open WebSocket
	replica     string              // the backend address nginx reported
	closes      []closed            // every close seen
	reconnects  []reconnect         // every recovery
	logins      []time.Time         // successful logins
	revoked     bool                // closed with 4401 "token revoked": the client stopped
	lastErr     error               // the last session's end

	// Owned by the run goroutine.
	next        uint64               // request id counter
	frames      chan protocol.Frame  // frames of the current connection
	readErr     chan error           // the current connection's end
	endErr      error                // what readErr said, once read
	conn        *websocket.Conn      // the current connection
	seq         uint64               // last event seq
	fetchNeeded bool                 // an exists event arrived
	resyncNeed  bool                 // a seq gap or reset
	lostAt      time.Time            // when the last live connection ended
	lostCode    websocket.StatusCode // its close code
	lostHint    time.Duration        // the waits the server asked for since
	stopped     chan struct{}        // closed when run returns
}

func newClient(id int, acct *account, url, origin string) *client {
	return &client{id: id, acct: acct, url: url, origin: origin, cmds: make(chan request),
		flags: map[uint32][]string{}, announced: map[string]int{}, stopped: make(chan struct{})}
}

// run keeps the session up until ctx ends or the token is revoked.
func (c *client) run(ctx context.Context) {
	defer close(c.stopped)
	backoff := backoffStart
	for ctx.Err() == nil {
		err := c.session(ctx)
		c.mu.Lock()
		c.live = false
		c.lastErr = err
		c.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		var ce websocket.CloseError
		var wait time.Duration
		code := websocket.StatusCode(-1)
		reason := ""
		if errors.As(err, &ce) {
			code, reason = ce.Code, ce.Reason
		} else if err != nil {
			reason = err.Error() // no close frame: a dial error or a cut connection
		}
		c.mu.Lock()
		c.closes = append(c.closes, closed{code: code, reason: reason, at: time.Now()})
		c.mu.Unlock()
		hint, hinted := retryHint(reason)
		switch {
		case code == protocol.CloseAuth && reason == "token revoked":
			c.mu.Lock()
			c.revoked = true
			c.mu.Unlock()
			return
		case code == protocol.CloseRestart && hinted, code == protocol.CloseSessionLimit && hinted:
			wait = hint
			backoff = backoffStart
		default:
			wait = backoff
			backoff = min(2*backoff, backoffMax)
		}
		if c.lostAt.IsZero() {
			c.lostAt, c.lostCode, c.lostHint = time.Now(), code, 0
		}
		if code == protocol.CloseRestart {
			c.lostHint += wait
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// retryHint finds "retry-after-ms=N" in a close reason (1012: the whole
// reason; 4429: after "; ").
func retryHint(reason string) (time.Duration, bool) {
	i := strings.Index(reason, "retry-after-ms=")
	if i < 0 {
		return 0, false
	}
	return protocol.ParseRetryAfter(reason[i:])
}

// session runs one connection: dial, login, select and resync, then follow
// events and test requests until the connection ends.
func (c *client) session(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, clientDialTimeout)
	defer cancel()
	h := http.Header{}
	h.Set("Origin", c.origin)
	conn, resp, err := websocket.Dial(dctx, c.url, &websocket.DialOptions{
		HTTPHeader:      h,
		Subprotocols:    []string{protocol.Subprotocol, protocol.BearerPrefix + c.acct.token},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(clientFrameLimit)
	c.conn = conn
	c.frames = make(chan protocol.Frame, 64)
	c.readErr = make(chan error, 1)
	c.seq, c.endErr = 0, nil
	frames, readErr := c.frames, c.readErr
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				readErr <- err
				close(frames)
				return
			}
			f, err := protocol.DecodeFrame(data)
			if err != nil {
				readErr <- fmt.Errorf("decode: %w", err)
				close(frames)
				return
			}
			frames <- f
		}
	}()
	c.mu.Lock()
	c.replica = resp.Header.Get(upstreamHeader)
	c.mu.Unlock()
	// hello
	for hello := false; !hello; {
		f, err := c.nextFrame(dctx)
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *protocol.Hello:
			hello = true
		case *protocol.ErrorFrame:
			_ = f // the close follows
		}
	}
	if _, err := c.do(ctx, &protocol.LoginRequest{Header: protocol.Header{Operation: protocol.OpLogin}, Password: c.acct.password}); err != nil {
		return err
	}
	c.mu.Lock()
	c.logins = append(c.logins, time.Now())
	c.mu.Unlock()
	if err := c.resync(ctx); err != nil {
		return err
	}
	now := time.Now()
	c.mu.Lock()
	c.live = true
	if !c.lostAt.IsZero() {
		c.reconnects = append(c.reconnects, reconnect{total: now.Sub(c.lostAt), hint: c.lostHint, code: c.lostCode})
		c.lostAt = time.Time{}
	}
	c.mu.Unlock()
	for {
		if err := c.catchUp(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			_ = conn.Close(websocket.StatusNormalClosure, "")
			return ctx.Err()
		case r := <-c.cmds:
			raw, err := c.do(ctx, r.req)
			if _, store := r.req.(*protocol.StoreRequest); store && err == nil {
				c.applyStore(raw)
			}
			r.reply <- answer{raw, err}
			if c.endErr != nil {
				return c.endErr
			}
		case f, ok := <-frames:
			if !ok {
				return c.end()
			}
			c.apply(f)
		}
	}
}

// catchUp fetches what an event announced or resyncs after a gap.
func (c *client) catchUp(ctx context.Context) error {
	for c.fetchNeeded || c.resyncNeed {
		if c.resyncNeed {
			c.resyncNeed, c.fetchNeeded = false, false
			if err := c.resync(ctx); err != nil {
				return err
			}
			continue
		}
		c.fetchNeeded = false
		if err := c.fetchNew(ctx); err != nil {
			return err
		}
	}
	return nil
}

// end is the current connection's end, once its reader stopped.
func (c *client) end() error {
	if c.endErr == nil {
		c.endErr = <-c.readErr
	}
	return c.endErr
}

func (c *client) nextFrame(ctx context.Context) (protocol.Frame, error) {
	select {
	case f, ok := <-c.frames:
		if !ok {
			return nil, c.end()
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// do sends req and waits for its answer, applying events read meanwhile.
func (c *client) do(ctx context.Context, req any) (json.RawMessage, error) {
	c.next++
	id := "c" + strconv.FormatUint(c.next, 36)
	setID(req, id)
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, clientOpTimeout)
	defer cancel()
	if err := c.conn.Write(octx, websocket.MessageText, data); err != nil {
		// The write fails once the bridge closed; the close is the news.
		return nil, c.closeOr(err)
	}
	for {
		f, err := c.nextFrame(octx)
		if err != nil {
			return nil, err
		}
		switch f := f.(type) {
		case *protocol.Response:
			if f.ID == id {
				return f.Result, nil
			}
		case *protocol.ErrorFrame:
			if f.ID == id {
				return nil, fmt.Errorf("%s: %s %s", opName(req), f.Error.Code, f.Error.Message)
			}
		default:
			c.apply(f)
		}
	}
}

// closeOr drains the reader for the close status after a failed write.
func (c *client) closeOr(err error) error {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return c.end()
			}
		case <-deadline:
			return err
		}
	}
}

func setID(req any, id string) {
	switch r := req.(type) {
	case *protocol.LoginRequest:
		r.ID = id
	case *protocol.SelectRequest:
		r.ID = id
	case *protocol.FetchRequest:
		r.ID = id
	case *protocol.StoreRequest:
		r.ID = id
	case *protocol.NoopRequest:
		r.ID = id
	case *protocol.DownloadRequest:
		r.ID = id
	default:
		panic(fmt.Sprintf("clustertest: request type %T", req))
	}
}

func opName(req any) string {
	if r, ok := req.(protocol.Request); ok {
		return r.Op()
	}
	return "?"
}

// apply applies an event to the cache (idempotently).
func (c *client) apply(f protocol.Frame) {
	e, ok := f.(*protocol.Event)
	if !ok {
		return
	}
	if e.Seq != c.seq+1 {
		c.resyncNeed = true // lost events: resync (docs/protocol.md §5)
	}
	c.seq = e.Seq
	switch e.Event {
	case protocol.EventExists:
		c.fetchNeeded = true
	case protocol.EventFlags:
		c.mu.Lock()
		if _, known := c.flags[e.UID]; known {
			c.flags[e.UID] = cleanFlags(e.Flags)
		}
		c.mu.Unlock()
	case protocol.EventExpunge:
		c.mu.Lock()
		delete(c.flags, e.UID)
		c.mu.Unlock()
	case protocol.EventVanished, protocol.EventMailboxReset:
		c.resyncNeed = true
	}
}

// resync selects INBOX and brings the cache up to date (docs/protocol.md
// §6, the CONDSTORE path): a changed UIDVALIDITY drops the cache; flags
// changed since the last mod-sequence; new messages from uidNext on.
func (c *client) resync(ctx context.Context) error {
	raw, err := c.do(ctx, &protocol.SelectRequest{Header: protocol.Header{Operation: protocol.OpSelect}, Mailbox: "INBOX", CondStore: true})
	if err != nil {
		return err
	}
	var sel protocol.SelectResult
	if err := json.Unmarshal(raw, &sel); err != nil {
		return err
	}
	c.mu.Lock()
	if sel.UIDValidity != c.uidValidity {
		c.uidValidity, c.uidNext, c.modSeq = sel.UIDValidity, 1, 0
		c.flags = map[uint32][]string{}
	}
	since := c.modSeq
	c.mu.Unlock()
	if since > 0 {
		raw, err := c.do(ctx, &protocol.FetchRequest{Header: protocol.Header{Operation: protocol.OpFetch}, UIDs: "1:*",
			Items: []string{"uid", "flags"}, ChangedSince: since})
		if err != nil {
			return err
		}
		var fr protocol.FetchResult
		if err := json.Unmarshal(raw, &fr); err != nil {
			return err
		}
		c.mu.Lock()
		for _, m := range fr.Messages {
			if _, known := c.flags[m.UID]; known {
				c.flags[m.UID] = cleanFlags(m.Flags)
			}
		}
		c.mu.Unlock()
	}
	if err := c.fetchNew(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.modSeq = max(c.modSeq, sel.HighestModSeq)
	c.mu.Unlock()
	return nil
}

// fetchNew fetches the messages from uidNext on and announces those not
// known yet.
func (c *client) fetchNew(ctx context.Context) error {
	c.mu.Lock()
	from := c.uidNext
	c.mu.Unlock()
	raw, err := c.do(ctx, &protocol.FetchRequest{Header: protocol.Header{Operation: protocol.OpFetch},
		UIDs: strconv.FormatUint(uint64(from), 10) + ":*", Items: []string{"uid", "flags", "envelope"}})
	if err != nil {
		return err
	}
	var fr protocol.FetchResult
	if err := json.Unmarshal(raw, &fr); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range fr.Messages {
		if m.UID < from { // "n:*" always returns the highest message
			continue
		}
		if _, known := c.flags[m.UID]; !known && m.Envelope != nil {
			c.announced[m.Envelope.Subject]++
		}
		c.flags[m.UID] = cleanFlags(m.Flags)
		c.uidNext = max(c.uidNext, m.UID+1)
	}
	return nil
}

// applyStore applies a store's FETCH answers (a session's own changes come
// back as the result, not as events).
func (c *client) applyStore(raw json.RawMessage) {
	var sr protocol.StoreResult
	if json.Unmarshal(raw, &sr) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range sr.Messages {
		if _, known := c.flags[m.UID]; known && m.Flags != nil {
			c.flags[m.UID] = cleanFlags(m.Flags)
		}
	}
}

// send runs req on the live session (from the test goroutine) and waits.
func (c *client) send(ctx context.Context, req any) error {
	_, err := c.call(ctx, req)
	return err
}

// call is send returning the result.
func (c *client) call(ctx context.Context, req any) (json.RawMessage, error) {
	r := request{req: req, reply: make(chan answer, 1)}
	select {
	case c.cmds <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.stopped:
		return nil, errors.New("client stopped")
	}
	select {
	case a := <-r.reply:
		return a.raw, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cleanFlags sorts flags and drops \Recent (session-specific in IMAP).
func cleanFlags(f []string) []string {
	out := make([]string, 0, len(f))
	for _, x := range f {
		if !strings.EqualFold(x, `\Recent`) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// snapshot copies the cache.
func (c *client) snapshot() (uidValidity uint32, flags map[uint32][]string, announced map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	flags = make(map[uint32][]string, len(c.flags))
	for k, v := range c.flags {
		flags[k] = v
	}
	announced = make(map[string]int, len(c.announced))
	for k, v := range c.announced {
		announced[k] = v
	}
	return c.uidValidity, flags, announced
}
