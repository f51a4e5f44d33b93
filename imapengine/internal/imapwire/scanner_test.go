package imapwire

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// resp frames raw wire text into a Response for scanner tests.
func resp(t testing.TB, wire string) *Response {
	t.Helper()
	r, err := NewReader(strings.NewReader(wire), Limits{}).ReadResponse()
	if err != nil {
		t.Fatalf("framing %q: %v", wire, err)
	}
	return r
}

// render formats a Value compactly for comparisons.
func render(v Value) string {
	switch v.Kind {
	case ValueAtom:
		return v.Atom
	case ValueNumber:
		return fmt.Sprint(v.Num)
	case ValueString:
		if v.Literal {
			return fmt.Sprintf("{%q}", v.Bytes)
		}
		return fmt.Sprintf("%q", v.Bytes)
	case ValueNIL:
		return "NIL"
	case ValueList:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = render(e)
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return "?"
}

// scanAll reads every value of a response separated by spaces.
func scanAll(s *Scanner) []string {
	var out []string
	for !s.AtEnd() {
		out = append(out, render(s.Value()))
		if !s.AtEnd() {
			s.SP()
		}
	}
	return out
}

func TestScannerValue(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want string
		err  error
	}{
		{"fetch flags", "* 1 FETCH (FLAGS (\\Seen \\*) UID 7)\r\n", `* 1 FETCH (FLAGS (\Seen \*) UID 7)`, nil},
		{"literal body", "* 1 FETCH (BODY[] {5}\r\nhello)\r\n", `* 1 FETCH (BODY[] {"hello"})`, nil},
		{"B3 zero literal", "* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\n", `* 1 FETCH (UID 7 BODY[] {""})`, nil},
		{"B7 literal NUL", "* 1 FETCH (BODY[] {3}\r\na\x00b)\r\n", `* 1 FETCH (BODY[] {"a\x00b"})`, nil},
		{"section with spaces", "* 2 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {2}\r\nab)\r\n", `* 2 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {"ab"})`, nil},
		{"section with quoted ]", "* 2 FETCH (BODY[HEADER.FIELDS (\"X]\")] NIL)\r\n", `* 2 FETCH (BODY[HEADER.FIELDS ("X]")] NIL)`, nil},
		{"envelope", `* 3 FETCH (ENVELOPE ("Mon, 7 Feb 1994" "Re: \"x\"" (("Terry" NIL "gray" "cac.washington.edu")) NIL NIL NIL NIL NIL "<B27397>"))` + "\r\n",
			`* 3 FETCH (ENVELOPE ("Mon, 7 Feb 1994" "Re: \"x\"" (("Terry" NIL "gray" "cac.washington.edu")) NIL NIL NIL NIL NIL "<B27397>"))`, nil},
		{"list name literal", "* LIST () \"/\" {3}\r\nabc\r\n", `* LIST () "/" {"abc"}`, nil},
		{"modseq", "* 1 FETCH (MODSEQ (9223372036854775807))\r\n", `* 1 FETCH (MODSEQ (9223372036854775807))`, nil},
		{"nil case", "* X (nil Nil)\r\n", `* X (NIL NIL)`, nil},
		{"NILX atom", "* X NILX\r\n", `* X NILX`, nil},
		{"empty list", "* X ()\r\n", `* X ()`, nil},
		{"lenient spaces", "* X ( a b )\r\n", `* X (a b)`, nil},
		{"8bit quoted B8", "* X \"caf\xe9\"\r\n", `* X "caf\xe9"`, nil},
		{"B7 NUL quoted", "* LIST () \"/\" \"a\x00b\"\r\n", "", ErrSyntax},
		{"B7 NUL atom", "* X a\x00b\r\n", "", ErrSyntax},
		{"CR in quoted", "* X \"a\rb\"\r\n", "", ErrSyntax},
		{"unterminated quoted", "* X \"abc\r\n", "", ErrSyntax},
		{"unterminated list", "* X (a b\r\n", "", ErrSyntax},
		{"unterminated section", "* X BODY[HEADER\r\n", "", ErrSyntax},
		{"B10 big number", "* 12345678901234567890 FETCH (UID 1)\r\n", "", ErrNumberRange},
		{"2^63", "* 1 FETCH (MODSEQ (9223372036854775808))\r\n", "", ErrNumberRange},
		{"stray )", "* X a)\r\n", "", ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner(resp(t, tc.wire), Limits{})
			got := strings.Join(scanAll(s), " ")
			if tc.err != nil {
				if !errors.Is(s.Err(), tc.err) {
					t.Fatalf("err = %v, want %v (got %s)", s.Err(), tc.err, got)
				}
				var se *SyntaxError
				if !errors.As(s.Err(), &se) {
					t.Fatalf("err %T is not *SyntaxError", s.Err())
				}
				if !strings.HasPrefix(se.Error(), "imapwire: ") {
					t.Fatalf("message %q", se.Error())
				}
				return
			}
			if s.Err() != nil {
				t.Fatalf("err = %v", s.Err())
			}
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestScannerDepth(t *testing.T) {
	nest := func(n int) string {
		return "* 1 FETCH (BODYSTRUCTURE " + strings.Repeat("(", n) + "\"x\"" + strings.Repeat(")", n) + ")\r\n"
	}
	tests := []struct {
		name string
		wire string
		lim  Limits
		err  error
	}{
		{"B6 100000 open parens", "* 1 FETCH (BODYSTRUCTURE " + strings.Repeat("(", 100_000) + "\r\n", Limits{}, ErrTooDeep},
		{"B6 40 levels", nest(40), Limits{}, nil},
		{"99 levels plus outer", nest(99), Limits{}, nil},
		{"100 levels plus outer", nest(100), Limits{}, ErrTooDeep},
		{"custom limit", nest(5), Limits{MaxDepth: 5}, ErrTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner(resp(t, tc.wire), tc.lim)
			scanAll(s)
			if !errors.Is(s.Err(), tc.err) {
				t.Fatalf("err = %v, want %v", s.Err(), tc.err)
			}
		})
	}
}

func TestScannerNumbers(t *testing.T) {
	tests := []struct {
		in   string
		n32  uint32
		err  error
		n64  uint64
		err6 error
	}{
		{"0", 0, nil, 0, nil},
		{"4294967295", 1<<32 - 1, nil, 1<<32 - 1, nil},
		{"4294967296", 0, ErrNumberRange, 1 << 32, nil},
		{"00000000001", 0, ErrNumberRange, 1, nil},
		{"12345678901", 0, ErrNumberRange, 12345678901, nil},
		{"9223372036854775807", 0, ErrNumberRange, 1<<63 - 1, nil},
		{"9223372036854775808", 0, ErrNumberRange, 0, ErrNumberRange},
		{"99999999999999999999", 0, ErrNumberRange, 0, ErrNumberRange},
		{"x", 0, ErrSyntax, 0, ErrSyntax},
		{"", 0, ErrSyntax, 0, ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r := &Response{Lines: [][]byte{[]byte(tc.in)}}
			s := NewScanner(r, Limits{})
			if n := s.Number(); n != tc.n32 || !errors.Is(s.Err(), tc.err) {
				t.Errorf("Number = %d, %v; want %d, %v", n, s.Err(), tc.n32, tc.err)
			}
			s.Reset(r)
			if n := s.Number64(); n != tc.n64 || !errors.Is(s.Err(), tc.err6) {
				t.Errorf("Number64 = %d, %v; want %d, %v", n, s.Err(), tc.n64, tc.err6)
			}
		})
	}
}

func TestScannerTokens(t *testing.T) {
	type step func(s *Scanner) string
	atom := func(s *Scanner) string { return s.Atom() }
	flag := func(s *Scanner) string { return s.FlagOrAtom() }
	astr := func(s *Scanner) string { return string(s.AString()) }
	str := func(s *Scanner) string { return string(s.String()) }
	nstr := func(s *Scanner) string {
		b, ok := s.NString()
		return fmt.Sprintf("%q/%v", b, ok)
	}
	text := func(s *Scanner) string { return string(s.Text()) }
	tests := []struct {
		name string
		wire string
		f    step
		want string
		err  error
	}{
		{"atom", "FETCH rest\r\n", atom, "FETCH", nil},
		{"atom stops at ]", "READ-WRITE] x\r\n", atom, "READ-WRITE", nil},
		{"atom with [", "a[b\r\n", atom, "a[b", nil},
		{"atom empty", "(x\r\n", atom, "", ErrSyntax},
		{"atom rejects 8bit", "\xe9\r\n", atom, "", ErrSyntax},
		{"flag", "\\Seen)\r\n", flag, `\Seen`, nil},
		{"flag star", "\\*)\r\n", flag, `\*`, nil},
		{"flag gmail", "[Gmail]Foo x\r\n", flag, "[Gmail]Foo", nil},
		{"flag keyword", "$Forwarded\r\n", flag, "$Forwarded", nil},
		{"flag lone backslash", "\\ x\r\n", flag, "", ErrSyntax},
		{"astring atom", "INBOX.Sent] x\r\n", astr, "INBOX.Sent]", nil},
		{"astring quoted", "\"New folder\"\r\n", astr, "New folder", nil},
		{"astring escapes", `"a\"b\\c"` + "\r\n", astr, `a"b\c`, nil},
		{"astring lenient escape", `"a\b"` + "\r\n", astr, `a\b`, nil},
		{"astring literal", "{3}\r\nabc\r\n", astr, "abc", nil},
		{"astring 8bit", "Entw\xc3\xbcrfe\r\n", astr, "Entw\xc3\xbcrfe", nil},
		{"astring empty", " x\r\n", astr, "", ErrSyntax},
		{"string not atom", "abc\r\n", str, "", ErrSyntax},
		{"string literal8", "~{2}\r\nab\r\n", str, "ab", nil},
		{"nstring nil", "NIL\r\n", nstr, `""/false`, nil},
		{"nstring quoted", "\"\"\r\n", nstr, `""/true`, nil},
		{"nstring literal", "{1}\r\nx\r\n", nstr, `"x"/true`, nil},
		{"text", "[ALERT] hello world\r\n", text, "[ALERT] hello world", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner(resp(t, tc.wire), Limits{})
			got := tc.f(s)
			if !errors.Is(s.Err(), tc.err) {
				t.Fatalf("err = %v, want %v", s.Err(), tc.err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScannerSticky(t *testing.T) {
	s := NewScanner(resp(t, "* 1 FETCH x\r\n"), Limits{})
	s.Expect('(') // fails
	first := s.Err()
	if first == nil {
		t.Fatal("no error")
	}
	s.Byte('*')
	if s.Atom() != "" || s.Number() != 0 || s.String() != nil || s.Text() != nil || s.List(func() {}) || s.SeqSet() != nil {
		t.Fatal("non-zero value after error")
	}
	if v := s.Value(); v.Kind != 0 || v.Atom != "" {
		t.Fatal("non-zero Value after error")
	}
	if _, ok := s.Peek(); ok || !s.AtEnd() {
		t.Fatal("Peek/AtEnd after error")
	}
	if s.Err() != first {
		t.Fatal("error replaced")
	}
}

func TestScannerWalk(t *testing.T) {
	s := NewScanner(resp(t, "* 12 FETCH (UID 9 BODY[] {5}\r\nhello FLAGS (\\Seen))\r\n"), Limits{})
	s.Expect('*')
	s.SP()
	seq := s.Number()
	s.SP()
	if s.Atom() != "FETCH" {
		t.Fatal("FETCH")
	}
	s.SP()
	var got []string
	s.List(func() {
		key := s.FlagOrAtom()
		s.SP()
		switch key {
		case "UID":
			got = append(got, fmt.Sprint("UID=", s.Number()))
		case "BODY[]":
			if b, ok := s.Peek(); !ok || b != '{' {
				t.Errorf("Peek at literal = %q %v", b, ok)
			}
			got = append(got, "BODY="+string(s.String()))
		case "FLAGS":
			s.List(func() { got = append(got, "flag="+s.FlagOrAtom()) })
		}
	})
	if s.Err() != nil || !s.AtEnd() || seq != 12 {
		t.Fatalf("err %v end %v seq %d", s.Err(), s.AtEnd(), seq)
	}
	if want := `[UID=9 BODY=hello flag=\Seen]`; fmt.Sprint(got) != want {
		t.Fatalf("got %v", got)
	}
}

func TestScannerMalformedResponse(t *testing.T) {
	tests := []struct {
		name string
		r    *Response
		err  error
	}{
		{"nil", nil, nil},
		{"empty", &Response{}, nil},
		{"literals without lines", &Response{Literals: [][]byte{{}}}, ErrSyntax},
		{"count mismatch", &Response{Lines: [][]byte{[]byte("a {1}"), []byte("b")}}, ErrSyntax},
		{"no marker", &Response{Lines: [][]byte{[]byte("a "), []byte("")}, Literals: [][]byte{[]byte("x")}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner(tc.r, Limits{})
			for i := 0; i < 10 && !s.AtEnd(); i++ {
				s.Value()
				s.Byte(' ')
			}
			if !errors.Is(s.Err(), tc.err) {
				t.Fatalf("err = %v, want %v", s.Err(), tc.err)
			}
		})
	}
}

func TestScannerSeqSet(t *testing.T) {
	s := NewScanner(resp(t, "* ESEARCH (TAG \"A5\") UID ALL 1:4294967295\r\n"), Limits{})
	s.Expect('*')
	s.SP()
	s.Atom()
	s.SP()
	s.Value()
	s.SP()
	s.Atom()
	s.SP()
	s.Atom()
	s.SP()
	var set SeqSet
	grow := heapGrowth(func() { set = s.SeqSet() })
	if s.Err() != nil || len(set) != 1 || set[0] != (SeqRange{1, 1<<32 - 1}) {
		t.Fatalf("set %v err %v", set, s.Err())
	}
	if grow > 1<<20 {
		t.Fatalf("heap grew %d", grow)
	}
	s = NewScanner(resp(t, "1:99999999999\r\n"), Limits{})
	if s.SeqSet(); !errors.Is(s.Err(), ErrNumberRange) {
		t.Fatalf("err = %v", s.Err())
	}
}

// TestScannerMaxItems: list elements are counted across the whole response;
// one past Limits.MaxItems records ErrTooManyItems and stops the walk.
func TestScannerMaxItems(t *testing.T) {
	for _, tt := range []struct {
		in  string
		err bool
	}{{"(a b (c))", false}, {"(a b (c d))", true}, {"(a (b) (c) (d))", true}} {
		s := NewScanner(&Response{Lines: [][]byte{[]byte(tt.in)}}, Limits{MaxItems: 4})
		calls := 0
		var walk func()
		walk = func() {
			calls++
			if c, _ := s.Peek(); c == '(' {
				s.List(walk)
				return
			}
			s.Atom()
		}
		s.List(walk)
		if got := errors.Is(s.Err(), ErrTooManyItems); got != tt.err {
			t.Errorf("%s: err = %v", tt.in, s.Err())
		}
		if calls > 4 {
			t.Errorf("%s: %d elements decoded, limit 4", tt.in, calls)
		}
	}
}

// TestQuotedEscapesLinear: an escaped quoted string costs a copy of its own
// size, not of the rest of its line, and Skip copies nothing: a line of
// 40,000 escaped strings (540 KB) allocates at most about its size when read
// as values and nothing per string when skipped. Before, each string
// allocated the rest of the line: 40,000 × 270 KB, seconds of CPU.
func TestQuotedEscapesLinear(t *testing.T) {
	const n = 40_000
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 1")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ` X "a\\%d"`, i)
	}
	b.WriteString(")\r\n")
	r := resp(t, b.String())
	wire := float64(len(b.String()))
	scan := func(each func(s *Scanner)) float64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := NewScanner(r, Limits{})
		s.Expect('*')
		s.SP()
		s.Number()
		s.SP()
		s.Atom()
		s.SP()
		got := 0
		s.List(func() {
			if got%2 == 1 {
				each(s)
			} else {
				s.Skip()
			}
			got++
		})
		runtime.ReadMemStats(&after)
		if s.Err() != nil || got != 2*n+2 {
			t.Fatalf("%v after %d values", s.Err(), got)
		}
		return float64(after.TotalAlloc-before.TotalAlloc) / wire
	}
	var last []byte
	quoted := scan(func(s *Scanner) {
		if c, _ := s.Peek(); c == '"' {
			last = s.Quoted()
		} else {
			s.Skip()
		}
	})
	if want := fmt.Sprintf("a\\%d", n-1); string(last) != want {
		t.Fatalf("last string %q, want %q", last, want)
	}
	skipped := scan(func(s *Scanner) { s.Skip() })
	t.Logf("%d escaped strings in %.0f bytes: %.2f bytes allocated per byte read, %.2f skipped", n, wire, quoted, skipped)
	if quoted > 2 {
		t.Errorf("Quoted allocated %.2f bytes per byte of the line, want <= 2", quoted)
	}
	if skipped > 0.1 {
		t.Errorf("Skip allocated %.2f bytes per byte of the line, want ~0", skipped)
	}
}
