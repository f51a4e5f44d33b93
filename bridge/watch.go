package bridge

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// Live folder status (issue 16 item 3): the watch op reports the status
// (MESSAGES, UNSEEN, UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ) of a set of
// mailboxes as status events whenever it changes. With NOTIFY (RFC 5465) the
// server pushes the changes on the session's own connection; without it (or
// with Upstream.NoNotify) the executor polls every Limits.WatchPollInterval
// with one LIST-STATUS (RFC 5819) or at most Limits.WatchPollBudget STATUS
// commands per round (round-robin over larger sets), between requests, so
// never more than one command is in flight for it.

// watcher is a session's status watch. The executor owns everything but
// names and last, which the event goroutine also reads, under mu.
type watcher struct {
	mode  string   // protocol.WatchNotify or protocol.WatchPoll
	all   bool     // every subscribed mailbox
	items []string // STATUS items asked for
	next  int      // round-robin position of STATUS polling
	timer *time.Timer

	mu    sync.Mutex
	names []string // the watched mailboxes (all: refreshed by each LIST round)
	last  map[string]protocol.StatusResult
	// dirty is set by the event goroutine when the selected, watched
	// mailbox had events (NOTIFY sends no STATUS for it; a poll would come
	// late), so the executor asks with STATUS; due when the timer fired.
	dirty map[string]bool
	due   bool
}

// watched reports whether mailbox m is watched.
func (w *watcher) watched(m string) bool {
	if w.all {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.names, m)
}

// mailboxes returns the watched names.
func (w *watcher) mailboxes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.names
}

// setNames replaces the watched names.
func (w *watcher) setNames(names []string) {
	w.mu.Lock()
	w.names = names
	w.mu.Unlock()
}

// watchItems are the STATUS items watched (HIGHESTMODSEQ with CONDSTORE).
func (s *session) watchItems() []string {
	items := []string{protocol.StatusMessages, protocol.StatusUnseen, protocol.StatusUIDNext, protocol.StatusUIDValidity}
	if s.client.HasCapability("CONDSTORE") || s.client.HasCapability("QRESYNC") {
		items = append(items, protocol.StatusHighestModSeq)
	}
	return items
}

// startWatch answers a watch request, replacing a previous watch.
func (s *session) startWatch(ctx context.Context, r *protocol.WatchRequest) (protocol.Result, error) {
	for _, m := range r.Mailboxes {
		if err := s.checkMailbox(m, false); err != nil {
			return nil, err
		}
	}
	if len(r.Mailboxes) > s.srv.lim.WatchMaxMailboxes {
		return nil, fail(protocol.CodeLimit, "too many mailboxes to watch")
	}
	s.stopWatchTimer()
	prev := s.watch
	w := &watcher{all: r.Mailboxes == nil, names: slices.Compact(slices.Sorted(slices.Values(r.Mailboxes))),
		items: s.watchItems(), last: map[string]protocol.StatusResult{}}
	notify := s.client.HasCapability("NOTIFY") && !s.ups.NoNotify
	var snapshot []*imap.StatusData
	if notify {
		var names []string
		if !w.all {
			names = w.names
		}
		// Installed first: STATUS the server pushes once NOTIFY is set must
		// find it (the initial STATUS answers are the command's own).
		if prev != nil && prev.mode == protocol.WatchNotify {
			// Dovecot (2.3) stops reporting after a second NOTIFY SET on
			// the same connection: turn the first one off before.
			s.setWatch(nil)
			if err := s.client.NotifyNone(ctx); err != nil {
				return nil, err
			}
		}
		w.mode = protocol.WatchNotify
		s.setWatch(w)
		initial, err := s.client.NotifyStatus(ctx, names)
		if err != nil {
			s.setWatch(nil)
			return nil, err
		}
		snapshot = initial
		if w.all {
			lds, err := s.client.ListMailboxes(ctx, "", "*", &imapengine.ListOptions{Subscribed: true})
			if err != nil {
				s.setWatch(nil)
				_ = s.client.NotifyNone(ctx)
				return nil, err
			}
			w.setNames(s.allowedNames(lds))
		}
		// The selected mailbox gets no STATUS under NOTIFY (its own events
		// say what changes): ask for those the server left out.
		have := map[string]bool{}
		for _, st := range initial {
			have[st.Mailbox] = true
		}
		for _, m := range w.mailboxes() {
			if !have[m] {
				st, err := s.client.MailboxStatus(ctx, m, w.items...)
				if err != nil {
					continue // gone or not selectable: no status to report
				}
				snapshot = append(snapshot, st)
			}
		}
	} else {
		if prev != nil && prev.mode == protocol.WatchNotify {
			s.setWatch(nil)
			if err := s.client.NotifyNone(ctx); err != nil {
				return nil, err
			}
		}
		w.mode = protocol.WatchPoll
		var err error
		if snapshot, err = s.pollRound(ctx, w, true); err != nil {
			s.setWatch(nil) // the previous watch's timer is stopped: no half-alive watch
			return nil, err
		}
	}
	res := protocol.WatchResult{Mode: w.mode, Mailboxes: []protocol.StatusResult{}}
	for _, st := range snapshot {
		sr, ok := w.accept(st, w.watched(st.Mailbox), s)
		if ok {
			res.Mailboxes = append(res.Mailboxes, sr)
		}
	}
	s.setWatch(w)
	if w.mode == protocol.WatchPoll {
		res.IntervalMs = s.srv.lim.WatchPollInterval.Milliseconds()
		s.armWatchTimer()
	}
	return res, nil
}

