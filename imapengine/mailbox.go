package imapengine

import (
	"context"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
	"github.com/imapbridge/imapbridge/imapengine/internal/mutf7"
)

// mailboxName encodes a mailbox name as imaplib 3.16 does: modified UTF-7 in
// ASCII mode (a name that already is valid modified UTF-7 is kept), UTF-8 after
// ENABLE UTF8=ACCEPT; the result is then quoted as an astring when needed.
func (c *Client) mailboxName(name string) string {
	if c.UTF8Enabled() {
		return imapwire.AString(name)
	}
	return imapwire.AString(mutf7.EncodeMailbox(name))
}

// listPattern is mailboxName for LIST patterns: % and * stay unquoted.
func (c *Client) listPattern(pat string) string {
	if c.UTF8Enabled() {
		return imapwire.ListMailbox(pat)
	}
	return imapwire.ListMailbox(mutf7.EncodeMailbox(pat))
}

// mbox returns an argument writer for a mailbox name.
func (c *Client) mbox(name string) func(e *encoder) {
	enc := c.mailboxName(name)
	return func(e *encoder) { e.SP().Raw(enc) }
}

// Select selects a mailbox (imaplib's select); readonly sends EXAMINE. The
// untagged responses are flushed first. On OK the state is SELECTED and the
// result is ('OK', EXISTS data), left in place for Response; on NO the state
// is AUTH. If the server reports READ-ONLY for a read-write request, a
// KindReadOnly error is returned after the state became SELECTED. An empty
// name means INBOX.
func (c *Client) Select(ctx context.Context, mailbox string, readonly bool) (Result, error) {
	if mailbox == "" {
		mailbox = "INBOX"
	}
	c.mu.Lock()
	c.untagged = make(map[string][]Datum)
	c.nuntagged = 0
	c.readOnly = readonly
	c.resetSelLocked()
	c.mu.Unlock()
	name := "SELECT"
	if readonly {
		name = "EXAMINE"
	}
	typ, text, err := c.run(ctx, &cmd{name: name, args: c.mbox(mailbox)})
	if err != nil {
		return Result{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if typ != "OK" {
		c.state = StateAuth
		return Result{Typ: typ, Data: []Datum{Bytes(text)}}, nil
	}
	c.state = StateSelected
	if _, ro := c.untagged["READ-ONLY"]; ro && !readonly {
		return Result{}, &Error{Kind: KindReadOnly, Msg: pyStr(mailbox) + " is not writable", Err: ErrReadOnly}
	}
	exists, ok := c.untagged["EXISTS"]
	if !ok {
		return Result{Typ: "OK", Data: []Datum{None()}}, nil
	}
	return Result{Typ: "OK", Data: append([]Datum(nil), exists...)}, nil
}

// CloseMailbox closes the selected mailbox, expunging deleted messages (imaplib's
// close). The state becomes AUTH even if the command fails.
func (c *Client) CloseMailbox(ctx context.Context) (Result, error) {
	defer c.setState(StateAuth)
	return c.simple(ctx, &cmd{name: "CLOSE"})
}

// Unselect leaves the selected mailbox without expunging (imaplib's unselect).
// The state becomes AUTH even if the command fails.
func (c *Client) Unselect(ctx context.Context) (Result, error) {
	defer c.setState(StateAuth)
	return c.simple(ctx, &cmd{name: "UNSELECT"})
}

func (c *Client) setState(s State) {
	c.mu.Lock()
	if s != StateSelected {
		c.resetSelLocked()
	}
	c.state = s
	c.mu.Unlock()
}

// Create creates a mailbox.
func (c *Client) Create(ctx context.Context, mailbox string) (Result, error) {
	return c.simple(ctx, &cmd{name: "CREATE", args: c.mbox(mailbox)})
}

// Delete deletes a mailbox.
func (c *Client) Delete(ctx context.Context, mailbox string) (Result, error) {
	return c.simple(ctx, &cmd{name: "DELETE", args: c.mbox(mailbox)})
}

// Rename renames a mailbox.
func (c *Client) Rename(ctx context.Context, oldMailbox, newMailbox string) (Result, error) {
	o, n := c.mailboxName(oldMailbox), c.mailboxName(newMailbox)
	return c.simple(ctx, &cmd{name: "RENAME", args: func(e *encoder) { e.SP().Raw(o).SP().Raw(n) }})
}

// Subscribe subscribes to a mailbox.
func (c *Client) Subscribe(ctx context.Context, mailbox string) (Result, error) {
	return c.simple(ctx, &cmd{name: "SUBSCRIBE", args: c.mbox(mailbox)})
}

// Unsubscribe unsubscribes from a mailbox.
func (c *Client) Unsubscribe(ctx context.Context, mailbox string) (Result, error) {
	return c.simple(ctx, &cmd{name: "UNSUBSCRIBE", args: c.mbox(mailbox)})
}

// List lists mailbox names matching pattern in directory (imaplib's
// list(directory, pattern); imaplib's defaults are List(ctx, "", "*")). The
// result is the untagged LIST data.
func (c *Client) List(ctx context.Context, directory, pattern string) (Result, error) {
	return c.listCmd(ctx, "LIST", directory, pattern)
}

// Lsub lists subscribed mailbox names (imaplib's lsub).
func (c *Client) Lsub(ctx context.Context, directory, pattern string) (Result, error) {
	return c.listCmd(ctx, "LSUB", directory, pattern)
}

func (c *Client) listCmd(ctx context.Context, name, directory, pattern string) (Result, error) {
	d, p := c.mailboxName(directory), c.listPattern(pattern)
	return c.untaggedCmd(ctx, &cmd{name: name, args: func(e *encoder) { e.SP().Raw(d).SP().Raw(p) }}, name)
}

// Status requests status items (e.g. "(MESSAGES UNSEEN)"; parentheses are added
// when missing) of a mailbox; the result is the untagged STATUS data.
func (c *Client) Status(ctx context.Context, mailbox, names string) (Result, error) {
	m := c.mailboxName(mailbox)
	return c.untaggedCmd(ctx, &cmd{name: "STATUS", args: func(e *encoder) {
		e.SP().Raw(m).SP().Raw(imapwire.SetQuote(names))
	}}, "STATUS")
}

// Append appends message to mailbox (imaplib's append). An empty mailbox means
// INBOX; flags are parenthesised when needed; a non-zero date becomes the
// internal date. Bare CR and LF in message are normalised to CRLF; use
// AppendExact to send the bytes unchanged. After ENABLE UTF8=ACCEPT the message
// is sent as UTF8 (~{N}) as RFC 6855 requires.
func (c *Client) Append(ctx context.Context, mailbox, flags string, date time.Time, message []byte) (Result, error) {
	return c.appendMsg(ctx, mailbox, flags, date, normalizeCRLF(message))
}

// AppendExact is Append without line-ending translation (imaplib 3.16's
// translate_line_endings=False).
func (c *Client) AppendExact(ctx context.Context, mailbox, flags string, date time.Time, message []byte) (Result, error) {
	return c.appendMsg(ctx, mailbox, flags, date, message)
}

func (c *Client) appendMsg(ctx context.Context, mailbox, flags string, date time.Time, message []byte) (Result, error) {
	k, err := c.appendCmd(mailbox, flags, date, message)
	if err != nil {
		return Result{}, err
	}
	return c.simple(ctx, k)
}

// appendCmd builds APPEND for both views: an empty mailbox means INBOX, flags
// are parenthesised when needed, a non-zero date becomes the internal date,
// and after ENABLE UTF8=ACCEPT the message goes as UTF8 (~{N}).
func (c *Client) appendCmd(mailbox, flags string, date time.Time, message []byte) (*cmd, error) {
	if mailbox == "" {
		mailbox = "INBOX"
	}
	m := c.mailboxName(mailbox)
	var dt string
	if !date.IsZero() {
		s, err := Time2Internaldate(date)
		if err != nil {
			return nil, err
		}
		dt = s
	}
	utf8 := c.UTF8Enabled()
	return &cmd{name: "APPEND", args: func(e *encoder) {
		e.SP().Raw(m)
		if flags != "" {
			e.SP().Raw(imapwire.SetQuote(flags))
		}
		if dt != "" {
			e.SP().Raw(dt)
		}
		e.SP()
		if utf8 {
			e.Bytes([]byte("UTF8 (")).Literal8(message).Bytes([]byte(")"))
		} else {
			e.Literal(message)
		}
	}}, nil
}

// normalizeCRLF rewrites every CRLF, bare CR and bare LF as CRLF (imaplib's MapCRLF).
func normalizeCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/32)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, b[i])
		}
	}
	return out
}

