package imapengine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Errors of SequenceSet and Substitute, the Go form of the TypeError and
// ValueError that imaplib 3.16 raises for structured arguments.
var (
	// ErrBadSetItem reports a sequence-set member of an unsupported type
	// (a string among other items, a float, a bool, a non-integer pair end);
	// imaplib raises TypeError.
	ErrBadSetItem = errors.New("imapengine: sequence set item of unsupported type")
	// ErrBadSetValue reports a sequence-set member of the right type but a
	// wrong value: a tuple that is not a pair, a number outside
	// [1, MaxSeqNumber], an empty range, a zero step, a range longer than
	// MaxRangeExpansion when it must be listed, or an empty set; imaplib
	// raises ValueError for the tuple case.
	ErrBadSetValue = errors.New("imapengine: invalid sequence set value")
	// ErrParamType reports a Substitute parameter count that does not match
	// the template, or a parameter of an unsupported type (bool, float,
	// nil); imaplib raises TypeError.
	ErrParamType = errors.New("imapengine: parameter count or type does not match template")
	// ErrParamValue reports a Substitute parameter whose value is unusable:
	// NUL, CR or LF in it, or an invalid flag; imaplib raises ValueError.
	ErrParamValue = errors.New("imapengine: invalid parameter value")
)

// Limits of structured arguments.
const (
	// MaxSeqNumber is the largest message sequence number or UID
	// (nz-number, RFC 3501 §9).
	MaxSeqNumber = 4294967295
	// MaxRangeExpansion is the largest number of members a Range with a
	// step other than 1 may expand to; such ranges are listed one by one,
	// and this bound keeps a command line from growing without limit.
	MaxRangeExpansion = 10000
	// MaxParamDepth bounds the nesting of []any lists in a Substitute
	// parameter, so that a self-referencing slice cannot recurse forever.
	MaxParamDepth = 8
)

// Span is a sequence-set range "Start:Stop", or "Start:*" when ToStar is
// set (Stop is then ignored); it is imaplib's (start, stop) pair where stop
// may be '*' or None. Span{8, 0, true} gives "8:*".
type Span struct {
	Start  int
	Stop   int
	ToStar bool
}

// intRange is the value Range returns: Python's range(start, stop, step).
type intRange struct{ start, stop, step int }

// Range is a sequence-set member equivalent to Python's range(start, stop,
// step): stop is exclusive. With step 1 it becomes "start:stop-1" (a single
// member is written alone); other steps are listed one by one, at most
// MaxRangeExpansion members. An empty range or a zero step makes
// SequenceSet fail with ErrBadSetValue.
func Range(start, stop, step int) any { return intRange{start, stop, step} }

