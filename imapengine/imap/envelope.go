package imap

import (
	"net/mail"
	"strings"
	"time"
)

// Address is one address of an envelope (RFC 3501 §7.4.2). Name is the
// display name decoded to UTF-8; Route is the obsolete source route (adl).
//
// RFC 2822 groups are sent as markers: a group start has a NIL host and
// the group name in the mailbox field, a group end has both NIL. They are
// kept in the list with GroupStart or GroupEnd set (Mailbox holds the
// group name on the start marker), and every address between them has
// Group set to the group's name.
type Address struct {
	Name, Route, Mailbox, Host string
	// Group is the name of the group this address belongs to, "" if none.
	// It is also set on the group's markers.
	Group string
	// GroupStart marks the start of group Mailbox.
	GroupStart bool
	// GroupEnd marks the end of the current group.
	GroupEnd bool
}

// Addr returns "mailbox@host", the mailbox alone if there is no host, and
// "" for group markers.
func (a Address) Addr() string {
	if a.GroupStart || a.GroupEnd {
		return ""
	}
	if a.Host == "" {
		return a.Mailbox
	}
	return a.Mailbox + "@" + a.Host
}

// IsGroupMarker reports whether a is the start or end of a group rather
// than an address.
func (a Address) IsGroupMarker() bool { return a.GroupStart || a.GroupEnd }

// String formats a for display: `Name <mailbox@host>` or the bare address.
func (a Address) String() string {
	switch {
	case a.GroupStart:
		return a.Mailbox + ":"
	case a.GroupEnd:
		return ";"
	case a.Name == "":
		return a.Addr()
	}
	return (&mail.Address{Name: a.Name, Address: a.Addr()}).String()
}

// Envelope is the ENVELOPE of a message (RFC 3501 §7.4.2), with its text
// decoded to UTF-8.
type Envelope struct {
	// Date is the Date header as sent.
	Date string
	// Time is Date parsed, or the zero time if it cannot be parsed.
	Time time.Time
	// Subject is the subject with RFC 2047 encoded words decoded.
	Subject string
	// Address lists; nil when the server sent NIL.
	From, Sender, ReplyTo, To, Cc, Bcc []Address
	// InReplyTo and MessageID are the raw header values.
	InReplyTo, MessageID string
	// Lossy is set when some text was not valid UTF-8 or was in an
	// undecodable charset; such bytes were replaced with U+FFFD.
	Lossy bool
}

// dateLayouts are tried after net/mail.ParseDate fails, on the date with
// comments removed and spaces collapsed.
var dateLayouts = []string{
	"Mon, _2 Jan 2006 15:04:05 -0700",
	"_2 Jan 2006 15:04:05 -0700",
	"Mon, _2 Jan 2006 15:04:05 MST",
	"_2 Jan 2006 15:04:05 MST",
	"Mon, _2 Jan 2006 15:04 -0700",
	"_2 Jan 2006 15:04 -0700",
	"Mon, _2 Jan 06 15:04:05 -0700",
	"_2 Jan 06 15:04:05 -0700",
	"Mon, _2 Jan 2006 15:04:05",
	"_2 Jan 2006 15:04:05",
	"Mon, _2 Jan 2006 15:04:05 -0700 MST",
	"Mon _2 Jan 2006 15:04:05 -0700",
	"Mon, _2-Jan-2006 15:04:05 -0700",
	"_2-Jan-2006 15:04:05 -0700",
	"Mon Jan _2 15:04:05 2006",
	"Mon Jan _2 15:04:05 MST 2006",
	time.RFC3339,
}

// maxDateLen bounds the Date text that is parsed at all.
const maxDateLen = 200

// ParseDate parses a message Date header leniently: RFC 5322 syntax via
// net/mail.ParseDate, then common deviations (comments, two-digit years,
// missing seconds, missing zone taken as UTC, ctime form). It returns the
// zero time if nothing fits.
func ParseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxDateLen {
		return time.Time{}
	}
	if t, ok := fastDate(s); ok {
		return t
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	c := cleanDate(s)
	if t, err := mail.ParseDate(c); err == nil {
		return t
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, c); err == nil {
			return t
		}
	}
	return time.Time{}
}

// cleanDate removes comments in parentheses, a trailing "UT"-style zone
// spelled in a way time.Parse rejects, and repeated spaces.
func cleanDate(s string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '\t':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	out = strings.TrimSuffix(out, " UT")
	return strings.TrimSuffix(out, ",")
}
