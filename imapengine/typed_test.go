package imapengine

// Typed-view tests against the scripted imaptest server: the MOVE fallback,
// per-message FETCH errors, streaming without buffering, LITERAL+ and the
// parsing of extension response codes.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// sentAfterSelect returns the command lines (without tags) the server
// received after the SELECT.
func sentAfterSelect(srv *imaptest.Server) []string {
	var out []string
	seen := false
	for _, c := range srv.Commands() {
		if c.Name == "SELECT" {
			seen = true
			continue
		}
		if seen {
			_, rest, _ := strings.Cut(string(c.Line), " ")
			out = append(out, rest)
		}
	}
	return out
}

// TestTyped_MoveFallback: MoveMessages uses UID MOVE when offered, else UID
// COPY, UID STORE +FLAGS.SILENT (\Deleted) and UID EXPUNGE (UIDPLUS) or
// EXPUNGE; COPYUID is returned whenever the server sends it.
func TestTyped_MoveFallback(t *testing.T) {
	tests := []struct {
		caps     string
		want     []string
		wantCopy string // "validity src->dst", "" for nil
	}{
		{"UIDPLUS", []string{"UID COPY 1:2 Archive", `UID STORE 1:2 +FLAGS.SILENT (\Deleted)`, "UID EXPUNGE 1:2"}, "7 1:2->5:6"},
		{"", []string{"UID COPY 1:2 Archive", `UID STORE 1:2 +FLAGS.SILENT (\Deleted)`, "EXPUNGE"}, ""},
		{"MOVE UIDPLUS", []string{"UID MOVE 1:2 Archive"}, "7 1:2->5:6"},
		{"MOVE", []string{"UID MOVE 1:2 Archive"}, ""},
	}
	for _, tt := range tests {
		t.Run("caps="+tt.caps, func(t *testing.T) {
			uidplus := strings.Contains(tt.caps, "UIDPLUS")
			expunge := imaptest.SimpleHandler([]string{"* 1 EXPUNGE", "* 1 EXPUNGE"}, "")
			srv := transports[0].server(t, imaptest.Config{Capabilities: tt.caps, Handlers: map[string]imaptest.HandlerFunc{
				"SELECT":  imaptest.SimpleHandler([]string{"* 3 EXISTS"}, "[READ-WRITE] SELECT completed"),
				"EXPUNGE": expunge,
				"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
					switch sub := strings.ToUpper(cmd.Args[0]); sub {
					case "COPY":
						if uidplus {
							c.Tagged(cmd, "OK [COPYUID 7 1:2 5:6] COPY completed")
						} else {
							c.Tagged(cmd, "OK COPY completed")
						}
					case "MOVE":
						if uidplus {
							c.Send("* OK [COPYUID 7 1:2 5:6] moving")
						}
						expunge(c, cmd)
					case "EXPUNGE":
						expunge(c, cmd)
					default:
						c.Tagged(cmd, "OK "+sub+" completed")
					}
				},
			}})
			c := transports[0].mustDial(t, srv, nil)
			mustLogin(t, c)
			ctx := context.Background()
			if _, err := c.SelectMailbox(ctx, "", nil); err != nil {
				t.Fatal(err)
			}
			cu, err := c.MoveMessages(ctx, "1:2", "Archive")
			if err != nil {
				t.Fatalf("MoveMessages: %v", err)
			}
			if got := sentAfterSelect(srv); !slices.Equal(got, tt.want) {
				t.Errorf("sent %q, want %q", got, tt.want)
			}
			got := ""
			if cu != nil {
				got = fmt.Sprintf("%d %s->%s", cu.UIDValidity, cu.Source, cu.Dest)
			}
			if got != tt.wantCopy {
				t.Errorf("COPYUID = %q, want %q", got, tt.wantCopy)
			}
			if n := c.MailboxSize(); n != 1 {
				t.Errorf("MailboxSize after move = %d, want 1", n)
			}
		})
	}
}

