package imap

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// rfc3501Fetch is the FETCH example of RFC 3501 §7.4.2.
const rfc3501Fetch = "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" " +
	"RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" " +
	"\"IMAP4rev1 WG mtg summary and minutes\" " +
	"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " +
	"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " +
	"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " +
	"((NIL NIL \"imap\" \"cac.washington.edu\")) " +
	"((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")" +
	"(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL " +
	"\"<B27397-0100000@cac.washington.edu>\") " +
	"BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n"

func TestParseFetchRFC3501(t *testing.T) {
	m, err := ParseFetch(resp(t, rfc3501Fetch), testLimits)
	if err != nil || m.Err != nil {
		t.Fatalf("ParseFetch: %v / %v", err, m.Err)
	}
	if m.Seq != 12 || !m.HasFlags || len(m.Flags) != 1 || m.Flags[0] != FlagSeen || !m.HasSize || m.Size != 4286 {
		t.Errorf("basic items: %+v", m)
	}
	want := time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600))
	if !m.InternalDate.Equal(want) {
		t.Errorf("INTERNALDATE %v, want %v", m.InternalDate, want)
	}
	e := m.Envelope
	if e == nil {
		t.Fatal("no envelope")
	}
	if e.Subject != "IMAP4rev1 WG mtg summary and minutes" || e.MessageID != "<B27397-0100000@cac.washington.edu>" {
		t.Errorf("envelope %+v", e)
	}
	if !e.Time.Equal(time.Date(1996, 7, 17, 9, 23, 25, 0, time.UTC)) {
		t.Errorf("envelope time %v", e.Time)
	}
	if len(e.From) != 1 || e.From[0].Name != "Terry Gray" || e.From[0].Addr() != "gray@cac.washington.edu" {
		t.Errorf("from %+v", e.From)
	}
	if len(e.Cc) != 2 || e.Cc[1].Addr() != "KLENSIN@MIT.EDU" || e.Bcc != nil || e.InReplyTo != "" {
		t.Errorf("cc/bcc %+v %+v", e.Cc, e.Bcc)
	}
	b := m.BodyStructure
	if b == nil || b.MediaType() != "text/plain" || b.Params["charset"] != "US-ASCII" || b.Size != 3028 ||
		b.Lines != 92 || b.Encoding != "7bit" || b.PartNumber != "1" {
		t.Errorf("body %+v", b)
	}
}

