package imapengine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// This file holds the typed view: the same commands as the imaplib view, with
// results parsed into the types of package imap. A server's NO is an error
// (*Error wrapping *StatusError) here, not a result.

// collect runs k, routing untagged responses of the given types to fn (in the
// reader goroutine) instead of the accumulated untagged responses. A non-OK
// completion is returned as an error.
func (c *Client) collect(ctx context.Context, k *cmd, types []string, fn func(typ string, resp *imapwire.Response)) (text []byte, err error) {
	k.sink, k.sinkTypes = fn, types
	typ, text, err := c.run(ctx, k)
	if err != nil {
		return nil, err
	}
	return text, Result{Typ: typ, Data: []Datum{Bytes(text)}}.Check(k.name)
}

// SelectOptions refines SelectMailbox.
type SelectOptions struct {
	ReadOnly bool // EXAMINE instead of SELECT
	// CondStore asks for MODSEQ tracking (RFC 7162) when the server offers it.
	CondStore bool
	// QResync, when the server offers QRESYNC, resynchronises a cached
	// mailbox: the server reports what vanished and what changed since
	// ModSeq. QRESYNC is enabled first if needed.
	QResync *QResync
}

// QResync is the cached state sent with SELECT (QRESYNC ...).
type QResync struct {
	UIDValidity uint32
	ModSeq      uint64
	KnownUIDs   string // optional UID set the client knows, e.g. "1:500"
}

// Selected is the typed result of SelectMailbox: the mailbox state, plus with
// QRESYNC the UIDs expunged and the messages changed since the cached state.
type Selected struct {
	imap.SelectData
	Vanished []imap.UIDSet
	Changed  []*imap.Message
}

// SelectMailbox selects (or examines) a mailbox and returns its parsed state.
// The state becomes SELECTED on success and AUTH on NO. An empty name means
// INBOX, as for Select.
func (c *Client) SelectMailbox(ctx context.Context, mailbox string, opts *SelectOptions) (*Selected, error) {
	if mailbox == "" {
		mailbox = "INBOX"
	}
	var o SelectOptions
	if opts != nil {
		o = *opts
	}
	if o.QResync != nil && c.HasCapability("QRESYNC") && !c.isEnabled("QRESYNC") {
		if _, err := c.EnableExtensions(ctx, "QRESYNC"); err != nil {
			return nil, err
		}
	}
	name := "SELECT"
	if o.ReadOnly {
		name = "EXAMINE"
	}
	m := c.mailboxName(mailbox)
	var param string
	switch {
	case o.QResync != nil && c.isEnabled("QRESYNC"):
		q := o.QResync
		param = "(QRESYNC (" + strconv.FormatUint(uint64(q.UIDValidity), 10) + " " + strconv.FormatUint(q.ModSeq, 10)
		if q.KnownUIDs != "" {
			param += " " + q.KnownUIDs
		}
		param += "))"
	case o.CondStore && c.HasCapability("CONDSTORE"):
		param = "(CONDSTORE)"
	}
	c.mu.Lock()
	c.readOnly = o.ReadOnly
	// A previous EXAMINE's READ-ONLY (or SELECT's READ-WRITE) describes the
	// mailbox being left: kept, it would fail this read-write SELECT before it
	// is sent. The other untagged responses stay for Response (imaplib style).
	delete(c.untagged, "READ-ONLY")
	delete(c.untagged, "READ-WRITE")
	c.resetSelLocked()
	c.mu.Unlock()
	res := &Selected{}
	var mu sync.Mutex
	text, err := c.collect(ctx, &cmd{name: name, args: func(e *encoder) {
		e.SP().Raw(m)
		if param != "" {
			e.SP().Raw(param)
		}
	}}, []string{"FLAGS", "EXISTS", "RECENT", "OK", "VANISHED", "FETCH"}, func(typ string, resp *imapwire.Response) {
		mu.Lock()
		defer mu.Unlock()
		switch typ {
		case "VANISHED":
			if v, err := imap.ParseVanished(resp, c.limits.wire()); err == nil {
				res.Vanished = append(res.Vanished, v.UIDs)
			}
		case "FETCH":
			if msg, err := imap.ParseFetch(resp, c.limits.wire()); err == nil {
				res.Changed = append(res.Changed, msg)
			}
		default:
			res.SelectData.Apply(resp)
		}
	})
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			c.setState(StateAuth)
		}
		return nil, err
	}
	code, _, _ := imap.ParseResponseCode(text)
	res.ReadOnly = code == "READ-ONLY" || o.ReadOnly
	c.mu.Lock()
	c.state = StateSelected
	c.mu.Unlock()
	return res, nil
}