// TestTyped_FetchEachMalformed: one message with a malformed item arrives
// with Err set (its items before the fault kept); the others are intact.
// An error returned by fn is returned after the command completes, and the
// connection stays usable.
func TestTyped_FetchEachMalformed(t *testing.T) {
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"FETCH": imaptest.SimpleHandler([]string{
			`* 1 FETCH (UID 11 FLAGS (\Seen) RFC822.SIZE 100)`,
			`* 2 FETCH (UID 12 RFC822.SIZE abc FLAGS ())`,
			`* 3 FETCH (UID 13 FLAGS () RFC822.SIZE 300)`,
		}, ""),
		"NOOP": imaptest.SimpleHandler(nil, ""),
	}})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	ctx := context.Background()
	if _, err := c.SelectMailbox(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.FetchMessages(ctx, "1:3", "(UID FLAGS RFC822.SIZE)", nil)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("FetchMessages = %d messages, %v; want 3", len(msgs), err)
	}
	for i, m := range msgs {
		if m.Seq != imap.SeqNum(i+1) || m.UID != imap.UID(11+i) {
			t.Errorf("message %d: seq %d uid %d", i, m.Seq, m.UID)
		}
		bad := i == 1
		if (m.Err != nil) != bad {
			t.Errorf("message %d: Err = %v, want error: %v", i, m.Err, bad)
		}
		if bad && !errors.Is(m.Err, imap.ErrMalformed) {
			t.Errorf("message 2: Err = %v, want imap.ErrMalformed", m.Err)
		}
		if !bad && (!m.HasSize || m.Size != uint32(100*(i+1))) {
			t.Errorf("message %d: size %d (%v)", i, m.Size, m.HasSize)
		}
	}

	errStop := errors.New("stop here")
	var calls int
	err = c.FetchEach(ctx, "1:3", "(UID)", nil, func(*imap.Message) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("FetchEach with a failing fn = %v after %d calls, want errStop after 1", err, calls)
	}
	if _, err := c.Noop(ctx); err != nil {
		t.Errorf("noop after FetchEach: %v", err)
	}
}

// streamMessages is the mailbox size of the streaming test.
const streamMessages = 2000

// TestTyped_FetchEachStreaming: FetchEach over 2,000 messages hands each to
// fn as it arrives and leaves nothing in the accumulated untagged responses.
func TestTyped_FetchEachStreaming(t *testing.T) {
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) {
			var b strings.Builder
			for i := 1; i <= streamMessages; i++ {
				fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen) RFC822.SIZE %d)\r\n", i, 1000+i, i)
			}
			c.SendRaw([]byte(b.String()))
			c.Tagged(cmd, "OK FETCH completed")
		},
	}})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	if _, err := c.SelectMailbox(context.Background(), "", nil); err != nil {
		t.Fatal(err)
	}
	var n int
	var sum uint64
	err := c.FetchEach(context.Background(), "1:*", "(UID FLAGS RFC822.SIZE)", nil, func(m *imap.Message) error {
		n++
		if m.Err != nil || m.UID != imap.UID(1000+m.Seq) {
			return fmt.Errorf("message %d: uid %d, %v", m.Seq, m.UID, m.Err)
		}
		sum += uint64(m.Size)
		return nil
	})
	if err != nil || n != streamMessages || sum != streamMessages*(streamMessages+1)/2 {
		t.Fatalf("FetchEach: %d messages, size sum %d, %v", n, sum, err)
	}
	if r := c.Response("FETCH"); len(r.Data) != 1 || !r.Data[0].IsNone() {
		t.Errorf("untagged FETCH kept after streaming: %d items", len(r.Data))
	}
	if u, ok := c.UIDOf(streamMessages); !ok || u != 1000+streamMessages {
		t.Errorf("UIDOf(%d) = %d, %v", streamMessages, u, ok)
	}
}

