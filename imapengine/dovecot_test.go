package imapengine

// Live tests against a real Dovecot (internal/dovecottest), over the four
// connection kinds: plain TCP, STARTTLS, implicit TLS and the preauthenticated
// stdio subprocess. Every test uses fresh users, so all run in parallel.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// liveTimeout bounds each live test's context; Dovecot answers in
// milliseconds, IDLE notifications within about a second.
const liveTimeout = 20 * time.Second

// liveKind is one way to reach Dovecot.
type liveKind struct {
	name   string
	stream bool // preauthenticated subprocess: no login
	dial   func(ctx context.Context, s *dovecottest.Server, user string, o *Options) (*Client, error)
}

var liveKinds = []liveKind{
	{"plain", false, func(ctx context.Context, s *dovecottest.Server, _ string, o *Options) (*Client, error) {
		o.AllowPlaintextAuth = true
		return Dial(ctx, s.PlainAddr, o)
	}},
	{"starttls", false, func(ctx context.Context, s *dovecottest.Server, _ string, o *Options) (*Client, error) {
		return DialStartTLS(ctx, s.PlainAddr, o)
	}},
	{"tls", false, func(ctx context.Context, s *dovecottest.Server, _ string, o *Options) (*Client, error) {
		return DialTLS(ctx, s.TLSAddr, o)
	}},
	{"stream", true, func(ctx context.Context, s *dovecottest.Server, user string, o *Options) (*Client, error) {
		return DialStream(ctx, s.StdioArgv(user), o)
	}},
}

// forLiveKinds runs f in parallel over every connection kind (or only over
// the network ones when network is set).
func forLiveKinds(t *testing.T, network bool, f func(t *testing.T, s *dovecottest.Server, k liveKind)) {
	t.Helper()
	s := dovecottest.Start(t)
	for _, k := range liveKinds {
		if network && k.stream {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f(t, s, k)
		})
	}
}

// forStreamKind runs f on Dovecot's preauthenticated stdio kind only: the
// suites that moved to servers_*_test.go (every server over plain, STARTTLS
// and TLS) keep the stdio mode here, which only the Dovecot fixture offers.
func forStreamKind(t *testing.T, f func(t *testing.T, s *dovecottest.Server, k liveKind)) {
	t.Helper()
	s := dovecottest.Start(t)
	for _, k := range liveKinds {
		if k.stream {
			t.Run(k.name, func(t *testing.T) { f(t, s, k) })
		}
	}
}

// liveCtx returns a context bounded by liveTimeout and ended with the test.
func liveCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	t.Cleanup(cancel)
	return ctx
}

