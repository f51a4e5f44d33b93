package imapwire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// fuzzLimits keeps fuzz inputs cheap while exercising every limit.
var fuzzLimits = Limits{MaxLineLength: 4096, MaxLiteralSize: 8192, MaxResponseSize: 16384, MaxDepth: 20}

// rfcSeeds are responses from RFC 3501 / RFC 9051 examples and from the
// hostile inputs of security.md section B.
var rfcSeeds = []string{
	"* OK IMAP4rev1 Service Ready\r\n",
	"* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
	"* 172 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 12] Message 12 is first unseen\r\n",
	"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* OK [UIDNEXT 4392] Predicted next UID\r\n",
	"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
	"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
	"A142 OK [READ-WRITE] SELECT completed\r\n",
	"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
	"* LIST () \"/\" {3}\r\nabc\r\n",
	"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
	"* SEARCH 2 84 882\r\n",
	"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
	"* 12 FETCH (BODY[HEADER] {342}\r\n" + strings.Repeat("h", 342) + ")\r\n",
	"* 1 FETCH (BODY[HEADER] {13}\r\nSubject: test\r\n\r\n)\r\n",
	"* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\nA1 OK\r\n",
	"* 1 FETCH (BINARY[] ~{3}\r\na\x00b)\r\n",
	"* ESEARCH (TAG \"A5\") UID ALL 1:4294967295\r\n",
	"A3 OK [COPYUID 1 1:5 100:*] done\r\n",
	"* VANISHED (EARLIER) 1:*\r\n",
	"* ID (\"name\" NIL \"x\" {3}\r\nabc)\r\n",
	"* 4294967296 EXISTS\r\n",
	"* 12345678901 FETCH (UID 1)\r\n",
	"* LIST () \"/\" \"a\x00b\"\r\n",
	"* OK {99999999999999999999}\r\n",
	"* OK {-1}\r\n* OK { 5}\r\n",
	"* 1 FETCH (BODYSTRUCTURE " + strings.Repeat("(", 50) + "\r\n",
	"* 1 FETCH (X-GM-LABELS (\\Inbox \"[Gmail]/Important\") X-GM-MSGID 1278455344230334865)\r\n",
	"* OK 9.3736e+06\r\n",
	"+ idling\r\n",
	"* BYE\r\n",
}

func FuzzReadResponse(f *testing.F) {
	for _, s := range rfcSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), fuzzLimits)
		sc := NewScanner(nil, fuzzLimits)
		for i := 0; i < 1000; i++ {
			resp, err := r.ReadResponse()
			if err != nil {
				if err != io.EOF && !strings.HasPrefix(err.Error(), "imapwire: ") {
					t.Fatalf("error without package prefix: %v", err)
				}
				return
			}
			if len(resp.Lines) != len(resp.Literals)+1 {
				t.Fatalf("framing invariant: %d lines, %d literals", len(resp.Lines), len(resp.Literals))
			}
			if resp.Size() > fuzzLimits.MaxResponseSize {
				t.Fatalf("response of %d bytes", resp.Size())
			}
			sc.Reset(resp)
			for steps := 0; !sc.AtEnd(); steps++ {
				if steps > len(data)+1 {
					t.Fatal("scanner makes no progress")
				}
				sc.Value()
				sc.Byte(' ')
			}
			if err := sc.Err(); err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("scanner error %T", err)
				}
			}
		}
	})
}

