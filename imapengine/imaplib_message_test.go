package imapengine

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Transcript tests for CPython's message-level scenarios (spec §4.2 items
// 64–78): COPY, MOVE, STORE, FETCH, PARTIAL, SEARCH, SORT, THREAD and their
// UID forms. imaplib 3.16's structured arguments are built with SequenceSet
// and Substitute; its uid=True keyword is the UIDxxx methods.

// txMust returns a function that returns s, failing the test if err is not
// nil; it takes the results of SequenceSet and Substitute directly.
func txMust(t *testing.T) func(s string, err error) string {
	return func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// txSelectedUID is txSelected with name answered by a simple handler and UID
// answered with the same untagged lines and "UID <name> completed".
func (tr transport) txSelectedUID(t *testing.T, name string, untagged ...string) (*imaptest.Server, *Client) {
	t.Helper()
	return tr.txSelected(t, imaptest.Config{Handlers: txHandlers{
		name:  imaptest.SimpleHandler(untagged, ""),
		"UID": imaptest.SimpleHandler(untagged, "UID "+name+" completed"),
	}})
}

func TestImaplib_test_copy(t *testing.T) {
	set := txMust(t)(SequenceSet([]any{2, Span{Start: 3, Stop: 5}}))
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelectedUID(t, "COPY")
		cp := func(s, m string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.Copy(ctx, s, m) }
		}
		txRunCalls(t, srv, c, "COPY", "OK", []string{"COPY completed"}, []txCall{
			{"plain", cp("2:4", "MEETING"), []string{"2:4", "MEETING"}},
			{"space", cp("2:4", "New folder"), []string{"2:4", `"New folder"`}},
			{"structured", cp(set, "MEETING"), []string{"2,3:5", "MEETING"}},
		})
	})
}

// txUIDTransfer is test_uid_copy / test_uid_move: uid('copy'|'move', ...)
// returns the untagged FETCH data ([None]); UIDCopy/UIDMove (imaplib's
// uid=True) return the tagged text.
func txUIDTransfer(t *testing.T, name string, tagged func(*Client, context.Context, string, string) (Result, error)) {
	set := txMust(t)(SequenceSet([]any{1, Span{Start: 3, Stop: 5}}))
	const uids = "4827313:4828442"
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelectedUID(t, name)
		for _, tc := range []struct{ set, mailbox, arg string }{
			{uids, "MEETING", "MEETING"},
			{uids, "New folder", `"New folder"`},
			{set, "MEETING", "MEETING"},
		} {
			r, err := c.UID(txCtx(t), strings.ToLower(name), tc.set, tc.mailbox)
			txResult(t, r, err, "OK", "<None>")
			txArgs(t, srv, "UID", name, tc.set, tc.arg)
			r, err = tagged(c, txCtx(t), tc.set, tc.mailbox)
			txResult(t, r, err, "OK", "UID "+name+" completed")
			txArgs(t, srv, "UID", name, tc.set, tc.arg)
		}
	})
}

func TestImaplib_test_uid_copy(t *testing.T) {
	txUIDTransfer(t, "COPY", (*Client).UIDCopy)
}

func TestImaplib_test_move(t *testing.T) {
	set := txMust(t)(SequenceSet([]any{2, Span{Start: 3, Stop: 5}}))
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelectedUID(t, "MOVE")
		mv := func(s, m string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.Move(ctx, s, m) }
		}
		txRunCalls(t, srv, c, "MOVE", "OK", []string{"MOVE completed"}, []txCall{
			{"plain", mv("2:4", "MEETING"), []string{"2:4", "MEETING"}},
			{"space", mv("2:4", "New folder"), []string{"2:4", `"New folder"`}},
			{"structured", mv(set, "MEETING"), []string{"2,3:5", "MEETING"}},
		})
	})
}

func TestImaplib_test_uid_move(t *testing.T) {
	txUIDTransfer(t, "MOVE", (*Client).UIDMove)
}