// liveDial connects without logging in; the client is shut down with the test.
func liveDial(t *testing.T, s *dovecottest.Server, k liveKind, user string) *Client {
	t.Helper()
	o := &Options{TLSConfig: s.TLSConfig(), CommandTimeout: 10 * time.Second, GreetingTimeout: 10 * time.Second}
	c, err := k.dial(liveCtx(t), s, user, o)
	if err != nil {
		t.Fatalf("%s dial: %v", k.name, err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// liveLogin connects as user (logging in unless the kind is preauthenticated).
func liveLogin(t *testing.T, s *dovecottest.Server, k liveKind, user, pw string) *Client {
	t.Helper()
	c := liveDial(t, s, k, user)
	if !k.stream {
		liveOK(t, "login")(c.Login(liveCtx(t), user, pw))
	}
	if c.State() != StateAuth {
		t.Fatalf("state after login = %s, want AUTH", c.State())
	}
	return c
}

// liveUser makes a fresh user and a client logged in as that user.
func liveUser(t *testing.T, s *dovecottest.Server, k liveKind) (*Client, string) {
	t.Helper()
	user, pw := s.NewUser(t)
	return liveLogin(t, s, k, user, pw), user
}

// liveOK returns a checker that fails the test unless a call returned OK.
func liveOK(t *testing.T, what string) func(Result, error) Result {
	t.Helper()
	return func(r Result, err error) Result {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r.Typ != "OK" {
			t.Fatalf("%s: typ %q, data %v", what, r.Typ, strs(r.Data))
		}
		return r
	}
}

// liveData is liveOK returning the data as strings.
func liveData(t *testing.T, what string) func(Result, error) []string {
	t.Helper()
	return func(r Result, err error) []string {
		t.Helper()
		return strs(liveOK(t, what)(r, err).Data)
	}
}

// wantStatus checks that err is a server NO or BAD with the given code ("" for any).
func wantStatus(t *testing.T, what string, err error, status, code string) {
	t.Helper()
	var se *StatusError
	if !errors.Is(err, ErrIMAP) || !errors.As(err, &se) {
		t.Fatalf("%s: err = %v, want a *StatusError", what, err)
	}
	if se.Status != status || (code != "" && se.Code != code) {
		t.Fatalf("%s: status %q code %q (%s), want %s [%s]", what, se.Status, se.Code, se.Text, status, code)
	}
}

// liveNo checks that a call returned imaplib's ('NO', [text]) without an
// error, the text carrying code ("" for any).
func liveNo(t *testing.T, what, code string) func(Result, error) {
	t.Helper()
	return func(r Result, err error) {
		t.Helper()
		if err != nil || r.Typ != "NO" || (code != "" && !bytes.HasPrefix(r.First(), []byte("["+code+"]"))) {
			t.Fatalf("%s: %v %v, want ('NO', [[%s] ...])", what, r, err, code)
		}
	}
}

// hasItem reports whether any datum (header and literal joined) contains sub.
func hasItem(data []string, sub string) bool {
	return slices.ContainsFunc(data, func(d string) bool { return strings.Contains(d, sub) })
}

// flagSet returns the sorted flags of the FETCH datum d, without \Recent
// (which depends on which session saw the message first).
func flagSet(d string) []string {
	var out []string
	for _, f := range ParseFlags([]byte(d)) {
		if string(f) != `\Recent` {
			out = append(out, string(f))
		}
	}
	slices.Sort(out)
	return out
}

// Messages appended by the message tests: a thread of two and a multipart.
var (
	liveDate = time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 0))
	liveMsg1 = []byte("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n" +
		"Subject: Hello world\r\nMessage-ID: <m1@example.org>\r\nDate: Tue, 02 Jan 2024 03:04:05 +0000\r\n\r\n" +
		"First message body.\r\n")
	liveMsg2 = []byte("From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n" +
		"Subject: Re: Hello world\r\nMessage-ID: <m2@example.org>\r\nIn-Reply-To: <m1@example.org>\r\n" +
		"References: <m1@example.org>\r\nDate: Wed, 03 Jan 2024 03:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"Viele Grüße aus Köln\r\n")
	liveMsg3 = []byte("From: Carol <carol@example.org>\r\nTo: Alice <alice@example.org>\r\n" +
		"Subject: Zebra report\r\nMessage-ID: <m3@example.org>\r\nDate: Thu, 04 Jan 2024 03:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n")
)

// appendThree appends the three messages to mailbox.
func appendThree(t *testing.T, c *Client, mailbox string) {
	t.Helper()
	ctx := liveCtx(t)
	r := liveOK(t, "append 1")(c.Append(ctx, mailbox, `(\Seen $Work)`, liveDate, liveMsg1))
	if !bytes.Contains(r.First(), []byte("[APPENDUID ")) {
		t.Errorf("append: %v, want APPENDUID (UIDPLUS)", strs(r.Data))
	}
	liveOK(t, "append 2")(c.Append(ctx, mailbox, "", time.Time{}, liveMsg2))
	liveOK(t, "append 3")(c.Append(ctx, mailbox, `\Draft`, time.Time{}, liveMsg3))
}

// TestDovecot_Login covers login, a refused login, the master-user login and
// logout on every network connection; the stream is already authenticated.
func TestDovecot_Login(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		c := liveDial(t, s, k, user)
		if k.stream {
			if c.State() != StateAuth {
				t.Fatalf("stream state = %s, want AUTH (PREAUTH)", c.State())
			}
		} else {
			if c.State() != StateNonAuth {
				t.Fatalf("state = %s, want NONAUTH", c.State())
			}
			if k.name != "plain" && !c.IsTLS() {
				t.Fatal("IsTLS = false on a TLS connection")
			}
			_, err := c.Login(ctx, user, "wrong")
			wantStatus(t, "bad login", err, "NO", "AUTHENTICATIONFAILED")
			d := liveData(t, "login")(c.Login(ctx, user, pw))
			if len(d) != 1 || !strings.Contains(d[0], "Logged in") {
				t.Errorf("login data = %q", d)
			}
		}
		for _, capa := range []string{"IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "QUOTA", "ACL", "METADATA", "CONDSTORE", "QRESYNC"} {
			if !c.HasCapability(capa) {
				t.Errorf("capability %s missing from %q", capa, c.Capabilities())
			}
		}
		t.Logf("%s capabilities: %s", k.name, strings.Join(c.Capabilities(), " "))
		r, err := c.Logout(ctx)
		if err != nil || r.Typ != "BYE" {
			t.Fatalf("logout: %v %v", r, err)
		}
		if c.State() != StateLogout {
			t.Errorf("state after logout = %s", c.State())
		}
		if k.stream {
			return
		}
		// The master user acts as the user and sees the user's mail.
		s.Deliver(t, user, liveMsg1)
		m := liveDial(t, s, k, "")
		name, mpw := s.MasterLogin(user)
		liveOK(t, "master login")(m.Login(ctx, name, mpw))
		if d := liveData(t, "select as master")(m.Select(ctx, "", false)); !slices.Equal(d, []string{"1"}) {
			t.Errorf("select as master = %q, want [1]", d)
		}
		liveOK(t, "logout")(okBye(m.Logout(ctx)))
	})
}

