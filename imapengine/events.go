package imapengine

import (
	"context"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// DefaultEventQueue is the number of events buffered between the reader
// goroutine and Options.OnEvent. When it is full the reader waits, so a slow
// handler slows reading instead of growing memory.
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
)

var eventNames = map[EventKind]string{
	EventExists: "exists", EventExpunge: "expunge", EventFetch: "fetch", EventVanished: "vanished",
	EventRecent: "recent", EventAlert: "alert", EventBye: "bye",
}

// String returns the kind's lower-case name, e.g. "expunge".
func (k EventKind) String() string { return eventNames[k] }

// Event is one piece of unsolicited data: a mailbox size change, an expunge,
// a flag change, an alert or a BYE, received while a command ran or an IDLE
// was active. Expunges carry the message's UID when the client knew it (see
// Client.SyncUIDs).
type Event struct {
	Kind     EventKind
	Seq      imap.SeqNum    // EventExpunge, EventFetch
	UID      imap.UID       // EventExpunge (0 if unknown), EventFetch (0 if not sent)
	Count    uint32         // EventExists, EventRecent
	Message  *imap.Message  // EventFetch: the parsed FETCH data
	Vanished *imap.Vanished // EventVanished
	Text     string         // EventAlert, EventBye
	Received time.Time      // when the reader goroutine read the response
}

// mailboxState is what the client knows about the selected mailbox: its size
// and the UID of each sequence number (0 when unknown). It is updated by the
// reader goroutine from every EXISTS, EXPUNGE, FETCH and VANISHED.
type mailboxState struct {
	uids []imap.UID
}

// maxTrackedMessages bounds the sequence-number map against a hostile EXISTS.
const maxTrackedMessages = 1 << 24

func (m *mailboxState) reset() { m.uids = m.uids[:0] }

func (m *mailboxState) exists(n uint32) {
	if n > maxTrackedMessages {
		n = maxTrackedMessages
	}
	switch {
	case int(n) > len(m.uids):
		m.uids = append(m.uids, make([]imap.UID, int(n)-len(m.uids))...)
	case int(n) < len(m.uids):
		m.uids = m.uids[:n]
	}
}

func (m *mailboxState) expunge(seq uint32) imap.UID {
	if seq == 0 || int(seq) > len(m.uids) {
		return 0
	}
	uid := m.uids[seq-1]
	m.uids = append(m.uids[:seq-1], m.uids[seq:]...)
	return uid
}

func (m *mailboxState) setUID(seq uint32, uid imap.UID) {
	if seq == 0 || seq > maxTrackedMessages {
		return
	}
	if int(seq) > len(m.uids) {
		m.exists(seq)
	}
	m.uids[seq-1] = uid
}

func (m *mailboxState) vanish(set imap.UIDSet) {
	out := m.uids[:0]
	for _, u := range m.uids {
		if u == 0 || !set.Contains(u) {
			out = append(out, u)
		}
	}
	m.uids = out
}

// UIDOf returns the UID of sequence number seq in the selected mailbox, if the
// client knows it.
func (c *Client) UIDOf(seq imap.SeqNum) (imap.UID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if seq == 0 || int(seq) > len(c.sel.uids) || c.sel.uids[seq-1] == 0 {
		return 0, false
	}
	return c.sel.uids[seq-1], true
}

// MailboxSize returns the number of messages the client believes the selected
// mailbox holds (from EXISTS and EXPUNGE).
func (c *Client) MailboxSize() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint32(len(c.sel.uids))
}

// observeLocked updates the mailbox state from one untagged response and
// queues the events it causes. It runs in the reader goroutine with c.mu held.
func (c *Client) observeLocked(typ string, resp *imapwire.Response, now time.Time) {
	line := resp.Lines[0]
	switch typ {
	case "EXISTS", "RECENT", "EXPUNGE":
		n, ok := leadingNumber(line)
		if !ok {
			return
		}
		switch typ {
		case "EXISTS":
			c.sel.exists(n)
			if !c.selectPendingLocked() { // part of the SELECT result, not news
				c.queueEventLocked(Event{Kind: EventExists, Count: n, Received: now})
			}
		case "RECENT":
			if !c.selectPendingLocked() {
				c.queueEventLocked(Event{Kind: EventRecent, Count: n, Received: now})
			}
		case "EXPUNGE":
			uid := c.sel.expunge(n)
			c.queueEventLocked(Event{Kind: EventExpunge, Seq: imap.SeqNum(n), UID: uid, Received: now})
		}
	case "FETCH":
		if c.fetchPendingLocked() {
			// Our own FETCH: only its UID matters here (the sequence number →
			// UID map); the command's sink or result does the parsing, so the
			// message is not parsed twice.
			if seq, uid, ok := solicitedFetchUID(resp); ok {
				c.sel.setUID(seq, imap.UID(uid))
			}
			return
		}
		msg, err := imap.ParseFetch(resp, c.limits.wire())
		if err != nil || msg == nil {
			return
		}
		if msg.UID != 0 {
			c.sel.setUID(uint32(msg.Seq), msg.UID)
		} else {
			msg.UID, _ = c.uidOfLocked(msg.Seq)
		}
		c.queueEventLocked(Event{Kind: EventFetch, Seq: msg.Seq, UID: msg.UID, Message: msg, Received: now})
	case "VANISHED":
		v, err := imap.ParseVanished(resp, c.limits.wire())
		if err != nil {
			return
		}
		if !v.Earlier {
			c.sel.vanish(v.UIDs)
		}
		c.queueEventLocked(Event{Kind: EventVanished, Vanished: v, Received: now})
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
	if seq == 0 || int(seq) > len(c.sel.uids) || c.sel.uids[seq-1] == 0 {
		return 0, false
	}
	return c.sel.uids[seq-1], true
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

// flushEvents hands queued events to the dispatcher goroutine. It runs in the
// reader goroutine without c.mu; it blocks while the event queue is full.
func (c *Client) flushEvents() {
	c.mu.Lock()
	evs := c.evq
	c.evq = nil
	c.mu.Unlock()
	for _, e := range evs {
		c.events <- e
	}
}

// dispatchEvents runs Options.OnEvent for each event, in order, never under a lock.
func (c *Client) dispatchEvents() {
	defer close(c.eventsDone)
	for e := range c.events {
		c.opts.OnEvent(e)
		c.mu.Lock()
		c.evDelivered++
		if c.evWake != nil {
			close(c.evWake)
			c.evWake = nil
		}
		c.mu.Unlock()
	}
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
