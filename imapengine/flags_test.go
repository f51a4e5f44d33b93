package imapengine

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`1 (FLAGS (\Seen \Deleted) UID 5)`, []string{`\Seen`, `\Deleted`}},
		{`1 (UID 5)`, []string{}},
		{`1 (FLAGS ())`, []string{}},
		{`FLAGS (\Seen $Foo[bar])`, []string{`\Seen`, `$Foo[bar]`}},
		{`* 1 FETCH (FLAGS (a b) X FLAGS (c))`, []string{"c"}},
		{``, []string{}},
		{`FLAGS (a) FLAGS (b`, []string{"a"}},
		{"FLAGS (a\tb\r\n c\x0bd\x0ce)", []string{"a", "b", "c", "d", "e"}},
		{"x\nFLAGS (a)", []string{}},
		{"FLAGS (a)\nFLAGS (b)", []string{"a"}},
		{`FLAGS(a)`, []string{}},
		{`flags (a)`, []string{}},
		{`XFLAGS (a b)`, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := ParseFlags([]byte(tc.in))
			if got == nil {
				t.Fatal("nil result")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParseFlags(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Errorf("ParseFlags(%q)[%d] = %q, want %q", tc.in, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseFlagsDoesNotAlias(t *testing.T) {
	resp := []byte(`FLAGS (\Seen)`)
	got := ParseFlags(resp)
	resp[8] = 'X'
	if string(got[0]) != `\Seen` {
		t.Errorf("result aliases input: %q", got[0])
	}
}

// flagsRE is imaplib's Flags pattern; Go's RE2 gives the same leftmost-first
// greedy submatch as Python's re for it.
var flagsRE = regexp.MustCompile(`^.*FLAGS \(([^)]*)\)`)

// pythonSplit is Python's bytes.split() with no argument.
func pythonSplit(b []byte) [][]byte {
	return bytes.FieldsFunc(b, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
	})
}

func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{`1 (FLAGS (\Seen \Deleted) UID 5)`, `* 1 FETCH (FLAGS (a b) X FLAGS (c))`, "FLAGS (a) FLAGS (b", "x\nFLAGS (a)"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := ParseFlags(b)
		var want [][]byte
		if m := flagsRE.FindSubmatch(b); m != nil {
			want = pythonSplit(m[1])
		}
		if len(got) != len(want) {
			t.Fatalf("ParseFlags(%q) = %q, regexp gives %q", b, got, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("ParseFlags(%q) = %q, regexp gives %q", b, got, want)
			}
		}
	})
}

func BenchmarkParseFlags(b *testing.B) {
	resp := []byte(`* 12 FETCH (UID 99 FLAGS (\Seen \Answered $Label1) INTERNALDATE "17-Jul-1996 02:44:25 -0700")`)
	for b.Loop() {
		_ = ParseFlags(resp)
	}
}

func ExampleParseFlags() {
	for _, f := range ParseFlags([]byte(`* 1 FETCH (FLAGS (\Seen \Deleted) UID 5)`)) {
		fmt.Println(string(f))
	}
	fmt.Println(len(ParseFlags([]byte(`* 1 FETCH (UID 5)`))))
	// Output:
	// \Seen
	// \Deleted
	// 0
}