// okBye turns Logout's ('BYE', ...) into OK for liveOK.
func okBye(r Result, err error) (Result, error) {
	if r.Typ == "BYE" {
		r.Typ = "OK"
	}
	return r, err
}

// TestDovecot_PlaintextRefused: a cleartext connection without
// AllowPlaintextAuth never sends the password.
func TestDovecot_PlaintextRefused(t *testing.T) {
	s := dovecottest.Start(t)
	c, err := Dial(liveCtx(t), s.PlainAddr, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	user, pw := s.NewUser(t)
	if _, err := c.Login(liveCtx(t), user, pw); !errors.Is(err, ErrTLSRequired) {
		t.Fatalf("login over cleartext = %v, want ErrTLSRequired", err)
	}
}

// TestDovecot_Authenticate covers CRAM-MD5, SASL PLAIN (also with the master
// user as authentication identity), LOGIN and the callback form.
func TestDovecot_Authenticate(t *testing.T) {
	tests := []struct {
		name   string
		master bool
		auth   func(ctx context.Context, c *Client, user, pw string) (Result, error)
	}{
		{"LoginCRAMMD5", false, func(ctx context.Context, c *Client, u, p string) (Result, error) { return c.LoginCRAMMD5(ctx, u, p) }},
		{"CRAMMD5Auth", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.AuthenticateSASL(ctx, CRAMMD5Auth(u, p))
		}},
		{"PlainAuth", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.AuthenticateSASL(ctx, PlainAuth("", u, p))
		}},
		{"LoginPlain", false, func(ctx context.Context, c *Client, u, p string) (Result, error) { return c.LoginPlain(ctx, u, p) }},
		{"LoginAuth", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.AuthenticateSASL(ctx, LoginAuth(u, p))
		}},
		{"Authenticate PLAIN callback", false, func(ctx context.Context, c *Client, u, p string) (Result, error) {
			return c.Authenticate(ctx, "plain", func([]byte) ([]byte, error) { return []byte("\x00" + u + "\x00" + p), nil })
		}},
		{"PlainAuth master", true, nil},
	}
	forLiveKinds(t, true, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := liveCtx(t)
				user, pw := s.NewUser(t)
				c := liveDial(t, s, k, "")
				var r Result
				var err error
				if tt.master {
					r, err = c.AuthenticateSASL(ctx, PlainAuth(user, s.Master.Name, s.Master.Password))
				} else {
					r, err = tt.auth(ctx, c, user, pw)
				}
				liveOK(t, tt.name)(r, err)
				if c.State() != StateAuth || !c.HasCapability("QUOTA") {
					t.Errorf("after %s: state %s, capabilities %q", tt.name, c.State(), c.Capabilities())
				}
				if tt.master {
					return
				}
				c2 := liveDial(t, s, k, "")
				_, err = tt.auth(ctx, c2, user, pw+"x")
				wantStatus(t, tt.name+" wrong password", err, "NO", "AUTHENTICATIONFAILED")
			})
		}
	})
}

