package imapengine

import (
	"context"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Check requests a checkpoint of the selected mailbox.
func (c *Client) Check(ctx context.Context) (Result, error) {
	return c.simple(ctx, &cmd{name: "CHECK"})
}

// Expunge permanently removes \Deleted messages; the result is the untagged
// EXPUNGE data (sequence numbers, in order).
func (c *Client) Expunge(ctx context.Context) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "EXPUNGE"}, "EXPUNGE")
}

// UIDExpunge is imaplib 3.16's expunge(set, uid=True): UID EXPUNGE of the UIDs
// in set (UIDPLUS). An empty set is an error.
func (c *Client) UIDExpunge(ctx context.Context, set string) (Result, error) {
	if set == "" {
		return Result{}, errorf("UID EXPUNGE requires a message set")
	}
	return c.uidCmd(ctx, "EXPUNGE", "EXPUNGE", func(e *encoder) { e.SP().Raw(set) })
}

// Fetch fetches data items of messages (imaplib's fetch). parts is
// parenthesised unless it is a macro (ALL, FULL, FAST). The result is the
// untagged FETCH data, with (header, literal) pairs for literals.
func (c *Client) Fetch(ctx context.Context, set, parts string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "FETCH", args: fetchArgs(set, parts)}, "FETCH")
}

// Release hands the memory of r's literals (message bodies, typically) back to
// the connection, so the next response that fits reuses it instead of
// allocating: a loop that fetches a message, processes it and drops it then
// runs without garbage-collection churn, as imaplib's data is freed when the
// last reference goes. After Release, r and every slice of its data must not
// be used, and r must not be released again. Release is optional (without
// it the garbage collector reclaims the memory); only the largest buffer, up
// to imapwire.MaxRecycledLiteral (2 MiB), is kept. Release only results
// whose data nothing else holds: an unsolicited FETCH in r may also have
// reached Options.OnEvent.
func (c *Client) Release(r Result) {
	if c.r == nil {
		return
	}
	for _, d := range r.Data {
		if d.IsPair() {
			c.r.Recycle(d.Literal())
		}
	}
}

// UIDFetch is Fetch by UID (imaplib 3.16's fetch(..., uid=True)).
func (c *Client) UIDFetch(ctx context.Context, set, parts string) (Result, error) {
	return c.uidCmd(ctx, "FETCH", "FETCH", fetchArgs(set, parts))
}

func fetchArgs(set, parts string) func(e *encoder) {
	return func(e *encoder) { e.SP().Raw(set).SP().Raw(imapwire.FetchParts(parts)) }
}

// Partial is imaplib's partial (the obsolete RFC 1730 PARTIAL command); the
// result is the untagged FETCH data.
func (c *Client) Partial(ctx context.Context, num, part, start, length string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "PARTIAL", args: func(e *encoder) {
		e.SP().Raw(num).SP().Raw(part).SP().Raw(start).SP().Raw(length)
	}}, "FETCH")
}

// Store alters flags (command is e.g. "+FLAGS" or "-FLAGS.SILENT"; flags are
// parenthesised when needed). The result is the untagged FETCH data.
func (c *Client) Store(ctx context.Context, set, command, flags string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "STORE", args: storeArgs(set, command, flags)}, "FETCH")
}

// UIDStore is Store by UID.
func (c *Client) UIDStore(ctx context.Context, set, command, flags string) (Result, error) {
	return c.uidCmd(ctx, "STORE", "FETCH", storeArgs(set, command, flags))
}

func storeArgs(set, command, flags string) func(e *encoder) {
	return func(e *encoder) { e.SP().Raw(set).SP().Raw(command).SP().Raw(imapwire.SetQuote(flags)) }
}

// Copy copies messages to a mailbox; the result is the tagged text (which
// carries COPYUID with UIDPLUS).
func (c *Client) Copy(ctx context.Context, set, mailbox string) (Result, error) {
	return c.simple(ctx, &cmd{name: "COPY", args: c.setMailboxArgs(set, mailbox)})
}

// UIDCopy is Copy by UID; unlike UID("COPY", ...) it returns the tagged text.
func (c *Client) UIDCopy(ctx context.Context, set, mailbox string) (Result, error) {
	return c.uidTagged(ctx, "COPY", c.setMailboxArgs(set, mailbox))
}

// Move moves messages to a mailbox (RFC 6851, imaplib 3.16's move); the result
// is the tagged text.
func (c *Client) Move(ctx context.Context, set, mailbox string) (Result, error) {
	return c.simple(ctx, &cmd{name: "MOVE", args: c.setMailboxArgs(set, mailbox)})
}

// UIDMove is Move by UID; it returns the tagged text.
func (c *Client) UIDMove(ctx context.Context, set, mailbox string) (Result, error) {
	return c.uidTagged(ctx, "MOVE", c.setMailboxArgs(set, mailbox))
}

func (c *Client) setMailboxArgs(set, mailbox string) func(e *encoder) {
	m := c.mailboxName(mailbox)
	return func(e *encoder) { e.SP().Raw(set).SP().Raw(m) }
}

