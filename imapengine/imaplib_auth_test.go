package imapengine

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// TestImaplib_test_bad_auth_name: an AUTHENTICATE refused at once is an error
// with the server's text, and the callback is never called.
func TestImaplib_test_bad_auth_name(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"AUTHENTICATE": func(c *imaptest.Conn, cmd *imaptest.Command) {
				c.Tagged(cmd, "NO unrecognized authentication type "+cmd.Args[0])
			},
		}})
		called := false
		_, err := c.Authenticate(context.Background(), "METHOD", func([]byte) ([]byte, error) {
			called = true
			return []byte("1"), nil
		})
		wantErr(t, err, ErrIMAP, "unrecognized authentication type METHOD")
		if errors.Is(err, ErrAbort) {
			t.Fatalf("NO is an abort: %v", err)
		}
		if called {
			t.Fatal("callback was called")
		}
	})
}

// failingAuthHandler sends "+", reads one line and answers "NO <text>"; if
// abortText is set it is used instead when the reply line is "*\r\n", and OK
// for any other reply (test_aborted_authentication).
func failingAuthHandler(text, abortText string) imaptest.HandlerFunc {
	return func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Send("+")
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		c.Server().SetValue(imaptest.KeyResponse, line)
		switch {
		case abortText == "":
			c.Tagged(cmd, "NO "+text)
		case string(line) == "*\r\n":
			c.Tagged(cmd, "NO "+abortText)
		default:
			c.Tagged(cmd, "OK")
		}
	}
}

// TestImaplib_test_invalid_authentication covers test_invalid_authentication,
// test_invalid_login and test_aborted_authentication: a NO completion is an
// IMAP4.error carrying the response code.
func TestImaplib_test_invalid_authentication(t *testing.T) {
	tests := []struct {
		name     string
		handlers map[string]imaptest.HandlerFunc
		run      func(c *Client) error
		want     string
		code     string
	}{
		{
			name:     "test_invalid_authentication",
			handlers: map[string]imaptest.HandlerFunc{"AUTHENTICATE": failingAuthHandler("[AUTHENTICATIONFAILED] invalid", "")},
			run: func(c *Client) error {
				_, err := c.Authenticate(context.Background(), "METHOD", fakeAuth)
				return err
			},
			want: "[AUTHENTICATIONFAILED] invalid",
			code: "AUTHENTICATIONFAILED",
		},
		{
			name: "test_invalid_login",
			handlers: map[string]imaptest.HandlerFunc{"LOGIN": func(c *imaptest.Conn, cmd *imaptest.Command) {
				c.Tagged(cmd, "NO [LOGIN] failed")
			}},
			run: func(c *Client) error {
				_, err := c.Login(context.Background(), "user", "wrongpass")
				return err
			},
			want: "[LOGIN] failed",
			code: "LOGIN",
		},
		{
			name:     "test_aborted_authentication",
			handlers: map[string]imaptest.HandlerFunc{"AUTHENTICATE": failingAuthHandler("", "[AUTHENTICATIONFAILED] aborted")},
			run: func(c *Client) error {
				_, err := c.Authenticate(context.Background(), "METHOD", func([]byte) ([]byte, error) {
					return nil, ErrAuthAborted
				})
				return err
			},
			want: "[AUTHENTICATIONFAILED] aborted",
			code: "AUTHENTICATIONFAILED",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{Handlers: tt.handlers})
				err := tt.run(c)
				wantErr(t, err, ErrIMAP, tt.want)
				if errors.Is(err, ErrAbort) {
					t.Fatalf("NO is an abort: %v", err)
				}
				var se *StatusError
				if !errors.As(err, &se) || se.Status != "NO" || se.Code != tt.code {
					t.Fatalf("StatusError = %+v, want NO with code %s", se, tt.code)
				}
				if tt.name == "test_aborted_authentication" {
					if got, _ := srv.Value(imaptest.KeyResponse).([]byte); string(got) != "*\r\n" {
						t.Fatalf("client answered %q, want %q", got, "*\r\n")
					}
				}
				if c.State() != StateNonAuth {
					t.Fatalf("state = %s, want NONAUTH", c.State())
				}
			})
		})
	}
}

// TestImaplib_test_valid_authentication covers test_valid_authentication_bytes
// and test_valid_authentication_plain_text (and ThreadedNetworkedTests'
// test_valid_authentication): the callback's answer is sent base64-encoded.
// Python's str and bytes callbacks collapse to one Go form; both cases are kept
// as table rows for traceability.
func TestImaplib_test_valid_authentication(t *testing.T) {
	tests := []struct {
		name string
		fn   AuthFunc
	}{
		{"test_valid_authentication_bytes", fakeAuth},
		{"test_valid_authentication_plain_text", func([]byte) ([]byte, error) { return []byte(string("fake")), nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
					"AUTHENTICATE": imaptest.FakeAuthHandler(),
				}})
				r, err := c.Authenticate(context.Background(), "MYAUTH", tt.fn)
				if err != nil || r.Typ != "OK" {
					t.Fatalf("authenticate = %v, %v", r, err)
				}
				if got, _ := srv.Value(imaptest.KeyResponse).([]byte); string(got) != "ZmFrZQ==\r\n" {
					t.Fatalf("server response = %q, want %q", got, "ZmFrZQ==\r\n")
				}
				if c.State() != StateAuth {
					t.Fatalf("state = %s, want AUTH", c.State())
				}
			})
		})
	}
}

// cramConfig is a server with CPython's AuthHandler_CRAM_MD5.
var cramConfig = imaptest.Config{
	Capabilities: "LOGINDISABLED AUTH=CRAM-MD5",
	Handlers:     map[string]imaptest.HandlerFunc{"AUTHENTICATE": imaptest.AuthCRAMMD5Handler()},
}

