package bridge

import (
	"context"
	"slices"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/mailsort"
)

// Typed search, sort and thread (issue 16 items 1 and 2): find runs UID
// SEARCH (ESEARCH when offered), sort and thread run UID SORT and UID THREAD
// when the server offers them and otherwise sort and thread in the bridge
// from envelopes (package mailsort), fetched once per message and kept for
// the selected mailbox, for at most Limits.SortFallbackMessages messages.

// find answers a find request: the page of matching UIDs, highest first.
func (s *session) find(ctx context.Context, r *protocol.FindRequest) (protocol.Result, error) {
	if err := s.needSelected(); err != nil {
		return nil, err
	}
	res, err := s.client.SearchMatching(ctx, r.Where.SearchCriteria(),
		&imapengine.SearchOptions{Min: true, Max: true, Count: true, All: true})
	if err != nil {
		return nil, err
	}
	out := protocol.FindResult{Total: res.Count, Min: uint32(res.Min), Max: uint32(res.Max), ESEARCH: res.ESEARCH}
	out.UIDs = protocol.CompactSet(pageDescending(res.UIDs, r.Page))
	return out, nil
}

// pageDescending returns the page of set's UIDs counted from the highest,
// without expanding the whole set.
func pageDescending(set imap.UIDSet, p protocol.Page) []uint32 {
	rs := slices.Clone(set)
	slices.SortFunc(rs, func(a, b imap.NumRange) int { return int(int64(a.Start) - int64(b.Start)) })
	lo, hi := p.Bounds(int(^uint(0) >> 1))
	want, skip := hi-lo, lo
	var out []uint32
	for i := len(rs) - 1; i >= 0 && len(out) < want; i-- {
		r := rs[i]
		if r.Start == 0 || r.Stop < r.Start {
			continue
		}
		n := int(r.Stop-r.Start) + 1
		if skip >= n {
			skip -= n
			continue
		}
		for u := int64(r.Stop) - int64(skip); u >= int64(r.Start) && len(out) < want; u-- {
			out = append(out, uint32(u))
		}
		skip = 0
	}
	return out
}

// sortMessages answers a sort request.
func (s *session) sortMessages(ctx context.Context, r *protocol.SortRequest) (protocol.Result, error) {
	if err := s.needSelected(); err != nil {
		return nil, err
	}
	keys := protocol.EngineSortKeys(r.Keys)
	crit := r.Where.SearchCriteria()
	display := false
	for _, k := range keys {
		display = display || k.Field == imap.SortDisplayFrom || k.Field == imap.SortDisplayTo
	}
	var uids []imap.UID
	fallback := !s.client.HasCapability("SORT") || (display && !s.client.HasCapability("SORT=DISPLAY"))
	if fallback {
		msgs, err := s.fallbackMessages(ctx, crit)
		if err != nil {
			return nil, err
		}
		uids = mailsort.Sort(msgs, keys)
	} else {
		var err error
		if uids, err = s.client.SortUIDs(ctx, keys, crit); err != nil {
			return nil, err
		}
	}
	lo, hi := r.Bounds(len(uids))
	out := protocol.SortResult{UIDs: make([]uint32, 0, hi-lo), Total: uint32(len(uids)), Fallback: fallback}
	for _, u := range uids[lo:hi] {
		out.UIDs = append(out.UIDs, uint32(u))
	}
	return out, nil
}

// threadMessages answers a thread request.
func (s *session) threadMessages(ctx context.Context, r *protocol.ThreadRequest) (protocol.Result, error) {
	if err := s.needSelected(); err != nil {
		return nil, err
	}
	alg := imap.ThreadReferences
	if r.Algorithm == protocol.ThreadOrderedSubject {
		alg = imap.ThreadOrderedSubject
	}
	crit := r.Where.SearchCriteria()
	var roots []*imap.ThreadNode
	fallback := !s.client.HasCapability("THREAD=" + string(alg))
	if fallback {
		msgs, err := s.fallbackMessages(ctx, crit)
		if err != nil {
			return nil, err
		}
		roots = mailsort.Thread(msgs, alg)
	} else {
		var err error
		if roots, err = s.client.ThreadUIDs(ctx, alg, crit); err != nil {
			return nil, err
		}
	}
	if r.Reverse {
		slices.Reverse(roots)
	}
	messages := 0
	for _, t := range roots {
		messages += t.Count()
	}
	lo, hi := r.Bounds(len(roots))
	return protocol.ThreadResult{Threads: protocol.FromThreads(roots[lo:hi]), Total: uint32(len(roots)),
		Messages: uint32(messages), Fallback: fallback}, nil
}

// envelopeCache keeps what mailsort needs of the selected mailbox's
// messages, so a fallback sort fetches each message's envelope once.
type envelopeCache struct {
	mailbox     string
	uidValidity uint32
	msgs        map[imap.UID]mailsort.Message
}

// fallbackMessages returns the sort data of the messages matching crit,
// fetching (with mailsort.FetchItems) only those not cached yet. More than
// Limits.SortFallbackMessages matches is a limit error.
func (s *session) fallbackMessages(ctx context.Context, crit *imap.SearchCriteria) ([]mailsort.Message, error) {
	res, err := s.client.SearchMatching(ctx, crit, &imapengine.SearchOptions{Count: true, All: true})
	if err != nil {
		return nil, err
	}
	max := s.srv.lim.SortFallbackMessages
	if int(res.Count) > max {
		return nil, fail(protocol.CodeLimit, "the server lacks SORT/THREAD and the mailbox is larger than the bridge sorts itself")
	}
	uids, err := res.UIDs.Expand(max)
	if err != nil {
		return nil, fail(protocol.CodeLimit, "too many messages to sort in the bridge")
	}
	mbox := s.selectedMailbox()
	uv := s.uidVals[mbox]
	ec := s.envelopes
	if ec == nil || ec.mailbox != mbox || ec.uidValidity != uv || len(ec.msgs) > 2*max {
		ec = &envelopeCache{mailbox: mbox, uidValidity: uv, msgs: map[imap.UID]mailsort.Message{}}
		s.envelopes = ec
	}
	var missing []uint32
	for _, u := range uids {
		if _, ok := ec.msgs[u]; !ok {
			missing = append(missing, uint32(u))
		}
	}
	if len(missing) > 0 {
		err := s.client.FetchEach(ctx, protocol.CompactSet(missing), mailsort.FetchItems, &imapengine.FetchOptions{UID: true},
			func(m *imap.Message) error {
				if m.UID != 0 {
					ec.msgs[m.UID] = mailsort.FromIMAP(m)
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	out := make([]mailsort.Message, 0, len(uids))
	for _, u := range uids {
		if m, ok := ec.msgs[u]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}