// Search searches the selected mailbox (imaplib's search). charset "" means
// none (imaplib's None); criteria are sent as given, each a separate argument.
// After ENABLE UTF8=ACCEPT a charset is refused locally. The result is the
// untagged SEARCH data ([b”] when nothing matched).
func (c *Client) Search(ctx context.Context, charset string, criteria ...string) (Result, error) {
	args, err := c.searchArgs(charset, criteria)
	if err != nil {
		return Result{}, err
	}
	return c.untaggedCmd(ctx, &cmd{name: "SEARCH", args: args}, "SEARCH")
}

// UIDSearch is Search by UID.
func (c *Client) UIDSearch(ctx context.Context, charset string, criteria ...string) (Result, error) {
	args, err := c.searchArgs(charset, criteria)
	if err != nil {
		return Result{}, err
	}
	return c.uidCmd(ctx, "SEARCH", "SEARCH", args)
}

func (c *Client) searchArgs(charset string, criteria []string) (func(e *encoder), error) {
	if charset != "" && c.UTF8Enabled() {
		return nil, errorf("Non-None charset not valid in UTF8 mode")
	}
	return func(e *encoder) {
		if charset != "" {
			e.SP().Raw("CHARSET").SP().AString(charset)
		}
		for _, a := range criteria {
			e.SP().Raw(a)
		}
	}, nil
}

// Sort sorts messages (RFC 5256): criteria are parenthesised when needed,
// charset is required by the protocol ("" omits it), search criteria follow.
func (c *Client) Sort(ctx context.Context, criteria, charset string, search ...string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "SORT", args: sortArgs(criteria, charset, search)}, "SORT")
}

// UIDSort is Sort by UID.
func (c *Client) UIDSort(ctx context.Context, criteria, charset string, search ...string) (Result, error) {
	return c.uidCmd(ctx, "SORT", "SORT", sortArgs(criteria, charset, search))
}

func sortArgs(criteria, charset string, search []string) func(e *encoder) {
	return func(e *encoder) {
		e.SP().Raw(imapwire.SetQuote(criteria))
		if charset != "" {
			e.SP().AString(charset)
		}
		for _, a := range search {
			e.SP().Raw(a)
		}
	}
}

// Thread threads messages (RFC 5256) with algorithm (e.g. "REFERENCES").
func (c *Client) Thread(ctx context.Context, algorithm, charset string, search ...string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "THREAD", args: threadArgs(algorithm, charset, search)}, "THREAD")
}

// UIDThread is Thread by UID.
func (c *Client) UIDThread(ctx context.Context, algorithm, charset string, search ...string) (Result, error) {
	return c.uidCmd(ctx, "THREAD", "THREAD", threadArgs(algorithm, charset, search))
}

func threadArgs(algorithm, charset string, search []string) func(e *encoder) {
	return func(e *encoder) {
		e.SP().Raw(algorithm)
		if charset != "" {
			e.SP().AString(charset)
		}
		for _, a := range search {
			e.SP().Raw(a)
		}
	}
}

// UID runs "UID command args..." (imaplib's uid). The command is upper-cased
// and must be a known command allowed in the current state. COPY, FETCH, STORE,
// SORT, THREAD and MOVE arguments get the same quoting as their methods; others
// are sent as given. As in imaplib, SEARCH, SORT and THREAD return their
// untagged data and every other command the untagged FETCH data (often [None]);
// use UIDCopy/UIDMove for the tagged text.
func (c *Client) UID(ctx context.Context, command string, args ...string) (Result, error) {
	name := strings.ToUpper(command)
	c.mu.Lock()
	_, known := commandStates[name]
	if !known {
		_, known = c.xatoms[name]
	}
	if !known {
		c.mu.Unlock()
		return Result{}, errorf("Unknown IMAP4 UID command: %s", pyStr(command))
	}
	err := c.checkStateLocked(name)
	c.mu.Unlock()
	if err != nil {
		return Result{}, err
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	var w func(e *encoder)
	switch name {
	case "COPY", "MOVE":
		if len(args) == 2 {
			w = c.setMailboxArgs(args[0], args[1])
		}
	case "FETCH":
		if len(args) == 2 {
			w = fetchArgs(args[0], args[1])
		}
	case "STORE":
		if len(args) == 3 {
			w = storeArgs(args[0], args[1], args[2])
		}
	case "SORT":
		if len(args) >= 2 {
			w = sortArgs(args[0], arg(1), args[2:])
		}
	case "THREAD":
		if len(args) >= 2 {
			w = threadArgs(args[0], arg(1), args[2:])
		}
	}
	if w == nil {
		w = func(e *encoder) {
			for _, a := range args {
				e.SP().Raw(a)
			}
		}
	}
	result := "FETCH"
	switch name {
	case "SEARCH", "SORT", "THREAD":
		result = name
	}
	return c.uidCmd(ctx, name, result, w)
}

func (c *Client) uidCmd(ctx context.Context, name, result string, args func(e *encoder)) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw(name)
		args(e)
	}}, result)
}

func (c *Client) uidTagged(ctx context.Context, name string, args func(e *encoder)) (Result, error) {
	return c.simple(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw(name)
		args(e)
	}})
}
