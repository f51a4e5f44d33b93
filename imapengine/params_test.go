package imapengine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestImaplib_test_sequence_set covers every row of imaplib 3.16's
// test_sequence_set, translated to Go values.
func TestImaplib_test_sequence_set(t *testing.T) {
	tests := []struct {
		name  string
		items []any
		want  string
	}{
		{"5", []any{5}, "5"},
		{"'1:3,7'", []any{"1:3,7"}, "1:3,7"},
		{"[1,2,5]", []any{[]int{1, 2, 5}}, "1,2,5"},
		{"variadic 1,2,5", []any{1, 2, 5}, "1,2,5"},
		{"[1,(3,5),(8,'*')]", []any{[]any{1, []any{3, 5}, []any{8, "*"}}}, "1,3:5,8:*"},
		{"variadic spans", []any{1, Span{3, 5, false}, Span{8, 0, true}}, "1,3:5,8:*"},
		{"[2]any pairs", []any{1, [2]any{3, 5}, [2]any{8, "*"}}, "1,3:5,8:*"},
		{"[(5,None)]", []any{[]any{[]any{5, nil}}}, "5:*"},
		{"[range(1,4),7]", []any{[]any{Range(1, 4, 1), 7}}, "1:3,7"},
		{"variadic range", []any{Range(1, 4, 1), 7}, "1:3,7"},
		{"[range(1,10,2)]", []any{[]any{Range(1, 10, 2)}}, "1,3,5,7,9"},
		{"descending range", []any{Range(5, 0, -2)}, "5,3,1"},
		{"step -1 listed", []any{Range(3, 0, -1)}, "3,2,1"},
		{"one-member range", []any{Range(7, 8, 1)}, "7"},
		{"one-member stepped range", []any{Range(7, 8, 5)}, "7"},
		{"[2]int", []any{[2]int{2, 4}}, "2:4"},
		{"[][2]int", []any{[][2]int{{1, 2}, {4, 6}}}, "1:2,4:6"},
		{"[]Span", []any{[]Span{{1, 2, false}, {4, 0, true}}}, "1:2,4:*"},
		{"[]uint32", []any{[]uint32{1, MaxSeqNumber}}, "1,4294967295"},
		{"[]int64 list", []any{[]int64{9, 10}}, "9,10"},
		{"[]int64 tuple", []any{1, []int64{9, 10}}, "1,9:10"},
		{"[]int tuple among items", []any{1, []int{3, 5}}, "1,3:5"},
		{"uint32 max", []any{uint32(MaxSeqNumber)}, "4294967295"},
		{"reversed pair kept", []any{[2]int{5, 3}}, "5:3"},
		{"star string only as pair stop", []any{[2]any{uint32(2), "*"}}, "2:*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SequenceSet(tc.items...)
			if err != nil || got != tc.want {
				t.Errorf("SequenceSet(%#v) = %q, %v; want %q", tc.items, got, err, tc.want)
			}
		})
	}
}

func TestSequenceSetErrors(t *testing.T) {
	tests := []struct {
		name  string
		items []any
		want  error
	}{
		{"['7']", []any{[]any{"7"}}, ErrBadSetItem},
		{"[2.9]", []any{[]any{2.9}}, ErrBadSetItem},
		{"[(1,2.9)]", []any{[]any{[]any{1, 2.9}}}, ErrBadSetItem},
		{"float", []any{2.9}, ErrBadSetItem},
		{"bool", []any{true}, ErrBadSetItem},
		{"nil", []any{nil}, ErrBadSetItem},
		{"string among items", []any{1, "7"}, ErrBadSetItem},
		{"pair start star", []any{[2]any{"*", 5}}, ErrBadSetItem},
		{"[(1,)]", []any{[]any{[]any{1}}}, ErrBadSetValue},
		{"[(1,2,3)]", []any{[]any{[]any{1, 2, 3}}}, ErrBadSetValue},
		{"int tuple of 3", []any{1, []int{1, 2, 3}}, ErrBadSetValue},
		{"zero", []any{0}, ErrBadSetValue},
		{"negative", []any{-1}, ErrBadSetValue},
		{"too big", []any{int64(MaxSeqNumber) + 1}, ErrBadSetValue},
		{"too big uint64", []any{uint64(math.MaxUint64)}, ErrBadSetValue},
		{"pair stop zero", []any{[2]int{1, 0}}, ErrBadSetValue},
		{"empty call", nil, ErrBadSetValue},
		{"empty list", []any{[]any{}}, ErrBadSetValue},
		{"empty range", []any{Range(4, 1, 1)}, ErrBadSetValue},
		{"zero step", []any{Range(1, 4, 0)}, ErrBadSetValue},
		{"range from zero", []any{Range(0, 4, 1)}, ErrBadSetValue},
		{"descending below one", []any{Range(3, -3, -1)}, ErrBadSetValue},
		{"range past max", []any{Range(1, MaxSeqNumber+2, 1)}, ErrBadSetValue},
		{"range expansion bomb", []any{Range(1, MaxSeqNumber, 2)}, ErrBadSetValue},
		{"extreme ints", []any{Range(math.MaxInt, math.MinInt, math.MinInt)}, ErrBadSetValue},
		{"extreme step", []any{Range(1, math.MaxInt, math.MaxInt)}, nil},
		{"CR in string", []any{"1\r\n2"}, ErrParamValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SequenceSet(tc.items...)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("SequenceSet(%#v) = %q, %v; want error %v", tc.items, got, err, tc.want)
			}
			if err != nil && (got != "" || !strings.HasPrefix(err.Error(), "imapengine: ")) {
				t.Errorf("got %q, error %q", got, err)
			}
		})
	}
}

