package devserver

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// seed creates the folder tree in u, fills it with generated mail dated
// before now, and returns the matching folder metadata (every seeded folder
// subscribed).
func seed(u *imapmemserver.User, g *generator, now time.Time) (*folderMeta, error) {
	meta := &folderMeta{boxes: make(map[string]*mailboxInfo, len(folders))}
	for _, f := range folders {
		var uses []imap.MailboxAttr
		if f.specialUse != "" {
			uses = []imap.MailboxAttr{f.specialUse}
		}
		if err := u.Create(f.name, &imap.CreateOptions{SpecialUse: uses}); err != nil {
			return nil, fmt.Errorf("devserver: seed: create %s: %w", f.name, err)
		}
		if err := u.Subscribe(f.name); err != nil {
			return nil, fmt.Errorf("devserver: seed: subscribe %s: %w", f.name, err)
		}
		meta.boxes[f.name] = &mailboxInfo{specialUse: uses, subscribed: true}
		for _, m := range g.folder(f, now) {
			opts := &imap.AppendOptions{Flags: m.flags, Time: m.date}
			if _, err := u.Append(f.name, bytes.NewReader(m.raw), opts); err != nil {
				return nil, fmt.Errorf("devserver: seed: append to %s: %w", f.name, err)
			}
		}
	}
	return meta, nil
}

// trimInbox expunges the oldest INBOX messages until at most keep remain.
// Sessions that have INBOX selected see the expunges as usual.
func trimInbox(u *imapmemserver.User, keep uint32) error {
	st, err := u.Status("INBOX", &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return fmt.Errorf("devserver: deliver: %w", err)
	}
	if st.NumMessages == nil || *st.NumMessages <= keep {
		return nil
	}
	excess := *st.NumMessages - keep
	sess := imapmemserver.NewUserSession(u)
	defer sess.Close()
	if _, err := sess.Select("INBOX", &imap.SelectOptions{}); err != nil {
		return fmt.Errorf("devserver: trim: %w", err)
	}
	var seqs imap.SeqSet
	seqs.AddRange(1, excess)
	found, err := sess.Search(imapserver.NumKindUID, &imap.SearchCriteria{SeqNum: []imap.SeqSet{seqs}}, &imap.SearchOptions{})
	if err != nil {
		return fmt.Errorf("devserver: trim: %w", err)
	}
	uids, ok := found.All.(imap.UIDSet)
	if !ok || len(uids) == 0 {
		return nil
	}
	// Silent STORE writes no response, so no FetchWriter is needed.
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := sess.Store(nil, uids, store, &imap.StoreOptions{}); err != nil {
		return fmt.Errorf("devserver: trim: %w", err)
	}
	// imapmemserver's Expunge reports through the mailbox tracker, not w.
	if err := sess.Expunge(nil, &uids); err != nil {
		return fmt.Errorf("devserver: trim: %w", err)
	}
	return nil
}

// canonical returns name with INBOX in upper case, the only name IMAP treats
// case-insensitively (RFC 3501 §5.1); imapmemserver compares names exactly.
func canonical(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}
