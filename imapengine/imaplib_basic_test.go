package imapengine

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Transcript tests for CPython's NewIMAPTestsMixin "basic commands and literal
// parsing" scenarios (spec §4.2 items 46–62), plus the shared helpers of the
// imaplib_*_test.go transcript files.

// txTimeout bounds every client call in the transcript tests.
const txTimeout = 10 * time.Second

// txCtx returns a context that ends with the test or after txTimeout.
func txCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
	t.Cleanup(cancel)
	return ctx
}

// txResult fails the test unless r is (typ, data) as rendered by strs.
func txResult(t *testing.T, r Result, err error, typ string, data ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if r.Typ != typ || !reflect.DeepEqual(strs(r.Data), data) {
		t.Fatalf("result = (%q, %q), want (%q, %q)", r.Typ, strs(r.Data), typ, data)
	}
}

// txArgs fails the test unless the last command name the server received
// had exactly args.
func txArgs(t *testing.T, srv *imaptest.Server, name string, args ...string) {
	t.Helper()
	cmd, ok := srv.LastCommand(name)
	if !ok {
		t.Fatalf("server never received %s", name)
	}
	if args == nil {
		args = []string{}
	}
	if !reflect.DeepEqual(cmd.Args, args) {
		t.Fatalf("%s args = %q, want %q (line %q)", name, cmd.Args, args, cmd.Line)
	}
}

// txErrIs fails the test unless err matches target with errors.Is.
func txErrIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want errors.Is %v", err, target)
	}
}

// txHandlers is a shorthand for building Config.Handlers.
type txHandlers = map[string]imaptest.HandlerFunc

// txLoggedIn starts a server with cfg and returns a logged-in client
// (NewIMAPTestsMixin's _setup followed by login).
func (tr transport) txLoggedIn(t *testing.T, cfg imaptest.Config) (*imaptest.Server, *Client) {
	t.Helper()
	srv, c := tr.setup(t, cfg)
	mustLogin(t, c)
	return srv, c
}

// txSelected is txLoggedIn followed by select().
func (tr transport) txSelected(t *testing.T, cfg imaptest.Config) (*imaptest.Server, *Client) {
	t.Helper()
	srv, c := tr.txLoggedIn(t, cfg)
	if _, err := c.Select(txCtx(t), "", false); err != nil {
		t.Fatalf("select: %v", err)
	}
	return srv, c
}

// txSimpleCfg is a Config whose command name answers with untagged lines and
// "TAG OK <NAME> completed" (CPython's make_simple_handler).
func txSimpleCfg(name string, untagged ...string) imaptest.Config {
	return imaptest.Config{Handlers: txHandlers{name: imaptest.SimpleHandler(untagged, "")}}
}

func TestImaplib_test_logout(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txLoggedIn(t, imaptest.Config{})
		r, err := c.Logout(txCtx(t))
		txResult(t, r, err, "BYE", "IMAP4ref1 Server logging out")
		if c.State() != StateLogout {
			t.Fatalf("state = %s, want LOGOUT", c.State())
		}
	})
}

func TestImaplib_test_lsub(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("LSUB", `* LSUB () "." directoryA`, `* LSUB () "." directoryB`))
		for _, tc := range []struct {
			dir, pat string
			args     []string
		}{
			{"", "*", []string{`""`, "*"}},
			{"~/Mail/", "%", []string{"~/Mail/", "%"}},
			{"New folder", "%", []string{`"New folder"`, "%"}},
		} {
			r, err := c.Lsub(txCtx(t), tc.dir, tc.pat)
			txResult(t, r, err, "OK", `() "." directoryA`, `() "." directoryB`)
			txArgs(t, srv, "LSUB", tc.args...)
		}
	})
}

func TestImaplib_test_extra_blank_line_after_literal(t *testing.T) {
	fetch := func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.SendRaw([]byte("* 1 FETCH (BODY[HEADER] {13}\r\nSubject: test\r\n)\r\n"))
		c.Tagged(cmd, "OK FETCH completed")
	}
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txSelected(t, imaptest.Config{Handlers: txHandlers{"FETCH": fetch}})
		r, err := c.Fetch(txCtx(t), "1", "(BODY[HEADER])")
		txResult(t, r, err, "OK", "1 (BODY[HEADER] {13}|Subject: test", ")")
	})
}

