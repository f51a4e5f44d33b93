package imapengine

// Hostile-server tests of response parsing: /work/shared/spec/security.md
// section B (B1–B3, B5–B7, B10, B13, B14). The engine keeps imaplib's raw
// (typ, data) view, so "parsing" here means framing: lines, literals, limits.

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// secAllocBudget is the most the client may allocate while rejecting one
// hostile response (security.md: HeapAlloc growth < 2 MiB). TotalAlloc is
// used, which also counts memory freed again, so a pre-allocation made from
// a server number is caught even if it was released.
const secAllocBudget = 2 << 20

// secAllocated runs f and returns the bytes allocated meanwhile.
func secAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// secRawServer starts a server that sends raw instead of a greeting and then
// keeps the connection open until the client goes away.
func secRawServer(t *testing.T, raw string) *imaptest.Server {
	t.Helper()
	b := []byte(raw) // converted once, outside any allocation measurement
	return imaptest.NewServer(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
		c.SendRaw(b)
		secDrain(c)
	}})
}

// secAfterLogin starts a server whose handler for name answers with raw
// bytes (and nothing else), and returns a client logged in and selected.
func secAfterLogin(t *testing.T, name, raw string, o *Options) (*imaptest.Server, *Client) {
	t.Helper()
	srv := imaptest.NewServer(t, imaptest.Config{Capabilities: "IDLE", Handlers: map[string]imaptest.HandlerFunc{
		"NOOP": imaptest.SimpleHandler(nil, ""),
		name: func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.SendRaw([]byte(strings.ReplaceAll(raw, "TAG", cmd.Tag)))
		},
	}})
	if o == nil {
		o = secOpts()
	}
	c, err := Dial(context.Background(), srv.Addr(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown() })
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "", false); err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// TestImaplib_test_truncated_large_literal is CPython's gh-119511 test: a
// greeting announcing a literal of 2^k bytes (k = 15…63) that never comes.
// The client must fail without allocating the announced size.
func TestImaplib_test_truncated_large_literal(t *testing.T) {
	for k := 15; k < 64; k++ {
		size := uint64(1) << k
		t.Run("2^"+strconv.Itoa(k), func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
				c.SendRaw([]byte("* OK {" + strconv.FormatUint(size, 10) + "}\r\nIMAP4rev1\r\n"))
			}})
			var err error
			n := secAllocated(func() {
				var c *Client
				c, err = Dial(context.Background(), srv.Addr(), secOpts())
				if err == nil {
					c.Shutdown()
				}
			})
			if !errors.Is(err, ErrAbort) {
				t.Fatalf("err = %v, want abort", err)
			}
			if n > secAllocBudget {
				t.Fatalf("allocated %d bytes for a %d-byte literal announcement", n, size)
			}
		})
	}
}

// TestSecurity_B1_LiteralBomb: oversized and malformed literal markers. A
// count above the limit fails with ErrLiteralTooLarge before any allocation;
// a marker that is not a literal ("{-1}", "{1e9}", ...) is plain text, as in
// imaplib's Literal pattern, and reads nothing more.
func TestSecurity_B1_LiteralBomb(t *testing.T) {
	tests := []struct {
		marker string
		want   error // nil: the greeting is accepted as text
	}{
		{"{99999999999999999999}", imapwire.ErrLiteralTooLarge},
		{"{9223372036854775808}", imapwire.ErrLiteralTooLarge},
		{"{1048577}", imapwire.ErrLiteralTooLarge}, // above Limits.MaxLiteralSize below
		{"{-1}", nil},
		{"{}", nil},
		{"{ 5}", nil},
		{"{5 }", nil},
		{"{1e9}", nil},
		{"{0x10}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.marker, func(t *testing.T) {
			srv := secRawServer(t, "* OK [CAPABILITY IMAP4rev1] "+tt.marker+"\r\n")
			o := secOpts()
			o.Limits.MaxLiteralSize = 1 << 20
			var err error
			n := secAllocated(func() {
				var c *Client
				c, err = Dial(context.Background(), srv.Addr(), o)
				if err == nil {
					c.Shutdown()
				}
			})
			if tt.want == nil && err != nil {
				t.Fatalf("err = %v, want the greeting accepted as text", err)
			}
			if tt.want != nil && (!errors.Is(err, tt.want) || !errors.Is(err, ErrAbort)) {
				t.Fatalf("err = %v, want %v (abort)", err, tt.want)
			}
			if n > secAllocBudget {
				t.Fatalf("allocated %d bytes", n)
			}
		})
	}
}

