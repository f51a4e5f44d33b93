package imaptest

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{}},
		{"spaces only", "   ", []string{}},
		{"atoms", "A1 LOGIN user pass", []string{"A1", "LOGIN", "user", "pass"}},
		{"quoted with space", `A1 SELECT "New folder"`, []string{"A1", "SELECT", `"New folder"`}},
		{"quoted password", `A2 LOGIN user "pass"`, []string{"A2", "LOGIN", "user", `"pass"`}},
		{"escaped quote", `A1 LOGIN "user" "\"pass\""`, []string{"A1", "LOGIN", `"user"`, `"\"pass\""`}},
		{"escaped backslash", `A1 X "a\\" b`, []string{"A1", "X", `"a\\"`, "b"}},
		{"nested parens", "A1 FETCH 1 (BODY[HEADER.FIELDS (DATE FROM)])",
			[]string{"A1", "FETCH", "1", "(BODY[HEADER.FIELDS (DATE FROM)])"}},
		{"space before group splits", "A1 FETCH 1 BODY[HEADER.FIELDS (DATE FROM)]",
			[]string{"A1", "FETCH", "1", "BODY[HEADER.FIELDS", "(DATE FROM)]"}},
		{"paren mid-token", "A1 X a(b c) d", []string{"A1", "X", "a(b c)", "d"}},
		{"quote mid-token", `A1 X a"b c"d e`, []string{"A1", "X", `a"b c"d`, "e"}},
		{"unbalanced paren runs to end", "A1 APPEND INBOX UTF8 (~{25}",
			[]string{"A1", "APPEND", "INBOX", "UTF8", "(~{25}"}},
		{"unbalanced paren with spaces", "A1 X (a b c",
			[]string{"A1", "X", "(a b c"}},
		{"quote inside parens", `A1 X ("a)b" c) d`, []string{"A1", "X", `("a)b" c)`, "d"}},
		{"unterminated quote", `A1 X "abc def`, []string{"A1", "X", `"abc def`}},
		{"multiple spaces and tabs", "A1  X\t\ty ", []string{"A1", "X", "y"}},
		{"stray close paren", "A1 X a) b", []string{"A1", "X", "a)", "b"}},
		{"utf8 quoted", `A1 SELECT "Entwürfe"`, []string{"A1", "SELECT", `"Entwürfe"`}},
		{"literal marker", "A1 APPEND INBOX {5}", []string{"A1", "APPEND", "INBOX", "{5}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitArgs(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in        string
		tag, name string
		args      []string
		line      string
	}{
		{"A1 capability\r\n", "A1", "CAPABILITY", []string{}, "A1 capability"},
		{`A2 LOGIN user "pass"` + "\r\n", "A2", "LOGIN", []string{"user", `"pass"`}, `A2 LOGIN user "pass"`},
		{"A3 uid fetch 1:* (FLAGS)\r\n", "A3", "UID", []string{"fetch", "1:*", "(FLAGS)"}, "A3 uid fetch 1:* (FLAGS)"},
		{"\r\n", "", "", []string{}, ""},
		{"A4\r\n", "A4", "", []string{}, "A4"},
		{"A5 GETQUOTA \r\n", "A5", "GETQUOTA", []string{}, "A5 GETQUOTA "},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := ParseCommand([]byte(tt.in))
			if got.Tag != tt.tag || got.Name != tt.name || !reflect.DeepEqual(got.Args, tt.args) || string(got.Line) != tt.line {
				t.Errorf("ParseCommand(%q) = %+v, want tag %q name %q args %q line %q", tt.in, got, tt.tag, tt.name, tt.args, tt.line)
			}
		})
	}
}

func TestLiteralSize(t *testing.T) {
	tests := []struct {
		line    string
		n       int
		sync    bool
		wantErr error
	}{
		{"A1 APPEND INBOX {5}", 5, true, nil},
		{"A1 APPEND INBOX UTF8 (~{25}", 25, true, nil},
		{"A1 APPEND INBOX ~{7}\r\n", 7, true, nil},
		{"A1 APPEND INBOX {0}", 0, true, nil},
		{"A1 APPEND INBOX {5+}", 5, false, nil},
		{"A1 APPEND INBOX {5-}", 5, false, nil},
		{"A1 APPEND INBOX", 0, false, ErrNoLiteral},
		{"A1 APPEND INBOX {}", 0, false, ErrNoLiteral},
		{"A1 APPEND INBOX {-1}", 0, false, ErrNoLiteral},
		{"A1 APPEND INBOX { 5}", 0, false, ErrNoLiteral},
		{"A1 APPEND INBOX 5}", 0, false, ErrNoLiteral},
		{"A1 APPEND INBOX {99999999999999999999}", 0, false, ErrLiteralTooLarge},
		{"A1 APPEND INBOX {67108865}", 0, false, ErrLiteralTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			n, sync, err := LiteralSize([]byte(tt.line))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n != tt.n || sync != tt.sync {
				t.Errorf("got (%d, %v), want (%d, %v)", n, sync, tt.n, tt.sync)
			}
		})
	}
}

func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{
		`A1 SELECT "New folder"`, "A1 FETCH 1 (BODY[HEADER.FIELDS (DATE FROM)])",
		"A1 APPEND INBOX UTF8 (~{25}", `A1 X "a\`, "((((", "))))", `"\"`, "A1 {5+}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := SplitArgs(s)
		for _, tok := range toks {
			if tok == "" {
				t.Fatalf("empty token from %q", s)
			}
		}
		cmd := ParseCommand([]byte(s))
		if len(toks) > 2 && len(cmd.Args) != len(toks)-2 {
			t.Fatalf("args mismatch for %q", s)
		}
		_, _, _ = LiteralSize([]byte(s))
	})
}
