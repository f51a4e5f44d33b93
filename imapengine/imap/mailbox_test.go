package imap

import (
	"errors"
	"slices"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

func TestSelectDataApply(t *testing.T) {
	// RFC 3501 §6.3.1 example plus RFC 7162 and RFC 9051 additions.
	lines := []string{
		"* 172 EXISTS\r\n",
		"* 1 RECENT\r\n",
		"* OK [UNSEEN 12] Message 12 is first unseen\r\n",
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
		"* OK [UIDNEXT 4392] Predicted next UID\r\n",
		"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
		"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
		"* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
		"A142 OK [READ-ONLY] EXAMINE completed\r\n",
	}
	var s SelectData
	for _, l := range lines {
		if !s.Apply(resp(t, l)) {
			t.Errorf("Apply(%q) = false", l)
		}
	}
	if s.Exists != 172 || s.Recent != 1 || s.Unseen != 12 || s.UIDValidity != 3857529045 || s.UIDNext != 4392 ||
		s.HighestModSeq != 715194045007 || !s.ReadOnly || len(s.Flags) != 5 || s.Err != nil {
		t.Errorf("%+v", s)
	}
	if !slices.Contains(s.PermanentFlags, FlagWildcard) || !slices.Contains(s.PermanentFlags, FlagDeleted) {
		t.Errorf("permanent flags %v", s.PermanentFlags)
	}
	for _, l := range []string{"* 3 EXPUNGE\r\n", "* VANISHED 1:3\r\n", "* VANISHED (EARLIER) 5:9\r\n", "* OK [CLOSED] x\r\n", "* OK [NOMODSEQ] x\r\n"} {
		if !s.Apply(resp(t, l)) {
			t.Errorf("Apply(%q) = false", l)
		}
	}
	if s.Exists != 168 || !s.Closed || !s.NoModSeq {
		t.Errorf("after updates %+v", s)
	}
	// B10: out-of-range and unrelated responses are not applied.
	for _, l := range []string{"* 4294967296 EXISTS\r\n", "* 0 EXPUNGE\r\n", "* XFOO bar\r\n", "* OK [ALERT] hi\r\n", "* NO [UIDNEXT 5] x\r\n", "* CAPABILITY IMAP4rev1\r\n"} {
		if s.Apply(resp(t, l)) {
			t.Errorf("Apply(%q) = true", l)
		}
	}
	if s.Exists != 168 || s.UIDNext != 4392 {
		t.Errorf("state changed: %+v", s)
	}
	if s.Apply(resp(t, "* OK [UIDVALIDITY 99999999999] x\r\n")) || !errors.Is(s.Err, ErrMalformed) || s.UIDValidity != 3857529045 {
		t.Errorf("bad UIDVALIDITY: %+v", s)
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		raw      string
		utf8     bool
		name     string
		delim    string
		special  string
		noSelect bool
		nameErr  bool
	}{
		{"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", false, "~/Mail/foo", "/", "", true, false},
		{"* LIST () \".\" #news.comp.mail.misc\r\n", false, "#news.comp.mail.misc", ".", "", false, false},
		{"* LIST (\\Noselect) NIL \"\"\r\n", false, "", "", "", true, false},
		{"* LSUB () \"/\" inbox\r\n", false, "INBOX", "/", "", false, false},
		{"* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n", false, "Sent Items", "/", `\Sent`, false, false},
		{"* LIST (\\Marked \\trash) \"/\" Trash\r\n", false, "Trash", "/", `\Trash`, false, false},
		{"* LIST () \"/\" {3}\r\nabc\r\n", false, "abc", "/", "", false, false},
		{"* LIST () \"\\\\\" a\r\n", false, "a", "\\", "", false, false},
		// security.md B9
		{"* LIST () \"/\" \"&Jjo\"\r\n", false, "&Jjo", "/", "", false, true},
		{"* LIST () \"/\" \"&AGE-\"\r\n", false, "&AGE-", "/", "", false, true},
		{"* LIST () \"/\" \"&-&-\"\r\n", false, "&&", "/", "", false, false},
		{"* LIST () \"/\" \"&ZeVnLIqe-\"\r\n", false, "日本語", "/", "", false, false},
		{"* LIST () \"/\" \"Entwürfe\"\r\n", false, "Entwürfe", "/", "", false, true},
		{"* LIST () \"/\" \"Entwürfe\"\r\n", true, "Entwürfe", "/", "", false, false},
		{"* LIST () \"/\" \"Entw\xfcrfe\"\r\n", false, "Entw\uFFFDrfe", "/", "", false, true},
		{"* LIST () \"/\" \"Entw\xfcrfe\"\r\n", true, "Entw\uFFFDrfe", "/", "", false, true},
	}
	for _, tt := range tests {
		ld, err := ParseList(resp(t, tt.raw), testLimits, tt.utf8)
		if err != nil {
			t.Errorf("%q: %v", tt.raw, err)
			continue
		}
		if ld.Name != tt.name || ld.Delim != tt.delim || ld.SpecialUse() != tt.special || ld.NoSelect() != tt.noSelect || (ld.NameErr != nil) != tt.nameErr {
			t.Errorf("%q utf8=%v: %+v", tt.raw, tt.utf8, ld)
		}
		if tt.nameErr && !errors.Is(ld.NameErr, ErrBadMailboxName) {
			t.Errorf("%q: NameErr %v", tt.raw, ld.NameErr)
		}
	}
	ld, err := ParseList(resp(t, "* LIST (\\HasChildren) \"/\" \"Entw\xfcrfe\"\r\n"), testLimits, false)
	if err != nil || string(ld.RawName) != "Entw\xfcrfe" || !ld.HasChildren() {
		t.Errorf("raw name round trip: %v %q", err, ld.RawName)
	}
	ld, err = ParseList(resp(t, "* LIST (\\Subscribed) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (\"Bar\"))\r\n"), testLimits, false)
	if err != nil || ld.OldName != "Bar" || !slices.Equal(ld.ChildInfo, []string{"SUBSCRIBED"}) {
		t.Errorf("extended: %v %+v", err, ld)
	}
	for _, raw := range []string{"* LIST (\\Noselect \"/\" foo\r\n", "* STATUS x (MESSAGES 1)\r\n", "* LIST () \"/\"\r\n"} {
		if _, err := ParseList(resp(t, raw), testLimits, false); err == nil {
			t.Errorf("%q: no error", raw)
		}
	}
}

func TestParseStatus(t *testing.T) {
	sd, err := ParseStatus(resp(t, "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1 UNSEEN 2 RECENT 0 DELETED 4 SIZE 9000000000 HIGHESTMODSEQ 7011231777 X-FOO 3)\r\n"), testLimits, false)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Mailbox != "blurdybloop" || sd.Messages != 231 || sd.UIDNext != 44292 || sd.UIDValidity != 1 || sd.Unseen != 2 ||
		sd.DeletedCount != 4 || sd.Size != 9000000000 || sd.HighestModSeq != 7011231777 || !sd.Has["RECENT"] || !sd.Has["X-FOO"] || sd.Has["APPENDLIMIT"] {
		t.Errorf("%+v", sd)
	}
	sd, err = ParseStatus(resp(t, "* STATUS \"&ZeVnLIqe-\" ()\r\n"), testLimits, false)
	if err != nil || sd.Mailbox != "日本語" || len(sd.Has) != 0 {
		t.Errorf("%v %+v", err, sd)
	}
	for _, raw := range []string{"* STATUS x (MESSAGES 4294967296)\r\n", "* STATUS x (MESSAGES)\r\n", "* STATUS x (MESSAGES \"a\")\r\n", "* LIST () \"/\" x\r\n"} {
		if _, err := ParseStatus(resp(t, raw), testLimits, false); err == nil {
			t.Errorf("%q: no error", raw)
		}
	}
}

func TestParseSearch(t *testing.T) {
	d, err := ParseSearch(resp(t, "* SEARCH 2 3 6\r\n"), testLimits)
	if err != nil || !slices.Equal(d.All, []uint32{2, 3, 6}) || d.ESEARCH {
		t.Errorf("%v %+v", err, d)
	}
	d, err = ParseSearch(resp(t, "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"), testLimits)
	if err != nil || len(d.All) != 10 || d.ModSeq != 917162500 {
		t.Errorf("%v %+v", err, d)
	}
	d, err = ParseSearch(resp(t, "* SEARCH\r\n"), testLimits)
	if err != nil || d.All == nil || len(d.All) != 0 {
		t.Errorf("%v %+v", err, d)
	}
	d, err = ParseSearch(resp(t, "* ESEARCH (TAG \"A5\") UID MIN 1 MAX 9 COUNT 5 ALL 1:3,5 MODSEQ 12\r\n"), testLimits)
	if err != nil || d.Tag != "A5" || !d.UID || !d.HasMin || d.Min != 1 || d.Max != 9 || d.Count != 5 || d.ModSeq != 12 ||
		d.AllUIDs().String() != "1:3,5" || !d.AllUIDs().Contains(2) || d.AllUIDs().Contains(4) {
		t.Errorf("%v %+v", err, d)
	}
	d, err = ParseSearch(resp(t, "* ESEARCH (TAG \"A6\")\r\n"), testLimits)
	if err != nil || d.Tag != "A6" || d.HasCount || d.AllSet != nil {
		t.Errorf("%v %+v", err, d)
	}
	// security.md B11: the set stays one range.
	d, err = ParseSearch(resp(t, "* ESEARCH (TAG \"A5\") UID ALL 1:4294967295\r\n"), testLimits)
	if err != nil || len(d.AllSet) != 1 || d.AllUIDs().Contains(4294967295) != true {
		t.Errorf("%v %+v", err, d)
	}
	if n, ok := d.AllUIDs().Count(); !ok || n != 4294967295 {
		t.Errorf("count %d", n)
	}
	if _, err := d.AllUIDs().Expand(1000); !errors.Is(err, ErrSetTooLarge) {
		t.Errorf("Expand: %v", err)
	}
	for _, raw := range []string{"* SEARCH 1 x\r\n", "* SEARCH 4294967296\r\n", "* ESEARCH ALL 0:3\r\n", "* ESEARCH (TAG \"x\") MIN\r\n"} {
		if _, err := ParseSearch(resp(t, raw), testLimits); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v", raw, err)
		}
	}
}

func TestParseListLimits(t *testing.T) {
	// A hostile depth of attribute lists is bounded by the Scanner.
	raw := "* LIST (" + string(make([]byte, 0)) + "((((((((((x)))))))))) \"/\" a\r\n"
	if _, err := ParseList(resp(t, raw), imapwire.Limits{MaxDepth: 5}, false); !errors.Is(err, imapwire.ErrTooDeep) {
		t.Errorf("err %v", err)
	}
}
