package imapengine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// TestImaplib_test_login: LOGIN quotes the user only if needed and the
// password always; a second LOGIN is a state error.
func TestImaplib_test_login(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{})
		ctx := context.Background()
		r, err := c.Login(ctx, "user", "pass")
		if err != nil || r.Typ != "OK" || !slices.Equal(strs(r.Data), []string{"LOGIN completed"}) {
			t.Fatalf("login = %v, %v; want ('OK', [b'LOGIN completed'])", r, err)
		}
		if c.State() != StateAuth {
			t.Fatalf("state = %s, want AUTH", c.State())
		}
		logged, _ := srv.Value(imaptest.KeyLogged).([]string)
		sameStrings(t, "logged", logged, []string{"user", `"pass"`})
		_, err = c.Login(ctx, "user", "pass")
		wantErr(t, err, ErrIllegalState, "command LOGIN illegal in state AUTH")
		if n := countCommands(srv, "LOGIN"); n != 1 {
			t.Fatalf("server got %d LOGIN commands, want 1", n)
		}
	})
}

// TestImaplib_test_login_quoted covers test_login_quoted and
// test_login_quoted2: the arguments as the server receives them.
func TestImaplib_test_login_quoted(t *testing.T) {
	tests := []struct {
		name, user, password string
		want                 []string
	}{
		{"test_login_quoted", "us*r", "p%ss", []string{`"us*r"`, `"p%ss"`}},
		{"test_login_quoted2", `"user"`, `"pass"`, []string{`"user"`, `"\"pass\""`}},
		{"plain", "user", "pass", []string{"user", `"pass"`}},
		{"space", "us er", "pa ss", []string{`"us er"`, `"pa ss"`}},
		{"backslash", `us\r`, `pa\ss`, []string{`"us\\r"`, `"pa\\ss"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{})
				r, err := c.Login(context.Background(), tt.user, tt.password)
				if err != nil || r.Typ != "OK" {
					t.Fatalf("login = %v, %v", r, err)
				}
				if c.State() != StateAuth {
					t.Fatalf("state = %s, want AUTH", c.State())
				}
				logged, _ := srv.Value(imaptest.KeyLogged).([]string)
				sameStrings(t, "logged", logged, tt.want)
			})
		})
	}
}

// TestImaplib_test_append_translate_line_endings: Append normalises bare CR
// and LF to CRLF, AppendExact sends the bytes unchanged, and the mailbox and
// flags are quoted and parenthesised.
func TestImaplib_test_append_translate_line_endings(t *testing.T) {
	emailBytes := "From: a@example.com\nTo: b@example.com\nSubject: hi\n\nbody\n"
	tests := []struct {
		name      string
		exact     bool
		mailbox   string
		flags     string
		msg, want string
		wantArgs  []string
		checkArgs bool
	}{
		{name: "translate", mailbox: "INBOX", msg: "a\rb\nc\r\nd", want: "a\r\nb\r\nc\r\nd"},
		{name: "translate_line_endings=False", exact: true, mailbox: "INBOX", msg: "a\rb\nc\r\nd", want: "a\rb\nc\r\nd"},
		{name: "EmailMessage.as_bytes", exact: true, mailbox: "INBOX", msg: emailBytes, want: emailBytes},
		{name: "quoting", mailbox: "New folder", flags: `\Seen`, msg: "data", want: "data",
			wantArgs: []string{`"New folder"`, `(\Seen)`, "{4}"}, checkArgs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
					"APPEND": appendRecorder(t, "OK APPEND completed"),
				}})
				mustLogin(t, c)
				ctx := context.Background()
				var r Result
				var err error
				if tt.exact {
					r, err = c.AppendExact(ctx, tt.mailbox, tt.flags, time.Time{}, []byte(tt.msg))
				} else {
					r, err = c.Append(ctx, tt.mailbox, tt.flags, time.Time{}, []byte(tt.msg))
				}
				if err != nil || r.Typ != "OK" || !slices.Equal(strs(r.Data), []string{"APPEND completed"}) {
					t.Fatalf("append = %v, %v", r, err)
				}
				if got, _ := srv.Value("append_literal").([]byte); string(got) != tt.want {
					t.Fatalf("literal = %q, want %q", got, tt.want)
				}
				if tt.checkArgs {
					args, _ := srv.Value("append_args").([]string)
					sameStrings(t, "APPEND args", args, tt.wantArgs)
				}
			})
		})
	}
}

// TestImaplib_test_login_capabilities: a CAPABILITY response sent during LOGIN
// replaces the capabilities, so ENABLE UTF8=ACCEPT then works.
func TestImaplib_test_login_capabilities(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"LOGIN":  imaptest.SimpleHandler([]string{"* CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT"}, "LOGIN completed"),
			"ENABLE": imaptest.SimpleHandler(nil, "ENABLE completed"),
		}})
		if slices.Contains(c.Capabilities(), "ENABLE") {
			t.Fatalf("ENABLE in capabilities %q before login", c.Capabilities())
		}
		mustLogin(t, c)
		caps := c.Capabilities()
		if !slices.Contains(caps, "ENABLE") || !slices.Contains(caps, "UTF8=ACCEPT") {
			t.Fatalf("capabilities after login = %q, want ENABLE and UTF8=ACCEPT", caps)
		}
		if n := countCommands(srv, "CAPABILITY"); n != 1 {
			t.Fatalf("server got %d CAPABILITY commands, want 1 (no re-query)", n)
		}
		r, err := c.Enable(context.Background(), "UTF8=ACCEPT")
		if err != nil || r.Typ != "OK" {
			t.Fatalf("enable = %v, %v", r, err)
		}
		if !c.UTF8Enabled() {
			t.Fatal("UTF8Enabled false after ENABLE UTF8=ACCEPT")
		}
	})
}

// TestImaplib_test_login_requery_capabilities: when LOGIN reports no
// capabilities, the client asks again after logging in.
func TestImaplib_test_login_requery_capabilities(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"CAPABILITY": func(c *imaptest.Conn, cmd *imaptest.Command) {
				if c.Server().Value(imaptest.KeyLogged) != nil {
					c.Send("* CAPABILITY IMAP4rev1 ENABLE")
				} else {
					c.Send("* CAPABILITY IMAP4rev1")
				}
				c.Tagged(cmd, "OK CAPABILITY completed")
			},
		}})
		if slices.Contains(c.Capabilities(), "ENABLE") {
			t.Fatalf("ENABLE in capabilities %q before login", c.Capabilities())
		}
		mustLogin(t, c)
		if !slices.Contains(c.Capabilities(), "ENABLE") {
			t.Fatalf("ENABLE not in capabilities %q after login", c.Capabilities())
		}
		if n := countCommands(srv, "CAPABILITY"); n != 2 {
			t.Fatalf("server got %d CAPABILITY commands, want 2", n)
		}
	})
}
