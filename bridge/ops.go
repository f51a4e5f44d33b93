package bridge

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// dispatch runs one request and returns the frame to send.
func (s *session) dispatch(ctx context.Context, req protocol.Request) (protocol.Frame, error) {
	id := req.RequestID()
	if lr, ok := req.(*protocol.LoginRequest); ok {
		return s.login(ctx, lr)
	}
	if !s.loggedIn {
		return nil, fail(protocol.CodeAuth, "login first")
	}
	c := s.client
	sc := s.claims.Scopes
	respond := func(r protocol.Result, err error) (protocol.Frame, error) {
		if err != nil {
			return nil, err
		}
		return protocol.NewResponse(id, r)
	}
	switch r := req.(type) {
	case *protocol.AuthRequest:
		return nil, fail(protocol.CodeBadRequest, "already authenticated")
	case *protocol.NoopRequest:
		_, err := c.Noop(ctx)
		return respond(protocol.EmptyResult{}, err)
	case *protocol.LogoutRequest:
		f, err := respond(protocol.EmptyResult{}, nil)
		if err == nil {
			s.sendFrame(f, "", time.Time{})
		}
		s.closeWith(protocol.CloseNormal, "logout")
		return nil, nil
	case *protocol.SelectRequest:
		return respond(s.selectMailbox(ctx, r))
	case *protocol.ListRequest:
		return respond(s.list(ctx, r))
	case *protocol.StatusRequest:
		if err := s.checkMailbox(r.Mailbox, false); err != nil {
			return nil, err
		}
		items := r.Items
		if len(items) == 0 {
			items = protocol.DefaultStatusItems
		}
		st, err := c.MailboxStatus(ctx, r.Mailbox, items...)
		if err != nil {
			return nil, err
		}
		res := protocol.FromStatusData(st)
		res.Mailbox = r.Mailbox
		return respond(res, nil)
	case *protocol.FetchRequest:
		return respond(s.fetch(ctx, r))
	case *protocol.SearchRequest:
		if err := s.needSelected(); err != nil {
			return nil, err
		}
		crit := r.Criteria
		if r.GmailRaw != "" {
			if len(crit) > 0 {
				return nil, fail(protocol.CodeBadRequest, "gmailRaw and criteria are exclusive")
			}
			sd, err := c.SearchGmailRaw(ctx, r.GmailRaw)
			if err != nil {
				return nil, err
			}
			return respond(protocol.FromSearchData(sd), nil)
		}
		if len(crit) == 0 {
			crit = []string{"ALL"}
		}
		sd, err := c.SearchUIDs(ctx, crit...)
		if err != nil {
			return nil, err
		}
		return respond(protocol.FromSearchData(sd), nil)
	case *protocol.StoreRequest:
		return respond(s.store(ctx, r))
	case *protocol.CopyRequest:
		if err := s.needSelected(); err != nil {
			return nil, err
		}
		if err := s.checkMailbox(r.To, true); err != nil {
			return nil, err
		}
		if err := checkSet(r.UIDs); err != nil {
			return nil, err
		}
		var cu *imap.CopyUID
		var err error
		if r.Op() == protocol.OpMove {
			if err := s.checkWrite(s.selectedMailbox()); err != nil {
				return nil, err
			}
			cu, err = c.MoveMessages(ctx, r.UIDs, r.To)
		} else {
			cu, err = c.CopyMessages(ctx, r.UIDs, r.To)
		}
		if err != nil {
			return nil, err
		}
		if cu == nil {
			return respond(protocol.CopyResult{}, nil)
		}
		return respond(protocol.FromCopyUID(cu), nil)
	case *protocol.ExpungeRequest:
		if err := s.needSelected(); err != nil {
			return nil, err
		}
		if !sc.MayDelete || sc.ReadOnly {
			return nil, fail(protocol.CodeForbidden, "this session may not delete")
		}
		if err := checkSet(r.UIDs); err != nil {
			return nil, err
		}
		return respond(protocol.EmptyResult{}, c.ExpungeUIDs(ctx, r.UIDs))
	case *protocol.AppendRequest:
		if err := s.checkMailbox(r.Mailbox, true); err != nil {
			return nil, err
		}
		if len(r.Message) > s.srv.lim.MaxAppendBytes {
			return nil, fail(protocol.CodeLimit, "message too large")
		}
		var date time.Time
		if r.Date != nil {
			date = *r.Date
		}
		fl, err := parseFlags(r.Flags)
		if err != nil {
			return nil, err
		}
		au, err := c.AppendMessage(ctx, r.Mailbox, fl, date, r.Message)
		if err != nil {
			return nil, err
		}
		if au == nil {
			return respond(protocol.AppendResult{}, nil)
		}
		return respond(protocol.FromAppendUID(au), nil)
	case *protocol.DownloadRequest:
		return respond(s.downloadTicket(r))
	case *protocol.UploadRequest:
		return respond(s.uploadTicket(r))
	case *protocol.MailboxRequest:
		return respond(s.mailboxOp(ctx, r))
	case *protocol.RenameRequest:
		if err := s.checkMailbox(r.Mailbox, true); err != nil {
			return nil, err
		}
		if err := s.checkMailbox(r.To, true); err != nil {
			return nil, err
		}
		if !s.claims.Scopes.MayDelete {
			return nil, fail(protocol.CodeForbidden, "this session may not rename mailboxes")
		}
		_, err := collectNO(c.Rename(ctx, r.Mailbox, r.To))
		return respond(protocol.EmptyResult{}, err)
	case *protocol.ImaplibRequest:
		return s.relay(ctx, r)
	case *protocol.FindRequest:
		return respond(s.find(ctx, r))
	case *protocol.SortRequest:
		return respond(s.sortMessages(ctx, r))
	case *protocol.ThreadRequest:
		return respond(s.threadMessages(ctx, r))
	case *protocol.WatchRequest:
		return respond(s.startWatch(ctx, r))
	case *protocol.UnwatchRequest:
		return respond(s.stopWatch(ctx))
	case *protocol.ComposeRequest:
		return respond(s.compose(ctx, r))
	}
	return nil, fail(protocol.CodeBadRequest, "unknown op")
}