// GetACL returns the untagged ACL data of a mailbox.
func (c *Client) GetACL(ctx context.Context, mailbox string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "GETACL", args: c.mbox(mailbox)}, "ACL")
}

// SetACL sets the rights of identifier who on a mailbox.
func (c *Client) SetACL(ctx context.Context, mailbox, who, what string) (Result, error) {
	m := c.mailboxName(mailbox)
	return c.simple(ctx, &cmd{name: "SETACL", args: func(e *encoder) {
		e.SP().Raw(m).SP().AString(who).SP().AString(what)
	}})
}

// DeleteACL removes the rights of identifier who on a mailbox.
func (c *Client) DeleteACL(ctx context.Context, mailbox, who string) (Result, error) {
	m := c.mailboxName(mailbox)
	return c.simple(ctx, &cmd{name: "DELETEACL", args: func(e *encoder) { e.SP().Raw(m).SP().AString(who) }})
}

// MyRights returns the untagged MYRIGHTS data of a mailbox.
func (c *Client) MyRights(ctx context.Context, mailbox string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "MYRIGHTS", args: c.mbox(mailbox)}, "MYRIGHTS")
}

// GetQuota returns the untagged QUOTA data of a quota root.
func (c *Client) GetQuota(ctx context.Context, root string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "GETQUOTA", args: func(e *encoder) { e.SP().AString(root) }}, "QUOTA")
}

