package imapengine

import (
	"context"
	"strings"
	"sync"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// notifyEvents are the events asked for with NOTIFY: enough to keep
// MESSAGES, UNSEEN, UIDNEXT and HIGHESTMODSEQ current.
const notifyEvents = "(MessageNew MessageExpunge FlagChange)"

// NotifyStatus sets NOTIFY (RFC 5465) so the server reports status changes of
// mailboxes as unsolicited STATUS responses (EventStatus), at any time, while
// the selected mailbox keeps its usual EXISTS, EXPUNGE and FETCH data.
// mailboxes nil means every subscribed mailbox. The result holds the initial
// STATUS of each mailbox the server sent (NOTIFY SET STATUS). It needs NOTIFY
// (ErrNotSupported otherwise).
func (c *Client) NotifyStatus(ctx context.Context, mailboxes []string) ([]*imap.StatusData, error) {
	if !c.HasCapability("NOTIFY") {
		return nil, &Error{Kind: KindError, Command: "NOTIFY", Msg: "server does not offer NOTIFY", Err: ErrNotSupported}
	}
	spec := "(SUBSCRIBED " + notifyEvents + ")"
	if mailboxes != nil {
		names := make([]string, len(mailboxes))
		for i, m := range mailboxes {
			names[i] = c.mailboxName(m)
		}
		spec = "(MAILBOXES (" + strings.Join(names, " ") + ") " + notifyEvents + ")"
		if len(mailboxes) == 0 {
			spec = ""
		}
	}
	utf8 := c.UTF8Enabled()
	var mu sync.Mutex
	var out []*imap.StatusData
	_, err := c.collect(ctx, &cmd{name: "NOTIFY", state: "STATUS", args: func(e *encoder) {
		e.SP().Raw("SET STATUS (SELECTED " + notifyEvents + ")")
		if spec != "" {
			e.SP().Raw(spec)
		}
	}}, []string{"STATUS"}, func(_ string, resp *imapwire.Response) {
		if st, err := imap.ParseStatus(resp, c.limits.wire(), utf8); err == nil {
			mu.Lock()
			out = append(out, st)
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.notifying = true
	c.mu.Unlock()
	return out, nil
}

// NotifyNone turns NOTIFY off (NOTIFY NONE).
func (c *Client) NotifyNone(ctx context.Context) error {
	_, err := c.collect(ctx, &cmd{name: "NOTIFY", state: "STATUS", args: func(e *encoder) {
		e.SP().Raw("NONE")
	}}, nil, nil)
	if err == nil {
		c.mu.Lock()
		c.notifying = false
		c.mu.Unlock()
	}
	return err
}

// statusSolicitedLocked reports whether a pending command solicits STATUS
// responses (STATUS, LIST-STATUS, NOTIFY SET STATUS).
func (c *Client) statusSolicitedLocked() bool {
	for _, p := range c.pending {
		switch p.name {
		case "STATUS", "LIST", "NOTIFY":
			return true
		}
	}
	return false
}
