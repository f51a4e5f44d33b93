package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/imapengine"
)

// testMessage is appended to the test mailbox (imaplib's test_mesg); bare LF
// line endings are turned into CRLF by Append.
const testMessage = "From: imapcheck@localhost\nSubject: IMAP4 test\n\ndata...\n"

// tester runs the self-test sequence on one client and prints a transcript.
type tester struct {
	c   *imapengine.Client
	out io.Writer
}

// step prints "name args", runs f, prints "name => TYP [data]" and turns a NO
// into errTestFailed, as imaplib's self-test does.
func (t *tester) step(name, args string, f func() (imapengine.Result, error)) (imapengine.Result, error) {
	fmt.Fprintf(t.out, "%s %s\n", name, args)
	res, err := f()
	if err != nil {
		fmt.Fprintf(t.out, "%s => error: %v\n", name, err)
		return res, fmt.Errorf("imapcheck: %s: %w", name, err)
	}
	fmt.Fprintf(t.out, "%s => %.5s %s\n", name, res.Typ, pyList(res.Data))
	if res.Typ == "NO" {
		return res, fmt.Errorf("%w: %s: %s %s", errTestFailed, name, res.Typ, pyList(res.Data))
	}
	return res, nil
}

// pyList renders data as Python renders a list: [b'a', None].
func pyList(data []imapengine.Datum) string {
	parts := make([]string, len(data))
	for i, d := range data {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyStr renders s as a Python str literal for the transcript.
func pyStr(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// sequence runs imaplib's self-test steps. pass is called only when a login
// is needed (not after a PREAUTH greeting).
func (t *tester) sequence(ctx context.Context, user string, pass func() (string, error)) error {
	c := t.c
	if c.State() == imapengine.StateNonAuth {
		p, err := pass()
		if err != nil {
			return err
		}
		// The password is never printed.
		if _, err := t.step("login", "("+pyStr(user)+", '***')", func() (imapengine.Result, error) {
			return c.Login(ctx, user, p)
		}); err != nil {
			return err
		}
	}
	steps := []struct {
		name, args string
		f          func() (imapengine.Result, error)
	}{
		{"create", "(" + pyStr(mailbox1) + ",)", func() (imapengine.Result, error) { return c.Create(ctx, mailbox1) }},
		{"rename", "(" + pyStr(mailbox1) + ", " + pyStr(mailbox1b) + ")", func() (imapengine.Result, error) { return c.Rename(ctx, mailbox1, mailbox1b) }},
		{"delete", "(" + pyStr(mailbox1b) + ",)", func() (imapengine.Result, error) { return c.Delete(ctx, mailbox1b) }},
		{"create", "(" + pyStr(mailbox2) + ",)", func() (imapengine.Result, error) { return c.Create(ctx, mailbox2) }},
		{"append", "(" + pyStr(mailbox2) + ", None, None, test_mesg)", func() (imapengine.Result, error) {
			return c.Append(ctx, mailbox2, "", time.Time{}, []byte(testMessage))
		}},
		{"list", "('', " + pyStr(listMatch) + ")", func() (imapengine.Result, error) { return c.List(ctx, "", listMatch) }},
		{"select", "(" + pyStr(mailbox2) + ",)", func() (imapengine.Result, error) { return c.Select(ctx, mailbox2, false) }},
	}
	for _, s := range steps {
		if _, err := t.step(s.name, s.args, s.f); err != nil {
			return err
		}
	}
	res, err := t.step("search", "(None, 'SUBJECT', "+pyStr(testSearch)+")", func() (imapengine.Result, error) {
		return c.Search(ctx, "", "SUBJECT", testSearch)
	})
	if err != nil {
		return err
	}
	nums := strings.Fields(string(res.First()))
	if len(nums) == 0 {
		return fmt.Errorf("%w: search: the appended message was not found", errTestFailed)
	}
	num := nums[len(nums)-1]
	steps = []struct {
		name, args string
		f          func() (imapengine.Result, error)
	}{
		{"fetch", "(" + pyStr(num) + ", '(FLAGS INTERNALDATE RFC822)')", func() (imapengine.Result, error) {
			return c.Fetch(ctx, num, "(FLAGS INTERNALDATE RFC822)")
		}},
		{"store", "(" + pyStr(num) + ", 'FLAGS', '(\\\\Deleted)')", func() (imapengine.Result, error) {
			return c.Store(ctx, num, "FLAGS", `(\Deleted)`)
		}},
		{"expunge", "()", func() (imapengine.Result, error) { return c.Expunge(ctx) }},
		{"close", "()", func() (imapengine.Result, error) { return c.CloseMailbox(ctx) }},
		{"delete", "(" + pyStr(mailbox2) + ",)", func() (imapengine.Result, error) { return c.Delete(ctx, mailbox2) }},
		{"logout", "()", func() (imapengine.Result, error) { return c.Logout(ctx) }},
	}
	for _, s := range steps {
		if _, err := t.step(s.name, s.args, s.f); err != nil {
			return err
		}
	}
	return nil
}
