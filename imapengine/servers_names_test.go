package imapengine

// A non-ASCII mailbox name (modified UTF-7 on the wire, RFC 3501 §5.1.3) on
// every server of internal/imapservers over plain, STARTTLS and TLS, in each
// server's personal namespace and hierarchy separator.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// TestServers_MailboxNames: create "Entwürfe/日本語" (below INBOX. on Cyrus
// and Courier), list it raw (modified UTF-7) and typed (decoded, with the
// server's separator and LIST-STATUS where offered, else STATUS after LIST),
// see its implicit parent, append, select, STATUS and subscribe. Special-use
// attributes: bridge TestServersSpecialUse and TestDovecot_MailboxNames.
func TestServers_MailboxNames(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		name := s.Mailbox("Entwürfe/日本語")
		parent := s.Mailbox("Entwürfe")
		wire := s.Prefix + "Entw&APw-rfe" + s.Separator + "&ZeVnLIqe-"
		liveOK(t, "create")(c.Create(ctx, name))
		raw := liveData(t, "list")(c.List(ctx, "", s.Prefix+"Entw*"))
		if !hasItem(raw, wire) {
			t.Errorf("%s: imaplib list = %q, want the modified UTF-7 name %s", s.Name, raw, wire)
		}
		list := mustT[[]*imap.ListData](t, "ListMailboxes")(c.ListMailboxes(ctx, "", "*", &ListOptions{Status: []string{"MESSAGES", "UIDNEXT"}}))
		byName := map[string]*imap.ListData{}
		for _, l := range list {
			byName[l.Name] = l
			if l.NameErr != nil {
				t.Errorf("%q: %v", l.RawName, l.NameErr)
			}
		}
		ld := byName[name]
		if ld == nil || ld.Delim != s.Separator || string(ld.RawName) != wire {
			t.Fatalf("%s: ListMailboxes = %+v, want %q (%s)", s.Name, byName, name, wire)
		}
		if ld.Status == nil || ld.Status.Messages != 0 || ld.Status.UIDNext == 0 {
			t.Errorf("%s: status of %q = %+v (LIST-STATUS offered: %v)", s.Name, name, ld.Status, s.Offers("LIST-STATUS"))
		}
		// The parent made by the hierarchy: Dovecot lists it \NonExistent,
		// Cyrus and Courier list it with \HasChildren (or \Noselect).
		if p := byName[parent]; p == nil || !(p.HasChildren() || p.HasAttr(`\NonExistent`) || p.HasAttr(`\Noselect`)) {
			t.Errorf("%s: parent %s = %+v", s.Name, parent, p)
		}
		mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, name, nil, time.Time{}, liveMsg1))
		sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, name, nil))
		if sel.Exists != 1 {
			t.Errorf("%s: select %q: exists %d", s.Name, name, sel.Exists)
		}
		st := mustT[*imap.StatusData](t, "status")(c.MailboxStatus(ctx, name, "MESSAGES"))
		if st.Mailbox != name || st.Messages != 1 {
			t.Errorf("%s: STATUS = %+v", s.Name, st)
		}
		isName := func(l *imap.ListData) bool { return l.Name == name }
		sub := mustT[[]*imap.ListData](t, "subscribed")(c.ListMailboxes(ctx, "", "*", &ListOptions{Subscribed: true}))
		if slices.ContainsFunc(sub, isName) {
			t.Errorf("%s: %q listed as subscribed before SUBSCRIBE", s.Name, name)
		}
		liveOK(t, "subscribe")(c.Subscribe(ctx, name))
		sub = mustT[[]*imap.ListData](t, "subscribed")(c.ListMailboxes(ctx, "", "*", &ListOptions{Subscribed: true}))
		if !slices.ContainsFunc(sub, isName) {
			t.Errorf("%s: %q not listed as subscribed: %+v", s.Name, name, sub)
		}
		if !strings.HasPrefix(name, s.Prefix) {
			t.Errorf("name %q outside the namespace %q", name, s.Prefix)
		}
	})
}
