package devserver

import (
	"crypto/subtle"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// delim is the hierarchy delimiter of imapmemserver.
const delim = '/'

// specialUses are the special-use attributes CREATE (USE (...)) accepts
// (RFC 6154 §2, RFC 8457).
var specialUses = []imap.MailboxAttr{
	imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts,
	imap.MailboxAttrFlagged, imap.MailboxAttrJunk, imap.MailboxAttrSent,
	imap.MailboxAttrTrash, imap.MailboxAttrImportant,
}

// mailboxInfo is what this package keeps about a mailbox beyond
// imapmemserver: its special use and subscription, which imapmemserver (as of
// v2.0.0-beta.8) has no way to set or report.
type mailboxInfo struct {
	specialUse []imap.MailboxAttr
	subscribed bool
}

// folderMeta is the mailbox list kept beside the backend's. Its lock is held
// across the backend call that changes the list, so the two stay in step.
type folderMeta struct {
	mu    sync.Mutex
	boxes map[string]*mailboxInfo
}

// session wraps imapmemserver's UserSession: it checks the demo credentials,
// keeps folderMeta up to date, answers LIST itself (special-use attributes,
// \HasChildren, subscriptions, LIST-STATUS) and refuses to delete or rename
// INBOX, which delivery needs.
type session struct {
	*imapmemserver.UserSession // nil until Login succeeds

	s    *Server
	conn *trackedConn // nil if the connection is not tracked
}

var _ imapserver.SessionIMAP4rev2 = (*session)(nil)

// newSession is imapserver's NewSession hook.
func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	tc, _ := c.NetConn().(*trackedConn)
	return &session{s: s, conn: tc}, nil, nil
}

// Close releases the selected mailbox view and ends the connection's tracking.
func (ss *session) Close() error {
	if ss.UserSession != nil {
		_ = ss.UserSession.Close()
	}
	if ss.conn != nil {
		ss.conn.release()
	}
	return nil
}

// Login checks the demo credentials in constant time.
func (ss *session) Login(username, password string) error {
	userOK := subtle.ConstantTimeCompare([]byte(username), []byte(ss.s.name)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(password), []byte(ss.s.password)) == 1
	if !userOK || !passOK {
		return imapserver.ErrAuthFailed
	}
	ss.UserSession = imapmemserver.NewUserSession(ss.s.user)
	return nil
}

// Create creates a mailbox, recording a special use given with
// CREATE-SPECIAL-USE.
func (ss *session) Create(name string, options *imap.CreateOptions) error {
	var uses []imap.MailboxAttr
	if options != nil {
		for _, u := range options.SpecialUse {
			if !slices.ContainsFunc(specialUses, func(a imap.MailboxAttr) bool { return strings.EqualFold(string(a), string(u)) }) {
				return &imap.Error{Type: imap.StatusResponseTypeNo, Code: "USEATTR", Text: "devserver: unsupported special-use attribute"}
			}
			uses = append(uses, u)
		}
	}
	m := ss.s.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ss.UserSession.Create(name, options); err != nil {
		return err
	}
	m.boxes[strings.TrimRight(name, string(delim))] = &mailboxInfo{specialUse: uses}
	return nil
}

// Delete deletes a mailbox other than INBOX.
func (ss *session) Delete(name string) error {
	if strings.EqualFold(name, "INBOX") {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "devserver: INBOX cannot be deleted"}
	}
	m := ss.s.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ss.UserSession.Delete(name); err != nil {
		return err
	}
	delete(m.boxes, name)
	return nil
}

// Rename renames a mailbox other than INBOX (imapmemserver does not implement
// RFC 3501's move-the-messages semantics of renaming INBOX).
func (ss *session) Rename(name, newName string, options *imap.RenameOptions) error {
	if strings.EqualFold(name, "INBOX") {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "devserver: INBOX cannot be renamed here"}
	}
	m := ss.s.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ss.UserSession.Rename(name, newName, options); err != nil {
		return err
	}
	info := m.boxes[name]
	delete(m.boxes, name)
	if info == nil {
		info = &mailboxInfo{}
	}
	m.boxes[strings.TrimRight(newName, string(delim))] = info
	return nil
}

