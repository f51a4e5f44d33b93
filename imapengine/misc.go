package imapengine

import (
	"context"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Capability sends CAPABILITY and returns the untagged CAPABILITY data. Like
// imaplib it does not change Capabilities().
func (c *Client) Capability(ctx context.Context) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "CAPABILITY"}, "CAPABILITY")
}

// Noop sends NOOP; untagged data received stays available through Response.
func (c *Client) Noop(ctx context.Context) (Result, error) {
	r, err := c.simple(ctx, &cmd{name: "NOOP"})
	if err == nil && c.trace.enabled(3) {
		c.trace.log1(3, "untagged responses dump", "keys", len(c.Untagged()))
	}
	return r, err
}

// Logout sends LOGOUT and closes the connection (imaplib's logout). The state
// becomes LOGOUT before sending. The result is ('BYE', [text]) when the server
// said BYE, else the tagged result.
func (c *Client) Logout(ctx context.Context) (Result, error) {
	c.setState(StateLogout)
	typ, text, err := c.run(ctx, &cmd{name: "LOGOUT", expectBye: true})
	var bye []Datum
	if err == nil {
		c.mu.Lock()
		bye, _ = c.popUntaggedLocked("BYE")
		c.mu.Unlock()
	}
	c.Shutdown()
	if err != nil {
		return Result{}, err
	}
	if len(bye) > 0 {
		return Result{Typ: "BYE", Data: bye}, nil
	}
	return Result{Typ: typ, Data: []Datum{Bytes(text)}}, nil
}

// Enable sends ENABLE capability (RFC 5161), e.g. "CONDSTORE" or
// "UTF8=ACCEPT"; several names may be given separated by spaces. It fails
// locally when the server lacks ENABLE. After a successful UTF8=ACCEPT the
// client is in UTF-8 mode.
func (c *Client) Enable(ctx context.Context, capability string) (Result, error) {
	if !c.HasCapability("ENABLE") {
		return Result{}, &Error{Kind: KindError, Msg: "Server does not support ENABLE", Err: ErrNotSupported}
	}
	r, err := c.simple(ctx, &cmd{name: "ENABLE", args: func(e *encoder) { e.SP().Raw(capability) }})
	if err == nil && r.Typ == "OK" {
		c.mu.Lock()
		if strings.Contains(strings.ToUpper(capability), "UTF8=ACCEPT") {
			c.utf8 = true
		}
		for _, d := range c.untagged["ENABLED"] {
			for _, x := range strings.Fields(strings.ToUpper(string(d.Bytes()))) {
				c.enabled[x] = true
			}
		}
		c.mu.Unlock()
	}
	return r, err
}

// ProxyAuth assumes the authentication identity of user (imaplib's proxyauth).
func (c *Client) ProxyAuth(ctx context.Context, user string) (Result, error) {
	return c.simple(ctx, &cmd{name: "PROXYAUTH", args: func(e *encoder) { e.SP().AString(user) }})
}

// Xatom sends a command the client does not know (imaplib's xatom). The name is
// upper-cased; an unknown name is registered, for this client only, as allowed
// in the current state. Arguments are sent as given (validated).
func (c *Client) Xatom(ctx context.Context, name string, args ...string) (Result, error) {
	name = strings.ToUpper(name)
	c.mu.Lock()
	if _, ok := commandStates[name]; !ok {
		if _, ok := c.xatoms[name]; !ok {
			c.xatoms[name] = []State{c.state}
		}
	}
	c.mu.Unlock()
	return c.simple(ctx, &cmd{name: name, args: func(e *encoder) {
		for _, a := range args {
			e.SP().Raw(a)
		}
	}})
}

// IDField is one field of an ID command (RFC 2971); Nil sends NIL as the value.
type IDField struct {
	Name, Value string
	Nil         bool
}

