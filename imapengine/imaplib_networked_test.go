package imapengine

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Transcript tests for CPython's ThreadedNetworkedTests and
// ThreadedNetworkedTestsSSL (spec §4.4). Each runs over TCP and TLS with the
// reaped_pair pattern: the client is logged out when the scenario ends.
// test_dump_ur (§4.4 item 20) checks a CPython debug helper and has no Go
// counterpart; test_truncated_large_literal (item 16) is in
// imaplib_limits_test.go and ThreadedNetworkedTestsSSL.test_ssl_verified
// (item 21) in imaplib_ssl_test.go.

// txReapedPair is reaped_pair: a server with cfg, a connected client, the
// scenario, then client.logout(), which must succeed.
func txReapedPair(t *testing.T, cfg imaptest.Config, fn func(t *testing.T, srv *imaptest.Server, c *Client)) {
	t.Helper()
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, cfg)
		fn(t, srv, c)
		if c.State() == StateLogout {
			return // the scenario logged out itself
		}
		if _, err := c.Logout(txCtx(t)); err != nil {
			t.Fatalf("logout: %v", err)
		}
	})
}

// txFakeAuth authenticates with the FAKEAUTH exchange (callback returning
// "fake") and checks that the server received its base64 form.
func txFakeAuth(t *testing.T, srv *imaptest.Server, c *Client) {
	t.Helper()
	called := 0
	r, err := c.Authenticate(txCtx(t), "MYAUTH", func([]byte) ([]byte, error) { called++; return []byte("fake"), nil })
	if err != nil || r.Typ != "OK" {
		t.Fatalf("authenticate: %v %v", r, err)
	}
	if got, _ := srv.Value(imaptest.KeyResponse).([]byte); string(got) != "ZmFrZQ==\r\n" || called != 1 {
		t.Fatalf("server response %q after %d callbacks", got, called)
	}
}

// txUTF8Server is CPython's UTF8Server: AUTH ENABLE UTF8=ACCEPT, fake
// AUTHENTICATE, ENABLE answering "OK ENABLE successful".
func txUTF8Server(extra txHandlers) imaptest.Config {
	h := txHandlers{
		"AUTHENTICATE": imaptest.FakeAuthHandler(),
		"ENABLE":       imaptest.SimpleHandler(nil, "ENABLE successful"),
	}
	for k, v := range extra {
		h[k] = v
	}
	return imaptest.Config{Capabilities: "AUTH ENABLE UTF8=ACCEPT", Handlers: h}
}

// txWantDialErr dials srv and checks the constructor fails with class.
func txWantDialErr(t *testing.T, tr transport, srv *imaptest.Server, class error) error {
	t.Helper()
	c, err := tr.dial(t, srv, nil)
	if err == nil {
		c.Shutdown()
		t.Fatalf("dial succeeded, want %v", class)
	}
	txErrIs(t, err, class)
	return err
}

// txWantText fails unless err's text contains want.
func txWantText(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want text %q", err, want)
	}
}

func TestImaplib_ThreadedNetworkedTests_test_connect(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, imaptest.Config{})
		if err := c.Shutdown(); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	})
}