// accept records st as the mailbox's last status and returns it merged with
// what was known; ok is false for a mailbox not watched or not allowed.
func (w *watcher) accept(st *imap.StatusData, watched bool, s *session) (protocol.StatusResult, bool) {
	if st == nil || st.MailboxErr != nil || !watched || !s.claims.Scopes.AllowsMailbox(st.Mailbox) {
		return protocol.StatusResult{}, false
	}
	sr := protocol.FromStatusData(st)
	w.mu.Lock()
	defer w.mu.Unlock()
	prev, had := w.last[st.Mailbox]
	if had {
		sr = mergeStatus(prev, sr)
	}
	w.last[st.Mailbox] = sr
	return sr, true
}

// changed reports whether a and b differ in a value both have or one lacks.
func changed(a, b protocol.StatusResult) bool {
	ne32 := func(x, y *uint32) bool { return (x == nil) != (y == nil) || (x != nil && *x != *y) }
	ne64 := func(x, y *uint64) bool { return (x == nil) != (y == nil) || (x != nil && *x != *y) }
	return ne32(a.Messages, b.Messages) || ne32(a.Unseen, b.Unseen) || ne32(a.UIDNext, b.UIDNext) ||
		ne32(a.UIDValidity, b.UIDValidity) || ne64(a.HighestModSeq, b.HighestModSeq)
}

// mergeStatus returns next with the values it lacks taken from prev.
func mergeStatus(prev, next protocol.StatusResult) protocol.StatusResult {
	if next.Messages == nil {
		next.Messages = prev.Messages
	}
	if next.Unseen == nil {
		next.Unseen = prev.Unseen
	}
	if next.UIDNext == nil {
		next.UIDNext = prev.UIDNext
	}
	if next.UIDValidity == nil {
		next.UIDValidity = prev.UIDValidity
	}
	if next.HighestModSeq == nil {
		next.HighestModSeq = prev.HighestModSeq
	}
	if next.Recent == nil {
		next.Recent = prev.Recent
	}
	return next
}

// allowedNames are the selectable listed mailboxes the token allows.
func (s *session) allowedNames(lds []*imap.ListData) []string {
	var out []string
	for _, ld := range lds {
		if ld.NoSelect() || ld.NameErr != nil || !s.claims.Scopes.AllowsMailbox(ld.Name) {
			continue
		}
		out = append(out, ld.Name)
		if len(out) == s.srv.lim.WatchMaxMailboxes {
			break
		}
	}
	return out
}

// pollRound fetches the status of the watched mailboxes: one LIST-STATUS
// when offered, else STATUS for at most WatchPollBudget of them from the
// round-robin position (every one when full).
func (s *session) pollRound(ctx context.Context, w *watcher, full bool) ([]*imap.StatusData, error) {
	if s.client.HasCapability("LIST-STATUS") {
		lds, err := s.client.ListMailboxes(ctx, "", "*", &imapengine.ListOptions{Subscribed: w.all, Status: w.items})
		if err != nil {
			return nil, err
		}
		var out []*imap.StatusData
		names := s.allowedNames(lds)
		for _, ld := range lds {
			if ld.Status != nil && slices.Contains(names, ld.Name) && w.watched(ld.Name) {
				out = append(out, ld.Status)
			}
		}
		if w.all {
			w.setNames(names)
		}
		return out, nil
	}
	if w.all && (full || w.next == 0) {
		// The subscribed set is re-read at the start of each cycle.
		lds, err := s.client.ListMailboxes(ctx, "", "*", &imapengine.ListOptions{Subscribed: true})
		if err != nil {
			return nil, err
		}
		w.setNames(s.allowedNames(lds))
	}
	names := w.mailboxes()
	n := min(len(names), s.srv.lim.WatchPollBudget)
	if full {
		n = len(names)
	}
	var out []*imap.StatusData
	for i := 0; i < n; i++ {
		if w.next >= len(names) {
			w.next = 0
		}
		m := names[w.next]
		w.next++
		st, err := s.client.MailboxStatus(ctx, m, w.items...)
		if err != nil {
			if s.client.Err() != nil {
				return nil, err
			}
			continue // a mailbox deleted meanwhile
		}
		out = append(out, st)
	}
	if w.next >= len(names) {
		w.next = 0
	}
	return out, nil
}

