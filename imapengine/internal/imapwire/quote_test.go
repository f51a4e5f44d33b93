package imapwire

import (
	"errors"
	"testing"
)

// TestImaplib_test_astring mirrors CPython test_imaplib.TestImaplib.test_astring.
func TestImaplib_test_astring(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"New folder", `"New folder"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"", `""`},
		{"*", `"*"`},
		{`"New folder"`, `"New folder"`},
		{`""`, `""`},
		{`"a\b"`, `"a\b"`},
		{`"a" SELECT evil "`, `"\"a\" SELECT evil \""`},
		{`"`, `"\""`},
		{"Entwürfe", `"Entwürfe"`},
		{"a]b[", "a]b["},
	}
	for _, tc := range tests {
		if got := AString(tc.in); got != tc.want {
			t.Errorf("AString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestImaplib_test_astring_idempotent mirrors test_astring_idempotent.
func TestImaplib_test_astring_idempotent(t *testing.T) {
	inputs := []string{"INBOX", "New folder", `a"b`, `a\b`, "", "*", "%", `"New folder"`, `""`, `"a\b"`,
		`"a" SELECT evil "`, `"`, "a\tb", "a\rb", "\x7f", "(a)", "Entw\xc3\xbcrfe"}
	for _, in := range inputs {
		for name, f := range map[string]func(string) string{"AString": AString, "ListMailbox": ListMailbox} {
			once := f(in)
			if twice := f(once); twice != once {
				t.Errorf("%s(%q): once %q, twice %q", name, in, once, twice)
			}
		}
	}
}

// TestImaplib_test_list_mailbox mirrors the ASCII part of test_list_mailbox.
func TestImaplib_test_list_mailbox(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*", "*"},
		{"%", "%"},
		{"foo/%", "foo/%"},
		{"New folder", `"New folder"`},
		{`"New folder"`, `"New folder"`},
		{"", `""`},
		{"Entwürfe/%", `"Entwürfe/%"`},
		{`a\b*`, `"a\\b*"`},
	}
	for _, tc := range tests {
		if got := ListMailbox(tc.in); got != tc.want {
			t.Errorf("ListMailbox(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestImaplib_test_set_quote mirrors the str part of test_set_quote.
func TestImaplib_test_set_quote(t *testing.T) {
	tests := []struct{ in, want string }{
		{`\Seen`, `(\Seen)`},
		{`(\Seen)`, `(\Seen)`},
		{`\Seen \Answered`, `(\Seen \Answered)`},
		{"MESSAGES UNSEEN", "(MESSAGES UNSEEN)"},
		{"", "()"},
		{"(", "(()"},
		{")", "())"},
		{"()", "()"},
	}
	for _, tc := range tests {
		if got := SetQuote(tc.in); got != tc.want {
			t.Errorf("SetQuote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFetchParts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ALL", "ALL"}, {"full", "full"}, {"Fast", "Fast"},
		{"RFC822", "(RFC822)"}, {"(UID FLAGS)", "(UID FLAGS)"}, {"", "()"}, {"ALLX", "(ALLX)"},
	}
	for _, tc := range tests {
		if got := FetchParts(tc.in); got != tc.want {
			t.Errorf("FetchParts(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`}, {"pass", `"pass"`}, {`"pass"`, `"\"pass\""`}, {`a\"b`, `"a\\\"b"`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsQuoted(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`""`, true}, {`"a"`, true}, {`"a\"b"`, true}, {`"a\b"`, true}, {`"a\\"`, true},
		{`"`, false}, {`"a\"`, false}, {`"a" "b"`, false}, {`a"`, false}, {"", false},
		{"\"a\\\nb\"", false}, {"\"a\nb\"", true}, {`"a"b`, false},
	}
	for _, tc := range tests {
		if got := IsQuoted(tc.in); got != tc.want {
			t.Errorf("IsQuoted(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCheckArg(t *testing.T) {
	tests := []struct {
		in  string
		err error
	}{
		{"INBOX", nil},
		{"INBOX\r\nX1 DELETE INBOX", ErrBadArgument},
		{"a\x00b", ErrBadArgument},
		{"a\nb", ErrBadArgument},
		{"a\rb", ErrBadArgument},
		{"a\tb\x7f", nil},
	}
	for _, tc := range tests {
		if err := CheckArg(tc.in); !errors.Is(err, tc.err) {
			t.Errorf("CheckArg(%q) = %v, want %v", tc.in, err, tc.err)
		}
	}
}