// TestSecurity_B2_TruncatedLiteral: a FETCH literal cut short by EOF, or
// dripped slower than the command deadline, fails the command; the partial
// body is never delivered.
func TestSecurity_B2_TruncatedLiteral(t *testing.T) {
	tests := []struct {
		name string
		drip bool
		want error
	}{
		{"EOF", false, io.ErrUnexpectedEOF},
		{"drip", true, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
				"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) {
					c.SendRaw([]byte("* 1 FETCH (BODY[] {1000}\r\n0123456789"))
					if !tt.drip {
						c.Close()
						return
					}
					for i := 0; i < 990; i++ {
						if !c.Sleep(100 * time.Millisecond) {
							return
						}
						c.SendRaw([]byte("x"))
					}
				},
			}})
			o := secOpts()
			o.CommandTimeout = time.Second
			c, err := Dial(context.Background(), srv.Addr(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Shutdown()
			mustLogin(t, c)
			if _, err := c.Select(context.Background(), "", false); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := c.Fetch(context.Background(), "1", "(BODY[])")
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrAbort) {
				t.Fatalf("Fetch = %v, %v; want %v", res, err, tt.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("took %v", d)
			}
			if _, ok := c.Untagged()["FETCH"]; ok {
				t.Fatal("partial FETCH delivered")
			}
		})
	}
}

// TestSecurity_B3_ZeroLengthLiteral: "{0}" gives an empty, non-nil body.
func TestSecurity_B3_ZeroLengthLiteral(t *testing.T) {
	_, c := secAfterLogin(t, "FETCH", "* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\nTAG OK FETCH done\r\n", nil)
	res, err := c.Fetch(context.Background(), "1", "(UID BODY[])")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 2 || !res.Data[0].IsPair() {
		t.Fatalf("data = %v", res.Data)
	}
	if lit := res.Data[0].Literal(); lit == nil || len(lit) != 0 {
		t.Fatalf("literal = %#v, want empty non-nil", lit)
	}
	if got := strs(res.Data); got[0] != "1 (UID 7 BODY[] {0}|" || got[1] != ")" {
		t.Fatalf("data = %q", got)
	}
}

// TestSecurity_B5_OverlongLine: lines beyond Limits.MaxLineLength fail with
// ErrLineTooLong (imaplib's "got more than N bytes") with bounded memory; a
// line of exactly the limit is accepted; a bare LF does not end a line.
func TestSecurity_B5_OverlongLine(t *testing.T) {
	const limit = 1024
	greeting := "* OK [CAPABILITY IMAP4rev1] "
	exact := greeting + strings.Repeat("x", limit-len(greeting)-2) + "\r\n"
	tests := []struct {
		name  string
		raw   string
		limit int
		want  error // nil: accepted
	}{
		{"2 MiB without CRLF", strings.Repeat("A", 2<<20), limit, imapwire.ErrLineTooLong},
		{"8 MiB without CRLF, default limit", strings.Repeat("A", 8<<20), 0, imapwire.ErrLineTooLong},
		// A bare LF is refused as an unterminated line before the cap.
		{"2 MiB of bare LF lines", strings.Repeat("* OK A\n", (2<<20)/7), limit, imapwire.ErrUnterminatedLine},
		{"exact limit", exact, limit, nil},
		{"limit plus one", exact[:len(exact)-2] + "y\r\n", limit, imapwire.ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := secRawServer(t, tt.raw)
			o := secOpts()
			o.Limits.MaxLineLength = tt.limit
			var c *Client
			var err error
			n := secAllocated(func() {
				c, err = Dial(context.Background(), srv.Addr(), o)
			})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("exact-limit line refused: %v", err)
				}
				c.Shutdown()
				return
			}
			if err == nil {
				c.Shutdown()
				t.Fatal("overlong line accepted")
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrIMAP) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			budget := uint64(secAllocBudget)
			if tt.limit == 0 {
				// The cap itself is buffered, grown by doubling: about
				// twice the cap in total, far below the 8 MiB sent.
				budget += 4 * DefaultMaxLineLength
			}
			if n > budget {
				t.Fatalf("allocated %d bytes", n)
			}
		})
	}
}

