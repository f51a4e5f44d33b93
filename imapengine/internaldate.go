package imapengine

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Errors of Internaldate2tuple and Time2Internaldate.
var (
	// ErrUnknownMonth is returned by Internaldate2tuple for a capitalised
	// month abbreviation that is not an English month ("Foo"); imaplib
	// raises KeyError there.
	ErrUnknownMonth = errors.New("imapengine: unknown month in INTERNALDATE")
	// ErrEmptyDate is returned by Time2Internaldate for the empty string;
	// imaplib raises IndexError there.
	ErrEmptyDate = errors.New("imapengine: date_time is an empty string")
	// ErrUnknownDateType is returned by Time2Internaldate for a value of
	// any other type, and for a string that is not enclosed in double
	// quotes; imaplib raises ValueError("date_time not of a known type").
	ErrUnknownDateType = errors.New("imapengine: date_time not of a known type")
	// ErrDateRange is returned when a date cannot be represented the way
	// Python's datetime would: a year outside [MinDateYear, MaxDateYear], a
	// TimeTuple field out of range, an offset of a day or more, or a
	// non-finite float. imaplib raises ValueError or OverflowError there.
	ErrDateRange = errors.New("imapengine: date_time out of range")
)

// Year bounds of Python's datetime, which Time2Internaldate and
// Internaldate2tuple inherit from imaplib.
const (
	// MinDateYear is the smallest year a date may have.
	MinDateYear = 1
	// MaxDateYear is the largest year a date may have.
	MaxDateYear = 9999
)

// maxUTCOffset bounds a zone offset in seconds: Python's timezone requires
// strictly less than one day.
const maxUTCOffset = 24*60*60 - 1

// monthNames are the English month abbreviations, independent of locale;
// index 0 is unused, like imaplib's Months.
var monthNames = [13]string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// internalDateMarker starts imaplib's InternalDate regex after ".*".
const internalDateMarker = `INTERNALDATE "`

// internalDateLayout is the shape that follows internalDateMarker:
// 'D' a day digit [ 0123] then [0-9], 'M' [A-Z] then [a-z][a-z], '9' [0-9],
// 'S' a sign [-+]; other bytes are literal.
const internalDateLayout = `D9-Mmm-9999 99:99:99 S9999"`

// Internaldate2tuple is imaplib.Internaldate2tuple: it looks for
// INTERNALDATE "DD-Mon-YYYY HH:MM:SS +HHMM" the way imaplib's regex does
// (the last occurrence on the first line wins) and returns the instant in
// time.Local. ok is false when nothing matches (a one-digit day, "JAN").
// A capitalised but unknown month such as "Foo" gives ErrUnknownMonth and
// year 0000 gives ErrDateRange. Out-of-range days and times ("31-Feb",
// "25:61:61") are normalised, like calendar.timegm does.
func Internaldate2tuple(resp []byte) (t time.Time, ok bool, err error) {
	return Internaldate2tupleIn(resp, time.Local)
}

// Internaldate2tupleIn is Internaldate2tuple with the result in loc
// instead of time.Local; a nil loc means UTC.
func Internaldate2tupleIn(resp []byte, loc *time.Location) (time.Time, bool, error) {
	f, ok := matchInternalDate(resp)
	if !ok {
		return time.Time{}, false, nil
	}
	mon := 0
	for i := 1; i < len(monthNames); i++ {
		if string(f[3:6]) == monthNames[i] {
			mon = i
			break
		}
	}
	if mon == 0 {
		return time.Time{}, false, fmt.Errorf("%w: %q", ErrUnknownMonth, f[3:6])
	}
	day := digits2(f[0:2])
	year := digits2(f[7:9])*100 + digits2(f[9:11])
	if year < MinDateYear {
		return time.Time{}, false, fmt.Errorf("%w: year %d", ErrDateRange, year)
	}
	hour, minute, sec := digits2(f[12:14]), digits2(f[15:17]), digits2(f[18:20])
	zone := (digits2(f[22:24])*60 + digits2(f[24:26])) * 60
	if f[21] == '-' {
		zone = -zone
	}
	utc := time.Date(year, time.Month(mon), day, hour, minute, sec, 0, time.UTC)
	utc = utc.Add(-time.Duration(zone) * time.Second)
	if loc == nil {
		loc = time.UTC
	}
	return utc.In(loc), true, nil
}

// matchInternalDate returns the bytes after `INTERNALDATE "` for the
// match imaplib's greedy regex picks, or ok=false.
func matchInternalDate(resp []byte) ([]byte, bool) {
	limit := len(resp)
	if nl := bytes.IndexByte(resp, '\n'); nl >= 0 {
		limit = nl
	}
	for end := limit; end > 0; {
		p := bytes.LastIndex(resp[:end], []byte(internalDateMarker))
		if p < 0 {
			return nil, false
		}
		end = p + len(internalDateMarker) - 1
		rest := resp[p+len(internalDateMarker):]
		if len(rest) >= len(internalDateLayout) && fitsLayout(rest[:len(internalDateLayout)]) {
			return rest[:len(internalDateLayout)], true
		}
	}
	return nil, false
}

