package imap

import (
	"testing"
	"time"
)

// fetchEnvelope parses "* 1 FETCH (ENVELOPE <env>)".
func fetchEnvelope(t *testing.T, env string) *Envelope {
	t.Helper()
	m, err := ParseFetch(resp(t, "* 1 FETCH (ENVELOPE "+env+")\r\n"), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if m.Err != nil {
		t.Fatalf("Message.Err: %v", m.Err)
	}
	return m.Envelope
}

func TestEnvelopeText(t *testing.T) {
	tests := []struct {
		name      string
		subject   string // as sent, inside quotes
		fromName  string
		want      string
		wantName  string
		wantLossy bool
	}{
		{"plain", "hello", "Bob", "hello", "Bob", false},
		{"Q utf-8", "=?UTF-8?Q?caf=C3=A9?=", "Bob", "café", "Bob", false},
		{"B iso-8859-1", "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=", "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=",
			"If you can read this you understand the example.", "Keld Jørn Simonsen", false},
		{"koi8-r", "=?koi8-r?B?8NLJ18XU?=", "x", "Привет", "x", false},
		{"shift_jis", "=?Shift_JIS?B?k/qWe4zq?=", "x", "日本語", "x", false},
		{"gb2312", "=?GB2312?B?1tDOxA==?=", "x", "中文", "x", false},
		{"windows-1252", "=?windows-1252?Q?=80uro?=", "x", "€uro", "x", false},
		{"raw utf-8", "Grüße", "Jürgen", "Grüße", "Jürgen", false},
		{"raw latin-1", "Gr\xfc\xdfe", "x", "Gr\uFFFDe", "x", true},
		{"unknown charset", "=?x-unknown?Q?abc?=", "x", "=?x-unknown?Q?abc?=", "x", true},
		{"bad utf-8 in word", "=?UTF-8?Q?a=FFb?=", "x", "a\uFFFDb", "x", true},
		{"malformed word kept", "=?UTF-8?Q?abc", "x", "=?UTF-8?Q?abc", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fetchEnvelope(t, `(NIL "`+tt.subject+`" (("`+tt.fromName+`" NIL "a" "b.example")) NIL NIL NIL NIL NIL NIL NIL)`)
			if e.Subject != tt.want || e.From[0].Name != tt.wantName || e.Lossy != tt.wantLossy {
				t.Errorf("subject %q name %q lossy %v; want %q %q %v", e.Subject, e.From[0].Name, e.Lossy, tt.want, tt.wantName, tt.wantLossy)
			}
		})
	}
}

func TestEnvelopeGroups(t *testing.T) {
	e := fetchEnvelope(t, `(NIL NIL NIL NIL NIL ((NIL NIL "team" NIL)(NIL NIL "a" "x.org") (NIL NIL "b" "x.org")(NIL NIL NIL NIL)("C" NIL "c" "y.org")) NIL NIL NIL NIL)`)
	if len(e.To) != 5 {
		t.Fatalf("%+v", e.To)
	}
	if !e.To[0].GroupStart || e.To[0].Mailbox != "team" || !e.To[0].IsGroupMarker() || e.To[0].Addr() != "" {
		t.Errorf("start %+v", e.To[0])
	}
	if e.To[1].Group != "team" || e.To[2].Group != "team" || e.To[1].Addr() != "a@x.org" {
		t.Errorf("members %+v %+v", e.To[1], e.To[2])
	}
	if !e.To[3].GroupEnd || e.To[4].Group != "" || e.To[4].String() != `"C" <c@y.org>` {
		t.Errorf("end %+v %+v %q", e.To[3], e.To[4], e.To[4].String())
	}
	if e.From != nil || e.Time != (time.Time{}) {
		t.Errorf("NIL fields: %+v", e)
	}
}

func TestEnvelopeEmptyAddressList(t *testing.T) {
	e := fetchEnvelope(t, `(NIL NIL () NIL NIL NIL NIL NIL NIL NIL)`)
	if e.From == nil || len(e.From) != 0 {
		t.Errorf("%+v", e.From)
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", utc(1996, 7, 17, 9, 23, 25)},
		{"Mon, 7 Feb 1994 21:52:25 -0800", utc(1994, 2, 8, 5, 52, 25)},
		{"7 Feb 1994 21:52:25 GMT", utc(1994, 2, 7, 21, 52, 25)},
		{"Mon,  7 Feb 1994 21:52:25 +0000 (UTC)", utc(1994, 2, 7, 21, 52, 25)},
		{"Mon, 07 Feb 94 21:52:25 +0000", utc(1994, 2, 7, 21, 52, 25)},
		{"Mon, 7 Feb 1994 21:52 +0000", utc(1994, 2, 7, 21, 52, 0)},
		{"Mon, 7 Feb 1994 21:52:25", utc(1994, 2, 7, 21, 52, 25)},
		{"Mon Feb  7 21:52:25 1994", utc(1994, 2, 7, 21, 52, 25)},
		{"Mon, 7 Feb 1994 21:52:25 UT", utc(1994, 2, 7, 21, 52, 25)},
		{"2024-02-07T21:52:25Z", utc(2024, 2, 7, 21, 52, 25)},
		{"yesterday", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		if got := ParseDate(tt.in); !got.Equal(tt.want) {
			t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
