package imap

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// fuzzLimits keeps fuzz inputs cheap while exercising the limits.
var fuzzLimits = imapwire.Limits{MaxLineLength: 8192, MaxLiteralSize: 8192, MaxResponseSize: 32768, MaxDepth: 30}

// fetchSeeds are FETCH responses from the RFCs and security.md.
var fetchSeeds = []string{
	rfc3501Fetch,
	"* 50 FETCH (MODSEQ (12111230047) UID 4 FLAGS (\\Deleted $Junk))\r\n",
	"* 2 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n",
	"* 3 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {4}\r\nabcd)\r\n",
	"* 5 FETCH (BINARY[1] ~{3}\r\na\x00b BINARY.SIZE[1] 3)\r\n",
	"* 3 FETCH (UID 7 RFC822.SIZE abc FLAGS (\\Seen))\r\n",
	"* 12345678901 FETCH (UID 1)\r\n",
	"* 1 FETCH (ENVELOPE (NIL \"=?UTF-8?B?w6k=?=\" ((NIL NIL \"g\" NIL)(\"=?koi8-r?B?8NLJ18XU?=\" NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL))\r\n",
	"* 1 FETCH (X-GM-LABELS (\\Inbox) EMAILID (M1) INTERNALDATE \" 7-Feb-2024 09:05:01 +0000\")\r\n",
}

// bodySeeds are BODYSTRUCTURE values.
var bodySeeds = []string{
	`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)`,
	`(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<x@y>" "Compiler diff" "BASE64" 4554 73) "MIXED")`,
	`("application" "pdf" ("name*0*" "UTF-8''%E2%82%AC" "name*1" " x.pdf") NIL NIL "base64" 5 NIL ("attachment" ("filename*" "iso-8859-1''%FC")) ("en" "de") "loc")`,
	nestedMessage(3),
	`(("text" "plain" NIL NIL NIL "7bit" 1 1)(("text" "plain" NIL NIL NIL "7bit" 1 1) "alternative") "mixed" ("boundary" "b") ("inline" NIL) "en" NIL (1 2))`,
}

// checkErr fails if err is not one of the package's error kinds.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnexpectedResponse) {
		t.Fatalf("untyped error %v", err)
	}
	if !strings.HasPrefix(err.Error(), "imap: ") {
		t.Fatalf("error text %q", err)
	}
}

func FuzzParseFetch(f *testing.F) {
	for _, s := range fetchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := tryResp(raw, fuzzLimits)
		if r == nil {
			return
		}
		m, err := ParseFetch(r, fuzzLimits)
		checkErr(t, err)
		if err == nil {
			if m == nil || m.Seq == 0 {
				t.Fatalf("nil message or seq 0 without error")
			}
			checkErr(t, m.Err)
			m.BodyStructure.Walk(func(b *BodyStructure) bool { _ = b.Filename(); _ = b.IsAttachment(); return true })
		}
	})
}

func FuzzParseBodyStructure(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := tryResp([]byte("* 1 FETCH (BODYSTRUCTURE "+body+")\r\n"), fuzzLimits)
		if r == nil {
			return
		}
		m, err := ParseFetch(r, fuzzLimits)
		checkErr(t, err)
		if err != nil {
			return
		}
		checkErr(t, m.Err)
		m.BodyStructure.Walk(func(b *BodyStructure) bool {
			for k, v := range b.Params {
				if !validString(k) || !validString(v) {
					t.Fatalf("invalid UTF-8 param %q=%q", k, v)
				}
			}
			for _, txt := range append([]string{b.Type, b.Subtype, b.Disposition, b.Filename(), b.Description}, b.Language...) {
				if !validString(txt) {
					t.Fatalf("invalid UTF-8 %q", txt)
				}
			}
			return true
		})
	})
}

// validString reports whether s is valid UTF-8.
func validString(s string) bool { return strings.ToValidUTF8(s, "") == s }

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", "* LIST () NIL \"\"\r\n", "* LSUB () \"/\" inbox\r\n",
		"* LIST () \"/\" \"&Jjo\"\r\n", "* LIST () \"/\" \"Entw\xfcrfe\"\r\n", "* LIST () \"/\" {3}\r\nabc\r\n",
		"* LIST (\\Subscribed) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (\"Bar\"))\r\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, utf8 bool) {
		r := tryResp(raw, fuzzLimits)
		if r == nil {
			return
		}
		ld, err := ParseList(r, fuzzLimits, utf8)
		checkErr(t, err)
		if err == nil {
			if !validString(ld.Name) {
				t.Fatalf("invalid UTF-8 name %q", ld.Name)
			}
			_ = ld.SpecialUse()
		}
	})
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{
		"* SEARCH 2 3 6\r\n", "* SEARCH 2 5 (MODSEQ 917162500)\r\n", "* SEARCH\r\n",
		"* ESEARCH (TAG \"A5\") UID MIN 1 MAX 9 COUNT 5 ALL 1:3,5\r\n", "* ESEARCH (TAG \"A5\") UID ALL 1:4294967295\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := tryResp(raw, fuzzLimits)
		if r == nil {
			return
		}
		d, err := ParseSearch(r, fuzzLimits)
		checkErr(t, err)
		if err == nil {
			_, _ = d.AllUIDs().Expand(1000)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n", "* STATUS \"&ZeVnLIqe-\" ()\r\n",
		"* STATUS x (SIZE 9000000000 HIGHESTMODSEQ 7011231777 X-FOO 3)\r\n", "* STATUS {1}\r\nx (MESSAGES 4294967296)\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := tryResp(raw, fuzzLimits)
		if r == nil {
			return
		}
		_, err := ParseStatus(r, fuzzLimits, false)
		checkErr(t, err)
	})
}
