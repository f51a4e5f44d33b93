package imapengine

import (
	"context"
	"math"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// DefaultEventQueue is the most events waiting between the reader goroutine
// and Options.OnEvent. When that many wait the reader waits too, so a slow
// handler slows reading instead of growing memory. The queue is allocated as
// events arrive and dropped when drained, and the goroutine that runs
// OnEvent exists only while events wait: an idle connection holds neither.
const DefaultEventQueue = 1024

// EventKind tells what an Event reports.
type EventKind int

// The kinds of unsolicited data delivered to Options.OnEvent.
const (
	EventExists   EventKind = iota + 1 // the mailbox now has Count messages
	EventExpunge                       // message Seq (UID if known) was expunged
	EventFetch                         // flags (or other items) of a message changed
	EventVanished                      // the UIDs in Vanished were expunged (QRESYNC)
	EventRecent                        // Count messages are \Recent
	EventAlert                         // the server sent an [ALERT] (Text)
	EventBye                           // the server is closing the connection (Text)
	EventStatus                        // a mailbox's status (Status): NOTIFY, or a STATUS no command asked for
)

var eventNames = map[EventKind]string{
	EventExists: "exists", EventExpunge: "expunge", EventFetch: "fetch", EventVanished: "vanished",
	EventRecent: "recent", EventAlert: "alert", EventBye: "bye", EventStatus: "status",
}

// String returns the kind's lower-case name, e.g. "expunge".
func (k EventKind) String() string { return eventNames[k] }

// Event is one piece of unsolicited data: a mailbox size change, an expunge,
// a flag change, an alert or a BYE, received while a command ran or an IDLE
// was active. Expunges carry the message's UID when the client knew it (see
// Client.SyncUIDs).
type Event struct {
	Kind     EventKind
	Seq      imap.SeqNum      // EventExpunge, EventFetch
	UID      imap.UID         // EventExpunge (0 if unknown), EventFetch (0 if not sent)
	Count    uint32           // EventExists, EventRecent
	Message  *imap.Message    // EventFetch: the parsed FETCH data
	Vanished *imap.Vanished   // EventVanished
	Text     string           // EventAlert, EventBye
	Status   *imap.StatusData // EventStatus
	Received time.Time        // when the reader goroutine read the response
}

// UIDOf returns the UID of sequence number seq in the selected mailbox, if the
// client knows it.
func (c *Client) UIDOf(seq imap.SeqNum) (imap.UID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uidOfLocked(seq)
}

// MailboxSize returns the number of messages the client believes the selected
// mailbox holds (from EXISTS, EXPUNGE and VANISHED). It never waits: the
// reader publishes the count after each change.
func (c *Client) MailboxSize() uint32 { return uint32(min(c.selSize.Load(), math.MaxUint32)) }

// resetSelLocked forgets the selected mailbox's state.
func (c *Client) resetSelLocked() {
	c.sel.reset()
	c.selGen++
	c.selChangedLocked()
}

// selChangedLocked publishes the mailbox size after a change of c.sel.
func (c *Client) selChangedLocked() { c.selSize.Store(c.sel.count()) }

// observation is what one untagged response says about the selected
// mailbox, parsed by the reader goroutine before it takes the client's lock.
type observation struct {
	typ   string
	num   uint32 // EXISTS, RECENT, EXPUNGE
	numOK bool
	// A solicited FETCH: only its UID is read (the command's sink or result
	// parses the rest, so the message is not parsed twice).
	solicited     bool
	seq, uid      uint32
	uidOK         bool
	msg           *imap.Message  // an unsolicited FETCH, parsed
	van           *imap.Vanished // VANISHED, parsed
	vanishApplied bool           // van was applied to c.sel (see applyVanished)
}

// observe parses an untagged response's mailbox data without c.mu held (only
// a moment of it, to see whether a FETCH is solicited): the work a large
// response costs is never done under the lock every accessor needs.
func (c *Client) observe(resp *imapwire.Response) observation {
	line := resp.Lines[0]
	typ, ok := untaggedType(line)
	if !ok {
		return observation{}
	}
	o := observation{typ: typ}
	switch typ {
	case "EXISTS", "RECENT", "EXPUNGE":
		o.num, o.numOK = leadingNumber(line)
	case "FETCH":
		c.mu.Lock()
		o.solicited = c.fetchPendingLocked()
		c.mu.Unlock()
		if o.solicited {
			o.seq, o.uid, o.uidOK = solicitedFetchUID(resp)
		} else if msg, err := imap.ParseFetch(resp, c.limits.wire()); err == nil && msg != nil {
			o.msg = msg
		}
	case "VANISHED":
		if v, err := imap.ParseVanished(resp, c.limits.wire()); err == nil {
			o.van = v
		}
	}
	return o
}

// vanishBatch is how many VANISHED ranges are applied per hold of c.mu.
const vanishBatch = 256

// applyVanished removes the UIDs of a VANISHED (not EARLIER) from c.sel, a
// batch of ranges per hold of the lock, so a line of many ranges never holds
// it long. It stops if the mailbox changes meanwhile (a new SELECT) or the
// connection closes.
func (c *Client) applyVanished(o *observation) {
	if o.van == nil || o.van.Earlier {
		return
	}
	c.mu.Lock()
	gen := c.selGen
	c.mu.Unlock()
	set := o.van.UIDs
	for len(set) > 0 && !c.closing.Load() {
		k := min(len(set), vanishBatch)
		c.mu.Lock()
		if c.selGen != gen {
			c.mu.Unlock()
			return
		}
		c.sel.vanish(set[:k])
		c.selChangedLocked()
		c.mu.Unlock()
		set = set[k:]
	}
	o.vanishApplied = true
}

// observeLocked updates the mailbox state from one observed untagged response
// and queues the events it causes. It runs in the reader goroutine with c.mu
// held; every step costs O(log segments) of the UID map.
func (c *Client) observeLocked(o *observation, resp *imapwire.Response, now time.Time) {
	line := resp.Lines[0]
	n := o.num
	switch o.typ {
	case "EXISTS", "RECENT", "EXPUNGE":
		if !o.numOK {
			return
		}
		switch o.typ {
		case "EXISTS":
			c.sel.setCount(uint64(n))
			c.selChangedLocked()
			if !c.selectPendingLocked() { // part of the SELECT result, not news
				c.queueEventLocked(Event{Kind: EventExists, Count: n, Received: now})
			}
		case "RECENT":
			if !c.selectPendingLocked() {
				c.queueEventLocked(Event{Kind: EventRecent, Count: n, Received: now})
			}
		case "EXPUNGE":
			uid := c.sel.expunge(n)
			c.selChangedLocked()
			c.queueEventLocked(Event{Kind: EventExpunge, Seq: imap.SeqNum(n), UID: uid, Received: now})
		}
	case "FETCH":
		if o.solicited {
			if o.uidOK {
				c.sel.setUID(o.seq, imap.UID(o.uid))
				c.selChangedLocked()
			}
			return
		}
		msg := o.msg
		if msg == nil {
			return
		}
		if msg.UID != 0 {
			c.sel.setUID(uint32(msg.Seq), msg.UID)
			c.selChangedLocked()
		} else {
			msg.UID, _ = c.uidOfLocked(msg.Seq)
		}
		c.queueEventLocked(Event{Kind: EventFetch, Seq: msg.Seq, UID: msg.UID, Message: msg, Received: now})
	case "VANISHED":
		if o.van != nil {
			c.queueEventLocked(Event{Kind: EventVanished, Vanished: o.van, Received: now})
		}
	case "STATUS":
		if !c.notifying && c.statusSolicitedLocked() {
			return // the answer of our own STATUS or LIST, not news
		}
		if st, err := imap.ParseStatus(resp, c.limits.wire(), c.utf8); err == nil {
			c.queueEventLocked(Event{Kind: EventStatus, Status: st, Received: now})
		}
	case "BYE":
		c.queueEventLocked(Event{Kind: EventBye, Text: string(textAfterType(line)), Received: now})
	case "OK", "NO", "BAD":
		text := textAfterType(line)
		if code, _, ok := imap.ParseResponseCode(text); ok && code == "ALERT" {
			c.queueEventLocked(Event{Kind: EventAlert, Text: string(text), Received: now})
		}
	}
}

func (c *Client) uidOfLocked(seq imap.SeqNum) (imap.UID, bool) {
	uid := c.sel.uidOf(uint32(seq))
	return uid, uid != 0
}

// fetchPendingLocked reports whether a command that solicits FETCH responses
// (FETCH, STORE, their UID forms) is pending: FETCH responses are then
// attributed to it rather than reported as events.
func (c *Client) fetchPendingLocked() bool {
	for _, p := range c.pending {
		switch p.name {
		case "FETCH", "STORE", "PARTIAL", "UID":
			return true
		}
	}
	return false
}

// selectPendingLocked reports whether a SELECT or EXAMINE is pending: the
// EXISTS and RECENT it solicits describe the new mailbox, not a change.
func (c *Client) selectPendingLocked() bool {
	for _, p := range c.pending {
		if p.name == "SELECT" || p.name == "EXAMINE" {
			return true
		}
	}
	return false
}

func (c *Client) queueEventLocked(e Event) {
	if c.opts.OnEvent == nil {
		return
	}
	c.evQueued++
	c.evq = append(c.evq, e)
}

// WaitEvents returns once Options.OnEvent has returned for every event
// caused by a response the server sent before the last tagged response the
// client has read. Called after a command returns, it orders that command's
// unsolicited data (EXPUNGE, EXISTS, FETCH, ... received while it ran)
// before whatever the caller does next, such as answering its own client.
// It returns at once without Options.OnEvent, nil when the connection ends
// (every queued event has then been delivered or dropped with it), and
// ctx's error when ctx ends first.
func (c *Client) WaitEvents(ctx context.Context) error {
	c.mu.Lock()
	target := c.evMark
	for c.evDelivered < target {
		if c.evWake == nil {
			c.evWake = make(chan struct{})
		}
		wake, done := c.evWake, c.eventsDone
		c.mu.Unlock()
		select {
		case <-wake:
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
	c.mu.Unlock()
	return nil
}

// flushEvents hands queued events to the dispatcher, starting its goroutine
// when none runs. It runs in the reader goroutine; it waits while
// Options.EventQueue events are waiting for OnEvent.
func (c *Client) flushEvents() {
	c.mu.Lock()
	evs := c.evq
	c.evq = nil
	for len(evs) > 0 {
		room := c.evCap - len(c.evOut)
		if room <= 0 {
			if c.evRoom == nil {
				c.evRoom = make(chan struct{})
			}
			wait := c.evRoom
			c.mu.Unlock()
			<-wait
			c.mu.Lock()
			continue
		}
		k := min(room, len(evs))
		c.evOut = append(c.evOut, evs[:k]...)
		evs = evs[k:]
		if !c.evRunning {
			c.evRunning = true
			go c.dispatchEvents()
		}
	}
	c.mu.Unlock()
}

// dispatchEvents runs Options.OnEvent for each waiting event, in order, never
// under a lock, and ends when none is left (the next flushEvents starts it
// again), so OnEvent runs in one goroutine at a time.
func (c *Client) dispatchEvents() {
	c.mu.Lock()
	for len(c.evOut) > 0 {
		e := c.evOut[0]
		c.evOut[0] = Event{}
		c.evOut = c.evOut[1:]
		if c.evRoom != nil {
			close(c.evRoom)
			c.evRoom = nil
		}
		c.mu.Unlock()
		c.opts.OnEvent(e)
		c.mu.Lock()
		c.evDelivered++
		if c.evWake != nil {
			close(c.evWake)
			c.evWake = nil
		}
	}
	c.evOut = nil
	c.evRunning = false
	if c.evIdle != nil {
		close(c.evIdle)
		c.evIdle = nil
	}
	c.mu.Unlock()
}

// leadingNumber parses the N of "* N TYPE".
func leadingNumber(line []byte) (uint32, bool) {
	if len(line) < 3 {
		return 0, false
	}
	var n uint64
	i := 2
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
		n = n*10 + uint64(line[i]-'0')
		if n > 0xFFFFFFFF {
			return 0, false
		}
	}
	return uint32(n), i > 2
}

// textAfterType returns the text after "* TYPE " (or "* N TYPE ").
func textAfterType(line []byte) []byte {
	_, data, ok := matchUntagged(line)
	if !ok {
		return nil
	}
	return data
}