// SetQuota sets a quota root's limits, e.g. "(STORAGE 512)".
func (c *Client) SetQuota(ctx context.Context, root, limits string) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "SETQUOTA", args: func(e *encoder) {
		e.SP().AString(root).SP().Raw(imapwire.SetQuote(limits))
	}}, "QUOTA")
}

// QuotaRootResult is imaplib's getquotaroot result: (typ, [quotaroot, quota]).
type QuotaRootResult struct {
	Typ       string
	QuotaRoot []Datum
	Quota     []Datum
}

// GetQuotaRoot returns the quota roots of a mailbox and their quotas. On NO
// both lists hold the tagged text.
func (c *Client) GetQuotaRoot(ctx context.Context, mailbox string) (QuotaRootResult, error) {
	typ, text, err := c.run(ctx, &cmd{name: "GETQUOTAROOT", args: c.mbox(mailbox)})
	if err != nil {
		return QuotaRootResult{}, err
	}
	q := c.untaggedResult(typ, text, "QUOTA")
	r := c.untaggedResult(typ, text, "QUOTAROOT")
	return QuotaRootResult{Typ: r.Typ, QuotaRoot: r.Data, Quota: q.Data}, nil
}

// GetAnnotation returns the untagged ANNOTATION data (ANNOTATEMORE draft, as
// imaplib); entry and attribute are sent as given.
func (c *Client) GetAnnotation(ctx context.Context, mailbox, entry, attribute string) (Result, error) {
	m := c.mailboxName(mailbox)
	return c.untaggedCmd(ctx, &cmd{name: "GETANNOTATION", args: func(e *encoder) {
		e.SP().Raw(m).SP().Raw(entry).SP().Raw(attribute)
	}}, "ANNOTATION")
}

// SetAnnotation sets annotations; args are sent as given after the mailbox.
func (c *Client) SetAnnotation(ctx context.Context, mailbox string, args ...string) (Result, error) {
	m := c.mailboxName(mailbox)
	return c.untaggedCmd(ctx, &cmd{name: "SETANNOTATION", args: func(e *encoder) {
		e.SP().Raw(m)
		for _, a := range args {
			e.SP().Raw(a)
		}
	}}, "ANNOTATION")
}

// Namespace returns the untagged NAMESPACE data.
func (c *Client) Namespace(ctx context.Context) (Result, error) {
	return c.untaggedCmd(ctx, &cmd{name: "NAMESPACE"}, "NAMESPACE")
}

var _ = strings.ToUpper

// MailboxName returns the name of the mailbox a mailbox argument of Select
// (or of any method taking a mailbox) stands for on the server, as LIST
// reports it: the argument is encoded as those methods encode it, then an
// already quoted argument is unquoted and, outside UTF-8 mode, modified
// UTF-7 is decoded. So `"Oracle Renamed"` gives Oracle Renamed,
// INBOX/&AOk-t&AOk- gives INBOX/été, and a UTF-8 name gives itself. INBOX
// is case-insensitive and returned in upper case; "" stays "".
func (c *Client) MailboxName(arg string) string {
	if arg == "" {
		return ""
	}
	name := c.mailboxName(arg)
	if imapwire.IsQuoted(name) {
		name = unquote(name)
	}
	if !c.UTF8Enabled() {
		if d, err := mutf7.Decode(name); err == nil {
			name = d
		}
	}
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// unquote reverses imapwire.Quote for a string IsQuoted accepts.
func unquote(q string) string {
	var b strings.Builder
	for i := 1; i < len(q)-1; i++ {
		if q[i] == '\\' && i+1 < len(q)-1 {
			i++
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
