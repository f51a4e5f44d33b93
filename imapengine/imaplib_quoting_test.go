package imapengine

import (
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
	"github.com/imapbridge/imapbridge/imapengine/internal/mutf7"
)

// Engine-level quoting tests: what the fake server receives for the
// arguments of CPython's TestImaplib helper scenarios (spec §4.1 items 7 and
// 9–13) and for mailbox names (§4.2 items 98 and 99). The helpers are
// private in imaplib; here each is observed through a command that uses it:
// PROXYAUTH for _astring, LIST for _list_mailbox, CREATE and SELECT for
// _mailbox, FETCH for sequence sets, STORE and STATUS for _set_quote.

// txUTF8Cfg is CPython's UTF8Server: ENABLE and UTF8=ACCEPT advertised.
func txUTF8Cfg(extra txHandlers) imaptest.Config {
	h := txHandlers{
		"ENABLE":    imaptest.SimpleHandler(nil, "ENABLE successful"),
		"PROXYAUTH": imaptest.SimpleHandler(nil, ""),
		"CREATE":    imaptest.SimpleHandler(nil, ""),
		"LIST":      imaptest.SimpleHandler(nil, ""),
		"SETACL":    imaptest.SimpleHandler(nil, ""),
	}
	for k, v := range extra {
		h[k] = v
	}
	return imaptest.Config{Capabilities: "AUTH ENABLE UTF8=ACCEPT", Handlers: h}
}

// txClient returns a logged-in client against txUTF8Cfg, switched to UTF-8
// mode when utf8 is set.
func (tr transport) txClient(t *testing.T, utf8 bool) (*imaptest.Server, *Client) {
	t.Helper()
	srv, c := tr.txLoggedIn(t, txUTF8Cfg(nil))
	if utf8 {
		if _, err := c.Enable(txCtx(t), "UTF8=ACCEPT"); err != nil || !c.UTF8Enabled() {
			t.Fatalf("enable UTF8=ACCEPT: %v (UTF8Enabled %v)", err, c.UTF8Enabled())
		}
	}
	return srv, c
}

// txOneArg returns the single argument of the last cmd the server received.
func txOneArg(t *testing.T, srv *imaptest.Server, cmd string) string {
	t.Helper()
	last, ok := srv.LastCommand(cmd)
	if !ok || len(last.Args) != 1 {
		t.Fatalf("%s: args %q (received %v)", cmd, last.Args, ok)
	}
	return last.Args[0]
}

func TestImaplib_test_astring(t *testing.T) {
	tests := []struct {
		in, want string
		utf8     bool
	}{
		{"INBOX", "INBOX", false},
		{"New folder", `"New folder"`, false},
		{`a"b`, `"a\"b"`, false},
		{`a\b`, `"a\\b"`, false},
		{"", `""`, false},
		{"*", `"*"`, false},
		{`"New folder"`, `"New folder"`, false},
		{`""`, `""`, false},
		{`"a\b"`, `"a\b"`, false},
		{`"a" SELECT evil "`, `"\"a\" SELECT evil \""`, false},
		{`"`, `"\""`, false},
		{"Entwürfe", `"Entwürfe"`, true},
	}
	forTransports(t, func(t *testing.T, tr transport) {
		for _, utf8 := range []bool{false, true} {
			srv, c := tr.txClient(t, utf8)
			for _, tc := range tests {
				if tc.utf8 != utf8 {
					continue
				}
				_, err := c.ProxyAuth(txCtx(t), tc.in)
				if err != nil {
					t.Fatalf("ProxyAuth(%q): %v", tc.in, err)
				}
				if got := txOneArg(t, srv, "PROXYAUTH"); got != tc.want {
					t.Errorf("astring %q sent as %q, want %q", tc.in, got, tc.want)
				}
			}
		}
	})
}