// TestSecurity_B6_DeepNesting: 100,000 unclosed parentheses in an untagged
// response do not crash the client. Like imaplib, the engine does not parse
// FETCH data (imapwire.Scanner does, with its depth limit), so the line is
// delivered raw; a legitimate nested BODYSTRUCTURE passes unchanged.
func TestSecurity_B6_DeepNesting(t *testing.T) {
	deep := "* 1 FETCH (BODYSTRUCTURE " + strings.Repeat("(", 100_000)
	nested := "* 2 FETCH (BODYSTRUCTURE " + strings.Repeat(`("message" "rfc822" NIL NIL NIL "7bit" 10 NIL `, 40) +
		`("text" "plain" NIL NIL NIL "7bit" 1 1)` + strings.Repeat(" 1)", 40) + ")"
	_, c := secAfterLogin(t, "FETCH", deep+"\r\n"+nested+"\r\nTAG OK FETCH done\r\n", nil)
	res, err := c.Fetch(context.Background(), "1:2", "(BODYSTRUCTURE)")
	if err != nil {
		t.Fatal(err)
	}
	got := strs(res.Data)
	if len(got) != 2 || got[0] != "1 "+deep[len("* 1 FETCH "):] || got[1] != "2 "+nested[len("* 2 FETCH "):] {
		t.Fatalf("data lengths %d, want the two raw lines", len(got))
	}
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatalf("connection broken: %v", err)
	}
}

// TestSecurity_B7_NULAndControls: NUL and control bytes in quoted strings,
// atoms and literals reach the caller byte-exact (no truncation at NUL), and
// the connection stays usable. Rejecting them in structured values is the
// job of imapwire.Scanner; the raw imaplib view must not alter them.
func TestSecurity_B7_NULAndControls(t *testing.T) {
	lines := []string{
		"* LIST () \"/\" \"a\x00b\"",
		"* LIST (\\No\x00ise) \"/\" INBOX",
		"* LIST () \"/\" \"c\x01\x02\x1fd\"",
	}
	raw := strings.Join(lines, "\r\n") + "\r\n* LIST () \"/\" {3}\r\nx\x00y\r\nTAG OK LIST done\r\n"
	_, c := secAfterLogin(t, "LIST", raw, nil)
	res, err := c.List(context.Background(), "", "*")
	if err != nil {
		t.Fatal(err)
	}
	got := strs(res.Data)
	want := []string{lines[0][7:], lines[1][7:], lines[2][7:], "() \"/\" {3}|x\x00y", ""}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("data = %q, want %q", got, want)
	}
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatalf("connection broken: %v", err)
	}
}