// txLiteralList sends one LIST response per name with the name as a
// trailing literal, followed by sep after each literal.
func txLiteralList(sep string) imaptest.HandlerFunc {
	return func(c *imaptest.Conn, cmd *imaptest.Command) {
		for _, name := range []string{`My (box)"`, "Another", "Third"} {
			c.SendRaw([]byte("* LIST (\\HasNoChildren) \"/\" {" + strconv.Itoa(len(name)) + "}\r\n" + name + sep))
		}
		c.Tagged(cmd, "OK LIST completed")
	}
}

// txLiteralListScenario runs list() against txLiteralList(sep): every
// mailbox name is a literal that ends its response, so each gets an empty trailer.
func txLiteralListScenario(t *testing.T, sep string) {
	want := []string{
		`(\HasNoChildren) "/" {9}|My (box)"`, "",
		`(\HasNoChildren) "/" {7}|Another`, "",
		`(\HasNoChildren) "/" {5}|Third`, "",
	}
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txLoggedIn(t, imaptest.Config{Handlers: txHandlers{"LIST": txLiteralList(sep)}})
		r, err := c.List(txCtx(t), "", "*")
		txResult(t, r, err, "OK", want...)
	})
}

func TestImaplib_test_literal_terminating_response(t *testing.T) {
	txLiteralListScenario(t, "\r\n")
}

func TestImaplib_test_spurious_blank_lines_between_responses(t *testing.T) {
	txLiteralListScenario(t, "\r\n\r\n")
}

func TestImaplib_test_unselect(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, imaptest.Config{})
		r, err := c.Select(txCtx(t), "", false)
		txResult(t, r, err, "OK", "2")
		r, err = c.Unselect(txCtx(t))
		txResult(t, r, err, "OK", "Returned to authenticated state. (Success)")
		if c.State() != StateAuth {
			t.Fatalf("state = %s, want AUTH", c.State())
		}
		if v := srv.Value(imaptest.KeySelected); v != nil {
			t.Fatalf("server selection = %v, want cleared", v)
		}
	})
}

func TestImaplib_test_enable(t *testing.T) {
	enable := func(c *imaptest.Conn, cmd *imaptest.Command) {
		caps := map[string]bool{"IMAP4REV1": true, "ID": true, "LITERAL+": true, "ENABLE": true, "X-GOOD-IDEA": true}
		for _, a := range cmd.Args {
			if caps[a] {
				c.Send("* ENABLED " + a)
			}
		}
		c.Tagged(cmd, "OK foo")
	}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, imaptest.Config{
			Capabilities: "ID LITERAL+ ENABLE X-GOOD-IDEA",
			Handlers:     txHandlers{"ENABLE": enable},
		})
		r, err := c.Enable(txCtx(t), "CONDSTORE X-GOOD-IDEA")
		txResult(t, r, err, "OK", "foo")
		txArgs(t, srv, "ENABLE", "CONDSTORE", "X-GOOD-IDEA")
		// The ENABLED response stays available, as in imaplib.
		if got := strs(c.Response("ENABLED").Data); !reflect.DeepEqual(got, []string{"X-GOOD-IDEA"}) {
			t.Fatalf("ENABLED = %q", got)
		}
	})
}

func TestImaplib_test_select(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, imaptest.Config{})
		for _, tc := range []struct {
			mailbox  string
			readonly bool
			cmd      string
			arg      string
		}{
			{"", false, "SELECT", "INBOX"},
			{"Archive", false, "SELECT", "Archive"},
			{"", true, "EXAMINE", "INBOX"},
			{"New folder", false, "SELECT", `"New folder"`},
		} {
			r, err := c.Select(txCtx(t), tc.mailbox, tc.readonly)
			txResult(t, r, err, "OK", "2")
			txArgs(t, srv, tc.cmd, tc.arg)
			if c.IsReadOnly() != tc.readonly {
				t.Fatalf("IsReadOnly = %v, want %v", c.IsReadOnly(), tc.readonly)
			}
			if c.State() != StateSelected {
				t.Fatalf("state = %s", c.State())
			}
		}
	})
}