// Differs from imaplib: a non-mailbox argument with NUL, CR or LF fails with
// ErrBadArgument (imaplib's ValueError) before anything is written, so a\rb
// has no quoted form to be idempotent about (list patterns encode it in
// modified UTF-7 instead); an 8-bit astring is a literal (see below).
func TestImaplib_test_astring_idempotent(t *testing.T) {
	inputs := []string{"INBOX", "New folder", `a"b`, `a\b`, "", "*", "%", `"New folder"`, `""`, `"a\b"`,
		`"a" SELECT evil "`, `"`, "a\tb", "a\rb", "\x7f", "(a)", "Entw\xc3\xbcrfe"}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txClient(t, false)
		for _, in := range inputs {
			// _astring, observed through PROXYAUTH.
			before := len(srv.Commands())
			if _, err := c.ProxyAuth(txCtx(t), in); err != nil {
				txErrIs(t, err, ErrBadArgument)
				if len(srv.Commands()) != before {
					t.Fatalf("ProxyAuth(%q) failed but sent a command", in)
				}
			} else {
				once := txOneArg(t, srv, "PROXYAUTH")
				if once == "{9}" && in == "Entw\xc3\xbcrfe" {
					// Differs from imaplib: in ASCII mode an 8-bit astring
					// is sent as a synchronizing literal (RFC 3501 quoted
					// strings are 7-bit), not as a quoted string of raw
					// bytes; this server never sends "+", so the literal
					// itself is never written.
					continue
				}
				if _, err := c.ProxyAuth(txCtx(t), once); err != nil {
					t.Fatalf("ProxyAuth(%q): %v", once, err)
				}
				if twice := txOneArg(t, srv, "PROXYAUTH"); twice != once {
					t.Errorf("astring(%q) = %q, astring of that = %q", in, once, twice)
				}
			}
			// _list_mailbox, observed through LIST's pattern.
			if _, err := c.List(txCtx(t), "", in); err != nil {
				t.Fatalf("List(%q): %v", in, err)
			}
			once := txListPattern(t, srv)
			if _, err := c.List(txCtx(t), "", once); err != nil {
				t.Fatalf("List(%q): %v", once, err)
			}
			if twice := txListPattern(t, srv); twice != once {
				t.Errorf("list_mailbox(%q) = %q, list_mailbox of that = %q", in, once, twice)
			}
		}
	})
}

// txListPattern returns the pattern argument of the last LIST.
func txListPattern(t *testing.T, srv *imaptest.Server) string {
	t.Helper()
	last, _ := srv.LastCommand("LIST")
	if len(last.Args) != 2 {
		t.Fatalf("LIST args %q", last.Args)
	}
	return last.Args[1]
}

func TestImaplib_test_list_mailbox(t *testing.T) {
	tests := []struct {
		in, want string
		utf8     bool
	}{
		{"*", "*", false},
		{"%", "%", false},
		{"foo/%", "foo/%", false},
		{"New folder", `"New folder"`, false},
		{`"New folder"`, `"New folder"`, false},
		{"Entwürfe/%", "Entw&APw-rfe/%", false},
		{"Entwürfe/%", `"Entwürfe/%"`, true},
	}
	forTransports(t, func(t *testing.T, tr transport) {
		for _, utf8 := range []bool{false, true} {
			srv, c := tr.txClient(t, utf8)
			for _, tc := range tests {
				if tc.utf8 != utf8 {
					continue
				}
				if _, err := c.List(txCtx(t), "", tc.in); err != nil {
					t.Fatalf("List(%q): %v", tc.in, err)
				}
				if got := txListPattern(t, srv); got != tc.want {
					t.Errorf("pattern %q sent as %q, want %q (utf8 %v)", tc.in, got, tc.want, utf8)
				}
			}
		}
	})
}

func TestImaplib_test_mailbox(t *testing.T) {
	tests := []struct {
		in, want string
		utf8     bool
	}{
		{"INBOX", "INBOX", false},
		{"Entwürfe", "Entw&APw-rfe", false},
		{"Entw&APw-rfe", "Entw&APw-rfe", false},
		{`"Entw&APw-rfe"`, `"Entw&APw-rfe"`, false},
		{"A&B", "A&-B", false},
		{"New folder", `"New folder"`, false},
		{"", `""`, false},
		{"a\x01b", "a&AAE-b", false},
		{`a"b`, `"a\"b"`, false},
		{`a\b`, `"a\\b"`, false},
		{"Entwürfe", `"Entwürfe"`, true},
		{"Entw&APw-rfe", "Entw&APw-rfe", true},
	}
	forTransports(t, func(t *testing.T, tr transport) {
		for _, utf8 := range []bool{false, true} {
			srv, c := tr.txClient(t, utf8)
			for _, tc := range tests {
				if tc.utf8 != utf8 {
					continue
				}
				if _, err := c.Create(txCtx(t), tc.in); err != nil {
					t.Fatalf("Create(%q): %v", tc.in, err)
				}
				if got := txOneArg(t, srv, "CREATE"); got != tc.want {
					t.Errorf("mailbox %q sent as %q, want %q (utf8 %v)", tc.in, got, tc.want, utf8)
				}
			}
		}
	})
}