// TestDovecot_Mailboxes covers create, list, lsub, subscribe, unsubscribe,
// rename, status, namespace and delete, with a non-ASCII name sent in
// modified UTF-7.
func TestDovecot_Mailboxes(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, _ := liveUser(t, s, k)
		for _, m := range []string{"Work", "Work/Sub", "Entwürfe"} {
			liveOK(t, "create "+m)(c.Create(ctx, m))
		}
		liveNo(t, "create existing", "ALREADYEXISTS")(c.Create(ctx, "Work"))
		list := liveData(t, "list")(c.List(ctx, "", "*"))
		for _, want := range []string{`"/" INBOX`, `(\HasChildren) "/" Work`, `(\HasNoChildren) "/" Work/Sub`, `"/" Entw&APw-rfe`} {
			if !hasItem(list, want) {
				t.Errorf("list = %q, want an item with %q", list, want)
			}
		}
		if d := liveData(t, "list %")(c.List(ctx, "Work/", "%")); len(d) != 1 || !strings.HasSuffix(d[0], "Work/Sub") {
			t.Errorf("list Work/ %% = %q", d)
		}
		liveOK(t, "subscribe")(c.Subscribe(ctx, "Work"))
		if d := liveData(t, "lsub")(c.Lsub(ctx, "", "*")); !hasItem(d, `"/" Work`) {
			t.Errorf("lsub after subscribe = %q", d)
		}
		liveOK(t, "unsubscribe")(c.Unsubscribe(ctx, "Work"))
		if d := liveData(t, "lsub")(c.Lsub(ctx, "", "*")); hasItem(d, `"/" Work`) {
			t.Errorf("lsub after unsubscribe = %q", d)
		}
		liveOK(t, "rename")(c.Rename(ctx, "Work/Sub", "Archive 2024"))
		list = liveData(t, "list")(c.List(ctx, "", "*"))
		if !hasItem(list, `"/" "Archive 2024"`) || hasItem(list, "Work/Sub") {
			t.Errorf("list after rename = %q", list)
		}
		if d := liveData(t, "status")(c.Status(ctx, "Archive 2024", "MESSAGES UIDNEXT UNSEEN")); len(d) != 1 ||
			d[0] != `"Archive 2024" (MESSAGES 0 UIDNEXT 1 UNSEEN 0)` {
			t.Errorf("status = %q", d)
		}
		if d := liveData(t, "namespace")(c.Namespace(ctx)); !slices.Equal(d, []string{`(("" "/")) NIL NIL`}) {
			t.Errorf("namespace = %q", d)
		}
		for _, m := range []string{"Archive 2024", "Entwürfe"} {
			liveOK(t, "delete "+m)(c.Delete(ctx, m))
		}
		liveNo(t, "delete missing", "NONEXISTENT")(c.Delete(ctx, "Nope"))
		if d := liveData(t, "list")(c.List(ctx, "", "*")); len(d) != 2 {
			t.Errorf("list after delete = %q, want INBOX and Work", d)
		}
	})
}

