package imapengine

import (
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

func newWireReader(rw io.Reader, l Limits) *imapwire.Reader {
	return imapwire.NewReader(rw, l.wire())
}

type respKind int

const (
	respTagged respKind = iota
	respUntagged
	respContinuation
)

// rawReq is a pending low-level Readline or Read.
type rawReq struct {
	n    int64 // -1 for a line
	data []byte
	err  error
	done chan struct{}
}

func (c *Client) startReader() {
	c.mu.Lock()
	if c.readerStart {
		c.mu.Unlock()
		return
	}
	c.readerStart = true
	if c.opts.OnEvent != nil {
		c.evCap = c.opts.EventQueue
		orDefault(&c.evCap, DefaultEventQueue)
		c.eventsDone = make(chan struct{})
	}
	c.mu.Unlock()
	go c.readLoop()
}

// stopEvents waits until the dispatcher has delivered every queued event
// and stopped.
func (c *Client) stopEvents() {
	if c.eventsDone == nil {
		return
	}
	c.mu.Lock()
	for c.evRunning {
		if c.evIdle == nil {
			c.evIdle = make(chan struct{})
		}
		idle := c.evIdle
		c.mu.Unlock()
		<-idle
		c.mu.Lock()
	}
	c.mu.Unlock()
	close(c.eventsDone)
}

// delivery is an untagged response routed to a pending command's sink.
type delivery struct {
	p    *pending
	typ  string
	resp *imapwire.Response
}

// sinkForLocked returns the oldest pending command whose sink takes typ.
func (c *Client) sinkForLocked(typ string) *pending {
	var best *pending
	for _, p := range c.pending {
		if p.sink == nil || (best != nil && p.seq > best.seq) {
			continue
		}
		for _, t := range p.sinkTypes {
			if t == typ {
				best = p
				break
			}
		}
	}
	return best
}

// flushDeliveries runs the sinks of routed responses, outside the lock.
func (c *Client) flushDeliveries() {
	c.mu.Lock()
	ds := c.deliveries
	c.deliveries = nil
	c.mu.Unlock()
	for _, d := range ds {
		d.p.sink(d.typ, d.resp)
	}
}

// readLoop is the one goroutine that reads from the connection. It exits when
// the connection ends, after failing every pending command.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	defer c.stopEvents()
	defer func() {
		if v := recover(); v != nil {
			c.closeWith(fmt.Errorf("%w: internal error: %v\n%s", ErrProtocol, v, debug.Stack()))
		}
	}()
	for {
		if err := c.r.WaitData(); err != nil {
			c.closeWith(err)
			return
		}
		if c.serveRaw() {
			continue
		}
		resp, err := c.r.ReadResponse()
		if err != nil {
			c.closeWith(err)
			return
		}
		// A continuation request does not count as progress for
		// CommandTimeout: the literal or SASL step it invites has its own
		// deadline, and a server repeating "+" after the last literal must
		// not keep a command alive (issue 20 item 5).
		if line := resp.Lines[0]; len(line) == 0 || line[0] != '+' {
			c.lastResponse.Store(time.Now().UnixNano())
		}
		c.traceResponse(resp)
		// Parse and apply mailbox data outside the lock, then check for a
		// Shutdown: it never waits for the rest of this response's processing.
		obs := c.observe(resp)
		if h := c.hookObserve.Load(); h != nil {
			(*h)(obs.typ)
		}
		c.applyVanished(&obs)
		if c.closing.Load() {
			return
		}
		if _, err := c.dispatch(resp, &obs); err != nil {
			c.closeWith(err)
			return
		}
		c.flushDeliveries()
		c.flushEvents()
		if p := c.takePause(); p != nil {
			// STARTTLS: stop reading plaintext. Report what is buffered and wait
			// for the upgraded transport (or the end).
			p.buffered = c.r.Buffered()
			c.mu.Lock()
			resume := make(chan io.ReadWriter, 1)
			c.resume = resume
			c.mu.Unlock()
			close(p.done)
			rw, ok := <-resume
			if !ok || rw == nil {
				c.closeWith(ErrClosed)
				return
			}
			c.r.Reset(rw)
		}
	}
}

// takePause returns the STARTTLS command that just completed with OK, if any.
func (c *Client) takePause() *pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pauseNext
	c.pauseNext = nil
	return p
}