// TestSequenceSetExpansionLimit checks the MaxRangeExpansion boundary.
func TestSequenceSetExpansionLimit(t *testing.T) {
	s, err := SequenceSet(Range(1, 2*MaxRangeExpansion, 2))
	if err != nil || strings.Count(s, ",") != MaxRangeExpansion-1 {
		t.Fatalf("at limit: %v, %d members", err, strings.Count(s, ",")+1)
	}
	if _, err := SequenceSet(Range(1, 2*MaxRangeExpansion+2, 2)); !errors.Is(err, ErrBadSetValue) {
		t.Fatalf("over limit: %v", err)
	}
	// A huge step-1 range stays one "a:b" member.
	if s, err := SequenceSet(Range(1, MaxSeqNumber+1, 1)); err != nil || s != "1:4294967295" {
		t.Fatalf("huge range: %q, %v", s, err)
	}
}

// TestImaplib_test_substitute covers every row of imaplib 3.16's
// test_substitute, translated to Go values.
func TestImaplib_test_substitute(t *testing.T) {
	tests := []struct {
		template string
		params   []any
		want     string
	}{
		{"FROM ?", []any{"me@host"}, "FROM me@host"},
		{"SUBJECT ?", []any{"hello world"}, `SUBJECT "hello world"`},
		{"SUBJECT ?", []any{`a"b`}, `SUBJECT "a\"b"`},
		{"LARGER ?", []any{1000}, "LARGER 1000"},
		{"HEADER.FIELDS ?", []any{[]string{"DATE", "FROM"}}, "HEADER.FIELDS (DATE FROM)"},
		{"?f", []any{`\Seen`}, `\Seen`},
		{"?f", []any{[]string{`\Seen`, `\Answered`}}, `(\Seen \Answered)`},
		{"?s", []any{[]any{1, []any{3, 5}, []any{8, "*"}}}, "1,3:5,8:*"},
		{"a?? b", nil, "a? b"},
		// Beyond the CPython table.
		{"?s", []any{"1:3,7"}, "1:3,7"},
		{"?s", []any{Range(1, 10, 2)}, "1,3,5,7,9"},
		{"?f", []any{[]any{`\Seen`, "$Foo[bar]"}}, `(\Seen $Foo[bar])`},
		{"?f", []any{[]string{}}, "()"},
		{"?f", []any{`\*`}, `\*`},
		{"SUBJECT ?", []any{""}, `SUBJECT ""`},
		{"SUBJECT ?", []any{[]byte("x y")}, `SUBJECT "x y"`},
		{"SUBJECT ?", []any{`"a" SELECT evil "`}, `SUBJECT "\"a\" SELECT evil \""`},
		{"X ?", []any{[]any{"a b", 2, []any{"c"}}}, `X ("a b" 2 (c))`},
		{"X ?", []any{[]int{1, 2}}, "X (1 2)"},
		{"X ? ?", []any{uint32(7), int64(-3)}, "X 7 -3"},
		{"no placeholders", nil, "no placeholders"},
		{"end ?", []any{"é"}, "end \"é\""},
		{"??f ??s", nil, "?f ?s"},
		{"UID ?s FLAGS ?f SINCE ?", []any{5, `\Seen`, "1-Jan-2000"}, `UID 5 FLAGS \Seen SINCE 1-Jan-2000`},
	}
	for _, tc := range tests {
		t.Run(tc.template, func(t *testing.T) {
			got, err := Substitute(tc.template, tc.params...)
			if err != nil || got != tc.want {
				t.Errorf("Substitute(%q, %#v) = %q, %v; want %q", tc.template, tc.params, got, err, tc.want)
			}
		})
	}
}