// isEnabled reports whether ext was enabled with ENABLE.
func (c *Client) isEnabled(ext string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enabled[strings.ToUpper(ext)]
}

// EnableExtensions sends ENABLE for the named extensions that the server
// advertises and returns those it enabled.
func (c *Client) EnableExtensions(ctx context.Context, exts ...string) ([]string, error) {
	if !c.HasCapability("ENABLE") {
		return nil, &Error{Kind: KindError, Msg: "Server does not support ENABLE", Err: ErrNotSupported}
	}
	var want []string
	for _, x := range exts {
		if c.HasCapability(x) {
			want = append(want, strings.ToUpper(x))
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	var got []string
	_, err := c.collect(ctx, &cmd{name: "ENABLE", args: func(e *encoder) {
		for _, x := range want {
			e.SP().Atom(x)
		}
	}}, []string{"ENABLED"}, func(_ string, resp *imapwire.Response) {
		got = append(got, strings.Fields(strings.ToUpper(string(textAfterType(resp.Lines[0]))))...)
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, x := range got {
		c.enabled[x] = true
		if x == "UTF8=ACCEPT" {
			c.utf8 = true
		}
	}
	c.mu.Unlock()
	return got, nil
}

// ListOptions refines ListMailboxes.
type ListOptions struct {
	Subscribed bool     // LSUB semantics (LIST (SUBSCRIBED) when LIST-EXTENDED is offered)
	SpecialUse bool     // ask for SPECIAL-USE attributes (RFC 6154) when offered
	Status     []string // STATUS items for each mailbox, e.g. MESSAGES UNSEEN (LIST-STATUS, or STATUS per mailbox)
}

// ListMailboxes lists mailboxes matching pattern under ref, with names decoded
// from modified UTF-7 and, when asked, special-use attributes and status.
func (c *Client) ListMailboxes(ctx context.Context, ref, pattern string, opts *ListOptions) ([]*imap.ListData, error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	utf8 := c.UTF8Enabled()
	r, p := c.mailboxName(ref), c.listPattern(pattern)
	name := "LIST"
	var sel, ret []string
	extended := c.HasCapability("LIST-EXTENDED")
	if o.Subscribed {
		if extended {
			sel = append(sel, "SUBSCRIBED")
		} else {
			name = "LSUB"
		}
	}
	if o.SpecialUse && c.HasCapability("SPECIAL-USE") && name == "LIST" {
		ret = append(ret, "SPECIAL-USE")
	}
	listStatus := len(o.Status) > 0 && c.HasCapability("LIST-STATUS") && name == "LIST"
	if listStatus {
		ret = append(ret, "STATUS ("+strings.Join(o.Status, " ")+")")
	}
	var out []*imap.ListData
	byName := map[string]*imap.ListData{}
	_, err := c.collect(ctx, &cmd{name: name, args: func(e *encoder) {
		if len(sel) > 0 {
			e.SP().Raw("(" + strings.Join(sel, " ") + ")")
		}
		e.SP().Raw(r).SP().Raw(p)
		if len(ret) > 0 {
			e.SP().Raw("RETURN (" + strings.Join(ret, " ") + ")")
		}
	}}, []string{name, "STATUS"}, func(typ string, resp *imapwire.Response) {
		if typ == "STATUS" {
			if st, err := imap.ParseStatus(resp, c.limits.wire(), utf8); err == nil {
				if ld := byName[st.Mailbox]; ld != nil {
					ld.Status = st
				}
			}
			return
		}
		if ld, err := imap.ParseList(resp, c.limits.wire(), utf8); err == nil {
			out = append(out, ld)
			byName[ld.Name] = ld
		}
	})
	if err != nil {
		return nil, err
	}
	if len(o.Status) > 0 && !listStatus {
		for _, ld := range out {
			if ld.NoSelect() {
				continue
			}
			st, err := c.MailboxStatus(ctx, ld.Name, o.Status...)
			if err != nil {
				return out, err
			}
			ld.Status = st
		}
	}
	return out, nil
}

// MailboxStatus returns STATUS items (e.g. MESSAGES, UNSEEN, UIDNEXT) of a mailbox.
func (c *Client) MailboxStatus(ctx context.Context, mailbox string, items ...string) (*imap.StatusData, error) {
	m := c.mailboxName(mailbox)
	utf8 := c.UTF8Enabled()
	var st *imap.StatusData
	_, err := c.collect(ctx, &cmd{name: "STATUS", args: func(e *encoder) {
		e.SP().Raw(m).SP().Raw("(" + strings.Join(items, " ") + ")")
	}}, []string{"STATUS"}, func(_ string, resp *imapwire.Response) {
		if s, err := imap.ParseStatus(resp, c.limits.wire(), utf8); err == nil {
			st = s
		}
	})
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, &Error{Kind: KindError, Command: "STATUS", Msg: "no STATUS response", Err: ErrProtocol}
	}
	return st, nil
}

// FetchOptions refines FetchMessages and FetchEach.
type FetchOptions struct {
	UID          bool   // the set holds UIDs (UID FETCH)
	ChangedSince uint64 // CONDSTORE: only messages whose MODSEQ is greater
	Vanished     bool   // QRESYNC: with ChangedSince and UID, report expunged UIDs as VANISHED (EARLIER)
	// Reuse (FetchEach only) lets the engine reuse the memory of each
	// message's body sections for the next message once fn returns, so a
	// whole-mailbox fetch runs in the memory of its largest message
	// (imapwire.MaxRecycledLiteral at most) instead of leaving every body to
	// the garbage collector. fn must then not keep Section.Data (or any
	// slice of it) after it returns: copy what it keeps.
	Reuse bool
}

// FetchEach fetches items (e.g. "(UID FLAGS ENVELOPE)") for the messages in set
// and calls fn for each message as its response arrives, without keeping the
// responses: memory stays bounded by one message whatever the mailbox size.
// fn runs in the connection's reader goroutine and must not issue commands on
// this Client. A message whose data is partly malformed arrives with Err set;
// the others are unaffected. The first error fn returns is returned after the
// command completes. With opts.Reuse, body sections share memory from one
// message to the next (see FetchOptions.Reuse).
func (c *Client) FetchEach(ctx context.Context, set, items string, opts *FetchOptions, fn func(*imap.Message) error) error {
	var o FetchOptions
	if opts != nil {
		o = *opts
	}
	// Without CONDSTORE (Courier) the modifier would be a server BAD after
	// the round trip: refuse it here, typed (docs/compatibility.md).
	if o.ChangedSince > 0 && !c.HasCapability("CONDSTORE") {
		return &Error{Kind: KindError, Command: "FETCH", Msg: "CHANGEDSINCE needs CONDSTORE", Err: ErrNotSupported}
	}
	if o.Vanished && o.ChangedSince > 0 && o.UID && !c.HasCapability("QRESYNC") {
		return &Error{Kind: KindError, Command: "FETCH", Msg: "VANISHED needs QRESYNC", Err: ErrNotSupported}
	}
	var fnErr error
	k := &cmd{name: "FETCH"}
	mod := ""
	if o.ChangedSince > 0 {
		mod = " (CHANGEDSINCE " + strconv.FormatUint(o.ChangedSince, 10)
		if o.Vanished && o.UID {
			mod += " VANISHED"
		}
		mod += ")"
	}
	parts := imapwire.FetchParts(items)
	k.args = func(e *encoder) {
		if o.UID {
			e.SP().Raw("FETCH")
		}
		e.SP().Raw(set).SP().Raw(parts)
		if mod != "" {
			e.Bytes([]byte(mod))
		}
	}
	if o.UID {
		k.name = "UID"
	}
	_, err := c.collect(ctx, k, []string{"FETCH"}, func(_ string, resp *imapwire.Response) {
		msg, err := imap.ParseFetch(resp, c.limits.wire())
		var reuse [][]byte
		if o.Reuse {
			for _, lit := range resp.Literals {
				if cap(lit) > imapwire.MaxPackedSize { // smaller ones are not recycled
					reuse = append(reuse, lit)
				}
			}
		}
		// The message holds what it uses (the literals it aliases): the rest
		// of the response goes before fn runs, so a message of many tiny
		// items is not live twice over (issue 20 item 4).
		resp.Drop()
		if err == nil && fnErr == nil && !c.closing.Load() {
			if errors.Is(msg.Err, imapwire.ErrTooManyItems) {
				// Refused, not delivered half-parsed: the command fails.
				fnErr = &Error{Kind: KindError, Msg: "FETCH response refused: " + msg.Err.Error(), Err: msg.Err}
				return
			}
			fnErr = fn(msg)
		}
		// The sink runs in the reader goroutine, which owns c.r.
		for _, lit := range reuse {
			c.r.Recycle(lit)
		}
	})
	if err != nil {
		return err
	}
	return fnErr
}

// FetchMessages is FetchEach collecting the messages into a slice
// (opts.Reuse is ignored: the messages are kept).
func (c *Client) FetchMessages(ctx context.Context, set, items string, opts *FetchOptions) ([]*imap.Message, error) {
	var o FetchOptions
	if opts != nil {
		o = *opts
	}
	o.Reuse = false
	var out []*imap.Message
	err := c.FetchEach(ctx, set, items, &o, func(m *imap.Message) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// SearchUIDs runs UID SEARCH with the given criteria (each sent as given, e.g.
// "UNSEEN", "SINCE 1-Feb-2026"), using ESEARCH (RFC 4731) when offered so the
// result stays compact ranges. Without ESEARCH (Courier) the plain SEARCH
// numbers are in All and, compacted into ranges, in AllSet too (UID set), so
// AllUIDs means the same on every server.
func (c *Client) SearchUIDs(ctx context.Context, criteria ...string) (*imap.SearchData, error) {
	esearch := c.HasCapability("ESEARCH")
	var sd *imap.SearchData
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("SEARCH")
		if esearch {
			e.SP().Raw("RETURN (ALL COUNT)")
		}
		for _, a := range criteria {
			e.SP().Raw(a)
		}
	}}, []string{"SEARCH", "ESEARCH"}, func(_ string, resp *imapwire.Response) {
		if s, err := imap.ParseSearch(resp, c.limits.wire()); err == nil {
			sd = s
		}
	})
	if err != nil {
		return nil, err
	}
	if sd == nil {
		sd = &imap.SearchData{UID: true}
	}
	if !sd.ESEARCH {
		sd.UID = true
		sd.AllSet = uidRanges(sd.All)
	}
	return sd, nil
}

// uidRanges returns nums sorted, without duplicates and 0, as ranges.
func uidRanges(nums []uint32) []imap.NumRange {
	s := slices.Compact(slices.Sorted(slices.Values(nums)))
	var out []imap.NumRange
	for _, n := range s {
		if n == 0 {
			continue
		}
		if k := len(out); k > 0 && out[k-1].Stop+1 == n {
			out[k-1].Stop = n
			continue
		}
		out = append(out, imap.NumRange{Start: n, Stop: n})
	}
	return out
}

// SyncUIDs learns the UID of every message in the selected mailbox (one UID
// SEARCH ALL), so that later expunges are reported with their UID.
func (c *Client) SyncUIDs(ctx context.Context) error {
	sd, err := c.SearchUIDs(ctx, "ALL")
	if err != nil {
		return err
	}
	var set []imap.NumRange
	if sd.ESEARCH {
		set = sd.AllUIDs() // kept as ranges: never expanded
	} else {
		set = make([]imap.NumRange, len(sd.All))
		for i, u := range sd.All {
			set[i] = imap.NumRange{Start: u, Stop: u}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sel.setAll(set) {
		c.selChangedLocked()
	}
	return nil
}

// StoreResult is the typed result of StoreFlags.
type StoreResult struct {
	Messages []*imap.Message // the FETCH responses (empty with .SILENT)
	Modified string          // CONDSTORE: the UIDs not stored because they changed (MODIFIED code)
}

// StoreFlags changes flags of the messages with the given UIDs: op is
// "+FLAGS", "-FLAGS" or "FLAGS", optionally with ".SILENT". With
// unchangedSince > 0 (CONDSTORE) only messages not modified since then change.
// In a mailbox selected read-only (EXAMINE) it fails with ErrReadOnly without
// sending anything: Courier IMAP applies a STORE there (RFC 3501 §6.3.2 says
// no permanent change is allowed), Cyrus refuses it with NO and Dovecot
// answers OK and ignores it, so the client decides.
func (c *Client) StoreFlags(ctx context.Context, uidSet, op string, flags []imap.Flag, unchangedSince uint64) (*StoreResult, error) {
	if c.State() == StateSelected && c.IsReadOnly() {
		return nil, &Error{Kind: KindReadOnly, Command: "STORE", Msg: "mailbox selected read-only (EXAMINE)", Err: ErrReadOnly}
	}
	if unchangedSince > 0 && !c.HasCapability("CONDSTORE") {
		return nil, &Error{Kind: KindError, Command: "STORE", Msg: "UNCHANGEDSINCE needs CONDSTORE", Err: ErrNotSupported}
	}
	fl := make([]string, len(flags))
	for i, f := range flags {
		fl[i] = string(f)
	}
	res := &StoreResult{}
	// With .SILENT a FETCH that arrives anyway is an unsolicited update (Cyrus
	// sends one for the stored message; RFC 7162 §3.1.3 requires one with
	// CONDSTORE): it stays untagged data (an event), not the result.
	types := []string{"FETCH"}
	if strings.HasSuffix(strings.ToUpper(op), ".SILENT") {
		types = nil
	}
	text, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("STORE").SP().Raw(uidSet)
		if unchangedSince > 0 {
			e.SP().Raw("(UNCHANGEDSINCE " + strconv.FormatUint(unchangedSince, 10) + ")")
		}
		e.SP().Raw(op).SP().Raw("(" + strings.Join(fl, " ") + ")")
	}}, types, func(_ string, resp *imapwire.Response) {
		if m, err := imap.ParseFetch(resp, c.limits.wire()); err == nil {
			res.Messages = append(res.Messages, m)
		}
	})
	if err != nil {
		return nil, err
	}
	if code, arg, ok := imap.ParseResponseCode(text); ok && code == "MODIFIED" {
		res.Modified = arg
	}
	return res, nil
}

// CopyMessages copies the messages with the given UIDs to dest. With UIDPLUS
// the result maps source to destination UIDs; otherwise it is nil.
func (c *Client) CopyMessages(ctx context.Context, uidSet, dest string) (*imap.CopyUID, error) {
	d := c.mailboxName(dest)
	text, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("COPY").SP().Raw(uidSet).SP().Raw(d)
	}}, nil, nil)
	if err != nil {
		return nil, err
	}
	return copyUIDFrom(text), nil
}

