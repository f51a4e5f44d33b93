package imap

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// NumRange is one element of a sequence or UID set: Start:Stop, with 0
// standing for "*" and Start == Stop for a single number. The order is
// kept as sent ("4:2" is the same set as "2:4").
type NumRange struct{ Start, Stop uint32 }

// SeqSet is a set of message sequence numbers kept as ranges; it is never
// expanded.
type SeqSet []NumRange

// UIDSet is a set of UIDs kept as ranges; it is never expanded unless the
// caller asks with Expand and a bound.
type UIDSet []NumRange

// String formats r in IMAP syntax ("5", "1:*").
func (r NumRange) String() string {
	if r.Start == r.Stop {
		return fmtNum(r.Start)
	}
	return fmtNum(r.Start) + ":" + fmtNum(r.Stop)
}

// fmtNum formats one set member, 0 as "*".
func fmtNum(n uint32) string {
	if n == 0 {
		return "*"
	}
	return strconv.FormatUint(uint64(n), 10)
}

// bounds returns r as an ascending interval, "*" mapped to 2^32.
func (r NumRange) bounds() (lo, hi uint64) {
	lo, hi = uint64(r.Start), uint64(r.Stop)
	if lo == 0 {
		lo = 1 << 32
	}
	if hi == 0 {
		hi = 1 << 32
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// Contains reports whether n is in r, with "*" taken as larger than any
// number (so "5:*" holds every n >= 5 and "*" alone holds none).
func (r NumRange) Contains(n uint32) bool {
	lo, hi := r.bounds()
	return n != 0 && uint64(n) >= lo && uint64(n) <= hi
}

// HasWildcard reports whether r uses "*".
func (r NumRange) HasWildcard() bool { return r.Start == 0 || r.Stop == 0 }

// Len returns the number of members of r; ok is false if r uses "*".
func (r NumRange) Len() (n uint64, ok bool) {
	if r.HasWildcard() {
		return 0, false
	}
	lo, hi := r.bounds()
	return hi - lo + 1, true
}

// formatRanges joins ranges with commas.
func formatRanges(rs []NumRange) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// countRanges sums the sizes of rs; ok is false if any range uses "*".
// The sum of at most a few hundred thousand 32-bit ranges cannot overflow
// a uint64.
func countRanges(rs []NumRange) (n uint64, ok bool) {
	for _, r := range rs {
		m, ok := r.Len()
		if !ok {
			return 0, false
		}
		n += m
	}
	return n, true
}

// String formats s in IMAP syntax ("1:3,7,9:*").
func (s SeqSet) String() string { return formatRanges(s) }

// Contains reports whether n is in s ("*" is larger than any number).
func (s SeqSet) Contains(n SeqNum) bool {
	for _, r := range s {
		if r.Contains(uint32(n)) {
			return true
		}
	}
	return false
}

// Count returns the number of members of s counted with repetition; ok is
// false if s uses "*".
func (s SeqSet) Count() (n uint64, ok bool) { return countRanges(s) }

// String formats s in IMAP syntax ("1:3,7,9:*").
func (s UIDSet) String() string { return formatRanges(s) }

// Contains reports whether u is in s ("*" is larger than any UID).
func (s UIDSet) Contains(u UID) bool {
	for _, r := range s {
		if r.Contains(uint32(u)) {
			return true
		}
	}
	return false
}

// Count returns the number of members of s counted with repetition; ok is
// false if s uses "*".
func (s UIDSet) Count() (n uint64, ok bool) { return countRanges(s) }

// HasWildcard reports whether any range of s uses "*".
func (s UIDSet) HasWildcard() bool {
	for _, r := range s {
		if r.HasWildcard() {
			return true
		}
	}
	return false
}

// Expand lists the UIDs of s in the order sent, each range ascending. It
// refuses (before allocating) a set holding "*" with ErrWildcard and a set
// of more than max members with ErrSetTooLarge.
func (s UIDSet) Expand(max int) ([]UID, error) {
	n, ok := s.Count()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrWildcard, truncate(s.String()))
	}
	if max < 0 || n > uint64(max) {
		return nil, fmt.Errorf("%w: %d members, limit %d", ErrSetTooLarge, n, max)
	}
	out := make([]UID, 0, n)
	for _, r := range s {
		lo, hi := r.bounds()
		for u := lo; u <= hi; u++ {
			out = append(out, UID(u))
		}
	}
	return out, nil
}

// ParseSeqSet parses an RFC 3501 sequence-set such as "1:3,7,9:*".
func ParseSeqSet(s string) (SeqSet, error) {
	rs, err := parseRanges("sequence set", s)
	return SeqSet(rs), err
}

// ParseUIDSet parses a UID set such as "1:3,7,9:*".
func ParseUIDSet(s string) (UIDSet, error) {
	rs, err := parseRanges("UID set", s)
	return UIDSet(rs), err
}

// parseRanges parses a set with imapwire.
func parseRanges(what, s string) ([]NumRange, error) {
	set, err := imapwire.ParseSeqSet(s)
	if err != nil {
		return nil, &ParseError{Response: what, Err: err}
	}
	return fromWire(set), nil
}

// fromWire converts an imapwire set to ranges.
func fromWire(set imapwire.SeqSet) []NumRange {
	if set == nil {
		return nil
	}
	out := make([]NumRange, len(set))
	for i, r := range set {
		out[i] = NumRange(r)
	}
	return out
}

// maxErrText bounds server text quoted in error messages.
const maxErrText = 64

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > maxErrText {
		return s[:maxErrText] + "..."
	}
	return s
}