func TestImaplib_test_store(t *testing.T) {
	set := txMust(t)(SequenceSet([]any{2, Span{Start: 3, Stop: 4}}))
	flags := txMust(t)(Substitute("?f", []string{`\Deleted`, `\Seen`}))
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, txSimpleCfg("STORE",
			`* 2 FETCH (FLAGS (\Deleted \Seen))`, `* 3 FETCH (FLAGS (\Deleted))`, `* 4 FETCH (FLAGS (\Deleted \Flagged \Seen))`))
		st := func(s, f string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.Store(ctx, s, "+FLAGS", f) }
		}
		txRunCalls(t, srv, c, "STORE", "OK",
			[]string{`2 (FLAGS (\Deleted \Seen))`, `3 (FLAGS (\Deleted))`, `4 (FLAGS (\Deleted \Flagged \Seen))`}, []txCall{
				{"parenthesised", st("2:4", `(\Deleted)`), []string{"2:4", "+FLAGS", `(\Deleted)`}},
				{"wrapped", st("2:4", `\Deleted`), []string{"2:4", "+FLAGS", `(\Deleted)`}},
				{"structured", st(set, flags), []string{"2,3:4", "+FLAGS", `(\Deleted \Seen)`}},
			})
	})
}

func TestImaplib_test_uid_store(t *testing.T) {
	const uids = "4827313:4828442"
	flags := txMust(t)(Substitute("?f", []string{`\Deleted`, `\Seen`}))
	data := []string{
		`23 (FLAGS (\Deleted \Seen) UID 4827313)`,
		`24 (FLAGS (\Deleted) UID 4827943)`,
		`25 (FLAGS (\Deleted \Flagged \Seen) UID 4828442)`,
	}
	lines := make([]string, len(data))
	for i, d := range data {
		lines[i] = "* " + strings.Replace(d, " ", " FETCH ", 1)
	}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelectedUID(t, "STORE", lines...)
		raw := func(f string) func(context.Context, *Client) (Result, error) {
			return func(ctx context.Context, c *Client) (Result, error) { return c.UID(ctx, "store", uids, "+FLAGS", f) }
		}
		txRunCalls(t, srv, c, "UID", "OK", data, []txCall{
			{"raw", raw(`(\Deleted)`), []string{"STORE", uids, "+FLAGS", `(\Deleted)`}},
			{"wrapped", raw(`\Deleted`), []string{"STORE", uids, "+FLAGS", `(\Deleted)`}},
			{"uid=True", func(ctx context.Context, c *Client) (Result, error) {
				return c.UIDStore(ctx, uids, "+FLAGS", `(\Deleted)`)
			}, []string{"STORE", uids, "+FLAGS", `(\Deleted)`}},
			{"flag list", func(ctx context.Context, c *Client) (Result, error) {
				return c.UIDStore(ctx, uids, "+FLAGS", flags)
			}, []string{"STORE", uids, "+FLAGS", `(\Deleted \Seen)`}},
		})
	})
}

// txExpandSet expands a sequence set against a mailbox of n messages.
func txExpandSet(set string, n int) []int {
	num := func(s string) int {
		if s == "*" {
			return n
		}
		v, _ := strconv.Atoi(s)
		return v
	}
	var out []int
	for _, part := range strings.Split(set, ",") {
		lo, hi, ok := strings.Cut(part, ":")
		a, b := num(lo), num(lo)
		if ok {
			b = num(hi)
		}
		if a > b {
			a, b = b, a
		}
		for i := a; i <= b && i <= n; i++ {
			out = append(out, i)
		}
	}
	return out
}

// txFetchCfg is test_fetch's server: SELECT reports 4 messages, and FETCH
// (or UID FETCH, with UIDs 23–25 fixed) answers "(FLAGS (\Seen))" for each.
func txFetchCfg() imaptest.Config {
	return imaptest.Config{Handlers: txHandlers{
		"SELECT": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("* 4 EXISTS")
			c.Tagged(cmd, "OK [READ-WRITE] SELECT completed.")
		},
		"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if len(cmd.Args) > 0 {
				for _, n := range txExpandSet(cmd.Args[0], 4) {
					c.Send("* " + strconv.Itoa(n) + ` FETCH (FLAGS (\Seen))`)
				}
			}
			c.Tagged(cmd, "OK FETCH completed")
		},
		"UID": imaptest.SimpleHandler([]string{
			`* 23 FETCH (FLAGS (\Seen) UID 4827313)`,
			`* 24 FETCH (FLAGS (\Seen) UID 4827943)`,
			`* 25 FETCH (FLAGS (\Seen) UID 4828442)`,
		}, "UID FETCH completed"),
	}}
}