var txExpungeLines = []string{"* 3 EXPUNGE", "* 3 EXPUNGE", "* 5 EXPUNGE", "* 8 EXPUNGE"}

// Differs from imaplib: Expunge takes no message set, so the 3.16 step
// "expunge('3:8') without uid=True raises" cannot be written; the UID form is
// UIDExpunge (see TestImaplib_test_uid_expunge).
func TestImaplib_test_expunge(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, txSimpleCfg("EXPUNGE", txExpungeLines...))
		r, err := c.Expunge(txCtx(t))
		txResult(t, r, err, "OK", "3", "3", "5", "8")
		txArgs(t, srv, "EXPUNGE")
	})
}

func TestImaplib_test_uid_expunge(t *testing.T) {
	cfg := imaptest.Config{Handlers: txHandlers{"UID": imaptest.SimpleHandler(txExpungeLines, "UID EXPUNGE completed")}}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, cfg)
		r, err := c.UIDExpunge(txCtx(t), "3:8")
		txResult(t, r, err, "OK", "3", "3", "5", "8")
		txArgs(t, srv, "UID", "EXPUNGE", "3:8")
		before := len(srv.Commands())
		_, err = c.UIDExpunge(txCtx(t), "")
		txErrIs(t, err, ErrIMAP)
		if n := len(srv.Commands()); n != before {
			t.Fatalf("UIDExpunge(\"\") sent a command")
		}
	})
}

func TestImaplib_test_close(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txSelected(t, txSimpleCfg("CLOSE"))
		r, err := c.CloseMailbox(txCtx(t))
		txResult(t, r, err, "OK", "CLOSE completed")
		if c.State() != StateAuth {
			t.Fatalf("state = %s, want AUTH", c.State())
		}
	})
}

func TestImaplib_test_check(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txSelected(t, txSimpleCfg("CHECK"))
		r, err := c.Check(txCtx(t))
		txResult(t, r, err, "OK", "CHECK completed")
	})
}

func TestImaplib_test_noop(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txLoggedIn(t, txSimpleCfg("NOOP", "* 4 EXISTS"))
		r, err := c.Noop(txCtx(t))
		txResult(t, r, err, "OK", "NOOP completed")
		if got := strs(c.Untagged()["EXISTS"]); !reflect.DeepEqual(got, []string{"4"}) {
			t.Fatalf("untagged EXISTS = %q, want [4]", got)
		}
	})
}

func TestImaplib_test_namespace(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("NAMESPACE", `* NAMESPACE (("" "/")) NIL NIL`))
		r, err := c.Namespace(txCtx(t))
		txResult(t, r, err, "OK", `(("" "/")) NIL NIL`)
		txArgs(t, srv, "NAMESPACE")
	})
}

func TestImaplib_test_capability(t *testing.T) {
	capability := func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Send("* CAPABILITY IMAP4rev1 IDLE NAMESPACE")
		c.Tagged(cmd, "OK CAPABILITY completed")
	}
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txLoggedIn(t, imaptest.Config{Handlers: txHandlers{"CAPABILITY": capability}})
		r, err := c.Capability(txCtx(t))
		txResult(t, r, err, "OK", "IMAP4rev1 IDLE NAMESPACE")
	})
}

func TestImaplib_test_recent(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("NOOP", "* 5 RECENT"))
		r, err := c.Recent(txCtx(t))
		txResult(t, r, err, "OK", "5")
		txArgs(t, srv, "NOOP")
	})
}

func TestImaplib_test_response(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.txSelected(t, imaptest.Config{})
		txResult(t, c.Response("EXISTS"), nil, "EXISTS", "2")
		txResult(t, c.Response("EXISTS"), nil, "EXISTS", "<None>")
	})
}