func FuzzScannerValue(f *testing.F) {
	for _, s := range rfcSeeds {
		f.Add([]byte(strings.TrimSuffix(s, "\r\n")), []byte("lit\x00"))
	}
	f.Fuzz(func(t *testing.T, line, lit []byte) {
		// One response line, optionally followed by a literal.
		r := &Response{Lines: [][]byte{line}}
		if _, ok, _ := literalSize(line); ok {
			r = &Response{Lines: [][]byte{line, []byte(")")}, Literals: [][]byte{lit}}
		}
		s := NewScanner(r, fuzzLimits)
		for steps := 0; !s.AtEnd(); steps++ {
			if steps > len(line)+2 {
				t.Fatal("no progress")
			}
			sk := *s // Skip consumes what Value does, building nothing
			sk.Skip()
			v := s.Value()
			if s.Err() == nil && sk.Err() == nil && (sk.li != s.li || sk.pos != s.pos) {
				t.Fatalf("Skip stopped at line %d offset %d, Value at line %d offset %d", sk.li, sk.pos, s.li, s.pos)
			}
			if s.Err() == nil && v.Kind == ValueList && depthOf(v) > fuzzLimits.MaxDepth {
				t.Fatalf("depth %d over limit", depthOf(v))
			}
			s.Byte(' ')
		}
	})
}

// depthOf returns the list nesting depth of v.
func depthOf(v Value) int {
	d := 0
	for _, e := range v.List {
		d = max(d, depthOf(e))
	}
	if v.Kind == ValueList {
		d++
	}
	return d
}

func FuzzSeqSet(f *testing.F) {
	for _, s := range []string{"1", "*", "1:4294967295", "1:3,7,9:*", "4:2", "0", "1,,2", "99999999999", "5:*,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseSeqSet(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrNumberRange) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(set) > len(s) {
			t.Fatalf("%d ranges from %d bytes", len(set), len(s))
		}
		again, err := ParseSeqSet(set.String())
		if err != nil || again.String() != set.String() {
			t.Fatalf("round trip %q -> %q: %v", s, set.String(), err)
		}
		for _, r := range set {
			set.Contains(r.Start)
			set.Contains(r.Stop)
		}
	})
}

func FuzzAString(f *testing.F) {
	for _, s := range []string{"INBOX", "New folder", `a"b`, `a\b`, "", "*", "%", `"New folder"`, `""`, `"a\b"`,
		`"a" SELECT evil "`, `"`, "a\tb", "\x7f", "(a)", "Entw\xc3\xbcrfe", "{5}", "a]b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := AString(in)
		if AString(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, AString(out))
		}
		if CheckArg(in) != nil {
			return
		}
		if IsQuoted(in) {
			if out != in {
				t.Fatalf("quoted input changed: %q -> %q", in, out)
			}
			return
		}
		s := NewScanner(&Response{Lines: [][]byte{[]byte(out)}}, Limits{})
		got := s.AString()
		if s.Err() != nil || !s.AtEnd() || string(got) != in {
			t.Fatalf("AString(%q) = %q re-parses as %q (end %v, err %v)", in, out, got, s.AtEnd(), s.Err())
		}
	})
}

// FuzzReadResponseStream: streaming every literal gives the same framing,
// errors and bytes as assembling them, whatever the input.
func FuzzReadResponseStream(f *testing.F) {
	for _, s := range rfcSeeds {
		f.Add([]byte(s), uint8(7))
	}
	f.Add([]byte("* 1 FETCH (UID 5 BODY[1] {10}\r\n0123456789)\r\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		plain := NewReader(bytes.NewReader(data), fuzzLimits)
		var sink bytes.Buffer
		streamed := NewReader(&chunkedReader{data: data, n: int(chunk%32) + 1}, fuzzLimits)
		streamed.SetStream(func(_ []byte, _ int64) io.Writer { return &sink })
		for range 50 {
			want, werr := plain.ReadResponse()
			sink.Reset()
			got, gerr := streamed.ReadResponse()
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("errors differ: %v vs %v", werr, gerr)
			}
			if werr != nil {
				return
			}
			var all []byte
			for _, l := range want.Literals {
				all = append(all, l...)
			}
			if !bytes.Equal(all, sink.Bytes()) || len(got.Lines) != len(want.Lines) {
				t.Fatalf("streamed %q, assembled %q", sink.Bytes(), all)
			}
		}
	})
}

// chunkedReader returns at most n bytes per Read (partial reads).
type chunkedReader struct {
	data []byte
	n    int
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}
