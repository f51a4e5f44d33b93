package imapengine

import (
	"context"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// utf8Config is CPython's UTF8Server: capabilities "AUTH ENABLE UTF8=ACCEPT",
// ENABLE answers "OK ENABLE successful", AUTHENTICATE is the fake handler, and
// APPEND records its arguments and literal (under "append_args" and
// "append_literal") and answers "OK okay".
func utf8Config(t *testing.T) imaptest.Config {
	return imaptest.Config{
		Capabilities: "AUTH ENABLE UTF8=ACCEPT",
		Handlers: map[string]imaptest.HandlerFunc{
			"ENABLE":       imaptest.SimpleHandler(nil, "ENABLE successful"),
			"AUTHENTICATE": imaptest.FakeAuthHandler(),
			"APPEND":       appendRecorder(t, "OK okay"),
		},
	}
}

// appendRecorder is an APPEND handler in the style of the 3.16 harness: it
// records the arguments under "append_args", reads the literal with
// _read_literal (stored under "append_literal"), records the trailer line under
// "append_trailer" and answers with ok.
func appendRecorder(t *testing.T, ok string) imaptest.HandlerFunc {
	return func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Server().SetValue("append_args", append([]string{}, cmd.Args...))
		data, trailer, err := c.ReadLiteral(cmd)
		if err != nil {
			t.Errorf("server: reading APPEND literal: %v", err)
			c.Tagged(cmd, "BAD literal")
			return
		}
		c.Server().SetValue("append_literal", data)
		c.Server().SetValue("append_trailer", trailer)
		c.Tagged(cmd, ok)
	}
}

// fakeAuth is the authobject of the CPython tests, lambda x: b'fake'.
func fakeAuth([]byte) ([]byte, error) { return []byte("fake"), nil }

// mustFakeAuthenticate runs authenticate('MYAUTH', lambda x: b'fake') and
// checks the result and the reply line the server received.
func mustFakeAuthenticate(t *testing.T, srv *imaptest.Server, c *Client) {
	t.Helper()
	r, err := c.Authenticate(context.Background(), "MYAUTH", fakeAuth)
	if err != nil || r.Typ != "OK" {
		t.Fatalf("authenticate = %v, %v; want OK", r, err)
	}
	if got, _ := srv.Value(imaptest.KeyResponse).([]byte); string(got) != "ZmFrZQ==\r\n" {
		t.Fatalf("server response = %q, want %q", got, "ZmFrZQ==\r\n")
	}
}

// TestImaplib_test_enable_raises_error_if_not_AUTH: ENABLE in NONAUTH is a
// state error and UTF-8 mode stays off.
func TestImaplib_test_enable_raises_error_if_not_AUTH(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, utf8Config(t))
		if c.UTF8Enabled() {
			t.Fatal("UTF8Enabled before enable")
		}
		_, err := c.Enable(context.Background(), "foo")
		wantErr(t, err, ErrIllegalState, "command ENABLE illegal in state NONAUTH, only allowed in states AUTH")
		wantErr(t, err, ErrIMAP, "ENABLE", "NONAUTH")
		if c.UTF8Enabled() {
			t.Fatal("UTF8Enabled after failed enable")
		}
		if n := countCommands(srv, "ENABLE"); n != 0 {
			t.Fatalf("server got %d ENABLE commands, want 0", n)
		}
	})
}

// TestImaplib_test_enable_raises_error_if_no_capability covers
// test_enable_raises_error_if_no_capability (NONAUTH) and
// test_enable_UTF8_raises_error_if_not_supported (after LOGIN): without the
// ENABLE capability, enable fails locally.
func TestImaplib_test_enable_raises_error_if_no_capability(t *testing.T) {
	tests := []struct {
		name  string
		login bool
		arg   string
	}{
		{"test_enable_raises_error_if_no_capability", false, "foo"},
		{"test_enable_UTF8_raises_error_if_not_supported", true, "UTF8=ACCEPT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{})
				if tt.login {
					r, err := c.Login(context.Background(), "user", "pass")
					if err != nil || r.Typ != "OK" {
						t.Fatalf("login = %v, %v", r, err)
					}
				}
				_, err := c.Enable(context.Background(), tt.arg)
				wantErr(t, err, ErrNotSupported, "does not support ENABLE")
				wantErr(t, err, ErrIMAP)
				if n := countCommands(srv, "ENABLE"); n != 0 {
					t.Fatalf("server got %d ENABLE commands, want 0", n)
				}
				// As in ThreadedNetworkedTests: logout still succeeds afterwards.
				if _, err := c.Logout(context.Background()); err != nil {
					t.Fatalf("logout: %v", err)
				}
			})
		})
	}
}