func copyUIDFrom(text []byte) *imap.CopyUID {
	if code, arg, ok := imap.ParseResponseCode(text); ok && code == "COPYUID" {
		if cu, err := imap.ParseCopyUID(arg); err == nil {
			return cu
		}
	}
	return nil
}

// MoveMessages moves the messages with the given UIDs to dest: UID MOVE (RFC
// 6851) when offered, else UID COPY, UID STORE +FLAGS.SILENT (\Deleted) and
// UID EXPUNGE (UIDPLUS) or, lacking UIDPLUS, EXPUNGE — which also removes
// other messages already marked \Deleted.
func (c *Client) MoveMessages(ctx context.Context, uidSet, dest string) (*imap.CopyUID, error) {
	if c.HasCapability("MOVE") {
		d := c.mailboxName(dest)
		var cu *imap.CopyUID
		text, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
			e.SP().Raw("MOVE").SP().Raw(uidSet).SP().Raw(d)
		}}, []string{"OK"}, func(_ string, resp *imapwire.Response) {
			if x := copyUIDFrom(textAfterType(resp.Lines[0])); x != nil {
				cu = x
			}
		})
		if err != nil {
			return nil, err
		}
		if cu == nil {
			cu = copyUIDFrom(text)
		}
		return cu, nil
	}
	cu, err := c.CopyMessages(ctx, uidSet, dest)
	if err != nil {
		return nil, err
	}
	if _, err := c.StoreFlags(ctx, uidSet, "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0); err != nil {
		return cu, err
	}
	if c.HasCapability("UIDPLUS") {
		return cu, c.ExpungeUIDs(ctx, uidSet)
	}
	_, err = c.collect(ctx, &cmd{name: "EXPUNGE"}, nil, nil)
	return cu, err
}

