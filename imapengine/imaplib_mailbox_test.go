package imapengine

import (
	"context"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Transcript tests for CPython's mailbox-level scenarios (spec §4.2 items 63,
// 79–84, 91 and 95–97): each checks imaplib's (typ, data) and the exact
// arguments the fake server received, including 3.14.7 astring quoting.

// txCall is one client call of a table-driven transcript test.
type txCall struct {
	name string                                         // subtest name
	call func(context.Context, *Client) (Result, error) // the client call
	args []string                                       // the arguments the server must receive
}

// txRunCalls runs calls in order on c and checks each result against
// (typ, data) and the server's last cmd arguments.
func txRunCalls(t *testing.T, srv *imaptest.Server, c *Client, cmd, typ string, data []string, calls []txCall) {
	t.Helper()
	for _, tc := range calls {
		r, err := tc.call(txCtx(t), c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		txResult(t, r, err, typ, data...)
		txArgs(t, srv, cmd, tc.args...)
	}
}

func TestImaplib_test_create(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("CREATE"))
		txRunCalls(t, srv, c, "CREATE", "OK", []string{"CREATE completed"}, []txCall{
			{"plain", func(ctx context.Context, c *Client) (Result, error) { return c.Create(ctx, "owatagusiam/") }, []string{"owatagusiam/"}},
			{"nested", func(ctx context.Context, c *Client) (Result, error) {
				return c.Create(ctx, "owatagusiam/blurdybloop")
			}, []string{"owatagusiam/blurdybloop"}},
			{"space", func(ctx context.Context, c *Client) (Result, error) { return c.Create(ctx, "New folder") }, []string{`"New folder"`}},
		})
	})
}

func TestImaplib_test_delete(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("DELETE"))
		txRunCalls(t, srv, c, "DELETE", "OK", []string{"DELETE completed"}, []txCall{
			{"plain", func(ctx context.Context, c *Client) (Result, error) { return c.Delete(ctx, "blurdybloop") }, []string{"blurdybloop"}},
			{"slash", func(ctx context.Context, c *Client) (Result, error) { return c.Delete(ctx, "foo/bar") }, []string{"foo/bar"}},
			{"space", func(ctx context.Context, c *Client) (Result, error) { return c.Delete(ctx, "New folder") }, []string{`"New folder"`}},
		})
	})
}

func TestImaplib_test_rename(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("RENAME"))
		txRunCalls(t, srv, c, "RENAME", "OK", []string{"RENAME completed"}, []txCall{
			{"plain", func(ctx context.Context, c *Client) (Result, error) {
				return c.Rename(ctx, "blurdybloop", "sarasoop")
			}, []string{"blurdybloop", "sarasoop"}},
			{"space", func(ctx context.Context, c *Client) (Result, error) {
				return c.Rename(ctx, "Old folder", "New folder")
			}, []string{`"Old folder"`, `"New folder"`}},
		})
	})
}

func TestImaplib_test_subscribe(t *testing.T) {
	for _, cmd := range []string{"SUBSCRIBE", "UNSUBSCRIBE"} {
		t.Run(cmd, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.txLoggedIn(t, txSimpleCfg(cmd))
				do := func(ctx context.Context, c *Client, m string) (Result, error) {
					if cmd == "SUBSCRIBE" {
						return c.Subscribe(ctx, m)
					}
					return c.Unsubscribe(ctx, m)
				}
				txRunCalls(t, srv, c, cmd, "OK", []string{cmd + " completed"}, []txCall{
					{"plain", func(ctx context.Context, c *Client) (Result, error) {
						return do(ctx, c, "#news.comp.mail.mime")
					}, []string{"#news.comp.mail.mime"}},
					{"space", func(ctx context.Context, c *Client) (Result, error) { return do(ctx, c, "New folder") }, []string{`"New folder"`}},
				})
			})
		})
	}
}

// TestImaplib_test_unsubscribe is the UNSUBSCRIBE half of
// TestImaplib_test_subscribe, kept under its CPython name.
func TestImaplib_test_unsubscribe(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("UNSUBSCRIBE"))
		r, err := c.Unsubscribe(txCtx(t), "#news.comp.mail.mime")
		txResult(t, r, err, "OK", "UNSUBSCRIBE completed")
		txArgs(t, srv, "UNSUBSCRIBE", "#news.comp.mail.mime")
	})
}