// TestTyped_LiteralPlus: with LITERAL+ the message literal is sent as {N+}
// right after the command line, without waiting for a continuation (the
// server sees the bytes before it would have sent "+"); with LITERAL- only
// literals up to 4096 bytes are; otherwise the client waits for "+".
func TestTyped_LiteralPlus(t *testing.T) {
	small := []byte("Subject: hi\r\n\r\nsmall body\r\n")
	big := []byte("Subject: big\r\n\r\n" + strings.Repeat("x", 5000) + "\r\n")
	tests := []struct {
		caps     string
		msg      []byte
		wantSync bool
	}{
		{"LITERAL+", small, false},
		{"LITERAL+", big, false},
		{"LITERAL-", small, false},
		{"LITERAL-", big, true},
		{"", small, true},
	}
	for _, tt := range tests {
		for _, view := range []string{"typed", "imaplib"} {
			t.Run(fmt.Sprintf("%s/%d/%s", tt.caps, len(tt.msg), view), func(t *testing.T) {
				type seen struct {
					sync, early bool
					data        []byte
					err         error
				}
				got := make(chan seen, 1)
				srv := transports[0].server(t, imaptest.Config{Capabilities: tt.caps, Handlers: map[string]imaptest.HandlerFunc{
					"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
						var s seen
						_, sync, err := imaptest.LiteralSize(cmd.Line)
						s.sync = sync
						if err == nil && !sync {
							// Timing-free in the passing direction: the bytes are
							// already on their way, no "+" has been sent.
							s.early = !c.ClientSentNothing(loopWait)
						}
						if err == nil {
							s.data, _, err = c.ReadLiteral(cmd)
						}
						s.err = err
						got <- s
						c.Tagged(cmd, "OK [APPENDUID 7 42] APPEND completed")
					},
				}})
				c := transports[0].mustDial(t, srv, nil)
				mustLogin(t, c)
				ctx := context.Background()
				if view == "typed" {
					au, err := c.AppendMessage(ctx, "INBOX", []imap.Flag{imap.FlagSeen}, time.Time{}, tt.msg)
					if err != nil || au == nil || au.UIDValidity != 7 || au.UID != 42 {
						t.Fatalf("AppendMessage = %+v, %v; want APPENDUID 7 42", au, err)
					}
				} else if _, err := c.Append(ctx, "INBOX", `(\Seen)`, time.Time{}, tt.msg); err != nil {
					t.Fatalf("Append: %v", err)
				}
				s := <-got
				if s.err != nil || s.sync != tt.wantSync || string(s.data) != string(tt.msg) {
					t.Fatalf("server saw sync=%v (want %v), %d bytes, err %v", s.sync, tt.wantSync, len(s.data), s.err)
				}
				if !tt.wantSync && !s.early {
					t.Error("non-synchronizing literal did not arrive before a continuation")
				}
			})
		}
	}
}