// pollStatus runs what the watch has due (executor only): the STATUS of the
// selected mailbox after its events (NOTIFY sends none for it; polling would
// wait for the next round), and a polling round when the timer fired. It
// pushes a status event for each mailbox whose values changed.
func (s *session) pollStatus() {
	w := s.watch
	if w == nil {
		return
	}
	w.mu.Lock()
	dirty, due := w.dirty, w.due
	w.dirty, w.due = nil, false
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	var sts []*imap.StatusData
	n := 0
	for m := range dirty {
		if n == s.srv.lim.WatchPollBudget {
			break // the rest waits for the next round (polling) or change
		}
		n++
		if st, err := s.client.MailboxStatus(ctx, m, w.items...); err == nil {
			sts = append(sts, st)
		}
	}
	if due && w.mode == protocol.WatchPoll {
		round, err := s.pollRound(ctx, w, false)
		if err != nil {
			s.log.Debug("status poll failed", "err", errSummary(err))
		}
		sts = append(sts, round...)
	}
	for _, st := range sts {
		w.mu.Lock()
		prev, had := w.last[st.Mailbox]
		w.mu.Unlock()
		sr, ok := w.accept(st, true, s)
		if ok && (!had || changed(prev, sr)) {
			s.pushEvent(protocol.Event{Event: protocol.EventStatus, Mailbox: st.Mailbox, Status: sr.Values()}, time.Now())
		}
	}
	if due && s.client.Err() == nil && w.mode == protocol.WatchPoll {
		s.armWatchTimer()
	}
}

// selectedChanged notes events of the selected mailbox (event goroutine).
func (s *session) selectedChanged() {
	s.evMu.Lock()
	m := s.mailbox
	s.evMu.Unlock()
	s.markDirty(m)
}

// markDirty has the executor ask for the status of the watched mailboxes
// ms, which changed (their events, or the session's own commands: NOTIFY
// sends no STATUS for the selected mailbox, and servers need not report a
// client's own changes).
func (s *session) markDirty(ms ...string) {
	s.evMu.Lock()
	w := s.watchEv
	s.evMu.Unlock()
	if w == nil {
		return
	}
	marked := false
	for _, m := range ms {
		if m == "" || !w.watched(m) {
			continue
		}
		w.mu.Lock()
		if w.dirty == nil {
			w.dirty = map[string]bool{}
		}
		w.dirty[m] = true
		w.mu.Unlock()
		marked = true
	}
	if marked {
		s.signalPoll()
	}
}

// afterRequest marks the mailboxes a successful request changed.
func (s *session) afterRequest(req protocol.Request) {
	switch r := req.(type) {
	case *protocol.StoreRequest, *protocol.ExpungeRequest:
		s.markDirty(s.selectedMailbox())
	case *protocol.CopyRequest:
		s.markDirty(s.selectedMailbox(), r.To)
	case *protocol.AppendRequest:
		s.markDirty(r.Mailbox)
	case *protocol.ImaplibRequest:
		s.markDirty(s.selectedMailbox())
	}
}

// signalPoll wakes the executor for pollStatus (ending its IDLE).
func (s *session) signalPoll() {
	select {
	case s.pollC <- struct{}{}:
		s.interruptIdle()
	default:
	}
}

// notifyStatus turns an unsolicited STATUS (NOTIFY) of a watched mailbox
// into a status event (engine event goroutine).
func (s *session) notifyStatus(ev imapengine.Event) {
	s.evMu.Lock()
	w := s.watchEv
	s.evMu.Unlock()
	if w == nil || ev.Status == nil {
		return
	}
	watched := w.watched(ev.Status.Mailbox)
	w.mu.Lock()
	prev, had := w.last[ev.Status.Mailbox]
	w.mu.Unlock()
	sr, ok := w.accept(ev.Status, watched, s)
	if ok && (!had || changed(prev, sr)) {
		s.pushEvent(protocol.Event{Event: protocol.EventStatus, Mailbox: ev.Status.Mailbox, Status: sr.Values()}, ev.Received)
	}
}

// armWatchTimer schedules the next poll: the timer only signals pollC.
func (s *session) armWatchTimer() {
	w := s.watch
	if w == nil || w.mode != protocol.WatchPoll || s.ctx.Err() != nil {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(s.srv.lim.WatchPollInterval, func() {
		w.mu.Lock()
		w.due = true
		w.mu.Unlock()
		s.signalPoll()
	})
}

// stopWatchTimer stops polling.
func (s *session) stopWatchTimer() {
	if w := s.watch; w != nil && w.timer != nil {
		w.timer.Stop()
	}
}

// stopWatch answers unwatch (and ends a watch being replaced).
func (s *session) stopWatch(ctx context.Context) (protocol.Result, error) {
	w := s.watch
	if w == nil {
		return protocol.EmptyResult{}, nil
	}
	s.stopWatchTimer()
	s.setWatch(nil)
	if w.mode == protocol.WatchNotify {
		if err := s.client.NotifyNone(ctx); err != nil {
			return nil, err
		}
	}
	return protocol.EmptyResult{}, nil
}

// setWatch installs w for the executor and the event goroutine.
func (s *session) setWatch(w *watcher) {
	s.watch = w
	s.evMu.Lock()
	s.watchEv = w
	s.evMu.Unlock()
}