// TestImaplib_test_enable_UTF8_True_append: after ENABLE UTF8=ACCEPT, APPEND
// sends the message as UTF8 (~{N}) with LF translated to CRLF.
func TestImaplib_test_enable_UTF8_True_append(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, utf8Config(t))
		ctx := context.Background()
		if c.UTF8Enabled() {
			t.Fatal("UTF8Enabled before enable")
		}
		mustFakeAuthenticate(t, srv, c)
		r, err := c.Enable(ctx, "UTF8=ACCEPT")
		if err != nil || r.Typ != "OK" {
			t.Fatalf("enable = %v, %v", r, err)
		}
		if !c.UTF8Enabled() {
			t.Fatal("UTF8Enabled false after ENABLE UTF8=ACCEPT")
		}
		sameStrings(t, "ENABLE args", serverArgs(t, srv, "ENABLE"), []string{"UTF8=ACCEPT"})

		msg := "Subject: üñí©öðé\n"
		r, err = c.Append(ctx, "", "", time.Time{}, []byte(msg))
		if err != nil || r.Typ != "OK" {
			t.Fatalf("append = %v, %v", r, err)
		}
		args, _ := srv.Value("append_args").([]string)
		sameStrings(t, "APPEND args", args, []string{"INBOX", "UTF8", "(~{25}"})
		if got, _ := srv.Value("append_literal").([]byte); string(got) != "Subject: üñí©öðé\r\n" {
			t.Fatalf("literal = %q, want %q", got, "Subject: üñí©öðé\r\n")
		}
		if got, _ := srv.Value("append_trailer").([]byte); string(got) != ")\r\n" {
			t.Fatalf("trailer = %q, want %q", got, ")\r\n")
		}
	})
}

// TestImaplib_test_search_disallows_charset_in_utf8_mode: in UTF-8 mode a
// SEARCH charset is refused locally and nothing is sent.
func TestImaplib_test_search_disallows_charset_in_utf8_mode(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, utf8Config(t))
		ctx := context.Background()
		mustFakeAuthenticate(t, srv, c)
		if r, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil || r.Typ != "OK" {
			t.Fatalf("enable = %v, %v", r, err)
		}
		if !c.UTF8Enabled() {
			t.Fatal("UTF8Enabled false after ENABLE UTF8=ACCEPT")
		}
		before := len(srv.Commands())
		_, err := c.Search(ctx, "foo", "bar")
		wantErr(t, err, ErrIMAP, "charset", "UTF8")
		// A CAPABILITY round trip makes sure nothing else is in flight.
		if _, err := c.Capability(ctx); err != nil {
			t.Fatalf("capability: %v", err)
		}
		cmds := srv.Commands()
		if len(cmds) != before+1 || cmds[len(cmds)-1].Name != "CAPABILITY" {
			t.Fatalf("commands after search: %+v, want only CAPABILITY", cmds[before:])
		}
	})
}

// TestImaplib_test_utf8_mailbox_name: in UTF-8 mode a non-ASCII mailbox name is
// sent as a quoted UTF-8 string.
func TestImaplib_test_utf8_mailbox_name(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, utf8Config(t))
		ctx := context.Background()
		mustFakeAuthenticate(t, srv, c)
		if r, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil || r.Typ != "OK" {
			t.Fatalf("enable = %v, %v", r, err)
		}
		r, err := c.Select(ctx, "Entwürfe", false)
		if err != nil || r.Typ != "OK" {
			t.Fatalf("select = %v, %v", r, err)
		}
		sameStrings(t, "SELECT args", serverArgs(t, srv, "SELECT"), []string{`"Entwürfe"`})
	})
}
