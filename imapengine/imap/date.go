package imap

import "time"

// months maps the three-letter English month names to time.Month.
var months = map[string]time.Month{
	"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}

// dateScanner walks a date string.
type dateScanner struct {
	s   string
	pos int
}

// spaces skips blanks.
func (d *dateScanner) spaces() {
	for d.pos < len(d.s) && (d.s[d.pos] == ' ' || d.s[d.pos] == '\t') {
		d.pos++
	}
}

// num reads between minD and maxD digits.
func (d *dateScanner) num(minD, maxD int) (int, bool) {
	start, v := d.pos, 0
	for d.pos < len(d.s) && d.pos-start < maxD && d.s[d.pos] >= '0' && d.s[d.pos] <= '9' {
		v = v*10 + int(d.s[d.pos]-'0')
		d.pos++
	}
	return v, d.pos-start >= minD
}

// byte consumes c.
func (d *dateScanner) byte(c byte) bool {
	if d.pos < len(d.s) && d.s[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// fastDate parses the strict RFC 5322 form
// "[Day, ]D Mon YYYY HH:MM[:SS] +ZZZZ[ (comment)]" without allocating.
// ok is false for anything else, which the caller hands to the lenient
// path.
func fastDate(s string) (time.Time, bool) {
	d := dateScanner{s: s}
	d.spaces()
	if d.pos+4 <= len(s) && s[d.pos+3] == ',' {
		d.pos += 4 // weekday name; not checked against the date
		d.spaces()
	}
	day, ok := d.num(1, 2)
	if !ok || !d.byte(' ') || d.pos+3 > len(s) {
		return time.Time{}, false
	}
	mon, ok := months[s[d.pos:d.pos+3]]
	d.pos += 3
	if !ok || !d.byte(' ') {
		return time.Time{}, false
	}
	year, ok := d.num(4, 4)
	if !ok || !d.byte(' ') {
		return time.Time{}, false
	}
	hour, ok1 := d.num(2, 2)
	okc := d.byte(':')
	minute, ok2 := d.num(2, 2)
	if !ok1 || !okc || !ok2 {
		return time.Time{}, false
	}
	sec := 0
	if d.byte(':') {
		if sec, ok = d.num(2, 2); !ok {
			return time.Time{}, false
		}
	}
	if !d.byte(' ') {
		return time.Time{}, false
	}
	sign := 1
	switch {
	case d.byte('+'):
	case d.byte('-'):
		sign = -1
	default:
		return time.Time{}, false
	}
	zone, ok := d.num(4, 4)
	if !ok || zone%100 >= 60 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	d.spaces()
	if d.pos < len(s) && s[d.pos] != '(' {
		return time.Time{}, false
	}
	offset := sign * ((zone/100)*3600 + (zone%100)*60)
	t := time.Date(year, mon, day, hour, minute, sec, 0, zoneAt(offset))
	if t.Day() != day { // 31 Feb and the like
		return time.Time{}, false
	}
	return t, true
}

// Bounds of the cached zones: offsets from -12:00 to +14:00 in quarter
// hours cover every zone in use.
const (
	zoneStep = 15 * 60
	zoneMin  = -12 * 3600
	zoneMax  = 14 * 3600
)

// zones caches one *time.Location per quarter-hour offset, so parsing a
// date does not allocate one.
var zones = func() []*time.Location {
	z := make([]*time.Location, (zoneMax-zoneMin)/zoneStep+1)
	for i := range z {
		z[i] = time.FixedZone("", zoneMin+i*zoneStep)
	}
	return z
}()

// zoneAt returns a fixed zone of offset seconds east of UTC.
func zoneAt(offset int) *time.Location {
	if offset >= zoneMin && offset <= zoneMax && offset%zoneStep == 0 {
		return zones[(offset-zoneMin)/zoneStep]
	}
	return time.FixedZone("", offset)
}