// TestImaplib_test_login_cram_md5 covers test_login_cram_md5_bytes and
// test_login_cram_md5_plain_text (str and bytes passwords are one Go string),
// plus a wrong password, which the server refuses.
func TestImaplib_test_login_cram_md5(t *testing.T) {
	tests := []struct {
		name, password string
		ok             bool
	}{
		{"test_login_cram_md5_bytes", "tanstaaftanstaaf", true},
		{"test_login_cram_md5_plain_text", string([]byte("tanstaaftanstaaf")), true},
		{"wrong_password", "tanstaaf", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				_, c := tr.setup(t, cramConfig)
				if !slices.Contains(c.Capabilities(), "AUTH=CRAM-MD5") {
					t.Fatalf("capabilities %q lack AUTH=CRAM-MD5", c.Capabilities())
				}
				r, err := c.LoginCRAMMD5(context.Background(), "tim", tt.password)
				if !tt.ok {
					wantErr(t, err, ErrIMAP, "No access")
					return
				}
				if err != nil || r.Typ != "OK" {
					t.Fatalf("login_cram_md5 = %v, %v", r, err)
				}
			})
		})
	}
}

// TestImaplib_test_login_cram_md5_blocked: when MD5 is unavailable (FIPS
// mode), login_cram_md5 fails locally with a clear message.
func TestImaplib_test_login_cram_md5_blocked(t *testing.T) {
	saved := cramMD5Supported
	cramMD5Supported = func() bool { return false }
	t.Cleanup(func() { cramMD5Supported = saved })
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, cramConfig)
		_, err := c.LoginCRAMMD5(context.Background(), "tim", "tanstaaftanstaaf")
		wantErr(t, err, ErrNotSupported, "CRAM-MD5 authentication is not supported")
		wantErr(t, err, ErrIMAP)
		if n := countCommands(srv, "AUTHENTICATE"); n != 0 {
			t.Fatalf("server got %d AUTHENTICATE commands, want 0", n)
		}
	})
}

// TestImaplib_test_login_plain covers test_login_plain_ascii,
// test_login_plain_utf8 and test_login_plain_bytes (UTF-8 bytes and str are
// one Go string).
func TestImaplib_test_login_plain(t *testing.T) {
	tests := []struct {
		name, user, password, reply string
	}{
		{"test_login_plain_ascii", "prem", "pass", "AHByZW0AcGFzcw==\r\n"},
		{"test_login_plain_utf8", "pręm", "żółć", "AHByxJltAMW8w7PFgsSH\r\n"},
		{"test_login_plain_bytes", string([]byte("pr\xc4\x99m")), string([]byte("\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87")), "AHByxJltAMW8w7PFgsSH\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{
					Capabilities: "LOGINDISABLED AUTH=PLAIN",
					Handlers:     map[string]imaptest.HandlerFunc{"AUTHENTICATE": imaptest.AuthPlainHandler()},
				})
				if !slices.Contains(c.Capabilities(), "AUTH=PLAIN") {
					t.Fatalf("capabilities %q lack AUTH=PLAIN", c.Capabilities())
				}
				r, err := c.LoginPlain(context.Background(), tt.user, tt.password)
				if err != nil || r.Typ != "OK" {
					t.Fatalf("login_plain = %v, %v", r, err)
				}
				args, _ := srv.Value(imaptest.KeyAuthArgs).([]string)
				sameStrings(t, "AUTHENTICATE args", args, []string{"PLAIN"})
				if got, _ := srv.Value(imaptest.KeyResponse).([]byte); string(got) != tt.reply {
					t.Fatalf("server response = %q, want %q", got, tt.reply)
				}
			})
		})
	}
}

// TestImaplib_test_login_plain_nul: a NUL in the user or password is refused
// (imaplib's ValueError) and nothing is sent.
func TestImaplib_test_login_plain_nul(t *testing.T) {
	tests := []struct{ user, password string }{
		{"user\x00", "pass"},
		{"user", "pa\x00ss"},
	}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{
			Capabilities: "LOGINDISABLED AUTH=PLAIN",
			Handlers:     map[string]imaptest.HandlerFunc{"AUTHENTICATE": imaptest.AuthPlainHandler()},
		})
		for _, tt := range tests {
			_, err := c.LoginPlain(context.Background(), tt.user, tt.password)
			if !errors.Is(err, ErrBadArgument) {
				t.Fatalf("login_plain(%q, %q) = %v, want ErrBadArgument", tt.user, tt.password, err)
			}
		}
		if n := countCommands(srv, "AUTHENTICATE"); n != 0 {
			t.Fatalf("server got %d AUTHENTICATE commands, want 0", n)
		}
	})
}

// TestImaplib_test_authenticate_capabilities: a CAPABILITY response code in
// the tagged AUTHENTICATE OK refreshes the capabilities.
func TestImaplib_test_authenticate_capabilities(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"AUTHENTICATE": func(c *imaptest.Conn, cmd *imaptest.Command) {
				c.Send("+")
				if _, err := c.ReadLine(); err != nil {
					return
				}
				c.Tagged(cmd, "OK [CAPABILITY IMAP4rev1 ENABLE] AUTHENTICATE completed")
			},
		}})
		if slices.Contains(c.Capabilities(), "ENABLE") {
			t.Fatalf("ENABLE in capabilities %q before authenticate", c.Capabilities())
		}
		if r, err := c.Authenticate(context.Background(), "MYAUTH", fakeAuth); err != nil || r.Typ != "OK" {
			t.Fatalf("authenticate = %v, %v", r, err)
		}
		if !slices.Contains(c.Capabilities(), "ENABLE") {
			t.Fatalf("ENABLE not in capabilities %q after authenticate", c.Capabilities())
		}
	})
}