// TestTyped_ExtensionCodes: the typed results of SELECT (QRESYNC), ESEARCH,
// STORE (UNCHANGEDSINCE with MODIFIED), STATUS and LIST with SPECIAL-USE and
// modified UTF-7 names, parsed from scripted responses.
func TestTyped_ExtensionCodes(t *testing.T) {
	srv := transports[0].server(t, imaptest.Config{
		Capabilities: "ENABLE CONDSTORE QRESYNC ESEARCH SPECIAL-USE LIST-EXTENDED LIST-STATUS",
		Handlers: map[string]imaptest.HandlerFunc{
			"ENABLE": imaptest.SimpleHandler([]string{"* ENABLED QRESYNC"}, ""),
			"SELECT": imaptest.SimpleHandler([]string{
				`* FLAGS (\Seen \Deleted)`, "* 4 EXISTS", "* OK [UIDVALIDITY 9] ok", "* OK [UIDNEXT 20] ok",
				"* OK [HIGHESTMODSEQ 300] ok", "* VANISHED (EARLIER) 3:5", `* 2 FETCH (UID 12 FLAGS (\Seen) MODSEQ (290))`,
			}, "[READ-WRITE] SELECT completed"),
			"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
				switch strings.ToUpper(cmd.Args[0]) {
				case "SEARCH":
					c.Send(fmt.Sprintf(`* ESEARCH (TAG "%s") UID ALL 10:12,15 COUNT 4`, cmd.Tag))
					c.Tagged(cmd, "OK SEARCH completed")
				case "STORE":
					c.Send(`* 1 FETCH (UID 10 MODSEQ (301) FLAGS (\Flagged))`)
					c.Tagged(cmd, "OK [MODIFIED 11] conditional STORE failed")
				}
			},
			"LIST": imaptest.SimpleHandler([]string{
				`* LIST (\HasNoChildren \Sent) "/" Sent`,
				`* LIST (\HasNoChildren) "/" "Entw&APw-rfe"`,
				`* STATUS "Entw&APw-rfe" (MESSAGES 3 UNSEEN 1)`,
				`* STATUS Sent (MESSAGES 0 UNSEEN 0)`,
			}, ""),
		},
	})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	ctx := context.Background()

	sel, err := c.SelectMailbox(ctx, "INBOX", &SelectOptions{QResync: &QResync{UIDValidity: 9, ModSeq: 250, KnownUIDs: "1:15"}})
	if err != nil {
		t.Fatalf("SelectMailbox: %v", err)
	}
	if last, _ := srv.LastCommand("SELECT"); !strings.HasSuffix(string(last.Line), "SELECT INBOX (QRESYNC (9 250 1:15))") {
		t.Errorf("sent %q", last.Line)
	}
	if sel.Exists != 4 || sel.UIDValidity != 9 || sel.UIDNext != 20 || sel.HighestModSeq != 300 ||
		len(sel.Vanished) != 1 || sel.Vanished[0].String() != "3:5" ||
		len(sel.Changed) != 1 || sel.Changed[0].UID != 12 || sel.Changed[0].ModSeq != 290 {
		t.Errorf("Selected = %+v, vanished %v, changed %+v", sel.SelectData, sel.Vanished, sel.Changed)
	}

	sd, err := c.SearchUIDs(ctx, "UNSEEN")
	if err != nil || !sd.ESEARCH || sd.Count != 4 || sd.AllUIDs().String() != "10:12,15" {
		t.Errorf("SearchUIDs = %+v, %v", sd, err)
	}
	if last, _ := srv.LastCommand("UID"); !strings.HasSuffix(string(last.Line), "UID SEARCH RETURN (ALL COUNT) UNSEEN") {
		t.Errorf("sent %q", last.Line)
	}

	st, err := c.StoreFlags(ctx, "10:11", "+FLAGS", []imap.Flag{imap.FlagFlagged}, 300)
	if err != nil || st.Modified != "11" || len(st.Messages) != 1 || st.Messages[0].ModSeq != 301 {
		t.Errorf("StoreFlags = %+v, %v", st, err)
	}
	if last, _ := srv.LastCommand("UID"); !strings.HasSuffix(string(last.Line), `UID STORE 10:11 (UNCHANGEDSINCE 300) +FLAGS (\Flagged)`) {
		t.Errorf("sent %q", last.Line)
	}

	list, err := c.ListMailboxes(ctx, "", "*", &ListOptions{SpecialUse: true, Status: []string{"MESSAGES", "UNSEEN"}})
	if err != nil || len(list) != 2 {
		t.Fatalf("ListMailboxes = %v, %v", list, err)
	}
	if last, _ := srv.LastCommand("LIST"); !strings.HasSuffix(string(last.Line), `LIST "" * RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))`) {
		t.Errorf("sent %q", last.Line)
	}
	if list[0].Name != "Sent" || list[0].SpecialUse() != `\Sent` || list[0].Status == nil {
		t.Errorf("Sent = %+v", list[0])
	}
	if list[1].Name != "Entwürfe" || list[1].Status == nil || list[1].Status.Messages != 3 || list[1].Status.Unseen != 1 {
		t.Errorf("Entwürfe = %+v (status %+v)", list[1], list[1].Status)
	}
}