// ExpungeUIDs permanently removes the \Deleted messages among the given UIDs
// (UID EXPUNGE, RFC 4315). It needs UIDPLUS.
func (c *Client) ExpungeUIDs(ctx context.Context, uidSet string) error {
	if !c.HasCapability("UIDPLUS") {
		return &Error{Kind: KindError, Msg: "UID EXPUNGE needs UIDPLUS", Err: ErrNotSupported}
	}
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("EXPUNGE").SP().Raw(uidSet)
	}}, nil, nil)
	return err
}

// AppendMessage appends msg (sent byte-exact) to mailbox with flags and an
// optional internal date. With UIDPLUS the result names the new UID.
func (c *Client) AppendMessage(ctx context.Context, mailbox string, flags []imap.Flag, date time.Time, msg []byte) (*imap.AppendUID, error) {
	fl := make([]string, len(flags))
	for i, f := range flags {
		fl[i] = string(f)
	}
	k, err := c.appendCmd(mailbox, strings.Join(fl, " "), date, msg)
	if err != nil {
		return nil, err
	}
	text, err := c.collect(ctx, k, nil, nil)
	if err != nil {
		return nil, err
	}
	if code, arg, ok := imap.ParseResponseCode(text); ok && code == "APPENDUID" {
		if au, err := imap.ParseAppendUID(arg); err == nil {
			return au, nil
		}
	}
	return nil, nil
}