func TestImaplib_test_fetch(t *testing.T) {
	set := txMust(t)(SequenceSet([]any{2, Span{Start: 3, Stop: 4}}))
	items := txMust(t)(Substitute("?", []string{"UID", "FLAGS"}))
	params := txMust(t)(Substitute("FLAGS BODY[HEADER.FIELDS ?]", []string{"DATE", "FROM"}))
	seen := func(ns ...int) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = strconv.Itoa(n) + ` (FLAGS (\Seen))`
		}
		return out
	}
	for _, tc := range []struct {
		name, set, parts string
		data             []string
		args             []string
	}{
		{"range", "2:4", "(FLAGS)", seen(2, 3, 4), []string{"2:4", "(FLAGS)"}},
		{"star", "1,3:*", "(FLAGS)", seen(1, 3, 4), []string{"1,3:*", "(FLAGS)"}},
		{"section", "1", "(BODY[HEADER.FIELDS (DATE FROM)])", seen(1), []string{"1", "(BODY[HEADER.FIELDS (DATE FROM)])"}},
		{"wrapped", "2:4", "FLAGS", seen(2, 3, 4), []string{"2:4", "(FLAGS)"}},
		{"macro ALL", "1", "ALL", seen(1), []string{"1", "ALL"}},
		{"macro fast", "1", "fast", seen(1), []string{"1", "fast"}},
		{"structured set", set, "(FLAGS)", seen(2, 3, 4), []string{"2,3:4", "(FLAGS)"}},
		{"item list", "1", items, seen(1), []string{"1", "(UID FLAGS)"}},
		{"params", "1", params, seen(1), []string{"1", "(FLAGS BODY[HEADER.FIELDS (DATE FROM)])"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.txSelected(t, txFetchCfg())
				r, err := c.Fetch(txCtx(t), tc.set, tc.parts)
				txResult(t, r, err, "OK", tc.data...)
				txArgs(t, srv, "FETCH", tc.args...)
			})
		})
	}
}

func TestImaplib_test_uid_fetch(t *testing.T) {
	const uids = "4827313:4828442"
	data := []string{`23 (FLAGS (\Seen) UID 4827313)`, `24 (FLAGS (\Seen) UID 4827943)`, `25 (FLAGS (\Seen) UID 4828442)`}
	items := txMust(t)(Substitute("?", []string{"UID", "FLAGS"}))
	params := txMust(t)(Substitute("BODY[HEADER.FIELDS ?]", []string{"DATE", "FROM"}))
	raw := func(parts string) func(context.Context, *Client) (Result, error) {
		return func(ctx context.Context, c *Client) (Result, error) { return c.UID(ctx, "fetch", uids, parts) }
	}
	uid := func(parts string) func(context.Context, *Client) (Result, error) {
		return func(ctx context.Context, c *Client) (Result, error) { return c.UIDFetch(ctx, uids, parts) }
	}
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, txFetchCfg())
		txRunCalls(t, srv, c, "UID", "OK", data, []txCall{
			{"raw", raw("(FLAGS)"), []string{"FETCH", uids, "(FLAGS)"}},
			{"wrapped", raw("FLAGS"), []string{"FETCH", uids, "(FLAGS)"}},
			{"macro", raw("ALL"), []string{"FETCH", uids, "ALL"}},
			{"uid=True", uid("(FLAGS)"), []string{"FETCH", uids, "(FLAGS)"}},
			{"item list", uid(items), []string{"FETCH", uids, "(UID FLAGS)"}},
			{"params", uid(params), []string{"FETCH", uids, "(BODY[HEADER.FIELDS (DATE FROM)])"}},
		})
	})
}

func TestImaplib_test_partial(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, txSimpleCfg("PARTIAL", `* 1 FETCH (RFC822.TEXT<0.10> "0123456789")`))
		r, err := c.Partial(txCtx(t), "1", "RFC822.TEXT", "0", "10")
		txResult(t, r, err, "OK", `1 (RFC822.TEXT<0.10> "0123456789")`)
		txArgs(t, srv, "PARTIAL", "1", "RFC822.TEXT", "0", "10")
	})
}