// TestSecurity_B10_UnexpectedUntagged: out-of-range numbers, unknown and
// unsolicited responses are surfaced raw without a panic; a FLAGS list of
// 100,000 flags stays within the line limit and is delivered.
func TestSecurity_B10_UnexpectedUntagged(t *testing.T) {
	flags := make([]string, 100_000)
	for i := range flags {
		flags[i] = "\\F" + strconv.Itoa(i)
	}
	lines := []string{
		"* 4294967296 EXISTS",
		"* 0 EXPUNGE",
		"* 9 EXPUNGE",
		"* 12345678901 FETCH (UID 1)",
		"* VANISHED (EARLIER) 1:*",
		"* XFOO bar",
		"* FLAGS (" + strings.Join(flags, " ") + ")",
	}
	_, c := secAfterLogin(t, "NOOP", strings.Join(lines, "\r\n")+"\r\nTAG OK NOOP done\r\n", nil)
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := c.Untagged()
	checks := map[string]string{
		"EXISTS":   "4294967296",
		"EXPUNGE":  "9",
		"FETCH":    "12345678901 (UID 1)",
		"VANISHED": "(EARLIER) 1:*",
		"XFOO":     "bar",
	}
	for typ, want := range checks {
		d := u[typ]
		if len(d) == 0 || string(d[len(d)-1].Bytes()) != want {
			t.Errorf("%s = %q, want last %q", typ, strs(d), want)
		}
	}
	if f := u["FLAGS"]; len(f) != 1 || len(f[0].Bytes()) < 100_000 {
		t.Errorf("FLAGS not delivered whole")
	}
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatalf("connection broken: %v", err)
	}

	// Pre-auth ID with a literal, as an unsolicited greeting companion.
	srv := secRawServer(t, "* OK [CAPABILITY IMAP4rev1] hi\r\n* ID (\"name\" NIL \"x\" {3}\r\nabc)\r\n")
	c2, err := Dial(context.Background(), srv.Addr(), secOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Shutdown()
	deadline := time.Now().Add(secTimeout)
	for len(c2.Untagged()["ID"]) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := strs(c2.Untagged()["ID"]); len(got) != 2 || got[0] != "(\"name\" NIL \"x\" {3}|abc" {
		t.Fatalf("ID = %q", got)
	}
}

// TestSecurity_B13_ByeAnyTime: a BYE as greeting, after a literal mid-FETCH,
// during IDLE or during an AUTHENTICATE exchange fails the pending command
// with ErrServerBye within a second; after LOGOUT it is success.
func TestSecurity_B13_ByeAnyTime(t *testing.T) {
	t.Run("greeting", func(t *testing.T) {
		srv := secRawServer(t, "* BYE go away\r\n")
		c, err := Dial(context.Background(), srv.Addr(), secOpts())
		if err == nil {
			c.Shutdown()
			t.Fatal("BYE greeting accepted")
		}
		if !errors.Is(err, ErrServerBye) {
			t.Fatalf("err = %v, want ErrServerBye", err)
		}
	})
	steps := []struct {
		name    string
		handler string
		raw     string
		call    func(c *Client) error
	}{
		{"mid-FETCH", "FETCH", "* 1 FETCH (BODY[] {5}\r\nhello)\r\n* BYE shutting down\r\n", func(c *Client) error {
			_, err := c.Fetch(context.Background(), "1", "(BODY[])")
			return err
		}},
		{"during IDLE", "IDLE", "+ idling\r\n* BYE idle over\r\n", func(c *Client) error {
			return c.IdleFunc(context.Background(), 0, func(i *Idler) error {
				u, ok, err := i.Next(context.Background())
				if err != nil || !ok || u.Typ != "BYE" {
					return errors.New("BYE not delivered to the Idler")
				}
				if _, ok, _ := i.Next(context.Background()); ok {
					return errors.New("iteration continued after BYE")
				}
				return nil
			})
		}},
		{"during AUTHENTICATE", "AUTHENTICATE", "+ \r\n* BYE auth server gone\r\n", func(c *Client) error {
			_, err := c.Authenticate(context.Background(), "XFAKE", func([]byte) ([]byte, error) { return []byte("x"), nil })
			return err
		}},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			var c *Client
			if tt.handler == "AUTHENTICATE" {
				srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
					"AUTHENTICATE": func(sc *imaptest.Conn, cmd *imaptest.Command) {
						sc.Send("+ ")
						if _, err := sc.ReadLine(); err == nil {
							sc.Send("* BYE auth server gone")
						}
					},
				}})
				var err error
				if c, err = Dial(context.Background(), srv.Addr(), secOpts()); err != nil {
					t.Fatal(err)
				}
				defer c.Shutdown()
			} else {
				_, c = secAfterLogin(t, tt.handler, tt.raw, nil)
			}
			start := time.Now()
			err := tt.call(c)
			if !errors.Is(err, ErrServerBye) || !errors.Is(err, ErrAbort) {
				t.Fatalf("err = %v, want ErrServerBye (abort)", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v, want < 1s", d)
			}
			// A BYE consumed through the Idler is gone, as in imaplib; the
			// others stay and fail every later command (imaplib's _check_bye).
			if tt.handler == "IDLE" {
				return
			}
			if _, err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
				t.Fatalf("later command: %v, want abort", err)
			}
		})
	}
	t.Run("after LOGOUT", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{})
		c, err := Dial(context.Background(), srv.Addr(), secOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Shutdown()
		res, err := c.Logout(context.Background())
		if err != nil || res.Typ != "BYE" {
			t.Fatalf("Logout = %v, %v; want BYE, nil", res, err)
		}
	})
}