// GetMetadata returns mailbox annotations (RFC 5464 METADATA); mailbox ""
// means server annotations.
func (c *Client) GetMetadata(ctx context.Context, mailbox string, entries ...string) (*imap.Metadata, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: GetMetadata needs an entry", ErrBadArgument)
	}
	m := c.mailboxName(mailbox)
	res := &imap.Metadata{Mailbox: mailbox, Entries: map[string][]byte{}}
	_, err := c.collect(ctx, &cmd{name: "GETMETADATA", args: func(e *encoder) {
		e.SP().Raw(m).SP().Bytes([]byte("("))
		for i, en := range entries {
			if i > 0 {
				e.SP()
			}
			e.AString(en)
		}
		e.Bytes([]byte(")"))
	}}, []string{"METADATA"}, func(_ string, resp *imapwire.Response) {
		if md, err := imap.ParseMetadata(resp, c.limits.wire()); err == nil {
			for k, v := range md.Entries {
				res.Entries[k] = v
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// SetMetadata sets (or, with a nil value, removes) mailbox annotations.
func (c *Client) SetMetadata(ctx context.Context, mailbox string, entries map[string]*string) error {
	m := c.mailboxName(mailbox)
	names := make([]string, 0, len(entries))
	for k := range entries {
		names = append(names, k)
	}
	slices.Sort(names)
	_, err := c.collect(ctx, &cmd{name: "SETMETADATA", args: func(e *encoder) {
		e.SP().Raw(m).SP().Bytes([]byte("("))
		for i, k := range names {
			if i > 0 {
				e.SP()
			}
			e.AString(k).SP()
			if v := entries[k]; v == nil {
				e.Raw("NIL")
			} else {
				e.Literal([]byte(*v))
			}
		}
		e.Bytes([]byte(")"))
	}}, nil, nil)
	return err
}