// SequenceSet is imaplib 3.16's message-set builder. Each item may be an
// integer of any Go integer type, a Span, a Range, a [2]int or [2]any pair
// (start, stop) whose stop may be an integer, "*" or nil (both meaning
// "*"), or a [][2]int or []Span. A single []any, []int, []int64 or []uint32
// argument is the list of members itself (Python's one list argument);
// among several arguments, or inside such a list, these slices are tuples
// and must be pairs. A string passes unchanged when it is the only item
// (NUL, CR or LF give ErrParamValue).
//
//	SequenceSet(5)                                    // "5"
//	SequenceSet("1:3,7")                              // "1:3,7"
//	SequenceSet(1, 2, 5)                              // "1,2,5"
//	SequenceSet(1, Span{3, 5, false}, Span{8, 0, true}) // "1,3:5,8:*"
//	SequenceSet(Range(1, 4, 1), 7)                    // "1:3,7"
//	SequenceSet(Range(1, 10, 2))                      // "1,3,5,7,9"
//
// Wrong types (floats, bools, strings among other items) give
// ErrBadSetItem; wrong values (numbers outside [1, MaxSeqNumber], tuples
// that are not pairs) give ErrBadSetValue.
func SequenceSet(items ...any) (string, error) {
	if len(items) == 1 {
		if s, ok := items[0].(string); ok {
			if err := imapwire.CheckArg(s); err != nil {
				return "", fmt.Errorf("%w: %w", ErrParamValue, err)
			}
			return s, nil
		}
	}
	var b strings.Builder
	// A single slice argument is the list itself (like Python's one list
	// argument); among several arguments a slice is a tuple.
	list := len(items) == 1
	for _, it := range items {
		if err := appendSetItem(&b, it, list); err != nil {
			return "", err
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w: empty set", ErrBadSetValue)
	}
	return b.String(), nil
}

// appendSetItem appends one member. list says whether an untyped slice
// ([]any, []int, []int64, []uint32) is a list of members or a tuple.
func appendSetItem(b *strings.Builder, it any, list bool) error {
	if n, ok, err := setNumber(it); ok || err != nil {
		if err != nil {
			return err
		}
		writeSetPart(b, n, 0, false)
		return nil
	}
	switch x := it.(type) {
	case Span:
		return appendPair(b, x.Start, spanStop(x))
	case [2]int:
		return appendPair(b, x[0], x[1])
	case [2]any:
		return appendPair(b, x[0], x[1])
	case intRange:
		return appendRange(b, x)
	case []any:
		if !list {
			if len(x) != 2 {
				return fmt.Errorf("%w: tuple of %d members, want a pair", ErrBadSetValue, len(x))
			}
			return appendPair(b, x[0], x[1])
		}
		for _, m := range x {
			if err := appendSetItem(b, m, false); err != nil {
				return err
			}
		}
		return nil
	case []int:
		if !list {
			if len(x) != 2 {
				return fmt.Errorf("%w: tuple of %d members, want a pair", ErrBadSetValue, len(x))
			}
			return appendPair(b, x[0], x[1])
		}
		return appendEach(b, x)
	case []int64:
		return appendEachIf(b, x, list)
	case []uint32:
		return appendEachIf(b, x, list)
	case [][2]int:
		for _, p := range x {
			if err := appendPair(b, p[0], p[1]); err != nil {
				return err
			}
		}
		return nil
	case []Span:
		for _, s := range x {
			if err := appendPair(b, s.Start, spanStop(s)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %T", ErrBadSetItem, it)
}

// spanStop returns the stop of s in the form appendPair takes.
func spanStop(s Span) any {
	if s.ToStar {
		return nil
	}
	return s.Stop
}

// appendEach appends integers as separate members.
func appendEach[T int | int64 | uint32](b *strings.Builder, xs []T) error {
	for _, x := range xs {
		if err := appendSetItem(b, x, false); err != nil {
			return err
		}
	}
	return nil
}

// appendEachIf is appendEach for list slices; inside a list it is a tuple.
func appendEachIf[T int64 | uint32](b *strings.Builder, xs []T, list bool) error {
	if list {
		return appendEach(b, xs)
	}
	if len(xs) != 2 {
		return fmt.Errorf("%w: tuple of %d members, want a pair", ErrBadSetValue, len(xs))
	}
	return appendPair(b, xs[0], xs[1])
}

// appendPair appends "start:stop"; stop may be "*" or nil for "*".
func appendPair(b *strings.Builder, start, stop any) error {
	lo, ok, err := setNumber(start)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: pair start of type %T", ErrBadSetItem, start)
	}
	if stop == nil || stop == "*" {
		writeSetPart(b, lo, 0, true)
		return nil
	}
	hi, ok, err := setNumber(stop)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: pair stop of type %T", ErrBadSetItem, stop)
	}
	writeSetPart(b, lo, hi, false)
	return nil
}

// writeSetPart appends ",lo", ",lo:hi" or ",lo:*" (no comma first).
func writeSetPart(b *strings.Builder, lo, hi uint64, star bool) {
	if b.Len() > 0 {
		b.WriteByte(',')
	}
	b.WriteString(strconv.FormatUint(lo, 10))
	switch {
	case star:
		b.WriteString(":*")
	case hi != 0:
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(hi, 10))
	}
}

// setNumber converts any Go integer to a sequence number; ok is false for
// non-integers, err is set for integers outside [1, MaxSeqNumber].
func setNumber(v any) (n uint64, ok bool, err error) {
	var s int64
	switch x := v.(type) {
	case int:
		s = int64(x)
	case int8:
		s = int64(x)
	case int16:
		s = int64(x)
	case int32:
		s = int64(x)
	case int64:
		s = x
	case uint:
		n, ok = uint64(x), true
	case uint8:
		n, ok = uint64(x), true
	case uint16:
		n, ok = uint64(x), true
	case uint32:
		n, ok = uint64(x), true
	case uint64:
		n, ok = x, true
	default:
		return 0, false, nil
	}
	if !ok {
		if s < 1 {
			return 0, true, fmt.Errorf("%w: %d is not a sequence number", ErrBadSetValue, s)
		}
		n, ok = uint64(s), true
	}
	if n < 1 || n > MaxSeqNumber {
		return 0, true, fmt.Errorf("%w: %d is not a sequence number", ErrBadSetValue, n)
	}
	return n, true, nil
}

// appendRange appends a Range: "a:b" for step 1, else every member.
// Arithmetic is done on uint64 differences so no int can overflow.
func appendRange(b *strings.Builder, r intRange) error {
	if r.step == 0 {
		return fmt.Errorf("%w: range step is zero", ErrBadSetValue)
	}
	up := r.step > 0
	if up && r.start >= r.stop || !up && r.start <= r.stop {
		return fmt.Errorf("%w: empty range(%d, %d, %d)", ErrBadSetValue, r.start, r.stop, r.step)
	}
	first, _, err := setNumber(r.start)
	if err != nil {
		return err
	}
	var diff, step uint64 // |stop-start| and |step|
	if up {
		diff, step = uint64(r.stop)-uint64(r.start), uint64(r.step)
	} else {
		diff, step = uint64(r.start)-uint64(r.stop), -uint64(r.step)
	}
	count := (diff-1)/step + 1
	span := (count - 1) * step // |last-first|, at most diff-1
	if up && span > MaxSeqNumber-first || !up && span > first-1 {
		return fmt.Errorf("%w: range(%d, %d, %d) leaves [1, %d]", ErrBadSetValue, r.start, r.stop, r.step, uint64(MaxSeqNumber))
	}
	switch {
	case count == 1:
		writeSetPart(b, first, 0, false)
	case r.step == 1:
		writeSetPart(b, first, first+span, false)
	case count > MaxRangeExpansion:
		return fmt.Errorf("%w: range(%d, %d, %d) has %d members, more than %d", ErrBadSetValue,
			r.start, r.stop, r.step, count, MaxRangeExpansion)
	default:
		for i, n := uint64(0), first; i < count; i++ {
			writeSetPart(b, n, 0, false)
			if up {
				n += step
			} else {
				n -= step
			}
		}
	}
	return nil
}

// Substitute is imaplib 3.16's _substitute, behind the params= argument of
// search, fetch, sort, thread and uid. Each placeholder in template takes
// the next parameter:
//
//   - "?" an astring-quoted string or []byte (imapwire.AString), an
//     integer as a decimal number, or a list ([]string, []int, []any) as a
//     parenthesised list of such values;
//   - "?f" a flag verbatim, or a []string/[]any of flags as "(a b)"; a flag
//     must be non-empty and free of SP, '(', ')', '{', '"', controls and
//     non-ASCII bytes;
//   - "?s" a sequence set, built by SequenceSet from the one parameter;
//   - "??" a literal "?", taking no parameter.
//
// Too few or too many parameters, and bool, float, nil or other types give
// ErrParamType; NUL, CR or LF in a value and invalid flags give
// ErrParamValue. Sequence-set errors are wrapped too, so errors.Is matches
// both ErrParamType and ErrBadSetItem (or ErrParamValue and
// ErrBadSetValue).
func Substitute(template string, params ...any) (string, error) {
	var b strings.Builder
	b.Grow(len(template))
	next := 0
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c != '?' {
			b.WriteByte(c)
			continue
		}
		kind := byte(0)
		if i+1 < len(template) {
			switch template[i+1] {
			case '?':
				b.WriteByte('?')
				i++
				continue
			case 'f', 's':
				kind = template[i+1]
				i++
			}
		}
		if next >= len(params) {
			return "", fmt.Errorf("%w: template needs more than %d parameters", ErrParamType, len(params))
		}
		p := params[next]
		next++
		var s string
		var err error
		switch kind {
		case 'f':
			s, err = substituteFlags(p)
		case 's':
			s, err = substituteSet(p)
		default:
			s, err = substituteValue(p, 0)
		}
		if err != nil {
			return "", fmt.Errorf("%w (parameter %d)", err, next)
		}
		b.WriteString(s)
	}
	if next != len(params) {
		return "", fmt.Errorf("%w: template takes %d parameters, got %d", ErrParamType, next, len(params))
	}
	return b.String(), nil
}