// txBracketFlagsCfg is test_bracket_flags' server: SELECT reports flags
// and a PERMANENTFLAGS code without its opening parenthesis; STORE adds
// flags and echoes them.
func txBracketFlagsCfg() imaptest.Config {
	flags := []string{"Answered", `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}
	return imaptest.Config{Handlers: txHandlers{
		"AUTHENTICATE": imaptest.FakeAuthHandler(),
		"SELECT": func(c *imaptest.Conn, cmd *imaptest.Command) {
			list := strings.Join(flags, " ")
			c.Send("* FLAGS (" + list + ")")
			c.Send("* 2 EXISTS")
			c.Send("* 0 RECENT")
			c.Send(`* OK [PERMANENTFLAGS ` + list + ` \*)] Flags permitted.`)
			c.Tagged(cmd, "OK [READ-WRITE] SELECT completed.")
		},
		"STORE": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if len(cmd.Args) == 3 {
				flags = append(flags, strings.Fields(strings.Trim(cmd.Args[2], "()"))...)
				c.Send("* " + cmd.Args[0] + " FETCH (FLAGS (" + strings.Join(flags, " ") + "))")
			}
			c.Tagged(cmd, "OK STORE completed")
		},
	}}
}

func TestImaplib_ThreadedNetworkedTests_test_bracket_flags(t *testing.T) {
	txReapedPair(t, txBracketFlagsCfg(), func(t *testing.T, srv *imaptest.Server, c *Client) {
		txFakeAuth(t, srv, c)
		if _, err := c.Select(txCtx(t), "test", false); err != nil {
			t.Fatal(err)
		}
		r, err := c.Store(txCtx(t), "1", "+FLAGS", "[test]")
		if err != nil || len(r.Data) != 1 || !strings.Contains(string(r.Data[0].Bytes()), "[test]") {
			t.Fatalf("store = %v, %v", r, err)
		}
		txArgs(t, srv, "STORE", "1", "+FLAGS", "([test])")
		if _, err := c.Select(txCtx(t), "test", false); err != nil {
			t.Fatal(err)
		}
		r = c.Response("PERMANENTFLAGS")
		if len(r.Data) != 1 || !strings.Contains(string(r.Data[0].Bytes()), "[test]") {
			t.Fatalf("PERMANENTFLAGS = %v", r)
		}
	})
}

func TestImaplib_ThreadedNetworkedTests_test_issue5949(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv := tr.server(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) { c.SendRaw([]byte("* OK")) }})
		txWantDialErr(t, tr, srv, ErrAbort)
	})
}

func TestImaplib_ThreadedNetworkedTests_test_line_termination(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv := tr.server(t, imaptest.Config{Handlers: txHandlers{"CAPABILITY": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.SendRaw([]byte("* CAPABILITY IMAP4rev1 AUTH\n"))
			c.Tagged(cmd, "OK CAPABILITY completed")
		}}})
		txWantDialErr(t, tr, srv, ErrAbort)
	})
}

func TestImaplib_ThreadedNetworkedTests_test_enable_raises_error_if_not_AUTH(t *testing.T) {
	txReapedPair(t, txUTF8Server(nil), func(t *testing.T, srv *imaptest.Server, c *Client) {
		_, err := c.Enable(txCtx(t), "foo")
		txErrIs(t, err, ErrIllegalState)
		if c.UTF8Enabled() {
			t.Fatal("UTF-8 mode enabled")
		}
	})
}

func TestImaplib_ThreadedNetworkedTests_test_enable_raises_error_if_no_capability(t *testing.T) {
	txReapedPair(t, imaptest.Config{Capabilities: "AUTH"}, func(t *testing.T, srv *imaptest.Server, c *Client) {
		_, err := c.Enable(txCtx(t), "foo")
		txErrIs(t, err, ErrNotSupported)
	})
}

func TestImaplib_ThreadedNetworkedTests_test_enable_UTF8_raises_error_if_not_supported(t *testing.T) {
	txReapedPair(t, imaptest.Config{}, func(t *testing.T, srv *imaptest.Server, c *Client) {
		r, err := c.Login(txCtx(t), "user", "pass")
		txResult(t, r, err, "OK", "LOGIN completed")
		_, err = c.Enable(txCtx(t), "UTF8=ACCEPT")
		txErrIs(t, err, ErrIMAP)
		txWantText(t, err, "does not support ENABLE")
	})
}

func TestImaplib_ThreadedNetworkedTests_test_enable_UTF8_True_append(t *testing.T) {
	appendH := func(c *imaptest.Conn, cmd *imaptest.Command) {
		data, trailer, err := c.ReadLiteral(cmd)
		if err != nil {
			c.Tagged(cmd, "BAD "+err.Error())
			return
		}
		c.Server().SetValue("tx_literal", string(data)+"|"+string(trailer))
		c.Tagged(cmd, "OK okay")
	}
	txReapedPair(t, txUTF8Server(txHandlers{"APPEND": appendH}), func(t *testing.T, srv *imaptest.Server, c *Client) {
		txFakeAuth(t, srv, c)
		r, err := c.Enable(txCtx(t), "UTF8=ACCEPT")
		txResult(t, r, err, "OK", "ENABLE successful")
		txArgs(t, srv, "ENABLE", "UTF8=ACCEPT")
		if !c.UTF8Enabled() {
			t.Fatal("UTF-8 mode not enabled")
		}
		r, err = c.Append(txCtx(t), "", "", time.Time{}, []byte("Subject: üñí©öðé\n"))
		txResult(t, r, err, "OK", "okay")
		txArgs(t, srv, "APPEND", "INBOX", "UTF8", "(~{25}")
		if got := srv.Value("tx_literal"); got != "Subject: üñí©öðé\r\n|)\r\n" {
			t.Fatalf("server got literal|trailer %q", got)
		}
	})
}

func TestImaplib_ThreadedNetworkedTests_test_search_disallows_charset_in_utf8_mode(t *testing.T) {
	txReapedPair(t, txUTF8Server(nil), func(t *testing.T, srv *imaptest.Server, c *Client) {
		txFakeAuth(t, srv, c)
		if _, err := c.Enable(txCtx(t), "UTF8=ACCEPT"); err != nil || !c.UTF8Enabled() {
			t.Fatalf("enable: %v", err)
		}
		before := len(srv.Commands())
		_, err := c.Search(txCtx(t), "foo", "bar")
		txErrIs(t, err, ErrIMAP)
		txWantText(t, err, "charset")
		if len(srv.Commands()) != before {
			t.Fatal("search with a charset in UTF-8 mode sent a command")
		}
	})
}

// txAuthFailure runs an AUTHENTICATE failure scenario of §4.4 items 10, 11
// and 14 (server handler, callback result, expected error text).
func txAuthFailure(t *testing.T, handler imaptest.HandlerFunc, resp []byte, cbErr error, want string, wantCalls int) {
	txReapedPair(t, imaptest.Config{Handlers: txHandlers{"AUTHENTICATE": handler}}, func(t *testing.T, srv *imaptest.Server, c *Client) {
		calls := 0
		_, err := c.Authenticate(txCtx(t), "METHOD", func([]byte) ([]byte, error) { calls++; return resp, cbErr })
		txErrIs(t, err, ErrIMAP)
		txWantText(t, err, want)
		if calls != wantCalls {
			t.Fatalf("callback called %d times, want %d", calls, wantCalls)
		}
	})
}

func TestImaplib_ThreadedNetworkedTests_test_bad_auth_name(t *testing.T) {
	h := func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Tagged(cmd, "NO unrecognized authentication type "+strings.Join(cmd.Args, " "))
	}
	txAuthFailure(t, h, []byte("1"), nil, "unrecognized authentication type METHOD", 0)
}

func TestImaplib_ThreadedNetworkedTests_test_invalid_authentication(t *testing.T) {
	h := func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Send("+")
		if _, err := c.ReadLine(); err == nil {
			c.Tagged(cmd, "NO [AUTHENTICATIONFAILED] invalid")
		}
	}
	txAuthFailure(t, h, []byte("fake"), nil, "[AUTHENTICATIONFAILED] invalid", 1)
}

func TestImaplib_ThreadedNetworkedTests_test_aborted_authentication(t *testing.T) {
	h := func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Send("+")
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		if string(line) == "*\r\n" {
			c.Tagged(cmd, "NO [AUTHENTICATIONFAILED] aborted")
			return
		}
		c.Tagged(cmd, "OK")
	}
	// ErrAuthAborted is the Go form of a callback returning None.
	txAuthFailure(t, h, nil, ErrAuthAborted, "[AUTHENTICATIONFAILED] aborted", 1)
}

func TestImaplib_ThreadedNetworkedTests_test_valid_authentication(t *testing.T) {
	// imaplib's bytes and str callback results are both []byte in Go: two
	// fresh connections, as in CPython.
	for i := 0; i < 2; i++ {
		txReapedPair(t, imaptest.Config{Handlers: txHandlers{"AUTHENTICATE": imaptest.FakeAuthHandler()}},
			func(t *testing.T, srv *imaptest.Server, c *Client) { txFakeAuth(t, srv, c) })
	}
}

func TestImaplib_ThreadedNetworkedTests_test_login_cram_md5(t *testing.T) {
	cfg := imaptest.Config{Capabilities: "LOGINDISABLED AUTH=CRAM-MD5", Handlers: txHandlers{"AUTHENTICATE": imaptest.AuthCRAMMD5Handler()}}
	for i := 0; i < 2; i++ {
		txReapedPair(t, cfg, func(t *testing.T, srv *imaptest.Server, c *Client) {
			if !c.HasCapability("AUTH=CRAM-MD5") {
				t.Fatalf("capabilities %q", c.Capabilities())
			}
			r, err := c.LoginCRAMMD5(txCtx(t), "tim", "tanstaaftanstaaf")
			txResult(t, r, err, "OK", "CRAM-MD5 successful")
		})
	}
}

func TestImaplib_ThreadedNetworkedTests_test_linetoolong(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv := tr.server(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
			c.SendRaw([]byte("* OK " + strings.Repeat("x", DefaultMaxLineLength) + "\r\n"))
			c.ReadLine() // hold the connection open until the client gives up
		}})
		err := txWantDialErr(t, tr, srv, ErrIMAP)
		txWantText(t, err, "got more than")
	})
}

func TestImaplib_ThreadedNetworkedTests_test_simple_with_statement(t *testing.T) {
	txReapedPair(t, imaptest.Config{}, func(t *testing.T, srv *imaptest.Server, c *Client) {})
}

func TestImaplib_ThreadedNetworkedTests_test_with_statement(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{})
		mustLogin(t, c)
		if got := srv.Value(imaptest.KeyLogged); !reflect.DeepEqual(got, []string{"user", `"pass"`}) {
			t.Fatalf("logged = %q", got)
		}
		if _, err := c.Logout(txCtx(t)); err != nil {
			t.Fatal(err)
		}
		if got := srv.Value(imaptest.KeyLogged); got != nil {
			t.Fatalf("logged after logout = %q", got)
		}
	})
}

func TestImaplib_ThreadedNetworkedTests_test_with_statement_logout(t *testing.T) {
	txReapedPair(t, imaptest.Config{}, func(t *testing.T, srv *imaptest.Server, c *Client) {
		mustLogin(t, c)
		r, err := c.Logout(txCtx(t))
		txResult(t, r, err, "BYE", "IMAP4ref1 Server logging out")
		if srv.Value(imaptest.KeyLogged) != nil || c.State() != StateLogout {
			t.Fatalf("after logout: logged %v, state %s", srv.Value(imaptest.KeyLogged), c.State())
		}
	})
}