// login authenticates the IMAP connection with the browser's password
// (credential mode "password"); the user name comes from the token.
func (s *session) login(ctx context.Context, r *protocol.LoginRequest) (protocol.Frame, error) {
	if s.claims.Credential != auth.CredentialPassword && s.claims.Credential != "" {
		// The bridge logged in itself (master, oauth): the browser never
		// chooses the IMAP identity (security D6).
		return nil, fail(protocol.CodeForbidden, "login is not used with this credential mode")
	}
	if s.loggedIn {
		return nil, fail(protocol.CodeBadRequest, "already logged in")
	}
	var err error
	if s.client.HasCapability("LOGINDISABLED") || !s.client.HasCapability("IMAP4REV1") {
		_, err = s.client.AuthenticateSASL(ctx, imapengine.PlainAuth("", s.claims.IMAPUser, r.Password))
	} else {
		_, err = s.client.Login(ctx, s.claims.IMAPUser, r.Password)
	}
	if err != nil {
		if errors.Is(err, imapengine.ErrTooManyConnections) {
			return nil, fail(protocol.CodeLimit, MsgTooManyConnections)
		}
		if _, ok := asStatus(err); ok {
			return nil, fail(protocol.CodeAuth, "IMAP login failed")
		}
		return nil, err
	}
	s.loggedIn = true
	s.password = r.Password
	s.state(protocol.StateReady)
	return protocol.NewResponse(r.ID, protocol.EmptyResult{})
}

func asStatus(err error) (*imapengine.StatusError, bool) {
	var se *imapengine.StatusError
	ok := errors.As(err, &se)
	return se, ok
}