// substituteValue formats a "?" parameter.
func substituteValue(p any, depth int) (string, error) {
	switch x := p.(type) {
	case string:
		return quoteParam(x)
	case []byte:
		return quoteParam(string(x))
	case []string:
		return joinList(len(x), func(i int) (string, error) { return quoteParam(x[i]) })
	case []int:
		return joinList(len(x), func(i int) (string, error) { return strconv.Itoa(x[i]), nil })
	case []any:
		if depth >= MaxParamDepth {
			return "", fmt.Errorf("%w: lists nested deeper than %d", ErrParamValue, MaxParamDepth)
		}
		return joinList(len(x), func(i int) (string, error) { return substituteValue(x[i], depth+1) })
	}
	if n, ok := paramInt(p); ok {
		return n, nil
	}
	return "", fmt.Errorf("%w: %T", ErrParamType, p)
}

// quoteParam rejects NUL, CR and LF, then astring-quotes s.
func quoteParam(s string) (string, error) {
	if err := imapwire.CheckArg(s); err != nil {
		return "", fmt.Errorf("%w: %w", ErrParamValue, err)
	}
	return imapwire.AString(s), nil
}

// paramInt formats any Go integer type in decimal.
func paramInt(p any) (string, bool) {
	switch x := p.(type) {
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}

// joinList formats n members with f and joins them as "(a b ...)".
func joinList(n int, f func(int) (string, error)) (string, error) {
	var b strings.Builder
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		s, err := f(i)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	b.WriteByte(')')
	return b.String(), nil
}

// substituteFlags formats a "?f" parameter.
func substituteFlags(p any) (string, error) {
	switch x := p.(type) {
	case string:
		return x, checkFlag(x)
	case []string:
		return joinList(len(x), func(i int) (string, error) { return x[i], checkFlag(x[i]) })
	case []any:
		return joinList(len(x), func(i int) (string, error) {
			s, ok := x[i].(string)
			if !ok {
				return "", fmt.Errorf("%w: flag of type %T", ErrParamType, x[i])
			}
			return s, checkFlag(s)
		})
	}
	return "", fmt.Errorf("%w: flags of type %T", ErrParamType, p)
}

// checkFlag validates one flag for "?f".
func checkFlag(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty flag", ErrParamValue)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c >= 0x7f, c == '(', c == ')', c == '{', c == '"':
			return fmt.Errorf("%w: invalid flag %q", ErrParamValue, s)
		}
	}
	return nil
}

// substituteSet formats a "?s" parameter through SequenceSet, adding the
// Substitute error kinds to its errors.
func substituteSet(p any) (string, error) {
	s, err := SequenceSet(p)
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, ErrBadSetItem):
		return "", fmt.Errorf("%w: %w", ErrParamType, err)
	case errors.Is(err, ErrBadSetValue):
		return "", fmt.Errorf("%w: %w", ErrParamValue, err)
	}
	return "", err
}