// fitsLayout reports whether b has the shape of internalDateLayout.
func fitsLayout(b []byte) bool {
	for i := 0; i < len(internalDateLayout); i++ {
		c := b[i]
		var ok bool
		switch internalDateLayout[i] {
		case 'D':
			ok = c == ' ' || c >= '0' && c <= '3'
		case '9':
			ok = c >= '0' && c <= '9'
		case 'M':
			ok = c >= 'A' && c <= 'Z'
		case 'm':
			ok = c >= 'a' && c <= 'z'
		case 'S':
			ok = c == '-' || c == '+'
		default:
			ok = c == internalDateLayout[i]
		}
		if !ok {
			return false
		}
	}
	return true
}

// digits2 converts two bytes already checked by fitsLayout; a leading space
// counts as zero, as in Python's int(b' 1').
func digits2(b []byte) int {
	hi := 0
	if b[0] != ' ' {
		hi = int(b[0] - '0')
	}
	return hi*10 + int(b[1]-'0')
}

// TimeTuple mirrors Python's time tuple and time.struct_time as accepted by
// Time2Internaldate. Only the first six fields and IsDST/GMTOff are used;
// Wday and Yday are carried for fidelity and ignored.
type TimeTuple struct {
	Year, Month, Day, Hour, Min, Sec int
	// Wday is tm_wday (Monday is 0); ignored.
	Wday int
	// Yday is tm_yday (1-based); ignored.
	Yday int
	// IsDST is tm_isdst: 1 uses the location's daylight-saving offset, 0
	// its standard offset, and -1 (any negative) resolves it from the
	// location at that wall time. A location without DST always uses its
	// standard offset.
	IsDST int
	// GMTOff is tm_gmtoff in seconds east of UTC; nil means absent (or
	// None, as datetime.timetuple() gives), and IsDST decides.
	GMTOff *int
}

// Time2Internaldate is imaplib.Time2Internaldate in time.Local. It returns
// `"DD-Mon-YYYY HH:MM:SS +HHMM"` including the double quotes, with English
// month names whatever the locale. It accepts:
//   - any Go integer type or float32/float64: seconds since the epoch;
//   - time.Time: formatted with its own location's offset (Go times are
//     always "aware");
//   - TimeTuple or *TimeTuple: the wall-clock fields with GMTOff, or the
//     location's standard/DST offset chosen by IsDST;
//   - a string whose first and last characters are '"': returned unchanged
//     without validation ("" gives ErrEmptyDate).
//
// Anything else, including an unquoted string, []byte, bool and nil, gives
// ErrUnknownDateType. Years outside [MinDateYear, MaxDateYear] and invalid
// tuple fields give ErrDateRange. Years below 1000 are not zero-padded
// ("05-Jan-999 ..."), as with glibc's strftime.
//
// Deliberate difference: an offset with a seconds part (local mean time
// before 1900) cannot be written as ±HHMM, so the instant is re-expressed
// in that offset truncated to whole minutes; Python would emit ±HHMMSS,
// which servers reject.
func Time2Internaldate(v any) (string, error) {
	return Time2InternaldateIn(v, time.Local)
}

// Time2InternaldateIn is Time2Internaldate with loc in place of time.Local
// for epoch numbers and for TimeTuple values without GMTOff; a nil loc
// means UTC.
func Time2InternaldateIn(v any, loc *time.Location) (string, error) {
	if loc == nil {
		loc = time.UTC
	}
	var t time.Time
	switch x := v.(type) {
	case string:
		if x == "" {
			return "", ErrEmptyDate
		}
		if x[0] == '"' && x[len(x)-1] == '"' {
			return x, nil
		}
		return "", fmt.Errorf("%w: unquoted string", ErrUnknownDateType)
	case time.Time:
		t = x
	case TimeTuple:
		var err error
		if t, err = x.toTime(loc); err != nil {
			return "", err
		}
	case *TimeTuple:
		if x == nil {
			return "", fmt.Errorf("%w: nil *TimeTuple", ErrUnknownDateType)
		}
		var err error
		if t, err = x.toTime(loc); err != nil {
			return "", err
		}
	case float64:
		var err error
		if t, err = floatEpoch(x); err != nil {
			return "", err
		}
		t = t.In(loc)
	case float32:
		var err error
		if t, err = floatEpoch(float64(x)); err != nil {
			return "", err
		}
		t = t.In(loc)
	default:
		sec, ok := intEpoch(v)
		if !ok {
			return "", fmt.Errorf("%w: %T", ErrUnknownDateType, v)
		}
		t = time.Unix(sec, 0).In(loc)
	}
	return formatInternalDate(t)
}