// serveRaw hands the next line or bytes to a waiting low-level Readline/Read.
func (c *Client) serveRaw() bool {
	c.mu.Lock()
	if len(c.rawWant) == 0 {
		c.mu.Unlock()
		return false
	}
	req := c.rawWant[0]
	c.rawWant = c.rawWant[1:]
	c.mu.Unlock()
	if req.n < 0 {
		line, err := c.r.ReadLine()
		if err == nil {
			line = append(line, '\r', '\n')
		}
		req.data, req.err = line, err
	} else {
		req.data, req.err = c.r.ReadN(req.n)
	}
	close(req.done)
	if req.err != nil {
		c.closeWith(req.err)
	}
	return true
}

// dispatch processes one response as imaplib's _get_response does. It returns an
// error that ends the connection.
func (c *Client) dispatch(resp *imapwire.Response, obs *observation) (respKind, error) {
	line := resp.Lines[0]
	c.mu.Lock()
	defer c.mu.Unlock()

	// Tagged?
	if tag, typ, text, ok := matchTagged(line, c.tagPrefix); ok {
		p := c.pending[tag]
		if p == nil {
			return respTagged, &Error{Kind: KindAbort, Msg: "unexpected tagged response: " + pyBytes(line), Err: ErrProtocol}
		}
		delete(c.pending, tag)
		p.typ, p.text = typ, text
		c.evMark = c.evQueued // every event before this line (see WaitEvents)
		if typ == "OK" || typ == "NO" || typ == "BAD" {
			if code, arg, ok := matchResponseCode(text); ok {
				c.appendUntaggedLocked(code, []Datum{Bytes(arg)})
			}
		}
		if typ == "NO" || typ == "BAD" || typ == "BYE" {
			c.trace.log1(1, "tagged "+typ, "tag", tag, "text", string(text))
		}
		if p.pauseAfter && typ == "OK" {
			c.pauseNext = p
			return respTagged, nil
		}
		close(p.done)
		return respTagged, nil
	}

	typ, ok := untaggedType(line)
	if !ok {
		if bytes.HasPrefix(line, []byte("+")) {
			if len(line) >= 2 && line[1] == ' ' {
				c.contResp, c.contSet = append([]byte(nil), line[2:]...), true
			} else {
				c.contResp, c.contSet = nil, false
			}
			// Always signal, even before the command's writer waits: the
			// "+" may arrive before awaitContinuation runs. send drains a
			// stale signal when it registers the next command.
			select {
			case c.contCh <- struct{}{}:
			default:
			}
			return respContinuation, nil
		}
		return 0, &Error{Kind: KindAbort, Msg: "unexpected response: " + pyBytes(line), Err: ErrProtocol}
	}
	if typ == "NO" || typ == "BAD" || typ == "BYE" {
		c.trace.log1(1, "untagged "+typ, "text", string(trailerText(resp)))
	}

	c.observeLocked(obs, resp, time.Now())
	if typ != "BYE" {
		if p := c.sinkForLocked(typ); p != nil {
			c.deliveries = append(c.deliveries, delivery{p: p, typ: typ, resp: resp})
			return respUntagged, nil
		}
	}

	// Assemble imaplib's data: (header, literal) pairs, then the trailer. The
	// first line is rewritten in place: only its "N TYPE " prefix changes,
	// which no value parsed above (an event's message) points into.
	_, data, _ := matchUntaggedIn(line, true)
	items := make([]Datum, 0, len(resp.Literals)+1)
	cur := data
	for i, lit := range resp.Literals {
		items = append(items, Pair(cur, lit))
		cur = resp.Lines[i+1]
	}
	items = append(items, Bytes(cur))
	var code string
	var codeArg []byte
	hasCode := false
	if typ == "OK" || typ == "NO" || typ == "BAD" {
		code, codeArg, hasCode = matchResponseCode(cur)
	}
	if c.idler != nil && c.idler.capturing {
		c.idler.push(typ, items)
		if hasCode {
			c.idler.push(code, []Datum{Bytes(codeArg)})
		}
		if typ == "BYE" {
			// Delivered to the Idler, and every pending command (IDLE
			// included) fails at once instead of waiting for a deadline.
			c.byeLocked(cur)
		}
		c.idler.wake()
		return respUntagged, nil
	}
	if err := c.appendUntaggedLocked(typ, items); err != nil {
		return respUntagged, err
	}
	if hasCode {
		if err := c.appendUntaggedLocked(code, []Datum{Bytes(codeArg)}); err != nil {
			return respUntagged, err
		}
	}
	if typ == "BYE" {
		c.byeLocked(cur)
	}
	return respUntagged, nil
}