// TestImaplib_test_sequence_set_wire is test_sequence_set seen on the wire (the
// pure-function table is TestImaplib_test_sequence_set in params_test.go).
func TestImaplib_test_sequence_set_wire(t *testing.T) {
	tests := []struct {
		name  string
		items []any
		want  string
		err   error
	}{
		{"int", []any{5}, "5", nil},
		{"string", []any{"1:3,7"}, "1:3,7", nil},
		{"list", []any{[]any{1, 2, 5}}, "1,2,5", nil},
		{"pairs", []any{[]any{1, [2]any{3, 5}, [2]any{8, "*"}}}, "1,3:5,8:*", nil},
		{"open pair", []any{[]any{[2]any{5, nil}}}, "5:*", nil},
		{"range", []any{[]any{Range(1, 4, 1), 7}}, "1:3,7", nil},
		{"stepped range", []any{[]any{Range(1, 10, 2)}}, "1,3,5,7,9", nil},
		{"string member", []any{[]any{"7"}}, "", ErrBadSetItem},
		{"float member", []any{[]any{2.9}}, "", ErrBadSetItem},
		{"float pair end", []any{[]any{[2]any{1, 2.9}}}, "", ErrBadSetItem},
	}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, txSimpleCfg("FETCH"))
		for _, tc := range tests {
			set, err := SequenceSet(tc.items...)
			if tc.err != nil {
				txErrIs(t, err, tc.err)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if _, err := c.Fetch(txCtx(t), set, "(FLAGS)"); err != nil {
				t.Fatalf("%s: fetch: %v", tc.name, err)
			}
			txArgs(t, srv, "FETCH", tc.want, "(FLAGS)")
		}
	})
}

func TestImaplib_test_set_quote(t *testing.T) {
	flagList := txMust(t)(Substitute("?f", []string{`\Seen`, `\Answered`}))
	names := txMust(t)(Substitute("?", []string{"MESSAGES", "UNSEEN"}))
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, imaptest.Config{Handlers: txHandlers{
			"STORE":  imaptest.SimpleHandler(nil, ""),
			"STATUS": imaptest.SimpleHandler(nil, ""),
		}})
		for _, tc := range []struct{ flags, want string }{
			{`\Seen`, `(\Seen)`},
			{`(\Seen)`, `(\Seen)`},
			{flagList, `(\Seen \Answered)`},
			{"", "()"},
		} {
			if _, err := c.Store(txCtx(t), "1", "+FLAGS", tc.flags); err != nil {
				t.Fatal(err)
			}
			txArgs(t, srv, "STORE", "1", "+FLAGS", tc.want)
		}
		if _, err := c.Status(txCtx(t), "INBOX", names); err != nil {
			t.Fatal(err)
		}
		txArgs(t, srv, "STATUS", "INBOX", "(MESSAGES UNSEEN)")
	})
}

// TestImaplib_test_control_characters follows the 3.16 scenario: every C0
// control in a mailbox name is encoded in modified UTF-7, so the command
// succeeds and the argument decodes back to the name. Non-mailbox
// arguments follow 3.14.7: NUL, CR and LF fail with ErrBadArgument before
// anything is sent, other controls are quoted.
func TestImaplib_test_control_characters(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txClient(t, false)
		for b := byte(0); b < 0x20; b++ {
			name := "a" + string(rune(b)) + "b"
			r, err := c.Select(txCtx(t), name, false)
			txResult(t, r, err, "OK", "2")
			arg := txOneArg(t, srv, "SELECT")
			if len(arg) == 0 || strings.IndexByte(arg, b) >= 0 {
				t.Fatalf("select(%q) sent %q", name, arg)
			}
			if dec, err := mutf7.Decode(arg); err != nil || dec != name {
				t.Fatalf("select(%q) sent %q, decodes to %q (%v)", name, arg, dec, err)
			}

			before := len(srv.Commands())
			// The identifier of SETACL is a plain astring (not a mailbox).
			_, err = c.SetACL(txCtx(t), "INBOX", name, "r")
			switch b {
			case 0, '\r', '\n':
				txErrIs(t, err, ErrBadArgument)
				if len(srv.Commands()) != before {
					t.Fatalf("SetACL(%q) failed but sent a command", name)
				}
			default:
				if err != nil {
					t.Fatalf("SetACL(%q): %v", name, err)
				}
				txArgs(t, srv, "SETACL", "INBOX", `"`+name+`"`, "r")
			}
		}
	})
}

func TestImaplib_test_mutf7_mailbox_name(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txClient(t, false)
		// imaplib's str and bytes forms collapse to Go strings.
		for _, name := range []string{"Entwürfe", "Entw&APw-rfe"} {
			r, err := c.Select(txCtx(t), name, false)
			txResult(t, r, err, "OK", "2")
			txArgs(t, srv, "SELECT", "Entw&APw-rfe")
		}
	})
}

// TestImaplib_test_utf8_quoting checks UTF-8 mode (ENABLE UTF8=ACCEPT):
// mailbox names are sent as quoted UTF-8 (test_utf8_mailbox_name's
// "Entwürfe"), and names that need quoting in ASCII mode still get it.
func TestImaplib_test_utf8_quoting(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txClient(t, true)
		for _, tc := range []struct{ in, want string }{
			{"Entwürfe", `"Entwürfe"`},
			{"New folder", `"New folder"`},
			{`a"b`, `"a\"b"`},
			{"INBOX", "INBOX"},
		} {
			r, err := c.Select(txCtx(t), tc.in, false)
			txResult(t, r, err, "OK", "2")
			txArgs(t, srv, "SELECT", tc.want)
		}
	})
}