func TestImaplib_test_list(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("LIST", `* LIST (\Noselect) "/" ""`, `* LIST (\Unmarked) "/" "~/Mail/foo"`))
		data := []string{`(\Noselect) "/" ""`, `(\Unmarked) "/" "~/Mail/foo"`}
		list := func(dir, pat string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.List(ctx, dir, pat) }
		}
		txRunCalls(t, srv, c, "LIST", "OK", data, []txCall{
			{"default", list("", "*"), []string{`""`, "*"}},
			{"dir", list("~/Mail/", "%"), []string{"~/Mail/", "%"}},
			{"space dir", list("New folder", "*"), []string{`"New folder"`, "*"}},
			{"space pattern", list("~/Mail/", "My Folder"), []string{"~/Mail/", `"My Folder"`}},
		})
	})
}

func TestImaplib_test_status(t *testing.T) {
	// The 3.16 sequence form ['UIDNEXT', 'MESSAGES'] is built with Substitute.
	names, err := Substitute("?", []string{"UIDNEXT", "MESSAGES"})
	if err != nil {
		t.Fatal(err)
	}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("STATUS", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)"))
		status := func(m, n string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.Status(ctx, m, n) }
		}
		txRunCalls(t, srv, c, "STATUS", "OK", []string{"blurdybloop (MESSAGES 231 UIDNEXT 44292)"}, []txCall{
			{"parenthesised", status("blurdybloop", "(UIDNEXT MESSAGES)"), []string{"blurdybloop", "(UIDNEXT MESSAGES)"}},
			{"wrapped", status("New folder", "UIDNEXT MESSAGES"), []string{`"New folder"`, "(UIDNEXT MESSAGES)"}},
			{"list", status("blurdybloop", names), []string{"blurdybloop", "(UIDNEXT MESSAGES)"}},
		})
	})
}

func TestImaplib_test_id(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		// No login: ID is allowed in every state.
		srv, c := tr.setup(t, txSimpleCfg("ID", `* ID ("name" "Cyrus" "version" "1.5")`))
		id := func(fields ...IDField) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.ID(ctx, fields...) }
		}
		txRunCalls(t, srv, c, "ID", "OK", []string{`("name" "Cyrus" "version" "1.5")`}, []txCall{
			{"fields", id(IDField{Name: "name", Value: "imaplib"}, IDField{Name: "version", Value: "3.16"}),
				[]string{`("name" "imaplib" "version" "3.16")`}},
			{"none", id(), []string{"NIL"}},
			{"quote and nil", id(IDField{Name: "name", Value: `my "client"`}, IDField{Name: "os", Nil: true}),
				[]string{`("name" "my \"client\"" "os" NIL)`}},
		})
	})
}

func TestImaplib_test_proxyauth(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("PROXYAUTH"))
		txRunCalls(t, srv, c, "PROXYAUTH", "OK", []string{"PROXYAUTH completed"}, []txCall{
			{"plain", func(ctx context.Context, c *Client) (Result, error) { return c.ProxyAuth(ctx, "user") }, []string{"user"}},
			{"space", func(ctx context.Context, c *Client) (Result, error) { return c.ProxyAuth(ctx, "us er") }, []string{`"us er"`}},
		})
		if c.State() != StateAuth {
			t.Fatalf("state = %s, want AUTH", c.State())
		}
	})
}

// Differs from imaplib: Xatom registers an unknown command for this client
// only, not in a process-wide Commands table, so there is nothing to remove
// afterwards.
func TestImaplib_test_xatom(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("MYCOMMAND"))
		r, err := c.Xatom(txCtx(t), "MYCOMMAND", "arg1", "arg2")
		txResult(t, r, err, "OK", "MYCOMMAND completed")
		txArgs(t, srv, "MYCOMMAND", "arg1", "arg2")
		if _, ok := Commands()["MYCOMMAND"]; ok {
			t.Fatal("Xatom changed the package-wide command table")
		}
	})
}

// Differs from imaplib: Go has no __getattr__, so client.CAPABILITY cannot
// alias client.capability. The Go form of the scenario: the command table
// knows CAPABILITY and SELECT and not NONEXISTENT, and Capability works.
func TestImaplib_test_uppercase_command_names(t *testing.T) {
	cmds := Commands()
	for _, tc := range []struct {
		name string
		want bool
	}{{"CAPABILITY", true}, {"SELECT", true}, {"NONEXISTENT", false}} {
		if _, ok := cmds[tc.name]; ok != tc.want {
			t.Errorf("Commands()[%q] present = %v, want %v", tc.name, ok, tc.want)
		}
	}
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, imaptest.Config{})
		r, err := c.Capability(txCtx(t))
		txResult(t, r, err, "OK", "IMAP4rev1")
	})
}