// collectNO turns an imaplib-view NO result into an error (Result.Check).
func collectNO(res imapengine.Result, err error) (imapengine.Result, error) {
	if err != nil {
		return res, err
	}
	return res, res.Check("")
}

func (s *session) needSelected() error {
	if s.selectedMailbox() == "" {
		return fail(protocol.CodeBadRequest, "no mailbox selected")
	}
	return nil
}

// checkMailbox applies the token's mailbox scopes (and, for write, read-only).
func (s *session) checkMailbox(name string, write bool) error {
	if !s.claims.Scopes.AllowsMailbox(name) {
		return fail(protocol.CodeForbidden, "mailbox not allowed for this session")
	}
	if write {
		return s.checkWrite(name)
	}
	return nil
}

func (s *session) checkWrite(string) error {
	if s.claims.Scopes.ReadOnly {
		return fail(protocol.CodeForbidden, "this session is read-only")
	}
	return nil
}

func checkSet(set string) error {
	if set == "" {
		return fail(protocol.CodeBadRequest, "empty message set")
	}
	if _, err := imap.ParseUIDSet(set); err != nil {
		return fail(protocol.CodeBadRequest, "invalid message set")
	}
	return nil
}

func (s *session) selectMailbox(ctx context.Context, r *protocol.SelectRequest) (protocol.Result, error) {
	if err := s.checkMailbox(r.Mailbox, false); err != nil {
		return nil, err
	}
	opts := &imapengine.SelectOptions{ReadOnly: r.ReadOnly || s.claims.Scopes.ReadOnly, CondStore: r.CondStore}
	if q := r.QResync; q != nil {
		opts.QResync = &imapengine.QResync{UIDValidity: q.UIDValidity, ModSeq: q.ModSeq, KnownUIDs: q.KnownUIDs}
	}
	s.leaveMailbox(ctx)
	if opts.QResync != nil && s.client.HasCapability("QRESYNC") && s.client.HasCapability("UNSELECT") &&
		s.client.State() == imapengine.StateSelected {
		// The engine ENABLEs QRESYNC first, which RFC 5161 allows only
		// outside a selected mailbox; UNSELECT (unlike CLOSE) expunges nothing.
		if _, err := collectNO(s.client.Unselect(ctx)); err != nil {
			return nil, err
		}
	}
	sel, err := s.client.SelectMailbox(ctx, r.Mailbox, opts)
	if err != nil {
		return nil, err
	}
	if err := s.client.SyncUIDs(ctx); err != nil {
		return nil, err
	}
	name := s.client.MailboxName(r.Mailbox) // as LIST reports it
	if prev, ok := s.uidVals[name]; ok && prev != sel.UIDValidity {
		s.pushEvent(protocol.Event{Event: protocol.EventMailboxReset, Mailbox: name, UIDValidity: sel.UIDValidity}, time.Now())
	}
	s.uidVals[name] = sel.UIDValidity
	s.setMailbox(name)
	res := protocol.FromSelectData(r.Mailbox, &sel.SelectData)
	for _, v := range sel.Vanished {
		res.Vanished = append(res.Vanished, v.String())
	}
	for _, m := range sel.Changed {
		res.Changed = append(res.Changed, protocol.FromMessage(m))
	}
	return res, nil
}

func (s *session) list(ctx context.Context, r *protocol.ListRequest) (protocol.Result, error) {
	pattern := r.Pattern
	if pattern == "" {
		pattern = "*"
	}
	lds, err := s.client.ListMailboxes(ctx, r.Ref, pattern, &imapengine.ListOptions{
		Subscribed: r.Subscribed, SpecialUse: r.SpecialUse, Status: r.Status})
	if err != nil {
		return nil, err
	}
	res := protocol.ListResult{Mailboxes: []protocol.MailboxInfo{}}
	for _, ld := range lds {
		if !s.claims.Scopes.AllowsMailbox(ld.Name) {
			continue
		}
		res.Mailboxes = append(res.Mailboxes, protocol.FromListData(ld))
	}
	return res, nil
}