// txLineKey is the server value holding the untagged line that
// txLineHandler sends; tests change it between calls, as CPython's tests
// change the handler's response attribute.
const txLineKey = "tx_line"

// txLineHandler answers a command (or UID command) with the untagged line
// stored under txLineKey, then "TAG OK <NAME> completed".
func txLineHandler(c *imaptest.Conn, cmd *imaptest.Command) {
	if line, ok := c.Server().Value(txLineKey).(string); ok {
		c.Send(line)
	}
	name := cmd.Name
	if name == "UID" && len(cmd.Args) > 0 {
		name += " " + strings.ToUpper(cmd.Args[0])
	}
	c.Tagged(cmd, "OK "+name+" completed")
}

// txKOI8Kyiv is "Київ" encoded in KOI8-U, quoted: Go strings carry bytes, so
// imaplib 3.16's charset-aware encoding of str criteria is the caller's job.
const txKOI8Kyiv = "\"\xeb\xc9\xa7\xd7\""

// txSearchCase is one step of the SEARCH/SORT/THREAD transcript tests.
type txSearchCase struct {
	name  string
	line  string                                         // the untagged line the server sends
	call  func(context.Context, *Client) (Result, error) // the client call
	data  []string                                       // the expected data
	args  []string                                       // the expected server arguments (nil: not checked)
	inRaw string                                         // a substring the raw command line must contain
}

// txRunSearch runs cases against a selected client whose cmd and UID
// commands answer with txLineHandler; server is the command name recorded.
func txRunSearch(t *testing.T, cmd, server string, cases []txSearchCase) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.txSelected(t, imaptest.Config{Handlers: txHandlers{cmd: txLineHandler, "UID": txLineHandler}})
		for _, tc := range cases {
			srv.SetValue(txLineKey, tc.line)
			r, err := tc.call(txCtx(t), c)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			txResult(t, r, err, "OK", tc.data...)
			if tc.args != nil {
				txArgs(t, srv, server, tc.args...)
			}
			if tc.inRaw != "" {
				last, _ := srv.LastCommand(server)
				if !strings.Contains(string(last.Line), tc.inRaw) {
					t.Fatalf("%s: line %q does not contain %q", tc.name, last.Line, tc.inRaw)
				}
			}
		}
	})
}

func txSearch(charset string, crit ...string) func(context.Context, *Client) (Result, error) {
	return func(ctx context.Context, c *Client) (Result, error) { return c.Search(ctx, charset, crit...) }
}

func TestImaplib_test_search(t *testing.T) {
	params := txMust(t)(Substitute("FROM ? SUBJECT ?", "me@host", "trip report"))
	txRunSearch(t, "SEARCH", "SEARCH", []txSearchCase{
		{"criteria", "* SEARCH 2 84 882", txSearch("", "FLAGGED", "SINCE", "1-Feb-1994", "NOT", "FROM", `"Smith"`),
			[]string{"2 84 882"}, []string{"FLAGGED", "SINCE", "1-Feb-1994", "NOT", "FROM", `"Smith"`}, ""},
		{"empty", "* SEARCH", txSearch("", "ALL"), []string{""}, []string{"ALL"}, ""},
		{"charset", "* SEARCH 43", txSearch("UTF-8", "TEXT", "XXXXXX"), []string{"43"},
			[]string{"CHARSET", "UTF-8", "TEXT", "XXXXXX"}, ""},
		{"koi8-u", "* SEARCH 43", txSearch("KOI8-U", "TEXT", txKOI8Kyiv), []string{"43"},
			nil, "CHARSET KOI8-U TEXT " + txKOI8Kyiv},
		{"quoted charset", "* SEARCH 43", txSearch("NF_Z_62-010_(1973)", "TEXT", "XXXXXX"), []string{"43"},
			[]string{"CHARSET", `"NF_Z_62-010_(1973)"`, "TEXT", "XXXXXX"}, ""},
		{"params", "* SEARCH 43", txSearch("", params), []string{"43"},
			[]string{"FROM", "me@host", "SUBJECT", `"trip report"`}, ""},
		{"question mark", "* SEARCH 43", txSearch("", "SUBJECT", `"what?"`), []string{"43"},
			[]string{"SUBJECT", `"what?"`}, ""},
	})
}