// secAppendHandler answers APPEND like a careful server: it reads the
// literal with imaptest's early-data check and records any violation.
func secAppendHandler(c *imaptest.Conn, cmd *imaptest.Command) {
	data, _, err := c.ReadLiteral(cmd)
	if err != nil {
		c.Server().SetValue("append_err", err)
		c.Tagged(cmd, "NO "+err.Error())
		return
	}
	c.Server().SetValue("append_data", data)
	c.Tagged(cmd, "OK APPEND completed")
}

// TestSecurity_B14_ContinuationSurprises: a stray "+" is never taken as
// permission to send a literal; a server silent after a synchronizing
// literal gets no literal bytes and the command fails by CommandTimeout; a
// "+" answering a non-synchronizing literal is harmless.
//
// Differs from security.md B14, which asks for a protocol error on a stray
// "+": the engine, like imaplib, records it (ContinuationResponse) and
// ignores it. The security property — no literal byte before the server's
// own "+" — is what is checked here.
func TestSecurity_B14_ContinuationSurprises(t *testing.T) {
	t.Run("stray plus", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{
			Greeting: "* OK [CAPABILITY IMAP4rev1] hi\r\n+ stray before anything",
			Handlers: map[string]imaptest.HandlerFunc{
				"NOOP":   imaptest.SimpleHandler([]string{"+ stray during NOOP"}, ""),
				"APPEND": secAppendHandler,
			},
		})
		c, err := Dial(context.Background(), srv.Addr(), secOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Shutdown()
		mustLogin(t, c)
		if _, err := c.Noop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if text, ok := c.ContinuationResponse(); !ok || string(text) != "stray during NOOP" {
			t.Fatalf("ContinuationResponse = %q, %v", text, ok)
		}
		if _, err := c.Append(context.Background(), "INBOX", "", time.Time{}, []byte("hello\r\n")); err != nil {
			t.Fatalf("Append: %v (server: %v)", err, srv.Value("append_err"))
		}
	})
	t.Run("silent after sync literal", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
				c.Server().SetValue("early", !c.ClientSentNothing(1500*time.Millisecond))
				secDrain(c)
			},
		}})
		o := secOpts()
		o.CommandTimeout = time.Second
		c, err := Dial(context.Background(), srv.Addr(), o)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Shutdown()
		mustLogin(t, c)
		start := time.Now()
		_, err = c.Append(context.Background(), "INBOX", "", time.Time{}, []byte("hello"))
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Append err = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v", d)
		}
		c.Shutdown()
		srv.Close()
		if early, _ := srv.Value("early").(bool); early {
			t.Fatal("client wrote literal bytes before the continuation request")
		}
	})
	t.Run("plus after non-sync literal", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{Capabilities: "LITERAL+", Handlers: map[string]imaptest.HandlerFunc{
			"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
				c.Send("+ unexpected")
				secAppendHandler(c, cmd)
			},
		}})
		c, err := Dial(context.Background(), srv.Addr(), secOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Shutdown()
		mustLogin(t, c)
		if _, err := c.Append(context.Background(), "INBOX", "", time.Time{}, []byte("hello")); err != nil {
			t.Fatalf("Append: %v", err)
		}
		cmd, _ := srv.LastCommand("APPEND")
		if !strings.HasSuffix(string(cmd.Line), "{5+}") {
			t.Fatalf("APPEND line %q, want a non-synchronizing literal", cmd.Line)
		}
		if _, err := c.Noop(context.Background()); err != nil && !errors.Is(err, ErrIMAP) {
			t.Fatal(err)
		}
	})
}
