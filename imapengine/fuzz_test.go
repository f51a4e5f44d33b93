package imapengine

// FuzzServerStream feeds arbitrary bytes to the client as the whole server
// side of a session (security.md B15 at the engine level).

import (
	"bufio"
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Bounds of one fuzz input.
const (
	// fuzzCommandTimeout bounds each command, so a silent stream ends fast.
	fuzzCommandTimeout = 50 * time.Millisecond
	// fuzzMaxDuration is the longest one input may take.
	fuzzMaxDuration = 5 * time.Second
	// fuzzMaxInput skips inputs longer than this (the limits below are what
	// is under test, not the fuzzer's patience).
	fuzzMaxInput = 256 << 10
)

// fuzzTagMark in an input is replaced by the client's tag prefix, so that
// seeds can carry tagged completions ("$0 OK ...").
const fuzzTagMark = "$"

// fuzzSeeds are RFC 3501/9051 transcripts and the B1–B14 hostile inputs.
var fuzzSeeds = []string{
	// RFC 3501 §8 example session.
	"* OK IMAP4rev1 Service Ready\r\n* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI\r\n$0 OK CAPABILITY completed\r\n" +
		"$1 OK LOGIN completed\r\n* CAPABILITY IMAP4rev1 IDLE\r\n$2 OK done\r\n" +
		"* 172 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 12] Message 12 is first unseen\r\n" +
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* OK [UIDNEXT 4392] Predicted next UID\r\n" +
		"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n" +
		"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n$3 OK [READ-WRITE] SELECT completed\r\n" +
		"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 " +
		"ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" " +
		"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) NIL NIL NIL NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\") " +
		"BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n$4 OK FETCH completed\r\n" +
		"* BYE IMAP4rev1 Server logging out\r\n$5 OK LOGOUT completed\r\n",
	// RFC 9051 greeting with capabilities, a literal FETCH and IDLE.
	"* OK [CAPABILITY IMAP4rev2 IMAP4rev1 IDLE LITERAL+] ready\r\n$0 OK [CAPABILITY IMAP4rev2 IMAP4rev1 IDLE] Logged in\r\n" +
		"* 2 EXISTS\r\n$1 OK [READ-WRITE] done\r\n* 1 FETCH (BODY[] {11}\r\nHello\r\nWorld)\r\n$2 OK done\r\n" +
		"$3 OK NOOP\r\n+ idling\r\n* 3 EXISTS\r\n$4 OK IDLE terminated\r\n",
	"* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n$0 OK done\r\n",
	// B1, B2, B3: literals.
	"* OK {1099511627776}\r\nIMAP4rev1\r\n",
	"* OK {99999999999999999999}\r\n",
	"* OK [CAPABILITY IMAP4rev1] {-1}\r\n$0 OK {}\r\n",
	"* OK [CAPABILITY IMAP4rev1] hi\r\n$0 OK LOGIN\r\n* 1 FETCH (BODY[] {1000}\r\n0123456789",
	"* OK [CAPABILITY IMAP4rev1] hi\r\n$0 OK LOGIN\r\n* 2 EXISTS\r\n$1 OK SELECT\r\n* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\n$2 OK\r\n",
	// B5: overlong and unterminated lines.
	"* OK " + strings.Repeat("A", 5000),
	"* OK hi\nmore\n",
	// B6: deep nesting.
	"* OK [CAPABILITY IMAP4rev1] hi\r\n$0 OK\r\n* 2 EXISTS\r\n$1 OK\r\n* 1 FETCH (BODYSTRUCTURE " + strings.Repeat("(", 10000) + "\r\n$2 OK\r\n",
	// B7, B10: NUL, controls, out-of-range numbers, unknown responses.
	"* OK [CAPABILITY IMAP4rev1] hi\r\n* LIST () \"/\" \"a\x00b\"\r\n* 4294967296 EXISTS\r\n* 0 EXPUNGE\r\n" +
		"* 12345678901 FETCH (UID 1)\r\n* VANISHED (EARLIER) 1:*\r\n* XFOO bar\r\n* ID (\"name\" NIL \"x\" {3}\r\nabc)\r\n$0 OK\r\n",
	// B13, B14: BYE and continuation surprises.
	"* BYE go away\r\n",
	"* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n$0 OK\r\n* 2 EXISTS\r\n$1 OK\r\n* 1 FETCH (BODY[] {5}\r\nhello)\r\n* BYE down\r\n",
	"* OK [CAPABILITY IMAP4rev1] hi\r\n+ stray\r\n+\r\n$0 OK\r\n+ \r\n",
	// A7: stray and duplicate completions.
	"* OK [CAPABILITY IMAP4rev1] hi\r\n$9 OK\r\n$0 OK\r\n$0 OK\r\n",
	"A1 OK\r\n",
	"",
}

// FuzzServerStream runs a short session against the fuzz input as the server
// stream over a net.Pipe. Invariants: no panic (the reader's recover would
// turn one into an "internal error"), bounded time, and the reader goroutine
// ends with the connection.
func FuzzServerStream(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			t.Skip()
		}
		start := time.Now()
		// A hang is a failure too: crash the worker with every stack, so
		// the fuzzer records the input.
		watchdog := time.AfterFunc(fuzzMaxDuration, func() {
			buf := make([]byte, 1<<20)
			panic("imapengine: fuzz input hung:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		cli, srv := net.Pipe()
		served := make(chan struct{})
		go fuzzServe(srv, data, served)

		o := &Options{
			AllowPlaintextAuth: true,
			GreetingTimeout:    fuzzCommandTimeout,
			CommandTimeout:     fuzzCommandTimeout,
			Limits:             Limits{MaxLineLength: 64 << 10, MaxLiteralSize: 64 << 10, MaxResponseSize: 256 << 10, MaxUntagged: 1000},
		}
		ctx := context.Background()
		c, err := NewClient(ctx, cli, o)
		if err == nil {
			fuzzSession(ctx, c)
			if e := c.Err(); e != nil && strings.Contains(e.Error(), "internal error") {
				t.Fatalf("reader panicked: %v", e)
			}
			c.Shutdown()
			select {
			case <-c.Done():
			case <-time.After(time.Second):
				t.Fatal("reader goroutine did not exit")
			}
		} else if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("panic during connect: %v", err)
		}
		cli.Close()
		<-served
		if d := time.Since(start); d > fuzzMaxDuration {
			t.Fatalf("input took %v", d)
		}
	})
}