// TestImaplib_test_substitute_errors covers imaplib 3.16's
// test_substitute_errors: TypeError becomes ErrParamType and ValueError
// ErrParamValue.
func TestImaplib_test_substitute_errors(t *testing.T) {
	self := []any{nil}
	self[0] = self
	tests := []struct {
		name     string
		template string
		params   []any
		want     error
	}{
		{"too few", "? ?", []any{"a"}, ErrParamType},
		{"too many", "?", []any{"a", "b"}, ErrParamType},
		{"True", "?", []any{true}, ErrParamType},
		{"1.5", "?", []any{1.5}, ErrParamType},
		{"?s ['a']", "?s", []any{[]any{"a"}}, ErrParamType},
		{"?s [1.5]", "?s", []any{[]any{1.5}}, ErrParamType},
		{"?s [(1,'a')]", "?s", []any{[]any{[]any{1, "a"}}}, ErrParamType},
		{"?f 'a b'", "?f", []any{"a b"}, ErrParamValue},
		{"? 'a\\r\\nb'", "?", []any{"a\r\nb"}, ErrParamValue},
		{"?s [(1,)]", "?s", []any{[]any{[]any{1}}}, ErrParamValue},
		{"?s [(1,2,3)]", "?s", []any{[]any{[]any{1, 2, 3}}}, ErrParamValue},
		// Beyond the CPython table.
		{"nil", "?", []any{nil}, ErrParamType},
		{"float32", "?", []any{float32(1)}, ErrParamType},
		{"map", "?", []any{map[string]int{}}, ErrParamType},
		{"NUL", "?", []any{"a\x00b"}, ErrParamValue},
		{"LF in list", "?", []any{[]string{"ok", "a\nb"}}, ErrParamValue},
		{"bool in list", "?", []any{[]any{"ok", false}}, ErrParamType},
		{"self-referencing list", "?", self, ErrParamValue},
		{"empty flag", "?f", []any{""}, ErrParamValue},
		{"flag with paren", "?f", []any{`\Seen)`}, ErrParamValue},
		{"flag with CRLF", "?f", []any{"a\r\nb"}, ErrParamValue},
		{"flag list with space", "?f", []any{[]string{`\Seen`, "a b"}}, ErrParamValue},
		{"flag list non-string", "?f", []any{[]any{1}}, ErrParamType},
		{"flag int", "?f", []any{1}, ErrParamType},
		{"set CRLF string", "?s", []any{"1\r\n"}, ErrParamValue},
		{"set zero", "?s", []any{0}, ErrParamValue},
		{"set bool", "?s", []any{true}, ErrParamType},
		{"?? takes none", "??", []any{"a"}, ErrParamType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Substitute(tc.template, tc.params...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Substitute(%q, …) = %q, %v; want %v", tc.template, got, err, tc.want)
			}
			if got != "" || !strings.HasPrefix(err.Error(), "imapengine: ") {
				t.Errorf("got %q, error %q", got, err)
			}
		})
	}
}

// TestSubstituteSetErrorKinds checks that ?s errors match both families.
func TestSubstituteSetErrorKinds(t *testing.T) {
	_, err := Substitute("?s", []any{"a"})
	if !errors.Is(err, ErrParamType) || !errors.Is(err, ErrBadSetItem) {
		t.Errorf("type error kinds: %v", err)
	}
	_, err = Substitute("?s", []any{[]any{1}})
	if !errors.Is(err, ErrParamValue) || !errors.Is(err, ErrBadSetValue) {
		t.Errorf("value error kinds: %v", err)
	}
}

func ExampleSequenceSet() {
	s, _ := SequenceSet(1, Span{Start: 3, Stop: 5}, Span{Start: 8, ToStar: true})
	fmt.Println(s)
	s, _ = SequenceSet(Range(1, 4, 1), 7)
	fmt.Println(s)
	s, _ = SequenceSet(Range(1, 10, 2))
	fmt.Println(s)
	_, err := SequenceSet(2.9)
	fmt.Println(err)
	// Output:
	// 1,3:5,8:*
	// 1:3,7
	// 1,3,5,7,9
	// imapengine: sequence set item of unsupported type: float64
}

func ExampleSubstitute() {
	s, _ := Substitute(`?s (FLAGS) SUBJECT ? NOT KEYWORD ?f`, Range(1, 4, 1), "hello world", `$Junk`)
	fmt.Println(s)
	_, err := Substitute("SUBJECT ?", "a\r\nb")
	fmt.Println(errors.Is(err, ErrParamValue))
	// Output:
	// 1:3 (FLAGS) SUBJECT "hello world" NOT KEYWORD $Junk
	// true
}

func FuzzSubstitute(f *testing.F) {
	f.Add("FROM ? ?f ?s ??", "a b", 3, 7)
	f.Add("?s", "1:3,7", -1, 0)
	f.Fuzz(func(t *testing.T, tmpl, s string, a, b int) {
		out, err := Substitute(tmpl, s, []any{a, []any{a, b}}, Range(a, b, 1))
		if err == nil && strings.ContainsAny(out, "\r\n\x00") && !strings.ContainsAny(tmpl, "\r\n\x00") {
			t.Fatalf("control byte injected: %q", out)
		}
	})
}

func BenchmarkSubstitute(b *testing.B) {
	for b.Loop() {
		if _, err := Substitute("UID ?s FLAGS ?f SUBJECT ?", []any{1, Span{3, 5, false}, Span{8, 0, true}}, []string{`\Seen`, `\Answered`}, "hello world"); err != nil {
			b.Fatal(err)
		}
	}
}