// Subscribe marks a mailbox subscribed.
func (ss *session) Subscribe(name string) error {
	return ss.setSubscribed(canonical(name), true)
}

// Unsubscribe marks a mailbox unsubscribed.
func (ss *session) Unsubscribe(name string) error {
	return ss.setSubscribed(canonical(name), false)
}

// setSubscribed records a subscription change after the backend accepts it.
func (ss *session) setSubscribed(name string, on bool) error {
	m := ss.s.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	if on {
		err = ss.UserSession.Subscribe(name)
	} else {
		err = ss.UserSession.Unsubscribe(name)
	}
	if err != nil {
		return err
	}
	if info := m.boxes[name]; info != nil {
		info.subscribed = on
	}
	return nil
}

// List answers LIST and LSUB from folderMeta: names matching any pattern, in
// order, with \HasChildren or \HasNoChildren, \Subscribed, special-use
// attributes (always sent, as RFC 6154 permits) and, for LIST-STATUS, the
// mailbox's STATUS.
func (ss *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	if options == nil {
		options = &imap.ListOptions{}
	}
	list := ss.s.meta.match(ref, patterns, options)
	for i := range list {
		if options.ReturnStatus != nil {
			st, err := ss.s.user.Status(list[i].Mailbox, options.ReturnStatus)
			if err != nil {
				continue // deleted meanwhile
			}
			list[i].Status = st
		}
		if err := w.WriteList(&list[i]); err != nil {
			return err
		}
	}
	return nil
}

// match returns the LIST data of the mailboxes matching patterns, sorted by name.
func (m *folderMeta) match(ref string, patterns []string, options *imap.ListOptions) []imap.ListData {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.boxes))
	for name := range m.boxes {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []imap.ListData
	for _, name := range names {
		info := m.boxes[name]
		if !slices.ContainsFunc(patterns, func(p string) bool { return imapserver.MatchList(name, delim, ref, p) }) {
			continue
		}
		if options.SelectSubscribed && !info.subscribed {
			continue
		}
		if options.SelectSpecialUse && len(info.specialUse) == 0 {
			continue
		}
		data := imap.ListData{Mailbox: name, Delim: delim}
		if m.hasChildrenLocked(name) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if info.subscribed {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		data.Attrs = append(data.Attrs, info.specialUse...)
		out = append(out, data)
	}
	return out
}

// hasChildrenLocked reports whether some mailbox lies below name.
func (m *folderMeta) hasChildrenLocked(name string) bool {
	prefix := name + string(delim)
	for other := range m.boxes {
		if strings.HasPrefix(other, prefix) {
			return true
		}
	}
	return false
}

// Select opens a mailbox, INBOX in any case.
func (ss *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	return ss.UserSession.Select(canonical(name), options)
}

// Status reports a mailbox's status, INBOX in any case.
func (ss *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	return ss.UserSession.Status(canonical(name), options)
}

// Append appends a message to a mailbox, INBOX in any case.
func (ss *session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	return ss.UserSession.Append(canonical(name), r, options)
}

// Copy copies messages to a mailbox, INBOX in any case.
func (ss *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	return ss.UserSession.Copy(numSet, canonical(dest))
}

// Move moves messages to a mailbox, INBOX in any case.
func (ss *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return ss.UserSession.Move(w, numSet, canonical(dest))
}

// Idle first writes the updates queued since the last command, then waits
// for new ones. imapmemserver's Idle only wakes on updates that arrive after
// it starts, so mail delivered between a command and IDLE would otherwise
// wait for the next update or command.
func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := ss.UserSession.Poll(w, true); err != nil {
		return err
	}
	return ss.UserSession.Idle(w, stop)
}