// byeLocked completes a pending LOGOUT with the BYE and fails every other
// pending command, as imaplib's _check_bye does before each read.
func (c *Client) byeLocked(text []byte) {
	for tag, p := range c.pending {
		delete(c.pending, tag)
		if p.expectBye {
			p.typ = "BYE"
		} else {
			p.err = &Error{Kind: KindAbort, Msg: decodeReplace(text), Err: ErrServerBye}
		}
		close(p.done)
	}
}

func (c *Client) appendUntaggedLocked(typ string, items []Datum) error {
	c.untagged[typ] = appendDoubling(c.untagged[typ], items)
	c.nuntagged += len(items)
	if c.trace.enabled(5) {
		c.trace.log1(5, "untagged_responses["+typ+"]", "n", len(c.untagged[typ]))
	}
	if c.nuntagged > c.limits.MaxUntagged {
		return &Error{Kind: KindAbort, Msg: fmt.Sprintf("more than %d untagged responses retained", c.limits.MaxUntagged), Err: imapwire.ErrResponseTooLarge}
	}
	return nil
}

// popUntaggedLocked removes and returns the list for typ.
func (c *Client) popUntaggedLocked(typ string) ([]Datum, bool) {
	v, ok := c.untagged[typ]
	if ok {
		delete(c.untagged, typ)
		c.nuntagged -= len(v)
		if cap(v) > len(v)+len(v)/4+4 {
			v = slices.Clone(v) // drop appendDoubling's slack from what the caller keeps
		}
	}
	return v, ok
}

// matchTagged implements imaplib's tagre: TAGPRE\d+ SP [A-Z]+ SP text.
func matchTagged(line []byte, prefix string) (tag, typ string, text []byte, ok bool) {
	if prefix == "" || !bytes.HasPrefix(line, []byte(prefix)) {
		return
	}
	i := len(prefix)
	j := i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j == i || j >= len(line) || line[j] != ' ' {
		return
	}
	tag = string(line[:j])
	k := j + 1
	m := k
	for m < len(line) && line[m] >= 'A' && line[m] <= 'Z' {
		m++
	}
	if m == k || m >= len(line) || line[m] != ' ' {
		return "", "", nil, false
	}
	return tag, string(line[k:m]), line[m+1:], true
}

// matchUntagged implements imaplib's Untagged_response and Untagged_status
// patterns: "* TYPE[ data]" and "* N TYPE[ data2]". For the second form with
// data2, data is "N data2", a new slice (see matchUntaggedIn).
func matchUntagged(line []byte) (typ string, data []byte, ok bool) {
	return matchUntaggedIn(line, false)
}

// matchUntaggedIn is matchUntagged; with inPlace, "N data2" is made by moving
// "N " over "TYPE " inside line instead of copying the whole line: the bytes
// of data2 stay where they are, but line no longer reads as the response
// (the caller must own it and be done with its prefix).
func matchUntaggedIn(line []byte, inPlace bool) (typ string, data []byte, ok bool) {
	typ, d, ok := splitUntagged(line)
	if !ok {
		return "", nil, false
	}
	rest := line[2:]
	n := len(typ)
	if d == 0 {
		if n < len(rest) && rest[n] == ' ' {
			return typ, rest[n+1:], true
		}
		return typ, []byte{}, true
	}
	rest2 := rest[d+1:]
	if n < len(rest2) && rest2[n] == ' ' && n+1 < len(rest2) {
		if inPlace {
			// rest is "N TYPE data2": shift "N " right by len("TYPE ").
			copy(rest[n+1:], rest[:d+1])
			return typ, rest[n+1:], true
		}
		out := make([]byte, 0, d+1+len(rest2)-n-1)
		out = append(out, rest[:d]...)
		out = append(out, ' ')
		out = append(out, rest2[n+1:]...)
		return typ, out, true
	}
	return typ, rest[:d], true
}

// untaggedType returns the type of an untagged response line, as
// matchUntagged does, without assembling its data.
func untaggedType(line []byte) (string, bool) {
	typ, _, ok := splitUntagged(line)
	return typ, ok
}

// splitUntagged finds the type of "* TYPE..." (d = 0) or "* N TYPE..." (d is
// the number of digits of N).
func splitUntagged(line []byte) (typ string, d int, ok bool) {
	if len(line) < 3 || line[0] != '*' || line[1] != ' ' {
		return "", 0, false
	}
	rest := line[2:]
	if n := upperRun(rest); n > 0 {
		return string(rest[:n]), 0, true
	}
	for d < len(rest) && rest[d] >= '0' && rest[d] <= '9' {
		d++
	}
	if d == 0 || d >= len(rest) || rest[d] != ' ' {
		return "", 0, false
	}
	n := upperRun(rest[d+1:])
	if n == 0 {
		return "", 0, false
	}
	return string(rest[d+1 : d+1+n]), d, true
}