// TestTyped_FetchEachReuse: with FetchOptions.Reuse each message's body is
// intact inside fn and later messages reuse the first one's memory;
// FetchMessages ignores Reuse and keeps every body intact.
func TestTyped_FetchEachReuse(t *testing.T) {
	bodies := []string{strings.Repeat("a", 5000), strings.Repeat("b", 3000), "", strings.Repeat("c", 4999)}
	var lines []string
	for i, b := range bodies {
		lines = append(lines, fmt.Sprintf("* %d FETCH (UID %d BODY[] {%d}\r\n%s)", i+1, 100+i, len(b), b))
	}
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"FETCH": imaptest.SimpleHandler(lines, ""),
	}})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	ctx := context.Background()
	if _, err := c.SelectMailbox(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	var first *byte
	reused := 0
	n := 0
	err := c.FetchEach(ctx, "1:4", "(UID BODY[])", &FetchOptions{Reuse: true}, func(m *imap.Message) error {
		data := m.Section("").Data
		if m.Err != nil || string(data) != bodies[n] || m.UID != imap.UID(100+n) {
			t.Errorf("message %d: uid %d, %d body bytes, err %v", n+1, m.UID, len(data), m.Err)
		}
		if len(data) > 0 {
			if first == nil {
				first = &data[0]
			} else if &data[0] == first {
				reused++
			}
		}
		n++
		return nil
	})
	if err != nil || n != len(bodies) {
		t.Fatalf("FetchEach: %d messages, %v", n, err)
	}
	if reused != 2 {
		t.Errorf("%d of 2 later bodies reused the first body's memory", reused)
	}
	msgs, err := c.FetchMessages(ctx, "1:4", "(UID BODY[])", &FetchOptions{Reuse: true})
	if err != nil || len(msgs) != len(bodies) {
		t.Fatalf("FetchMessages: %d messages, %v", len(msgs), err)
	}
	for i, m := range msgs {
		if got := string(m.Section("").Data); got != bodies[i] {
			t.Errorf("kept message %d: %d body bytes, want %d", i+1, len(got), len(bodies[i]))
		}
	}
}

// TestRelease: a released Result's literal memory serves the next FETCH
// whose body fits, with the right bytes; results without literals and a
// Client that never read anything are no-ops.
func TestRelease(t *testing.T) {
	bodies := map[string]string{"1": strings.Repeat("x", 9000), "2": strings.Repeat("y", 8000), "3": strings.Repeat("z", 20000)}
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) {
			n := cmd.Args[0]
			b := bodies[n]
			c.Send(fmt.Sprintf("* %s FETCH (RFC822 {%d}\r\n%s)", n, len(b), b))
			c.Tagged(cmd, "OK FETCH completed")
		},
	}})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	c.Release(Result{}) // nothing to hand back
	var prev *byte
	for i, n := range []string{"1", "2", "3"} {
		r, err := c.Fetch(ctx, n, "(RFC822)")
		if err != nil || len(r.Data) != 2 || !r.Data[0].IsPair() {
			t.Fatalf("fetch %s: %v %v", n, r, err)
		}
		lit := r.Data[0].Literal()
		if string(lit) != bodies[n] {
			t.Fatalf("fetch %s: %d body bytes, want %d", n, len(lit), len(bodies[n]))
		}
		switch i {
		case 1: // 8,000 bytes fit in the released 9,000
			if &lit[0] != prev {
				t.Error("the released literal's memory was not reused")
			}
		case 2: // 20,000 bytes do not: fresh memory
			if &lit[0] == prev {
				t.Error("a literal larger than the released buffer reused it")
			}
		}
		prev = &lit[0]
		c.Release(r)
	}
}

// TestReleaseConcurrent: Release runs in the caller's goroutine while the
// reader goroutine reads other responses (NOOPs pipelined from other
// goroutines); every fetched body stays exact (run with -race).
func TestReleaseConcurrent(t *testing.T) {
	body := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), 3000+(i%7)*1500) }
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) {
			var i int
			fmt.Sscan(cmd.Args[0], &i)
			b := body(i)
			c.Send(fmt.Sprintf("* %d FETCH (RFC822 {%d}\r\n%s)", i, len(b), b))
			c.Tagged(cmd, "OK FETCH completed")
		},
		"NOOP": imaptest.SimpleHandler(nil, ""),
	}})
	c := transports[0].mustDial(t, srv, nil)
	mustLogin(t, c)
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	const noopers, rounds = 3, 60
	done := make(chan error, noopers)
	for range noopers {
		go func() {
			for range rounds {
				if _, err := c.Noop(ctx); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for i := 1; i <= rounds; i++ {
		r, err := c.Fetch(ctx, strconv.Itoa(i), "(RFC822)")
		if err != nil {
			t.Fatal(err)
		}
		if got := string(r.Data[0].Literal()); got != body(i) {
			t.Fatalf("message %d: %d bytes, want %d", i, len(got), len(body(i)))
		}
		c.Release(r)
	}
	for range noopers {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
