package imapengine

import (
	"context"
	"reflect"
	"testing"
)

// Transcript tests for CPython's ACL, quota and annotation scenarios (spec
// §4.2 items 85–90 and 92–94).

func TestImaplib_test_getacl(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("GETACL", "* ACL INBOX Fred rwipslxetad"))
		get := func(m string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.GetACL(ctx, m) }
		}
		txRunCalls(t, srv, c, "GETACL", "OK", []string{"INBOX Fred rwipslxetad"}, []txCall{
			{"plain", get("INBOX"), []string{"INBOX"}},
			{"space", get("New folder"), []string{`"New folder"`}},
		})
	})
}

func TestImaplib_test_setacl(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("SETACL"))
		set := func(m, who, what string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.SetACL(ctx, m, who, what) }
		}
		txRunCalls(t, srv, c, "SETACL", "OK", []string{"SETACL completed"}, []txCall{
			{"plain", set("INBOX", "Fred", "rwipslxetad"), []string{"INBOX", "Fred", "rwipslxetad"}},
			{"mailbox", set("New folder", "Fred", "+lr"), []string{`"New folder"`, "Fred", "+lr"}},
			{"identifier and rights", set("INBOX", "John Doe", "a b"), []string{"INBOX", `"John Doe"`, `"a b"`}},
		})
	})
}

func TestImaplib_test_deleteacl(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("DELETEACL"))
		del := func(m, who string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.DeleteACL(ctx, m, who) }
		}
		txRunCalls(t, srv, c, "DELETEACL", "OK", []string{"DELETEACL completed"}, []txCall{
			{"plain", del("INBOX", "Fred"), []string{"INBOX", "Fred"}},
			{"space", del("New folder", "John Doe"), []string{`"New folder"`, `"John Doe"`}},
		})
	})
}

func TestImaplib_test_myrights(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("MYRIGHTS", "* MYRIGHTS INBOX rwiptsldaex"))
		my := func(m string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.MyRights(ctx, m) }
		}
		txRunCalls(t, srv, c, "MYRIGHTS", "OK", []string{"INBOX rwiptsldaex"}, []txCall{
			{"plain", my("INBOX"), []string{"INBOX"}},
			{"space", my("New folder"), []string{`"New folder"`}},
		})
	})
}

func TestImaplib_test_getquota(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("GETQUOTA", `* QUOTA "" (STORAGE 10 512)`))
		get := func(root string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.GetQuota(ctx, root) }
		}
		txRunCalls(t, srv, c, "GETQUOTA", "OK", []string{`"" (STORAGE 10 512)`}, []txCall{
			{"plain", get("#news"), []string{"#news"}},
			{"empty", get(""), []string{`""`}},
		})
	})
}

func TestImaplib_test_getquotaroot(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("GETQUOTAROOT", `* QUOTAROOT INBOX ""`, `* QUOTA "" (STORAGE 10 512)`))
		for _, tc := range []struct{ mailbox, arg string }{{"INBOX", "INBOX"}, {"New folder", `"New folder"`}} {
			r, err := c.GetQuotaRoot(txCtx(t), tc.mailbox)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{r.Typ, strs(r.QuotaRoot), strs(r.Quota)}
			want := []any{"OK", []string{`INBOX ""`}, []string{`"" (STORAGE 10 512)`}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("GetQuotaRoot(%q) = %q, want %q", tc.mailbox, got, want)
			}
			txArgs(t, srv, "GETQUOTAROOT", tc.arg)
		}
	})
}

func TestImaplib_test_setquota(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("SETQUOTA", `* QUOTA "" (STORAGE 512)`))
		set := func(root, limits string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.SetQuota(ctx, root, limits) }
		}
		txRunCalls(t, srv, c, "SETQUOTA", "OK", []string{`"" (STORAGE 512)`}, []txCall{
			{"plain", set("#news", "(STORAGE 512)"), []string{"#news", "(STORAGE 512)"}},
			{"empty root", set("", "(STORAGE 512)"), []string{`""`, "(STORAGE 512)"}},
			{"wrapped", set("", "STORAGE 512"), []string{`""`, "(STORAGE 512)"}},
		})
	})
}

func TestImaplib_test_getannotation(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("GETANNOTATION", `* ANNOTATION INBOX "/comment" ("value.shared" "Hello")`))
		get := func(m string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) {
				return c.GetAnnotation(ctx, m, `"/comment"`, `"value.shared"`)
			}
		}
		txRunCalls(t, srv, c, "GETANNOTATION", "OK", []string{`INBOX "/comment" ("value.shared" "Hello")`}, []txCall{
			{"plain", get("INBOX"), []string{"INBOX", `"/comment"`, `"value.shared"`}},
			{"space", get("New folder"), []string{`"New folder"`, `"/comment"`, `"value.shared"`}},
		})
	})
}

func TestImaplib_test_setannotation(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txLoggedIn(t, txSimpleCfg("SETANNOTATION"))
		set := func(m string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) {
				return c.SetAnnotation(ctx, m, `"/comment"`, `("value.shared" "My comment")`)
			}
		}
		// No untagged ANNOTATION arrives, so the data is [None].
		txRunCalls(t, srv, c, "SETANNOTATION", "OK", []string{"<None>"}, []txCall{
			{"plain", set("INBOX"), []string{"INBOX", `"/comment"`, `("value.shared" "My comment")`}},
			{"space", set("New folder"), []string{`"New folder"`, `"/comment"`, `("value.shared" "My comment")`}},
		})
	})
}