// fuzzSession issues the commands a typical session would.
func fuzzSession(ctx context.Context, c *Client) {
	_, _ = c.Login(ctx, "user", "pass")
	_, _ = c.Select(ctx, "", false)
	_, _ = c.Fetch(ctx, "1", "(UID BODY[])")
	_, _ = c.Noop(ctx)
	if c.HasCapability("IDLE") {
		_ = c.IdleFunc(ctx, fuzzCommandTimeout, func(i *Idler) error {
			_, err := i.Burst(ctx, time.Millisecond)
			return err
		})
	}
	_, _ = c.Logout(ctx)
}

// fuzzServe plays data as the server: the first line at once, the rest after
// the client's first command (with fuzzTagMark replaced by its tag prefix),
// reading and dropping whatever the client sends meanwhile, and hangs up.
func fuzzServe(conn net.Conn, data []byte, done chan<- struct{}) {
	defer close(done)
	defer conn.Close()
	s := string(data)
	greeting, rest := s, ""
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		greeting, rest = s[:i+1], s[i+1:]
	}
	if _, err := io.WriteString(conn, greeting); err != nil {
		return
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	prefix := strings.TrimRight(strings.SplitN(line, " ", 2)[0], "0123456789")
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(io.Discard, br)
	}()
	_, _ = io.WriteString(conn, strings.ReplaceAll(rest, fuzzTagMark, prefix))
	conn.Close() // the end of the input is the end of the stream
	<-copied
}
