package imapengine

import (
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// DefaultEventQueue is the number of events buffered between the reader
// goroutine and Options.OnEvent.
const DefaultEventQueue = 1024

// Event is one piece of unsolicited data.
type Event struct {
	Kind     string
	Received time.Time
}

type mailboxState struct{}

func (m *mailboxState) reset() {}

func (c *Client) observeLocked(typ string, resp *imapwire.Response, now time.Time) {}

func (c *Client) flushEvents() {}

func (c *Client) dispatchEvents() {
	defer close(c.eventsDone)
	for e := range c.events {
		c.opts.OnEvent(e)
	}
}