func TestParseFetchItems(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		check func(t *testing.T, m *Message)
	}{
		{"uid and modseq (RFC 7162)", "* 50 FETCH (MODSEQ (12111230047) UID 4 FLAGS (\\Deleted $Junk))\r\n", func(t *testing.T, m *Message) {
			if m.ModSeq != 12111230047 || m.UID != 4 || len(m.Flags) != 2 || m.Flags[1] != "$Junk" {
				t.Errorf("%+v", m)
			}
		}},
		{"empty flags", "* 1 FETCH (FLAGS ())\r\n", func(t *testing.T, m *Message) {
			if !m.HasFlags || m.Flags == nil || len(m.Flags) != 0 {
				t.Errorf("%+v", m)
			}
		}},
		{"body literal", "* 2 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n", func(t *testing.T, m *Message) {
			s := m.Section("")
			if s == nil || string(s.Data) != "hello" || s.Partial || s.NIL || m.UID != 9 {
				t.Errorf("%+v", m.Sections)
			}
		}},
		{"header fields partial", "* 3 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {4}\r\nabcd)\r\n", func(t *testing.T, m *Message) {
			s := m.Section("HEADER.FIELDS (DATE FROM)")
			if s == nil || !s.Partial || s.Origin != 0 || string(s.Data) != "abcd" || s.Item != "BODY[HEADER.FIELDS (DATE FROM)]<0>" {
				t.Errorf("%+v", m.Sections)
			}
		}},
		{"origin", "* 3 FETCH (BODY[1.2]<1024> \"xy\")\r\n", func(t *testing.T, m *Message) {
			s := m.Section("1.2")
			if s == nil || !s.Partial || s.Origin != 1024 || string(s.Data) != "xy" {
				t.Errorf("%+v", m.Sections)
			}
		}},
		{"NIL section", "* 4 FETCH (BODY[2] NIL)\r\n", func(t *testing.T, m *Message) {
			if s := m.Section("2"); s == nil || !s.NIL || s.Data != nil {
				t.Errorf("%+v", m.Sections)
			}
		}},
		{"binary literal8", "* 5 FETCH (BINARY[1] ~{3}\r\na\x00b BINARY.SIZE[1] 3)\r\n", func(t *testing.T, m *Message) {
			s := m.Section("1")
			if s == nil || !s.Binary || string(s.Data) != "a\x00b" || m.BinarySize["1"] != 3 {
				t.Errorf("%+v %v", m.Sections, m.BinarySize)
			}
		}},
		{"rfc822 items", "* 6 FETCH (RFC822.HEADER {2}\r\nh: RFC822.TEXT \"t\" RFC822 NIL)\r\n", func(t *testing.T, m *Message) {
			if m.Section("HEADER") == nil || string(m.Section("TEXT").Data) != "t" || len(m.Sections) != 3 {
				t.Errorf("%+v", m.Sections)
			}
		}},
		{"unknown items skipped", "* 7 FETCH (X-FOO 12 PREVIEW \"hi\" UID 3 EMAILID (M6d99ac3275bb4e))\r\n", func(t *testing.T, m *Message) {
			if m.UID != 3 || m.EmailID != "M6d99ac3275bb4e" {
				t.Errorf("%+v", m)
			}
		}},
		// Google's "IMAP Extensions" (developers.google.com/gmail/imap/imap-extensions):
		// "Access to the Gmail unique message ID: X-GM-MSGID", "... thread ID:
		// X-GM-THRID", "... labels: X-GM-LABELS" (its a010 FETCH example).
		{"gmail items", "* 7 FETCH (X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\") UID 3)\r\n", func(t *testing.T, m *Message) {
			if m.UID != 3 || m.GmailMsgID != 1278455344230334865 || m.GmailThreadID != 1266894439832287888 || !m.HasGmailLabels ||
				!slices.Equal(m.GmailLabels, []string{`\Inbox`, `\Sent`, "Important", "Muy Importante"}) {
				t.Errorf("%+v", m)
			}
		}},
		{"gmail empty labels", "* 3 FETCH (X-GM-LABELS ())\r\n", func(t *testing.T, m *Message) {
			if !m.HasGmailLabels || len(m.GmailLabels) != 0 || m.Err != nil {
				t.Errorf("%+v", m)
			}
		}},
		{"lower-case keys", "* 8 fetch (uid 5 rfc822.size 10)\r\n", func(t *testing.T, m *Message) {
			if m.UID != 5 || m.Size != 10 {
				t.Errorf("%+v", m)
			}
		}},
		{"space-padded date", "* 9 FETCH (INTERNALDATE \" 7-Feb-2024 09:05:01 +0000\")\r\n", func(t *testing.T, m *Message) {
			if m.InternalDate.Day() != 7 {
				t.Errorf("%v", m.InternalDate)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseFetch(resp(t, tt.raw), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			if m.Err != nil {
				t.Fatalf("Message.Err: %v", m.Err)
			}
			tt.check(t, m)
		})
	}
}

func TestParseFetchMalformedItem(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantUID UID
		after   bool // an item after the bad one is still parsed
	}{
		{"syntax error keeps earlier items", "* 3 FETCH (UID 7 RFC822.SIZE abc FLAGS (\\Seen))\r\n", 7, true},
		{"bad date keeps going", "* 3 FETCH (UID 7 INTERNALDATE \"yesterday\" FLAGS (\\Seen))\r\n", 7, true},
		{"short envelope", "* 3 FETCH (UID 7 ENVELOPE (NIL \"s\") FLAGS (\\Seen))\r\n", 7, true},
		{"broken list", "* 3 FETCH (UID 7 ENVELOPE (\"d\" \"s\" ((\"x\" NIL \"a\" \"b\"\r\n", 7, false},
		{"number overflow", "* 3 FETCH (UID 7 RFC822.SIZE 99999999999 FLAGS (\\Seen))\r\n", 7, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseFetch(resp(t, tt.raw), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			if m.Err == nil || !errors.Is(m.Err, ErrMalformed) {
				t.Fatalf("Message.Err = %v, want ErrMalformed", m.Err)
			}
			if !strings.HasPrefix(m.Err.Error(), "imap: ") {
				t.Errorf("error text %q", m.Err)
			}
			if m.UID != tt.wantUID || m.Seq != 3 {
				t.Errorf("UID %d seq %d", m.UID, m.Seq)
			}
			if tt.after && !m.HasFlags {
				t.Errorf("later FLAGS lost")
			}
		})
	}
}