func TestImaplib_test_uid_search(t *testing.T) {
	params := txMust(t)(Substitute("FROM ? SUBJECT ?", "me@host", "trip report"))
	uid := func(args ...string) func(context.Context, *Client) (Result, error) {
		return func(ctx context.Context, c *Client) (Result, error) { return c.UID(ctx, "SEARCH", args...) }
	}
	uidSearch := func(charset string, crit ...string) func(context.Context, *Client) (Result, error) {
		return func(ctx context.Context, c *Client) (Result, error) { return c.UIDSearch(ctx, charset, crit...) }
	}
	txRunSearch(t, "SEARCH", "UID", []txSearchCase{
		{"criteria", "* SEARCH 2 84 882", uid("FLAGGED", "SINCE", "1-Feb-1994", "NOT", "FROM", `"Smith"`),
			[]string{"2 84 882"}, []string{"SEARCH", "FLAGGED", "SINCE", "1-Feb-1994", "NOT", "FROM", `"Smith"`}, ""},
		{"empty", "* SEARCH", uid("ALL"), []string{""}, []string{"SEARCH", "ALL"}, ""},
		{"inline charset", "* SEARCH 43", uid("CHARSET", "UTF-8", "TEXT", "XXXXXX"), []string{"43"},
			[]string{"SEARCH", "CHARSET", "UTF-8", "TEXT", "XXXXXX"}, ""},
		{"uid=True", "* SEARCH 43", uidSearch("UTF-8", "TEXT", "XXXXXX"), []string{"43"},
			[]string{"SEARCH", "CHARSET", "UTF-8", "TEXT", "XXXXXX"}, ""},
		{"quoted charset", "* SEARCH 43", uidSearch("NF_Z_62-010_(1973)", "TEXT", "XXXXXX"), []string{"43"},
			[]string{"SEARCH", "CHARSET", `"NF_Z_62-010_(1973)"`, "TEXT", "XXXXXX"}, ""},
		{"params", "* SEARCH 43", uid(params), []string{"43"},
			[]string{"SEARCH", "FROM", "me@host", "SUBJECT", `"trip report"`}, ""},
	})
}

func txSort(uid bool, crit, charset string, search ...string) func(context.Context, *Client) (Result, error) {
	return func(ctx context.Context, c *Client) (Result, error) {
		if uid {
			return c.UIDSort(ctx, crit, charset, search...)
		}
		return c.Sort(ctx, crit, charset, search...)
	}
}

// txSortCases are test_sort's steps; prefix is "SORT" for UID SORT's
// leading argument, or nothing.
func txSortCases(t *testing.T, uid bool, prefix ...string) []txSearchCase {
	order := txMust(t)(Substitute("?", []string{"REVERSE", "DATE"}))
	params := txMust(t)(Substitute("SUBJECT ?", "trip report"))
	a := func(args ...string) []string { return append(append([]string{}, prefix...), args...) }
	return []txSearchCase{
		{"criteria", "* SORT 2 84 882", txSort(uid, "(SUBJECT)", "UTF-8", "SINCE", "1-Feb-1994"), []string{"2 84 882"},
			a("(SUBJECT)", "UTF-8", "SINCE", "1-Feb-1994"), ""},
		{"reverse", "* SORT 5 3 4 1 2", txSort(uid, "(SUBJECT REVERSE DATE)", "UTF-8", "ALL"), []string{"5 3 4 1 2"},
			a("(SUBJECT REVERSE DATE)", "UTF-8", "ALL"), ""},
		{"empty", "* SORT", txSort(uid, "(SUBJECT)", "UTF-8", "ALL"), []string{""}, nil, ""},
		{"quoted charset", "* SORT 43", txSort(uid, "SUBJECT", "NF_Z_62-010_(1973)", "TEXT", `"not in mailbox"`), []string{"43"},
			a("(SUBJECT)", `"NF_Z_62-010_(1973)"`, "TEXT", `"not in mailbox"`), ""},
		{"koi8-u", "* SORT 43", txSort(uid, "(SUBJECT)", "KOI8-U", "TEXT", txKOI8Kyiv), []string{"43"},
			nil, "KOI8-U TEXT " + txKOI8Kyiv},
		{"params", "* SORT 43", txSort(uid, order, "UTF-8", params), []string{"43"},
			a("(REVERSE DATE)", "UTF-8", "SUBJECT", `"trip report"`), ""},
	}
}