// fetchItems maps the protocol's item names to IMAP FETCH items.
var fetchItems = map[string]string{
	"uid": "UID", "flags": "FLAGS", "envelope": "ENVELOPE", "bodystructure": "BODYSTRUCTURE",
	"size": "RFC822.SIZE", "internaldate": "INTERNALDATE", "modseq": "MODSEQ",
	"gmailmsgid": "X-GM-MSGID", "gmailthreadid": "X-GM-THRID", "gmaillabels": "X-GM-LABELS",
}

// maxLabelLen bounds one Gmail label of a store request (bytes).
const maxLabelLen = 1024

// MsgTooManyConnections is the error text when the IMAP server refuses the
// login because the account has too many connections open (Gmail's limit).
const MsgTooManyConnections = "the IMAP server refused the login: too many simultaneous connections for this account (close other mail clients, then reconnect)"

// sectionPattern is what a body section may be (RFC 3501 section-spec, no
// free text that could smuggle syntax).
var sectionPattern = regexp.MustCompile(`^([1-9][0-9]{0,4}(\.[1-9][0-9]{0,4}){0,31}(\.(HEADER|TEXT|MIME|HEADER\.FIELDS(\.NOT)? \([A-Za-z0-9-]+( [A-Za-z0-9-]+)*\)))?|HEADER|TEXT|HEADER\.FIELDS(\.NOT)? \([A-Za-z0-9-]+( [A-Za-z0-9-]+)*\))?$`)