func TestParseFetchNotFetch(t *testing.T) {
	tests := []struct {
		raw  string
		want error
	}{
		{"* 3 EXISTS\r\n", ErrUnexpectedResponse},
		{"A1 OK done\r\n", ErrUnexpectedResponse},
		{"* OK [ALERT] x\r\n", ErrUnexpectedResponse},
		{"* 12345678901 FETCH (UID 1)\r\n", ErrMalformed},
		{"* 0 FETCH (UID 1)\r\n", ErrMalformed},
	}
	for _, tt := range tests {
		_, err := ParseFetch(resp(t, tt.raw), testLimits)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: err %v, want %v", tt.raw, err, tt.want)
		}
	}
	var se *imapwire.SyntaxError
	_, err := ParseFetch(resp(t, "* 12345678901 FETCH (UID 1)\r\n"), testLimits)
	if !errors.As(err, &se) || !errors.Is(err, imapwire.ErrNumberRange) {
		t.Errorf("errors.As SyntaxError: %v", err)
	}
	if _, err := ParseFetch(nil, testLimits); !errors.Is(err, ErrUnexpectedResponse) {
		t.Errorf("nil response: %v", err)
	}
}

// TestBodySectionSpec: Spec reads the section specification from the item
// name as ParseFetch used to store it.
func TestBodySectionSpec(t *testing.T) {
	for item, want := range map[string]string{
		"BODY[1.2]<0>":                       "1.2",
		"BODY[]":                             "",
		"body[text]":                         "text",
		"BINARY[3]":                          "3",
		"BODY[HEADER.FIELDS (DATE FROM)]<5>": "HEADER.FIELDS (DATE FROM)",
		"BODY[HEADER.FIELDS (X-[A]])]":       "HEADER.FIELDS (X-[A]])",
		"RFC822":                             "",
		"RFC822.HEADER":                      "HEADER",
		"rfc822.text":                        "TEXT",
	} {
		if got := (BodySection{Item: item}).Spec(); got != want {
			t.Errorf("%q: Spec() = %q, want %q", item, got, want)
		}
	}
	r := resp(t, "* 1 FETCH (RFC822.HEADER {2}\r\nab BODY[1]<7> \"c\")\r\n")
	m, err := ParseFetch(r, imapwire.Limits{})
	if err != nil || m.Err != nil || len(m.Sections) != 2 {
		t.Fatalf("%v %+v", err, m)
	}
	if s := m.Section("HEADER"); s == nil || string(s.Data) != "ab" || s.Item != "RFC822.HEADER" {
		t.Errorf("HEADER: %+v", s)
	}
	if s := m.Section("1"); s == nil || string(s.Data) != "c" || !s.Partial || s.Origin != 7 {
		t.Errorf("1: %+v", s)
	}
}
