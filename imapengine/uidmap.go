package imapengine

import (
	"math"
	"slices"
	"sort"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// MaxUIDMapNodes bounds the segments of the sequence-number → UID map of the
// selected mailbox. A segment is a run of messages whose UIDs are unknown,
// consecutive (base, base+1, ...) or listed; a server creates segments only
// by messages it describes (FETCH UIDs at scattered sequence numbers, EXPUNGEs
// inside runs), so memory follows the data received. Past the bound new UIDs
// are not learnt (expunges are then reported without their UID).
const MaxUIDMapNodes = 1 << 20

// Segment shapes: lists hold at most maxListSeg UIDs (an in-place removal
// moves at most that many), ranges of at least minRunSeg consecutive UIDs
// become runs when a map is built.
const (
	maxListSeg = 256
	minRunSeg  = 8
)

// seqMap is the client's view of the selected mailbox: its message count and
// the UID of each sequence number where known. It is an implicit treap of
// segments keyed by position, so EXISTS, EXPUNGE, a FETCH's UID and a lookup
// cost O(log segments), a VANISHED range O(log segments) whatever it covers,
// and an EXISTS allocates nothing for the messages it announces. Known UIDs
// ascend with sequence numbers, as in IMAP; a UID that contradicts the map
// makes it forget every UID (the count is kept). Not safe for concurrent use.
type seqMap struct {
	root *useg
	seed uint64
	ops  int // segments visited: the work done, for tests
}

// useg is one segment and the treap node holding it.
type useg struct {
	l, r   *useg
	prio   uint64
	n      uint32     // messages in this segment, > 0
	base   imap.UID   // a run: UIDs base, base+1, ...; 0 when not a run
	uids   []imap.UID // a list: the n UIDs; nil for runs and unknown segments
	size   uint64     // messages in the subtree
	nodes  int        // segments in the subtree
	lo, hi imap.UID   // smallest and largest known UID in the subtree, 0 if none
}

func (s *useg) known() bool { return s.base != 0 || s.uids != nil }

func (s *useg) uidAt(i uint32) imap.UID {
	switch {
	case s.uids != nil:
		return s.uids[i]
	case s.base != 0:
		return s.base + imap.UID(i)
	}
	return 0
}

func sizeOf(t *useg) uint64 {
	if t == nil {
		return 0
	}
	return t.size
}

func nodesOf(t *useg) int {
	if t == nil {
		return 0
	}
	return t.nodes
}

// fix recomputes t's aggregates from its children.
func (t *useg) fix() {
	t.size = sizeOf(t.l) + uint64(t.n) + sizeOf(t.r)
	t.nodes = nodesOf(t.l) + 1 + nodesOf(t.r)
	t.lo, t.hi = 0, 0
	if t.known() {
		t.lo, t.hi = t.uidAt(0), t.uidAt(t.n-1)
	}
	for _, c := range [2]*useg{t.l, t.r} {
		if c == nil || c.lo == 0 {
			continue
		}
		if t.lo == 0 || c.lo < t.lo {
			t.lo = c.lo
		}
		if c.hi > t.hi {
			t.hi = c.hi
		}
	}
}

func (m *seqMap) newSeg(n uint32, base imap.UID, uids []imap.UID) *useg {
	s := &useg{prio: m.prio(), n: n, base: base, uids: uids}
	s.fix()
	return s
}

// prio returns a pseudo-random treap priority.
func (m *seqMap) prio() uint64 {
	m.seed = m.seed*6364136223846793005 + 1442695040888963407
	return m.seed ^ m.seed>>29
}

// count returns the number of messages.
func (m *seqMap) count() uint64 { return sizeOf(m.root) }

// nodes returns the number of segments.
func (m *seqMap) nodes() int { return nodesOf(m.root) }

func (m *seqMap) reset() { m.root = nil }

// forget drops every UID and keeps the count.
func (m *seqMap) forget() {
	n := m.count()
	m.root = nil
	m.grow(n)
}

// cut splits segment t after its first i messages (0 < i < t.n): t keeps
// them and the returned segment, a new node without children, holds the rest.
func (t *useg) cut(i uint32) *useg {
	r := &useg{n: t.n - i}
	switch {
	case t.uids != nil:
		r.uids = t.uids[i:]
		t.uids = t.uids[:i:i] // an append to t never reaches r's UIDs
	case t.base != 0:
		r.base = t.base + imap.UID(i)
	}
	t.n = i
	return r
}

// split returns the first k messages of t and the rest.
func (m *seqMap) split(t *useg, k uint64) (*useg, *useg) {
	if t == nil {
		return nil, nil
	}
	m.ops++
	ls := sizeOf(t.l)
	switch {
	case k <= ls:
		a, b := m.split(t.l, k)
		t.l = b
		t.fix()
		return a, t
	case k >= ls+uint64(t.n):
		a, b := m.split(t.r, k-ls-uint64(t.n))
		t.r = a
		t.fix()
		return t, b
	}
	r := t.cut(uint32(k - ls))
	r.prio = m.prio()
	r.fix()
	b := m.merge(r, t.r)
	t.r = nil
	t.fix()
	return t, b
}

// merge concatenates a and b.
func (m *seqMap) merge(a, b *useg) *useg {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m.ops++
	if a.prio >= b.prio {
		a.r = m.merge(a.r, b)
		a.fix()
		return a
	}
	b.l = m.merge(a, b.l)
	b.fix()
	return b
}

// grow appends n messages of unknown UID, extending a trailing unknown
// segment rather than adding one.
func (m *seqMap) grow(n uint64) {
	for n > 0 {
		k := uint32(min(n, math.MaxUint32))
		if !m.extendUnknown(m.root, k) {
			m.root = m.merge(m.root, m.newSeg(k, 0, nil))
		}
		n -= uint64(k)
	}
}

func (m *seqMap) extendUnknown(t *useg, k uint32) bool {
	if t == nil {
		return false
	}
	m.ops++
	if t.r != nil {
		ok := m.extendUnknown(t.r, k)
		if ok {
			t.fix()
		}
		return ok
	}
	if t.known() || uint64(t.n)+uint64(k) > math.MaxUint32 {
		return false
	}
	t.n += k
	t.fix()
	return true
}

// setCount applies "* n EXISTS".
func (m *seqMap) setCount(n uint64) {
	switch c := m.count(); {
	case n > c:
		m.grow(n - c)
	case n < c:
		m.root, _ = m.split(m.root, n)
	}
}

// at finds the segment holding 0-based position k and the index in it.
func (m *seqMap) at(k uint64) (*useg, uint32) {
	t := m.root
	for t != nil {
		m.ops++
		ls := sizeOf(t.l)
		switch {
		case k < ls:
			t = t.l
		case k < ls+uint64(t.n):
			return t, uint32(k - ls)
		default:
			k -= ls + uint64(t.n)
			t = t.r
		}
	}
	return nil, 0
}

// uidOf returns the UID of sequence number seq, 0 if unknown.
func (m *seqMap) uidOf(seq uint32) imap.UID {
	if seq == 0 {
		return 0
	}
	s, i := m.at(uint64(seq) - 1)
	if s == nil {
		return 0
	}
	return s.uidAt(i)
}

// expunge applies "* seq EXPUNGE" and returns the UID removed, 0 if unknown.
func (m *seqMap) expunge(seq uint32) imap.UID {
	if seq == 0 || uint64(seq) > m.count() {
		return 0
	}
	var uid imap.UID
	m.root = m.expungeAt(m.root, uint64(seq)-1, &uid)
	return uid
}

func (m *seqMap) expungeAt(t *useg, k uint64, uid *imap.UID) *useg {
	m.ops++
	ls := sizeOf(t.l)
	switch {
	case k < ls:
		t.l = m.expungeAt(t.l, k, uid)
		t.fix()
		return t
	case k >= ls+uint64(t.n):
		t.r = m.expungeAt(t.r, k-ls-uint64(t.n), uid)
		t.fix()
		return t
	}
	i := uint32(k - ls)
	*uid = t.uidAt(i)
	switch {
	case !t.known() || i == t.n-1:
		t.n--
		if t.uids != nil {
			t.uids = t.uids[:t.n:t.n]
		}
	case i == 0:
		t.n--
		if t.uids != nil {
			t.uids = t.uids[1:]
		} else {
			t.base++
		}
	case t.uids != nil && t.n <= maxListSeg:
		t.uids = append(t.uids[:i], t.uids[i+1:]...)
		t.n--
	default: // inside a run or a long list: two segments
		r := t.cut(i)
		r.n--
		if r.uids != nil {
			r.uids = r.uids[1:]
		} else {
			r.base++
		}
		r.prio = m.prio() % (t.prio + 1) // below t: the heap order holds
		r.fix()
		t.r = m.merge(r, t.r)
	}
	if t.n == 0 {
		return m.merge(t.l, t.r)
	}
	t.fix()
	return t
}

// setUID records that sequence number seq has UID uid (from a FETCH).
func (m *seqMap) setUID(seq uint32, uid imap.UID) {
	if seq == 0 || uid == 0 {
		return
	}
	if uint64(seq) > m.count() {
		m.setCount(uint64(seq))
	}
	s, i := m.at(uint64(seq) - 1)
	if s.known() {
		if s.uidAt(i) != uid {
			m.forget() // the server contradicts what it said: trust nothing
		}
		return
	}
	if m.nodes()+2 > MaxUIDMapNodes {
		return
	}
	a, rest := m.split(m.root, uint64(seq)-1)
	mid, c := m.split(rest, 1)
	if (a != nil && a.hi >= uid) || (c != nil && c.lo != 0 && c.lo <= uid) {
		// Out of order with the UIDs known around it.
		m.root = m.merge(m.merge(a, mid), c)
		m.forget()
		return
	}
	if m.appendLast(a, uid) {
		m.root = m.merge(a, c)
		return
	}
	mid.l, mid.r = nil, nil
	mid.uids = make([]imap.UID, 1, 4)
	mid.uids[0] = uid
	mid.fix()
	m.root = m.merge(m.merge(a, mid), c)
}

// appendLast extends the last segment of t with uid when it is a run ending
// at uid-1 or a list with room.
func (m *seqMap) appendLast(t *useg, uid imap.UID) bool {
	if t == nil {
		return false
	}
	m.ops++
	if t.r != nil {
		ok := m.appendLast(t.r, uid)
		if ok {
			t.fix()
		}
		return ok
	}
	switch {
	case t.base != 0 && t.base+imap.UID(t.n) == uid:
	case t.uids != nil && t.n < maxListSeg:
		t.uids = append(t.uids, uid)
	default:
		return false
	}
	t.n++
	t.fix()
	return true
}

// firstGE returns the position of the first message whose known UID is >= lo.
func (m *seqMap) firstGE(t *useg, lo imap.UID, off uint64) (uint64, bool) {
	for t != nil && t.hi >= lo {
		m.ops++
		if t.l != nil && t.l.hi >= lo {
			t = t.l
			continue
		}
		ls := sizeOf(t.l)
		if t.known() && t.uidAt(t.n-1) >= lo {
			var i uint32
			if t.base != 0 {
				if lo > t.base {
					i = uint32(lo - t.base)
				}
			} else {
				i = uint32(sort.Search(int(t.n), func(j int) bool { return t.uids[j] >= lo }))
			}
			return off + ls + uint64(i), true
		}
		off += ls + uint64(t.n)
		t = t.r
	}
	return 0, false
}

// lastLE returns the position of the last message whose known UID is <= hi.
func (m *seqMap) lastLE(t *useg, hi imap.UID, off uint64) (uint64, bool) {
	for t != nil && t.lo != 0 && t.lo <= hi {
		m.ops++
		ls := sizeOf(t.l)
		if t.r != nil && t.r.lo != 0 && t.r.lo <= hi {
			off += ls + uint64(t.n)
			t = t.r
			continue
		}
		if t.known() && t.uidAt(0) <= hi {
			var i uint32
			if t.base != 0 {
				i = uint32(min(uint64(hi-t.base), uint64(t.n-1)))
			} else {
				i = uint32(sort.Search(int(t.n), func(j int) bool { return t.uids[j] > hi })) - 1
			}
			return off + ls + uint64(i), true
		}
		t = t.l
	}
	return 0, false
}

// vanish applies "* VANISHED set": every message between the first known UID
// in a range and the last one is removed (UIDs ascend, so the unknown ones
// between them are in the range too). Each range costs O(log segments).
func (m *seqMap) vanish(set imap.UIDSet) {
	for _, r := range set {
		lo, hi := r.Start, r.Stop
		if lo == 0 {
			lo = math.MaxUint32
		}
		if hi == 0 {
			hi = math.MaxUint32
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		p1, ok1 := m.firstGE(m.root, imap.UID(lo), 0)
		p2, ok2 := m.lastLE(m.root, imap.UID(hi), 0)
		if !ok1 || !ok2 || p1 > p2 {
			continue
		}
		a, b := m.split(m.root, p1)
		_, c := m.split(b, p2-p1+1)
		m.root = m.merge(a, c)
	}
}

// setAll replaces the map by the UIDs of set (a UID SEARCH ALL result), if
// they are as many as the messages counted (or nothing was counted yet). The
// set is never expanded: long ranges become runs, short ones lists.
func (m *seqMap) setAll(set []imap.NumRange) bool {
	rs := make([]imap.NumRange, 0, len(set))
	for _, r := range set {
		if r.HasWildcard() {
			return false
		}
		lo, hi := r.Start, r.Stop
		if lo > hi {
			lo, hi = hi, lo
		}
		rs = append(rs, imap.NumRange{Start: lo, Stop: hi})
	}
	slices.SortFunc(rs, func(a, b imap.NumRange) int { return int(int64(a.Start) - int64(b.Start)) })
	// Merge overlapping and adjacent ranges.
	out := rs[:0]
	var total uint64
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && uint64(r.Start) <= uint64(out[k].Stop)+1 {
			if r.Stop > out[k].Stop {
				total += uint64(r.Stop - out[k].Stop)
				out[k].Stop = r.Stop
			}
			continue
		}
		out = append(out, r)
		total += uint64(r.Stop-r.Start) + 1
	}
	if c := m.count(); c != 0 && c != total {
		return false
	}
	var root *useg
	var list []imap.UID
	flush := func() {
		if len(list) > 0 {
			root = m.merge(root, m.newSeg(uint32(len(list)), 0, list))
			list = nil
		}
	}
	for _, r := range out {
		n := uint64(r.Stop-r.Start) + 1
		if n >= minRunSeg {
			flush()
			for start := uint64(r.Start); n > 0; {
				k := min(n, math.MaxUint32)
				root = m.merge(root, m.newSeg(uint32(k), imap.UID(start), nil))
				start += k
				n -= k
			}
			continue
		}
		for u := uint64(r.Start); u <= uint64(r.Stop); u++ {
			if list == nil {
				list = make([]imap.UID, 0, maxListSeg)
			}
			list = append(list, imap.UID(u))
			if len(list) == maxListSeg {
				flush()
			}
		}
	}
	flush()
	m.root = root
	return true
}