// ID identifies the client (RFC 2971, imaplib 3.16's id). No fields sends
// "ID NIL". The result is the untagged ID data.
func (c *Client) ID(ctx context.Context, fields ...IDField) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "ID", args: func(e *encoder) {
		e.SP()
		if len(fields) == 0 {
			e.Raw("NIL")
			return
		}
		e.Bytes([]byte("("))
		for i, f := range fields {
			if i > 0 {
				e.SP()
			}
			e.Quoted(f.Name).SP()
			if f.Nil {
				e.Raw("NIL")
			} else {
				e.Quoted(f.Value)
			}
		}
		e.Bytes([]byte(")"))
	}}, "ID")
}

// Recent returns the RECENT data (imaplib's recent): the accumulated RECENT
// responses if the last is non-empty, else those of a NOOP.
func (c *Client) Recent(ctx context.Context) (Result, error) {
	c.mu.Lock()
	if r := c.untagged["RECENT"]; len(r) > 0 && len(r[len(r)-1].Bytes()) > 0 {
		data, _ := c.popUntaggedLocked("RECENT")
		c.mu.Unlock()
		return Result{Typ: "OK", Data: data}, nil
	}
	c.mu.Unlock()
	typ, text, err := c.run(ctx, &cmd{name: "NOOP"})
	if err != nil {
		return Result{}, err
	}
	return c.untaggedResult(typ, text, "RECENT"), nil
}

// Response pops the accumulated untagged data for code (imaplib's response):
// (code, data) or (code, [None]). code is upper-cased for the lookup and
// returned as given; as in imaplib, Response("NO") never pops.
func (c *Client) Response(code string) Result {
	if code == "NO" {
		return Result{Typ: code, Data: []Datum{None()}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.popUntaggedLocked(strings.ToUpper(code))
	if !ok {
		return Result{Typ: code, Data: []Datum{None()}}
	}
	return Result{Typ: code, Data: data}
}

// Send writes raw bytes to the server (imaplib's send). It bypasses every
// check: the bytes are not validated, and a malformed line desynchronises the
// session. It waits for commands being written to finish.
func (c *Client) Send(ctx context.Context, data []byte) error {
	if err := c.acquireWrite(ctx); err != nil {
		return err
	}
	defer c.releaseWrite()
	c.traceSend(data, false, "")
	return c.write(data)
}

// Readline returns the next raw line from the server, CRLF included
// (imaplib's readline), instead of letting the client parse it. Call it before
// sending what the line answers: the reader goroutine hands over the first line
// that arrives after the call.
func (c *Client) Readline(ctx context.Context) ([]byte, error) { return c.rawRead(ctx, -1) }

// Read returns the next n raw bytes from the server (imaplib's read), with the
// same hand-over rule as Readline.
func (c *Client) Read(ctx context.Context, n int) ([]byte, error) {
	if n < 0 || int64(n) > c.limits.MaxLiteralSize {
		return nil, imapwire.ErrLiteralTooLarge
	}
	return c.rawRead(ctx, int64(n))
}

func (c *Client) rawRead(ctx context.Context, n int64) ([]byte, error) {
	req := &rawReq{n: n, done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		err := c.connError(c.closeErr)
		c.mu.Unlock()
		return nil, err
	}
	c.rawWant = append(c.rawWant, req)
	c.mu.Unlock()
	select {
	case <-req.done:
		return req.data, req.err
	case <-ctx.Done():
		c.mu.Lock()
		for i, r := range c.rawWant {
			if r == req {
				c.rawWant = append(c.rawWant[:i], c.rawWant[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// ClearUntagged drops every accumulated untagged response. Programs that use
// only the typed view and events (a long-lived bridge session, say) call it
// so unsolicited data they never pop does not pile up to Limits.MaxUntagged.
func (c *Client) ClearUntagged() {
	c.mu.Lock()
	c.untagged = make(map[string][]Datum)
	c.nuntagged = 0
	c.mu.Unlock()
}