// Epoch bounds (seconds) of years MinDateYear..MaxDateYear, used to reject
// numbers before converting them, so that no arithmetic overflows.
var (
	minEpoch = time.Date(MinDateYear, time.January, 2, 0, 0, 0, 0, time.UTC).Unix()
	maxEpoch = time.Date(MaxDateYear, time.December, 30, 23, 59, 59, 0, time.UTC).Unix()
)

// intEpoch converts any Go integer type to epoch seconds.
func intEpoch(v any) (int64, bool) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case uint:
		n = clampUint(uint64(x))
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case uint64:
		n = clampUint(x)
	case uintptr:
		n = clampUint(uint64(x))
	default:
		return 0, false
	}
	return n, true
}

// clampUint saturates u at math.MaxInt64; such values fail the year check.
func clampUint(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// floatEpoch converts float epoch seconds, rounding to microseconds
// half-to-even like datetime.fromtimestamp.
func floatEpoch(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < float64(minEpoch) || f > float64(maxEpoch) {
		return time.Time{}, fmt.Errorf("%w: %v seconds", ErrDateRange, f)
	}
	sec, frac := math.Modf(f)
	us := math.RoundToEven(frac * 1e6)
	return time.Unix(int64(sec), int64(us)*int64(time.Microsecond)), nil
}

// toTime builds the time the tuple denotes, validating its fields the way
// Python's datetime constructor does.
func (tt TimeTuple) toTime(loc *time.Location) (time.Time, error) {
	if tt.Year < MinDateYear || tt.Year > MaxDateYear || tt.Month < 1 || tt.Month > 12 ||
		tt.Hour < 0 || tt.Hour > 23 || tt.Min < 0 || tt.Min > 59 || tt.Sec < 0 || tt.Sec > 59 ||
		tt.Day < 1 || tt.Day > daysIn(tt.Year, time.Month(tt.Month)) {
		return time.Time{}, fmt.Errorf("%w: %d-%02d-%02d %02d:%02d:%02d", ErrDateRange,
			tt.Year, tt.Month, tt.Day, tt.Hour, tt.Min, tt.Sec)
	}
	var off int
	if tt.GMTOff != nil {
		off = *tt.GMTOff
	} else {
		std, dst, hasDST := zoneOffsets(loc, tt.Year)
		isDST := tt.IsDST > 0
		if tt.IsDST < 0 {
			isDST = time.Date(tt.Year, time.Month(tt.Month), tt.Day, tt.Hour, tt.Min, tt.Sec, 0, loc).IsDST()
		}
		off = std
		if hasDST && isDST {
			off = dst
		}
	}
	if off < -maxUTCOffset || off > maxUTCOffset {
		return time.Time{}, fmt.Errorf("%w: offset %d seconds", ErrDateRange, off)
	}
	return time.Date(tt.Year, time.Month(tt.Month), tt.Day, tt.Hour, tt.Min, tt.Sec, 0, time.FixedZone("", off)), nil
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// zoneOffsets returns loc's standard and daylight-saving offsets in year,
// found from mid-January and mid-July the way CPython derives
// time.timezone and time.altzone; hasDST is false when the two agree.
func zoneOffsets(loc *time.Location, year int) (std, dst int, hasDST bool) {
	jan := time.Date(year, time.January, 15, 12, 0, 0, 0, loc)
	jul := time.Date(year, time.July, 15, 12, 0, 0, 0, loc)
	_, janOff := jan.Zone()
	_, julOff := jul.Zone()
	switch {
	case jul.IsDST() && !jan.IsDST():
		return janOff, julOff, true
	case jan.IsDST() && !jul.IsDST():
		return julOff, janOff, true
	default:
		return janOff, janOff, false
	}
}

// formatInternalDate writes t as a quoted IMAP date-time with its own
// offset truncated to whole minutes.
func formatInternalDate(t time.Time) (string, error) {
	_, off := t.Zone()
	if rem := off % 60; rem != 0 {
		t = t.In(time.FixedZone("", off-rem))
		off -= rem
	}
	if t.Year() < MinDateYear || t.Year() > MaxDateYear {
		return "", fmt.Errorf("%w: year %d", ErrDateRange, t.Year())
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	if off > maxUTCOffset {
		return "", fmt.Errorf("%w: offset %d seconds", ErrDateRange, off)
	}
	b := make([]byte, 0, 30)
	b = append(b, '"')
	b = appendPad2(b, t.Day())
	b = append(b, '-')
	b = append(b, monthNames[t.Month()]...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, ' ')
	b = appendPad2(b, t.Hour())
	b = append(b, ':')
	b = appendPad2(b, t.Minute())
	b = append(b, ':')
	b = appendPad2(b, t.Second())
	b = append(b, ' ', sign)
	b = appendPad2(b, off/3600)
	b = appendPad2(b, off/60%60)
	b = append(b, '"')
	return string(b), nil
}

// appendPad2 appends n (0..99) as two decimal digits.
func appendPad2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}
