package imapengine

import (
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

func TestSolicitedFetchUID(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string // response lines; a literal sits between each two
		seq, uid uint32
		ok       bool
	}{
		{"uid only", []string{"* 3 FETCH (UID 17)"}, 3, 17, true},
		{"after flags", []string{`* 1 FETCH (FLAGS (\Seen UID) UID 9 RFC822.SIZE 10)`}, 1, 9, true},
		{"lower case", []string{"* 2 FETCH (uid 5)"}, 2, 5, true},
		{"uid in a quoted string", []string{`* 1 FETCH (ENVELOPE ("d" "UID 5" NIL NIL NIL NIL NIL NIL NIL NIL) UID 6)`}, 1, 6, true},
		{"quoted with escapes", []string{`* 1 FETCH (X-A "a\" UID 4 \\" UID 8)`}, 1, 8, true},
		{"uid in a section", []string{"* 1 FETCH (BODY[HEADER.FIELDS (UID)] {3}", " UID 12)"}, 1, 12, true},
		{"after a literal", []string{"* 4 FETCH (RFC822 {5}", " UID 44)"}, 4, 44, true},
		{"literal holds uid", []string{"* 4 FETCH (RFC822 {5}", ")"}, 0, 0, false},
		{"origin and NIL value", []string{"* 1 FETCH (BODY[]<0> NIL UID 3)"}, 1, 3, true},
		{"NIL section value", []string{"* 1 FETCH (BODY[] NIL UID 3)"}, 1, 3, true},
		{"uid as a value", []string{"* 1 FETCH (X-KIND UID RFC822.SIZE 3)"}, 0, 0, false},
		{"no uid", []string{"* 1 FETCH (FLAGS ())"}, 0, 0, false},
		{"uid zero", []string{"* 1 FETCH (UID 0)"}, 0, 0, false},
		{"uid overflow", []string{"* 1 FETCH (UID 4294967296)"}, 0, 0, false},
		{"uid max", []string{"* 1 FETCH (UID 4294967295)"}, 1, 4294967295, true},
		{"uid without number", []string{"* 1 FETCH (UID NIL)"}, 0, 0, false},
		{"uid at end of line", []string{"* 1 FETCH (UID"}, 0, 0, false},
		{"after the list", []string{"* 1 FETCH (FLAGS ()) UID 5"}, 0, 0, false},
		{"no list", []string{"* 1 FETCH UID 5"}, 0, 0, false},
		{"no number", []string{"* FETCH (UID 5)"}, 0, 0, false},
		{"unbalanced", []string{"* 1 FETCH (FLAGS ((((("}, 0, 0, false},
		{"unterminated quote", []string{`* 1 FETCH (X "abc`}, 0, 0, false},
		{"trailing backslash", []string{`* 1 FETCH (X "abc\`}, 0, 0, false},
	}
	for _, tt := range tests {
		resp := &imapwire.Response{}
		for i, l := range tt.lines {
			resp.Lines = append(resp.Lines, []byte(l))
			if i > 0 {
				resp.Literals = append(resp.Literals, []byte(strings.Repeat("x", 5)))
			}
		}
		seq, uid, ok := solicitedFetchUID(resp)
		if seq != tt.seq || uid != tt.uid || ok != tt.ok {
			t.Errorf("%s: got %d, %d, %v; want %d, %d, %v", tt.name, seq, uid, ok, tt.seq, tt.uid, tt.ok)
		}
	}
}

// TestMatchUntaggedInPlace: assembling imaplib's data in place gives the same
// type and data as the copying form, for every shape of untagged line.
func TestMatchUntaggedInPlace(t *testing.T) {
	for _, line := range []string{
		"* 12 FETCH (UID 7 FLAGS (\\Seen))",
		"* 1 FETCH (BODY[] {5}",
		"* 3 EXISTS",
		"* 4 EXPUNGE ",
		"* 1234567890 FETCH (X)",
		"* OK [UIDVALIDITY 3] ok",
		"* SEARCH 1 2 3",
		"* CAPABILITY",
		"* 7 X-GM-LABELS (a b)",
		"* 12",
		"* fetch",
		"+ go ahead",
		"",
	} {
		typ, data, ok := matchUntagged([]byte(line))
		buf := []byte(line)
		typ2, data2, ok2 := matchUntaggedIn(buf, true)
		if typ != typ2 || string(data) != string(data2) || ok != ok2 {
			t.Errorf("%q: copy (%q, %q, %v), in place (%q, %q, %v)", line, typ, data, ok, typ2, data2, ok2)
		}
		// In place, the data ends where the line ends: the bytes after the
		// type never move, so anything parsed from them stays valid.
		hasData := ok && !strings.HasSuffix(strings.TrimRight(line, " "), typ)
		if hasData && &data2[len(data2)-1] != &buf[len(buf)-1] {
			t.Errorf("%q: in-place data does not end at the line's end", line)
		}
		if typ3, ok3 := untaggedType([]byte(line)); typ3 != typ || ok3 != ok {
			t.Errorf("%q: untaggedType = %q, %v", line, typ3, ok3)
		}
	}
}
