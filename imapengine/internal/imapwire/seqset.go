package imapwire

import (
	"strconv"
	"strings"
)

// SeqRange is one element of a sequence set. 0 stands for "*"; Start ==
// Stop for a single number. The order of Start and Stop is kept as sent
// (RFC 3501 allows "4:2").
type SeqRange struct{ Start, Stop uint32 }

// SeqSet is a sequence set kept as ranges; it is never expanded, so
// "1:4294967295" is one element.
type SeqSet []SeqRange

// ParseSeqSet parses an RFC 3501 sequence-set: comma-separated numbers
// (1..2^32-1, at most MaxNumberDigits digits), "*" and ranges "a:b". Errors
// are *SyntaxError values wrapping ErrSyntax or ErrNumberRange.
func ParseSeqSet(s string) (SeqSet, error) {
	return parseSeqSet([]byte(s))
}

// parseSeqSet implements ParseSeqSet.
func parseSeqSet(b []byte) (SeqSet, error) {
	if len(b) == 0 {
		return nil, &SyntaxError{Msg: "empty sequence set", Err: ErrSyntax}
	}
	set := make(SeqSet, 0, 1+countByte(b, ','))
	pos := 0
	num := func() (uint32, error) {
		if pos < len(b) && b[pos] == '*' {
			pos++
			return 0, nil
		}
		start := pos
		for pos < len(b) && isDigit(b[pos]) {
			pos++
		}
		if pos == start {
			return 0, seqErr(b, start, ErrSyntax, "expected number or *")
		}
		v, ok := parseDigits(b[start:pos], MaxNumberDigits, 1<<32-1)
		if !ok {
			return 0, seqErr(b, start, ErrNumberRange, "sequence number out of range")
		}
		if v == 0 {
			return 0, seqErr(b, start, ErrSyntax, "sequence number 0")
		}
		return uint32(v), nil
	}
	for {
		a, err := num()
		if err != nil {
			return nil, err
		}
		r := SeqRange{a, a}
		if pos < len(b) && b[pos] == ':' {
			pos++
			if r.Stop, err = num(); err != nil {
				return nil, err
			}
		}
		set = append(set, r)
		if pos == len(b) {
			return set, nil
		}
		if b[pos] != ',' {
			return nil, seqErr(b, pos, ErrSyntax, "expected ','")
		}
		pos++
	}
}

// seqErr builds the SyntaxError of ParseSeqSet.
func seqErr(b []byte, pos int, sentinel error, msg string) error {
	return &SyntaxError{Msg: msg, Offset: pos, Excerpt: string(b[pos:min(len(b), pos+maxExcerpt)]), Err: sentinel}
}

// countByte counts c in b.
func countByte(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

// String formats s in IMAP syntax ("1:3,7,9:*").
func (s SeqSet) String() string {
	var sb strings.Builder
	for i, r := range s {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(r.String())
	}
	return sb.String()
}

// String formats r in IMAP syntax ("5", "1:*").
func (r SeqRange) String() string {
	if r.Start == r.Stop {
		return seqNum(r.Start)
	}
	return seqNum(r.Start) + ":" + seqNum(r.Stop)
}

// seqNum formats one sequence number, 0 as "*".
func seqNum(n uint32) string {
	if n == 0 {
		return "*"
	}
	return strconv.FormatUint(uint64(n), 10)
}

// Contains reports whether n is in s, with "*" taken as +infinity (so
// "5:*" contains every n >= 5 and "*" contains none).
func (s SeqSet) Contains(n uint32) bool {
	for _, r := range s {
		if r.Contains(n) {
			return true
		}
	}
	return false
}

// Contains reports whether n is in r, with "*" taken as +infinity.
func (r SeqRange) Contains(n uint32) bool {
	if n == 0 {
		return false
	}
	lo, hi := uint64(r.Start), uint64(r.Stop)
	if lo == 0 {
		lo = 1 << 32
	}
	if hi == 0 {
		hi = 1 << 32
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return uint64(n) >= lo && uint64(n) <= hi
}