// TestDovecot_Messages covers append, select/examine, fetch (all common items,
// whole and partial bodies), search, sort, thread, store, copy, move, expunge,
// their UID variants, check, close and unselect.
func TestDovecot_Messages(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, _ := liveUser(t, s, k)
		appendThree(t, c, "")
		liveOK(t, "create")(c.Create(ctx, "Work"))

		if d := liveData(t, "examine")(c.Select(ctx, "INBOX", true)); !slices.Equal(d, []string{"3"}) || !c.IsReadOnly() {
			t.Fatalf("examine = %q, readonly %v", d, c.IsReadOnly())
		}
		if r := c.Response("READ-ONLY"); r.Typ != "READ-ONLY" {
			t.Errorf("examine: no READ-ONLY code: %v", r)
		}
		// Dovecot answers OK to STORE in a read-only mailbox and changes nothing
		// (the FLAGS fetched below lack \Flagged).
		if d := liveData(t, "store in examine")(c.Store(ctx, "1", "+FLAGS", `\Flagged`)); !slices.Equal(d, []string{"<None>"}) {
			t.Errorf("store in examine = %q, want [None]", d)
		}
		if d := liveData(t, "select")(c.Select(ctx, "", false)); !slices.Equal(d, []string{"3"}) || c.State() != StateSelected || c.IsReadOnly() {
			t.Fatalf("select = %q, state %s", d, c.State())
		}
		if r := c.Response("UIDVALIDITY"); r.Data == nil || r.Data[0].IsNone() {
			t.Errorf("select: no UIDVALIDITY: %v", r)
		}

		// Fetch.
		d := liveData(t, "fetch items")(c.Fetch(ctx, "1", "(FLAGS UID INTERNALDATE RFC822.SIZE)"))
		if len(d) != 1 {
			t.Fatalf("fetch items = %q", d)
		}
		if got := flagSet(d[0]); !slices.Equal(got, []string{"$Work", `\Seen`}) {
			t.Errorf("flags = %q in %q", got, d[0])
		}
		if it, ok, err := Internaldate2tuple([]byte(d[0])); err != nil || !ok || !it.Equal(liveDate) {
			t.Errorf("INTERNALDATE = %v %v %v in %q", it, ok, err, d[0])
		}
		for _, want := range []string{"1 (", "UID 1 ", "RFC822.SIZE " + itoa(len(liveMsg1))} {
			if !strings.Contains(d[0], want) {
				t.Errorf("fetch items = %q, want %q", d[0], want)
			}
		}
		d = liveData(t, "fetch envelope")(c.Fetch(ctx, "2", "ENVELOPE"))
		if !hasItem(d, `"Re: Hello world" (("Bob" NIL "bob" "example.org"))`) || !hasItem(d, `"<m1@example.org>" "<m2@example.org>"`) {
			t.Errorf("envelope = %q", d)
		}
		d = liveData(t, "fetch bodystructure")(c.Fetch(ctx, "3", "BODYSTRUCTURE"))
		if !hasItem(d, `"mixed"`) || !hasItem(d, `("attachment" ("filename" "report.pdf"))`) {
			t.Errorf("bodystructure = %q", d)
		}
		r := liveOK(t, "fetch body")(c.Fetch(ctx, "1", "(BODY.PEEK[])"))
		if len(r.Data) != 2 || !r.Data[0].IsPair() || !bytes.Equal(r.Data[0].Literal(), liveMsg1) || string(r.Data[1].Bytes()) != ")" {
			t.Errorf("fetch body = %v", r)
		}
		r = liveOK(t, "fetch partial")(c.Fetch(ctx, "1", "(BODY.PEEK[]<0.10>)"))
		if len(r.Data) != 2 || !bytes.Equal(r.Data[0].Literal(), liveMsg1[:10]) || !bytes.Contains(r.Data[0].Bytes(), []byte("BODY[]<0>")) {
			t.Errorf("fetch partial = %v", r)
		}
		r = liveOK(t, "fetch header")(c.Fetch(ctx, "2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
		if len(r.Data) != 2 || string(r.Data[0].Literal()) != "Subject: Re: Hello world\r\n\r\n" {
			t.Errorf("fetch header field = %v", r)
		}
		if d := liveData(t, "fetch all")(c.Fetch(ctx, "1:*", "FAST")); len(d) != 3 {
			t.Errorf("fetch FAST = %q", d)
		}
		// PARTIAL (RFC 1730) is obsolete: Dovecot answers BAD, which imaplib raises.
		_, err := c.Partial(ctx, "1", "BODY.PEEK[TEXT]", "0", "5")
		wantStatus(t, "partial", err, "BAD", "")

		// Search, sort, thread.
		searches := []struct {
			charset  string
			criteria []string
			want     string
		}{
			{"", []string{"ALL"}, "1 2 3"},
			{"", []string{"SUBJECT", `"hello"`}, "1 2"},
			{"", []string{"SEEN"}, "1"},
			{"", []string{"KEYWORD", "$Work"}, "1"},
			{"", []string{"DRAFT", "NOT", "SEEN"}, "3"},
			{"", []string{"SUBJECT", "nothing-matches"}, ""},
			{"UTF-8", []string{"BODY", `"Grüße"`}, "2"},
			{"UTF-8", []string{"TEXT", `"Köln"`}, "2"},
		}
		for _, sc := range searches {
			if d := liveData(t, "search")(c.Search(ctx, sc.charset, sc.criteria...)); !slices.Equal(d, []string{sc.want}) {
				t.Errorf("search %q %q = %q, want [%q]", sc.charset, sc.criteria, d, sc.want)
			}
		}
		if d := liveData(t, "sort")(c.Sort(ctx, "REVERSE DATE", "UTF-8", "ALL")); !slices.Equal(d, []string{"3 2 1"}) {
			t.Errorf("sort = %q", d)
		}
		if d := liveData(t, "sort subject")(c.Sort(ctx, "(SUBJECT)", "UTF-8", "ALL")); !slices.Equal(d, []string{"1 2 3"}) {
			t.Errorf("sort subject = %q", d)
		}
		if d := liveData(t, "thread")(c.Thread(ctx, "REFERENCES", "UTF-8", "ALL")); !slices.Equal(d, []string{"(1 2)(3)"}) {
			t.Errorf("thread = %q", d)
		}

		// Store.
		if d := liveData(t, "store +")(c.Store(ctx, "1", "+FLAGS", `(\Flagged)`)); len(d) != 1 ||
			!slices.Equal(flagSet(d[0]), []string{"$Work", `\Flagged`, `\Seen`}) {
			t.Errorf("store +FLAGS = %q", d)
		}
		if d := liveData(t, "store -")(c.Store(ctx, "1", "-FLAGS", `\Flagged`)); len(d) != 1 ||
			!slices.Equal(flagSet(d[0]), []string{"$Work", `\Seen`}) {
			t.Errorf("store -FLAGS = %q", d)
		}
		if d := liveData(t, "store silent")(c.Store(ctx, "2", "+FLAGS.SILENT", `(\Answered)`)); !slices.Equal(d, []string{"<None>"}) {
			t.Errorf("store +FLAGS.SILENT = %q, want [None]", d)
		}
		if d := liveData(t, "search answered")(c.Search(ctx, "", "ANSWERED")); !slices.Equal(d, []string{"2"}) {
			t.Errorf("search ANSWERED = %q", d)
		}

		// Copy, move, expunge.
		if r := liveOK(t, "copy")(c.Copy(ctx, "1:2", "Work")); !bytes.Contains(r.First(), []byte("[COPYUID ")) {
			t.Errorf("copy = %v, want COPYUID", r)
		}
		liveOK(t, "move")(c.Move(ctx, "3", "Work"))
		if r := c.Response("EXPUNGE"); !slices.Equal(strs(r.Data), []string{"3"}) {
			t.Errorf("EXPUNGE after move = %v", r)
		}
		liveOK(t, "store deleted")(c.Store(ctx, "2", "+FLAGS.SILENT", `\Deleted`))
		if d := liveData(t, "expunge")(c.Expunge(ctx)); !slices.Equal(d, []string{"2"}) {
			t.Errorf("expunge = %q", d)
		}
		liveOK(t, "check")(c.Check(ctx))
		if d := liveData(t, "status")(c.Status(ctx, "Work", "(MESSAGES)")); !slices.Equal(d, []string{"Work (MESSAGES 3)"}) {
			t.Errorf("status Work = %q", d)
		}

		// UID variants, in Work: UIDs 1, 2 (copies) and 3 (moved).
		liveOK(t, "select Work")(c.Select(ctx, "Work", false))
		if d := liveData(t, "uid search")(c.UIDSearch(ctx, "", "ALL")); !slices.Equal(d, []string{"1 2 3"}) {
			t.Errorf("uid search = %q", d)
		}
		if d := liveData(t, "uid fetch")(c.UIDFetch(ctx, "3", "(FLAGS)")); len(d) != 1 || !strings.HasPrefix(d[0], "3 (UID 3 FLAGS (") {
			t.Errorf("uid fetch = %q", d)
		}
		if d := liveData(t, "uid()")(c.UID(ctx, "FETCH", "2", "(RFC822.SIZE)")); len(d) != 1 || !strings.Contains(d[0], "UID 2 RFC822.SIZE "+itoa(len(liveMsg2))) {
			t.Errorf("uid(FETCH) = %q", d)
		}
		if d := liveData(t, "uid sort")(c.UIDSort(ctx, "REVERSE SUBJECT", "UTF-8", "ALL")); !slices.Equal(d, []string{"3 2 1"}) && !slices.Equal(d, []string{"3 1 2"}) {
			t.Errorf("uid sort = %q", d)
		}
		if d := liveData(t, "uid thread")(c.UIDThread(ctx, "REFERENCES", "UTF-8", "ALL")); !slices.Equal(d, []string{"(1 2)(3)"}) {
			t.Errorf("uid thread = %q", d)
		}
		if d := liveData(t, "uid store")(c.UIDStore(ctx, "1", "+FLAGS", `\Deleted`)); len(d) != 1 || !strings.Contains(d[0], "UID 1") {
			t.Errorf("uid store = %q", d)
		}
		if d := liveData(t, "uid expunge")(c.UIDExpunge(ctx, "1")); !slices.Equal(d, []string{"1"}) {
			t.Errorf("uid expunge = %q", d)
		}
		if r := liveOK(t, "uid copy")(c.UIDCopy(ctx, "2", "INBOX")); !bytes.Contains(r.First(), []byte("[COPYUID ")) {
			t.Errorf("uid copy = %v", r)
		}
		if r := liveOK(t, "uid move")(c.UIDMove(ctx, "3", "INBOX")); r.Typ != "OK" {
			t.Errorf("uid move = %v", r)
		}
		if d := liveData(t, "uid search")(c.UIDSearch(ctx, "", "ALL")); !slices.Equal(d, []string{"2"}) {
			t.Errorf("uid search after move = %q", d)
		}

		// Close expunges, unselect does not.
		liveOK(t, "store deleted")(c.Store(ctx, "1", "+FLAGS.SILENT", `\Deleted`))
		liveOK(t, "unselect")(c.Unselect(ctx))
		if c.State() != StateAuth {
			t.Errorf("state after unselect = %s", c.State())
		}
		if d := liveData(t, "status")(c.Status(ctx, "Work", "(MESSAGES)")); !slices.Equal(d, []string{"Work (MESSAGES 1)"}) {
			t.Errorf("status after unselect = %q", d)
		}
		liveOK(t, "select Work")(c.Select(ctx, "Work", false))
		liveOK(t, "close")(c.CloseMailbox(ctx))
		if d := liveData(t, "status")(c.Status(ctx, "Work", "(MESSAGES)")); !slices.Equal(d, []string{"Work (MESSAGES 0)"}) || c.State() != StateAuth {
			t.Errorf("status after close = %q, state %s", d, c.State())
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDovecot_QuotaACLMetadata covers getquota, getquotaroot, setquota
// (refused by Dovecot: only an admin may change a quota), getacl, setacl,
// deleteacl, myrights, ID, and METADATA through xatom (Dovecot has no
// ANNOTATEMORE, which imaplib's getannotation targets at Cyrus).
func TestDovecot_QuotaACLMetadata(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, user := liveUser(t, s, k)
		liveOK(t, "append")(c.Append(ctx, "", "", time.Time{}, liveMsg1))
		qr, err := c.GetQuotaRoot(ctx, "INBOX")
		if err != nil || qr.Typ != "OK" || !slices.Equal(strs(qr.QuotaRoot), []string{`INBOX "User quota"`}) ||
			!slices.Equal(strs(qr.Quota), []string{`"User quota" (STORAGE 1 102400)`}) {
			t.Errorf("getquotaroot = %+v %v", qr, err)
		}
		if d := liveData(t, "getquota")(c.GetQuota(ctx, "User quota")); !slices.Equal(d, []string{`"User quota" (STORAGE 1 102400)`}) {
			t.Errorf("getquota = %q", d)
		}
		r, err := c.SetQuota(ctx, "User quota", "(STORAGE 512)")
		if err != nil || r.Typ != "NO" || !strings.Contains(string(r.First()), "only by admin") {
			t.Errorf("setquota = %v %v, want Dovecot's NO", r, err)
		}

		all := "lrwstipekxacd"
		if d := liveData(t, "myrights")(c.MyRights(ctx, "INBOX")); !slices.Equal(d, []string{"INBOX " + all}) {
			t.Errorf("myrights = %q", d)
		}
		if d := liveData(t, "getacl")(c.GetACL(ctx, "INBOX")); !slices.Equal(d, []string{"INBOX " + user + " " + all}) {
			t.Errorf("getacl = %q", d)
		}
		liveOK(t, "setacl")(c.SetACL(ctx, "INBOX", "user=bob", "lr"))
		if d := liveData(t, "getacl")(c.GetACL(ctx, "INBOX")); len(d) != 1 || !strings.Contains(d[0], "bob lr") {
			t.Errorf("getacl after setacl = %q", d)
		}
		liveOK(t, "deleteacl")(c.DeleteACL(ctx, "INBOX", "user=bob"))
		if d := liveData(t, "getacl")(c.GetACL(ctx, "INBOX")); len(d) != 1 || strings.Contains(d[0], "bob") {
			t.Errorf("getacl after deleteacl = %q", d)
		}
		liveNo(t, "setacl missing", "NONEXISTENT")(c.SetACL(ctx, "Nope", "user=bob", "lr"))

		if d := liveData(t, "id")(c.ID(ctx, IDField{Name: "name", Value: "imapbridge"})); len(d) != 1 || !strings.Contains(d[0], `"name" "Dovecot"`) {
			t.Errorf("id = %q", d)
		}
		liveOK(t, "setmetadata")(c.Xatom(ctx, "SETMETADATA", "INBOX", `(/private/comment "hello `+user+`")`))
		liveOK(t, "getmetadata")(c.Xatom(ctx, "GETMETADATA", "INBOX", "/private/comment"))
		// Dovecot sends the value as a literal: imaplib's (header, literal) pair.
		if r := c.Response("METADATA"); !slices.Equal(strs(r.Data), []string{`INBOX (/private/comment {` + itoa(len("hello "+user)) + `}|hello ` + user, ")"}) {
			t.Errorf("METADATA = %v", r)
		}
		if _, err := c.Xatom(ctx, "GETANNOTATION", "INBOX", `"/comment"`, `"value.priv"`); err == nil {
			t.Error("GETANNOTATION: want Dovecot's BAD")
		}
	})
}

// TestDovecot_Enable covers ENABLE CONDSTORE (MODSEQ in FETCH and
// HIGHESTMODSEQ on select) and ENABLE QRESYNC over the stdio kind; the
// network kinds on every server: TestServers_Enable.
func TestDovecot_Enable(t *testing.T) {
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, _ := liveUser(t, s, k)
		liveOK(t, "append")(c.Append(ctx, "", "", time.Time{}, liveMsg1))
		// As in imaplib, enable returns the tagged text; ENABLED waits for Response.
		liveOK(t, "enable")(c.Enable(ctx, "CONDSTORE"))
		if r := c.Response("ENABLED"); !slices.Equal(strs(r.Data), []string{"CONDSTORE"}) {
			t.Errorf("ENABLED after enable CONDSTORE = %v", r)
		}
		liveOK(t, "select")(c.Select(ctx, "", false))
		if r := c.Response("HIGHESTMODSEQ"); r.Data == nil || r.Data[0].IsNone() {
			t.Errorf("no HIGHESTMODSEQ after select: %v", r)
		}
		if d := liveData(t, "fetch modseq")(c.Fetch(ctx, "1", "(MODSEQ)")); len(d) != 1 || !strings.Contains(d[0], "MODSEQ (") {
			t.Errorf("fetch MODSEQ = %q", d)
		}
		c2, _ := liveUser(t, s, k)
		// As in imaplib, enable returns the tagged text; ENABLED waits for Response.
		liveOK(t, "enable")(c2.Enable(ctx, "QRESYNC"))
		if r := c2.Response("ENABLED"); !slices.Equal(strs(r.Data), []string{"QRESYNC"}) {
			t.Errorf("ENABLED after enable QRESYNC = %v", r)
		}
	})
}