func TestImaplib_test_sort(t *testing.T) {
	txRunSearch(t, "SORT", "SORT", txSortCases(t, false))
}

func TestImaplib_test_uid_sort(t *testing.T) {
	raw := func(ctx context.Context, c *Client) (Result, error) {
		return c.UID(ctx, "sort", "(SUBJECT)", "UTF-8", "SINCE", "1-Feb-1994")
	}
	cases := append([]txSearchCase{{"raw", "* SORT 2 84 882", raw, []string{"2 84 882"},
		[]string{"SORT", "(SUBJECT)", "UTF-8", "SINCE", "1-Feb-1994"}, ""}}, txSortCases(t, true, "SORT")...)
	txRunSearch(t, "SORT", "UID", cases)
}

// txThreadLine is test_thread's long THREAD response.
func txThreadLine(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString("(" + strconv.Itoa(i) + ")")
	}
	return b.String()
}

func txThread(uid bool, alg, charset string, search ...string) func(context.Context, *Client) (Result, error) {
	return func(ctx context.Context, c *Client) (Result, error) {
		if uid {
			return c.UIDThread(ctx, alg, charset, search...)
		}
		return c.Thread(ctx, alg, charset, search...)
	}
}

// txThreadCases are test_thread's steps; prefix is "THREAD" for UID THREAD.
func txThreadCases(t *testing.T, uid bool, prefix ...string) []txSearchCase {
	params := txMust(t)(Substitute("SUBJECT ?", "trip report"))
	a := func(args ...string) []string { return append(append([]string{}, prefix...), args...) }
	long, long2 := txThreadLine(166, 208), txThreadLine(300, 420)
	return []txSearchCase{
		{"long", "* THREAD " + long, txThread(uid, "ORDEREDSUBJECT", "UTF-8", "SINCE", "5-MAR-2000"), []string{long},
			a("ORDEREDSUBJECT", "UTF-8", "SINCE", "5-MAR-2000"), ""},
		{"long again", "* THREAD " + long2, txThread(uid, "REFERENCES", "UTF-8", "ALL"), []string{long2},
			a("REFERENCES", "UTF-8", "ALL"), ""},
		{"short", "* THREAD (166)(167)(168)", txThread(uid, "REFERENCES", "UTF-8", "ALL"), []string{"(166)(167)(168)"}, nil, ""},
		{"quoted charset", "* THREAD (1)", txThread(uid, "REFERENCES", "NF_Z_62-010_(1973)", "TEXT", "XXXXXX"), []string{"(1)"},
			a("REFERENCES", `"NF_Z_62-010_(1973)"`, "TEXT", "XXXXXX"), ""},
		{"koi8-u", "* THREAD (1)", txThread(uid, "REFERENCES", "KOI8-U", "TEXT", txKOI8Kyiv), []string{"(1)"},
			nil, "KOI8-U TEXT " + txKOI8Kyiv},
		{"params", "* THREAD (1)", txThread(uid, "REFERENCES", "UTF-8", params), []string{"(1)"},
			a("REFERENCES", "UTF-8", "SUBJECT", `"trip report"`), ""},
	}
}

func TestImaplib_test_thread(t *testing.T) {
	txRunSearch(t, "THREAD", "THREAD", txThreadCases(t, false))
}

func TestImaplib_test_uid_thread(t *testing.T) {
	raw := func(ctx context.Context, c *Client) (Result, error) {
		return c.UID(ctx, "THREAD", "REFERENCES", "UTF-8", "ALL")
	}
	cases := append([]txSearchCase{{"raw", "* THREAD (166)(167)(168)", raw, []string{"(166)(167)(168)"},
		[]string{"THREAD", "REFERENCES", "UTF-8", "ALL"}, ""}}, txThreadCases(t, true, "THREAD")...)
	txRunSearch(t, "THREAD", "UID", cases)
}