// trailerText is the text a response ends with: its last line after a
// literal, else the data after its type.
func trailerText(resp *imapwire.Response) []byte {
	if k := len(resp.Literals); k > 0 {
		return resp.Lines[k]
	}
	return textAfterType(resp.Lines[0])
}

func upperRun(b []byte) int {
	n := 0
	for n < len(b) && (b[n] >= 'A' && b[n] <= 'Z' || b[n] == '-') {
		n++
	}
	return n
}

// matchResponseCode implements imaplib's Response_code: "[TYPE[ data]]" at the
// start of text, data running to the last "]".
func matchResponseCode(text []byte) (code string, arg []byte, ok bool) {
	if len(text) < 3 || text[0] != '[' {
		return "", nil, false
	}
	n := upperRun(text[1:])
	if n == 0 {
		return "", nil, false
	}
	code = string(text[1 : 1+n])
	rest := text[1+n:]
	if len(rest) > 0 && rest[0] == ']' {
		return code, []byte{}, true
	}
	if len(rest) > 0 && rest[0] == ' ' {
		if k := bytes.LastIndexByte(rest, ']'); k > 0 {
			return code, rest[1:k], true
		}
	}
	return "", nil, false
}

// solicitedFetchUID finds the UID item of a FETCH response without parsing the
// other items: it walks the top level of the attribute list, skipping quoted
// strings, literals (the response's line breaks), nested lists and section
// brackets, and reads the number after a "UID" item name. ok is false when
// there is no well-formed UID item.
func solicitedFetchUID(resp *imapwire.Response) (seq, uid uint32, ok bool) {
	line := resp.Lines[0]
	n, ok := leadingNumber(line)
	if !ok {
		return 0, 0, false
	}
	start := bytes.IndexByte(line, '(')
	if start < 0 {
		return 0, 0, false
	}
	depth := 0   // nesting below the attribute list: ( and [
	name := true // the next top-level token is an item name
	for li, l := range resp.Lines {
		i := 0
		if li == 0 {
			i = start + 1
		}
		for i < len(l) {
			switch ch := l[i]; {
			case ch == '"':
				i++
				for i < len(l) && l[i] != '"' {
					if l[i] == '\\' {
						i++
					}
					i++
				}
				i++
				if depth == 0 {
					name = true
				}
			case ch == '(' || ch == '[':
				depth++
				i++
			case ch == ')' || ch == ']':
				depth--
				i++
				if depth < 0 {
					return 0, 0, false // the end of the attribute list
				}
				if depth == 0 && ch == ')' {
					name = true
				}
				if depth == 0 && ch == ']' {
					// BODY[...] ends: skip an origin "<n>"; the value follows.
					if i < len(l) && l[i] == '<' {
						for i < len(l) && l[i] != '>' {
							i++
						}
						i++
					}
					name = false
				}
			case ch == ' ':
				i++
			case ch == '{' && depth == 0:
				i = len(l) // a literal value: it ends this line
				name = true
			default:
				j := i
				for j < len(l) && l[j] != ' ' && l[j] != '(' && l[j] != ')' && l[j] != '[' && l[j] != ']' && l[j] != '"' && l[j] != '{' {
					j++
				}
				tok := l[i:j]
				i = j
				if depth > 0 {
					continue
				}
				if !name {
					name = true
					continue
				}
				if j < len(l) && l[j] == '[' {
					continue // BODY[...]: the name goes on past the brackets
				}
				name = false
				if len(tok) == 3 && (tok[0]|0x20) == 'u' && (tok[1]|0x20) == 'i' && (tok[2]|0x20) == 'd' && j < len(l) && l[j] == ' ' {
					v, err := strconv.ParseUint(string(numberRun(l[j+1:])), 10, 32)
					if err != nil || v == 0 {
						return 0, 0, false
					}
					return n, uint32(v), true
				}
			}
		}
	}
	return 0, 0, false
}

// numberRun returns the leading ASCII digits of b.
func numberRun(b []byte) []byte {
	k := 0
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	return b[:k]
}

// appendDoubling is append with the capacity doubled whenever it grows, so
// a list built item by item allocates at most about twice its final size
// (append's growth for large slices, 1.25-fold, allocates about five times).
func appendDoubling[T any](s, items []T) []T {
	if need := len(s) + len(items); need > cap(s) {
		grown := make([]T, len(s), max(need, 2*cap(s), 4))
		copy(grown, s)
		s = grown
	}
	return append(s, items...)
}