// TestDovecot_Idle: while one connection idles, a second delivers two messages
// and then expunges one; the idler sees EXISTS and EXPUNGE (VANISHED with the
// UID after ENABLE QRESYNC), over the stdio kind; the network kinds on every
// server: TestServers_Idle.
func TestDovecot_Idle(t *testing.T) {
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		for _, qresync := range []bool{false, true} {
			ctx := liveCtx(t)
			user, pw := s.NewUser(t)
			c := liveLogin(t, s, k, user, pw)
			if qresync {
				liveOK(t, "enable")(c.Enable(ctx, "QRESYNC"))
			}
			s.Deliver(t, user, liveMsg1)
			liveOK(t, "select")(c.Select(ctx, "", false))
			// The second connection is a plain network one, as a second client's.
			other := liveLogin(t, s, liveKinds[0], user, pw)
			liveOK(t, "select other")(other.Select(ctx, "", false))

			idler, err := c.Idle(0)
			if err != nil {
				t.Fatal(err)
			}
			if err := idler.Start(ctx); err != nil {
				t.Fatalf("idle start: %v", err)
			}
			if c.State() != StateIdling {
				t.Errorf("state while idling = %s", c.State())
			}
			s.Deliver(t, user, liveMsg2)
			s.Deliver(t, user, liveMsg3)
			seen := waitIdle(t, ctx, idler, "EXISTS", "3")
			liveOK(t, "store")(other.Store(ctx, "1", "+FLAGS.SILENT", `\Deleted`))
			liveOK(t, "expunge")(other.Expunge(ctx))
			if qresync {
				seen = append(seen, waitIdle(t, ctx, idler, "VANISHED", "1")...) // UID 1
			} else {
				seen = append(seen, waitIdle(t, ctx, idler, "EXPUNGE", "1")...) // sequence number 1
			}
			if err := idler.Done(ctx); err != nil {
				t.Fatalf("idle done: %v", err)
			}
			if c.State() != StateSelected {
				t.Errorf("state after idle = %s", c.State())
			}
			t.Logf("qresync=%v: idle saw %v", qresync, seen)
			if d := liveData(t, "search")(c.Search(ctx, "", "ALL")); !slices.Equal(d, []string{"1 2"}) {
				t.Errorf("search after idle = %q", d)
			}
			liveOK(t, "logout")(okBye(other.Logout(ctx)))
		}
	})
}

// waitIdle collects IDLE responses with Burst until one of type typ whose
// first datum is data arrives.
func waitIdle(t *testing.T, ctx context.Context, idler *Idler, typ, data string) []string {
	t.Helper()
	var seen []string
	for {
		burst, err := idler.Burst(ctx, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("burst waiting for %s %s: %v (saw %q)", typ, data, err, seen)
		}
		for _, u := range burst {
			seen = append(seen, u.Typ+" "+strings.Join(strs(u.Data), " "))
			if u.Typ == typ && len(u.Data) > 0 && string(u.Data[0].Bytes()) == data {
				return seen
			}
		}
	}
}