func (s *session) fetch(ctx context.Context, r *protocol.FetchRequest) (protocol.Result, error) {
	if err := s.needSelected(); err != nil {
		return nil, err
	}
	set, uid := r.UIDs, true
	if set == "" {
		set, uid = r.Seqs, false
	}
	if err := checkSet(set); err != nil {
		return nil, err
	}
	items := []string{"UID"}
	for _, it := range r.Items {
		v, ok := fetchItems[strings.ToLower(it)]
		if !ok {
			return nil, fail(protocol.CodeBadRequest, "unknown fetch item")
		}
		if strings.HasPrefix(v, "X-GM-") && !s.client.HasCapability(imapengine.CapGmail) {
			return nil, fail(protocol.CodeUnavailable, "Gmail items need the X-GM-EXT-1 capability")
		}
		if v != "UID" {
			items = append(items, v)
		}
	}
	for _, b := range r.Body {
		sec := strings.ToUpper(b.Section)
		if !sectionPattern.MatchString(sec) {
			return nil, fail(protocol.CodeBadRequest, "invalid body section")
		}
		it := "BODY[" + sec + "]"
		if b.Peek || s.claims.Scopes.ReadOnly {
			it = "BODY.PEEK[" + sec + "]"
		}
		if b.Partial != nil {
			it += "<" + strconv.FormatUint(uint64(b.Partial.Offset), 10) + "." + strconv.FormatUint(uint64(b.Partial.Length), 10) + ">"
		}
		items = append(items, it)
	}
	res := protocol.FetchResult{Messages: []protocol.MessageInfo{}}
	var total int
	err := s.client.FetchEach(ctx, set, "("+strings.Join(items, " ")+")",
		&imapengine.FetchOptions{UID: uid, ChangedSince: r.ChangedSince, Vanished: r.Vanished},
		func(m *imap.Message) error {
			for _, sec := range m.Sections {
				total += len(sec.Data)
			}
			if total > s.srv.lim.MaxBodyBytes {
				return fail(protocol.CodeLimit, "fetched data too large")
			}
			res.Messages = append(res.Messages, protocol.FromMessage(m))
			return nil
		})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func parseFlags(in []string) ([]imap.Flag, error) {
	out := make([]imap.Flag, 0, len(in))
	for _, f := range in {
		if !flagPattern.MatchString(f) {
			return nil, fail(protocol.CodeBadRequest, "invalid flag")
		}
		out = append(out, imap.Flag(f))
	}
	return out, nil
}

// flagPattern is a system flag or a keyword atom.
var flagPattern = regexp.MustCompile(`^(\\[A-Za-z]+|[A-Za-z0-9$_.+\-]{1,64})$`)

func (s *session) store(ctx context.Context, r *protocol.StoreRequest) (protocol.Result, error) {
	if err := s.needSelected(); err != nil {
		return nil, err
	}
	if err := s.checkWrite(s.selectedMailbox()); err != nil {
		return nil, err
	}
	if err := checkSet(r.UIDs); err != nil {
		return nil, err
	}
	fl, err := parseFlags(r.Flags)
	if err != nil {
		return nil, err
	}
	for _, f := range fl {
		if strings.EqualFold(string(f), string(imap.FlagDeleted)) && !s.claims.Scopes.MayDelete {
			return nil, fail(protocol.CodeForbidden, "this session may not delete")
		}
	}
	var op string
	switch r.Mode {
	case "add":
		op = "+FLAGS"
	case "remove":
		op = "-FLAGS"
	case "set":
		op = "FLAGS"
	default:
		return nil, fail(protocol.CodeBadRequest, "mode must be add, remove or set")
	}
	if r.Silent {
		op += ".SILENT"
	}
	var sr *imapengine.StoreResult
	if len(r.Labels) > 0 {
		if len(fl) > 0 || r.UnchangedSince > 0 {
			return nil, fail(protocol.CodeBadRequest, "labels exclude flags and unchangedSince")
		}
		for _, l := range r.Labels {
			if l == "" || len(l) > maxLabelLen || strings.ContainsAny(l, "\r\n\x00") {
				return nil, fail(protocol.CodeBadRequest, "invalid label")
			}
		}
		sr, err = s.client.StoreGmailLabels(ctx, r.UIDs, strings.Replace(op, "FLAGS", "X-GM-LABELS", 1), r.Labels)
	} else {
		sr, err = s.client.StoreFlags(ctx, r.UIDs, op, fl, r.UnchangedSince)
	}
	if err != nil {
		return nil, err
	}
	res := protocol.StoreResult{Messages: []protocol.MessageInfo{}, Modified: sr.Modified}
	for _, m := range sr.Messages {
		res.Messages = append(res.Messages, protocol.FromMessage(m))
	}
	return res, nil
}

func (s *session) mailboxOp(ctx context.Context, r *protocol.MailboxRequest) (protocol.Result, error) {
	c := s.client
	op := r.Op()
	write := op != protocol.OpSubscribe && op != protocol.OpUnsubscribe
	if err := s.checkMailbox(r.Mailbox, write || s.claims.Scopes.ReadOnly); err != nil {
		return nil, err
	}
	var err error
	switch op {
	case protocol.OpCreate:
		_, err = collectNO(c.Create(ctx, r.Mailbox))
	case protocol.OpDelete:
		if !s.claims.Scopes.MayDelete {
			return nil, fail(protocol.CodeForbidden, "this session may not delete")
		}
		if s.selectedMailbox() == c.MailboxName(r.Mailbox) {
			s.leaveMailbox(ctx)
		}
		_, err = collectNO(c.Delete(ctx, r.Mailbox))
	case protocol.OpSubscribe:
		_, err = collectNO(c.Subscribe(ctx, r.Mailbox))
	case protocol.OpUnsubscribe:
		_, err = collectNO(c.Unsubscribe(ctx, r.Mailbox))
	default:
		return nil, fail(protocol.CodeBadRequest, "unknown op")
	}
	if err != nil {
		return nil, err
	}
	return protocol.EmptyResult{}, nil
}
