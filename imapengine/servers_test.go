package imapengine

// Live tests on every server of internal/imapservers' table (Dovecot, Cyrus,
// Courier) over plain TCP, STARTTLS and implicit TLS. Where a server lacks an
// extension the test asserts what the engine does instead (the fallback or
// the typed refusal), so every cell of docs/compatibility.md is exercised.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// netKind is one network way to reach a server.
type netKind struct {
	name string
	dial func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error)
}

var netKinds = []netKind{
	{"plain", func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error) {
		o.AllowPlaintextAuth = true
		return Dial(ctx, s.PlainAddr, o)
	}},
	{"starttls", func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error) {
		return DialStartTLS(ctx, s.PlainAddr, o)
	}},
	{"tls", func(ctx context.Context, s *imapservers.Server, o *Options) (*Client, error) {
		return DialTLS(ctx, s.TLSAddr, o)
	}},
}

// forServers runs f in parallel on every server × network kind.
func forServers(t *testing.T, f func(t *testing.T, s *imapservers.Server, k netKind)) {
	t.Helper()
	for _, s := range imapservers.All(t) {
		for _, k := range netKinds {
			t.Run(s.Name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				f(t, s, k)
			})
		}
	}
}

// srvDial connects without logging in; the client is shut down with the test.
func srvDial(t *testing.T, s *imapservers.Server, k netKind) *Client {
	t.Helper()
	o := &Options{TLSConfig: s.TLSConfig(), CommandTimeout: 10 * time.Second, GreetingTimeout: 10 * time.Second}
	c, err := k.dial(liveCtx(t), s, o)
	if err != nil {
		t.Fatalf("%s %s dial: %v", s.Name, k.name, err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// srvUser makes a fresh user and a client logged in as that user.
func srvUser(t *testing.T, s *imapservers.Server, k netKind) (*Client, string) {
	t.Helper()
	user, pw := s.NewUser(t)
	c := srvDial(t, s, k)
	_, err := c.Login(liveCtx(t), user, pw)
	// A user just written to Cyrus' sasldb was once refused by a parallel
	// login (CI, under load): a few more tries on a new connection, with a
	// deadline, before the refusal counts.
	for i := 0; err != nil && i < 5; i++ {
		time.Sleep(300 * time.Millisecond)
		c = srvDial(t, s, k)
		_, err = c.Login(liveCtx(t), user, pw)
	}
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if c.State() != StateAuth {
		t.Fatalf("state after login = %s, want AUTH", c.State())
	}
	return c, user
}

// TestServers_Capabilities: login (and a refused one) on every server and
// kind; the capabilities after login are exactly what the table says is
// offered and lacking, so a profile (and docs/compatibility.md) cannot drift
// from the server.
func TestServers_Capabilities(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		c := srvDial(t, s, k)
		if c.State() != StateNonAuth {
			t.Fatalf("state = %s, want NONAUTH", c.State())
		}
		if k.name != "plain" && !c.IsTLS() {
			t.Fatal("IsTLS = false on a TLS connection")
		}
		_, err := c.Login(ctx, user, "wrong")
		var se *StatusError
		if !errors.As(err, &se) || se.Status != "NO" {
			t.Fatalf("bad login = %v, want a NO *StatusError", err)
		}
		liveOK(t, "login")(c.Login(ctx, user, pw))
		for _, capa := range s.Has {
			if !c.HasCapability(capa) {
				t.Errorf("%s: capability %s missing from %q", s.Name, capa, c.Capabilities())
			}
		}
		for _, capa := range s.Lacks {
			if c.HasCapability(capa) {
				t.Errorf("%s: capability %s offered, the table says it lacks it", s.Name, capa)
			}
		}
		if d := liveData(t, "namespace")(c.Namespace(ctx)); !slices.Equal(d, []string{s.Namespace}) {
			t.Errorf("namespace = %q, want %q", d, s.Namespace)
		}
		r, err := c.Logout(ctx)
		if err != nil || r.Typ != "BYE" {
			t.Fatalf("logout: %v %v", r, err)
		}
	})
}

// TestServers_SelectFetch is the smoke test of each server: a message
// delivered by a second connection is selected, fetched whole and in parts.
func TestServers_SelectFetch(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, user := srvUser(t, s, k)
		s.Deliver(t, user, liveMsg1)
		if d := liveData(t, "select")(c.Select(ctx, "INBOX", false)); !slices.Equal(d, []string{"1"}) {
			t.Fatalf("select = %q, want [1]", d)
		}
		r := liveOK(t, "fetch body")(c.Fetch(ctx, "1", "(BODY.PEEK[])"))
		if len(r.Data) < 2 || !r.Data[0].IsPair() || !bytes.Equal(r.Data[0].Literal(), liveMsg1) {
			t.Errorf("fetch body = %v", r)
		}
		d := liveData(t, "fetch items")(c.Fetch(ctx, "1", "(FLAGS UID RFC822.SIZE)"))
		if len(d) != 1 || !strings.Contains(d[0], "UID 1") || !strings.Contains(d[0], "RFC822.SIZE "+itoa(len(liveMsg1))) {
			t.Errorf("fetch items = %q", d)
		}
		r = liveOK(t, "fetch header")(c.Fetch(ctx, "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
		if len(r.Data) < 2 || string(r.Data[0].Literal()) != "Subject: Hello world\r\n\r\n" {
			t.Errorf("fetch header field = %v", r)
		}
	})
}

// TestServers_Mailboxes: create, list, lsub, subscribe, unsubscribe, rename,
// status and delete with the server's namespace (names below "INBOX." with
// "." on Cyrus and Courier) and a non-ASCII name in modified UTF-7.
func TestServers_Mailboxes(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		work, sub, uml := s.Mailbox("Work"), s.Mailbox("Work/Sub"), s.Mailbox("Entwürfe")
		for _, m := range []string{work, sub, uml} {
			liveOK(t, "create "+m)(c.Create(ctx, m))
		}
		r, err := c.Create(ctx, work)
		if err != nil || r.Typ != "NO" {
			t.Errorf("create existing = %v %v, want NO", r, err)
		}
		// Courier quotes every name, Dovecot and Cyrus only those that need
		// it: compare without quotes.
		sep := s.Separator + " "
		list := unquoted(liveData(t, "list")(c.List(ctx, "", "*")))
		for _, want := range []string{sep + "INBOX", `(\HasChildren) ` + sep + work, `(\HasNoChildren) ` + sep + sub,
			sep + strings.ReplaceAll(uml, "ü", "&APw-")} {
			if !slices.Contains(list, want) && !slices.ContainsFunc(list, func(x string) bool {
				return strings.HasSuffix(x, " "+want) || strings.HasSuffix(x, want) && strings.HasPrefix(want, "(")
			}) {
				t.Errorf("list = %q, want an item ending %q", list, want)
			}
		}
		if d := unquoted(liveData(t, "list %")(c.List(ctx, work+s.Separator, "%"))); len(d) != 1 || !strings.HasSuffix(d[0], sub) {
			t.Errorf("list %s%s %% = %q", work, s.Separator, d)
		}
		liveOK(t, "subscribe")(c.Subscribe(ctx, work))
		if d := unquoted(liveData(t, "lsub")(c.Lsub(ctx, "", "*"))); !slices.ContainsFunc(d, func(x string) bool { return strings.HasSuffix(x, sep+work) }) {
			t.Errorf("lsub after subscribe = %q", d)
		}
		liveOK(t, "unsubscribe")(c.Unsubscribe(ctx, work))
		if d := unquoted(liveData(t, "lsub")(c.Lsub(ctx, "", "*"))); slices.ContainsFunc(d, func(x string) bool { return strings.HasSuffix(x, sep+work) }) {
			t.Errorf("lsub after unsubscribe = %q", d)
		}
		archive := s.Mailbox("Archive 2024")
		liveOK(t, "rename")(c.Rename(ctx, sub, archive))
		list = unquoted(liveData(t, "list")(c.List(ctx, "", "*")))
		if !slices.ContainsFunc(list, func(x string) bool { return strings.HasSuffix(x, sep+archive) }) ||
			slices.ContainsFunc(list, func(x string) bool { return strings.HasSuffix(x, sub) }) {
			t.Errorf("list after rename = %q", list)
		}
		if d := liveData(t, "status")(c.Status(ctx, archive, "(MESSAGES UNSEEN)")); len(d) != 1 ||
			d[0] != `"`+archive+`" (MESSAGES 0 UNSEEN 0)` {
			t.Errorf("status = %q", d)
		}
		for _, m := range []string{archive, uml} {
			liveOK(t, "delete "+m)(c.Delete(ctx, m))
		}
		if r, err := c.Delete(ctx, s.Mailbox("Nope")); err != nil || r.Typ != "NO" {
			t.Errorf("delete missing = %v %v, want NO", r, err)
		}
		// Typed view: names decoded, the separator as the server sends it.
		mbs, err := c.ListMailboxes(ctx, "", "*", nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range mbs {
			names = append(names, m.Name)
			if m.Delim != s.Separator {
				t.Errorf("%s: delimiter %q, want %q", m.Name, m.Delim, s.Separator)
			}
		}
		if !slices.Contains(names, "INBOX") || !slices.Contains(names, work) {
			t.Errorf("typed list = %q", names)
		}
	})
}

// unquoted removes every double quote from each datum.
func unquoted(d []string) []string {
	out := make([]string, len(d))
	for i, x := range d {
		out[i] = strings.ReplaceAll(x, `"`, "")
	}
	return out
}

// TestServers_Messages: append, examine/select, fetch, search, sort, thread,
// store, copy, move, expunge, their UID variants, check, close and unselect.
// Without MOVE (Courier) imaplib's move is the server's refusal (BAD) and the
// typed MoveMessages falls back to UID COPY + STORE \Deleted + UID EXPUNGE;
// without UNSELECT the refusal is asserted and CLOSE still works.
func TestServers_Messages(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		appendThree(t, c, "INBOX")
		work := s.Mailbox("Work")
		liveOK(t, "create")(c.Create(ctx, work))

		if d := liveData(t, "examine")(c.Select(ctx, "INBOX", true)); !slices.Equal(d, []string{"3"}) || !c.IsReadOnly() {
			t.Fatalf("examine = %q, readonly %v", d, c.IsReadOnly())
		}
		if r := c.Response("READ-ONLY"); r.Typ != "READ-ONLY" {
			t.Errorf("examine: no READ-ONLY code: %v", r)
		}
		// imaplib's store in a read-only mailbox is sent as is: Dovecot answers
		// OK and changes nothing, Cyrus refuses with NO, Courier APPLIES it
		// (found by this test). The typed StoreFlags refuses locally on all.
		if _, err := c.StoreFlags(ctx, "1", "+FLAGS", []imap.Flag{imap.FlagFlagged}, 0); !errors.Is(err, ErrReadOnly) {
			t.Errorf("StoreFlags in examine = %v, want ErrReadOnly", err)
		}
		if d := liveData(t, "fetch flags")(c.Fetch(ctx, "1", "(FLAGS)")); len(d) != 1 || slices.Contains(flagSet(d[0]), `\Flagged`) {
			t.Errorf("flags after the refused StoreFlags = %q", d)
		}
		r, err := c.Store(ctx, "1", "+FLAGS", `\Flagged`)
		wantTyp := map[string]string{imapservers.Dovecot: "OK", imapservers.Cyrus: "NO", imapservers.Courier: "OK"}[s.Name]
		if err != nil || r.Typ != wantTyp {
			t.Errorf("store in examine = %v %v, want %s", r, err, wantTyp)
		}
		if s.Name == imapservers.Courier {
			liveOK(t, "undo Courier's store")(c.Store(ctx, "1", "-FLAGS.SILENT", `\Flagged`))
		}
		if d := liveData(t, "select")(c.Select(ctx, "INBOX", false)); !slices.Equal(d, []string{"3"}) || c.IsReadOnly() {
			t.Fatalf("select = %q", d)
		}
		if r := c.Response("UIDVALIDITY"); r.Data == nil || r.Data[0].IsNone() {
			t.Errorf("select: no UIDVALIDITY: %v", r)
		}
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
		d = liveData(t, "fetch envelope")(c.Fetch(ctx, "2", "ENVELOPE"))
		if !hasItem(d, `"Re: Hello world"`) || !hasItem(d, `"<m2@example.org>"`) {
			t.Errorf("envelope = %q", d)
		}
		d = liveData(t, "fetch bodystructure")(c.Fetch(ctx, "3", "BODYSTRUCTURE"))
		if !hasItem(strings.Fields(strings.ToLower(strings.Join(d, " "))), `"mixed"`) || !hasItem(d, `"report.pdf"`) {
			t.Errorf("bodystructure = %q", d)
		}
		r = liveOK(t, "fetch partial")(c.Fetch(ctx, "1", "(BODY.PEEK[]<0.10>)"))
		if len(r.Data) < 2 || !bytes.Equal(r.Data[0].Literal(), liveMsg1[:10]) {
			t.Errorf("fetch partial = %v", r)
		}
		if d := liveData(t, "fetch all")(c.Fetch(ctx, "1:*", "FAST")); len(d) != 3 {
			t.Errorf("fetch FAST = %q", d)
		}
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
		}
		for _, sc := range searches {
			if d := liveData(t, "search")(c.Search(ctx, sc.charset, sc.criteria...)); !slices.Equal(d, []string{sc.want}) {
				t.Errorf("search %q %q = %q, want [%q]", sc.charset, sc.criteria, d, sc.want)
			}
		}
		if d := liveData(t, "sort")(c.Sort(ctx, "(REVERSE DATE)", "UTF-8", "ALL")); !slices.Equal(d, []string{"3 2 1"}) {
			t.Errorf("sort = %q", d)
		}
		if d := liveData(t, "thread")(c.Thread(ctx, "REFERENCES", "UTF-8", "ALL")); !slices.Equal(d, []string{"(1 2)(3)"}) {
			t.Errorf("thread = %q", d)
		}
		if d := liveData(t, "store +")(c.Store(ctx, "1", "+FLAGS", `(\Flagged)`)); len(d) != 1 ||
			!slices.Equal(flagSet(d[0]), []string{"$Work", `\Flagged`, `\Seen`}) {
			t.Errorf("store +FLAGS = %q", d)
		}
		liveOK(t, "store silent")(c.Store(ctx, "2", "+FLAGS.SILENT", `(\Answered)`))
		if d := liveData(t, "search answered")(c.Search(ctx, "", "ANSWERED")); !slices.Equal(d, []string{"2"}) {
			t.Errorf("search ANSWERED = %q", d)
		}
		if r := liveOK(t, "copy")(c.Copy(ctx, "1:2", work)); !bytes.Contains(r.First(), []byte("[COPYUID ")) {
			t.Errorf("copy = %v, want COPYUID", r)
		}
		if s.Offers("MOVE") {
			liveOK(t, "move")(c.Move(ctx, "3", work))
			if r := c.Response("EXPUNGE"); !slices.Equal(strs(r.Data), []string{"3"}) {
				t.Errorf("EXPUNGE after move = %v", r)
			}
		} else {
			// Courier answers an unknown command with NO, not BAD: imaplib's
			// ('NO', [...]), no exception.
			if r, err := c.Move(ctx, "3", work); err != nil || r.Typ != "NO" {
				t.Errorf("move without MOVE = %v %v, want the server's NO", r, err)
			}
			cu, err := c.MoveMessages(ctx, "3", work) // UID 3 is sequence number 3
			if err != nil || cu == nil || cu.Dest.String() != "3" {
				t.Errorf("MoveMessages fallback = %+v %v", cu, err)
			}
			c.Response("EXPUNGE") // the fallback's UID EXPUNGE
		}
		if d := liveData(t, "search after move")(c.Search(ctx, "", "ALL")); !slices.Equal(d, []string{"1 2"}) {
			t.Errorf("search after move = %q", d)
		}
		liveOK(t, "store deleted")(c.Store(ctx, "2", "+FLAGS.SILENT", `\Deleted`))
		if d := liveData(t, "expunge")(c.Expunge(ctx)); !slices.Equal(d, []string{"2"}) {
			t.Errorf("expunge = %q", d)
		}
		liveOK(t, "check")(c.Check(ctx))
		if d := unquoted(liveData(t, "status")(c.Status(ctx, work, "(MESSAGES)"))); !slices.Equal(d, []string{work + " (MESSAGES 3)"}) {
			t.Errorf("status Work = %q", d)
		}
		liveOK(t, "select Work")(c.Select(ctx, work, false))
		if d := liveData(t, "uid search")(c.UIDSearch(ctx, "", "ALL")); !slices.Equal(d, []string{"1 2 3"}) {
			t.Errorf("uid search = %q", d)
		}
		if d := liveData(t, "uid fetch")(c.UIDFetch(ctx, "3", "(FLAGS)")); len(d) != 1 || !strings.Contains(d[0], "UID 3") {
			t.Errorf("uid fetch = %q", d)
		}
		if d := liveData(t, "uid thread")(c.UIDThread(ctx, "REFERENCES", "UTF-8", "ALL")); !slices.Equal(d, []string{"(1 2)(3)"}) {
			t.Errorf("uid thread = %q", d)
		}
		liveOK(t, "uid store")(c.UIDStore(ctx, "1", "+FLAGS.SILENT", `\Deleted`))
		if d := liveData(t, "uid expunge")(c.UIDExpunge(ctx, "1")); !slices.Equal(d, []string{"1"}) {
			t.Errorf("uid expunge = %q", d)
		}
		if r := liveOK(t, "uid copy")(c.UIDCopy(ctx, "2", "INBOX")); !bytes.Contains(r.First(), []byte("[COPYUID ")) {
			t.Errorf("uid copy = %v", r)
		}
		liveOK(t, "store deleted")(c.Store(ctx, "1", "+FLAGS.SILENT", `\Deleted`))
		if s.Offers("UNSELECT") {
			liveOK(t, "unselect")(c.Unselect(ctx))
			if d := unquoted(liveData(t, "status")(c.Status(ctx, work, "(MESSAGES)"))); !slices.Equal(d, []string{work + " (MESSAGES 2)"}) {
				t.Errorf("status after unselect = %q", d)
			}
			liveOK(t, "select Work")(c.Select(ctx, work, false))
		} else {
			// imaplib sets AUTH whatever the answer (its finally:), so does
			// the engine; the server still has Work selected, and the next
			// SELECT replaces it.
			if r, err := c.Unselect(ctx); err != nil || r.Typ != "NO" || c.State() != StateAuth {
				t.Errorf("unselect without UNSELECT = %v %v, state %s, want NO and AUTH", r, err, c.State())
			}
			liveOK(t, "select Work")(c.Select(ctx, work, false))
		}
		liveOK(t, "close")(c.CloseMailbox(ctx))
		if d := unquoted(liveData(t, "status")(c.Status(ctx, work, "(MESSAGES)"))); !slices.Equal(d, []string{work + " (MESSAGES 1)"}) || c.State() != StateAuth {
			t.Errorf("status after close = %q, state %s", d, c.State())
		}
	})
}

// TestServers_Refusals: what the typed view does where a server lacks an
// extension it needs: NOTIFY (Cyrus, Courier) is refused locally with
// ErrNotSupported; METADATA (Courier) reaches the server, whose refusal is a
// *StatusError; where offered, both work.
func TestServers_Refusals(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		_, err := c.NotifyStatus(ctx, []string{"INBOX"})
		if s.Offers("NOTIFY") != (err == nil) || !s.Offers("NOTIFY") && !errors.Is(err, ErrNotSupported) {
			t.Errorf("NotifyStatus = %v (NOTIFY offered: %v)", err, s.Offers("NOTIFY"))
		}
		_, err = c.GetMetadata(ctx, "INBOX", "/private/comment")
		var se *StatusError
		if s.Offers("METADATA") != (err == nil) || !s.Offers("METADATA") && !errors.As(err, &se) {
			t.Errorf("GetMetadata = %v (METADATA offered: %v)", err, s.Offers("METADATA"))
		}
	})
}

// TestServers_AuthQuotaACL: SASL PLAIN instead of the LOGIN command (over
// cleartext too: loopback with AllowPlaintextAuth), then the QUOTA and ACL
// extensions every server of the table offers, each in its own dialect:
// Dovecot's "User quota" root and RFC 4314 rights, Cyrus' per-user INBOX root
// (STORAGE in KiB, rounded down), Courier's "ROOT" without resources (no
// maildirsize quota configured) and its "owner"/"administrators" ACL
// identifiers, every item quoted.
func TestServers_AuthQuotaACL(t *testing.T) {
	type want struct{ root, quota, rights string }
	wants := map[string]want{
		imapservers.Dovecot: {`INBOX "User quota"`, `"User quota" (STORAGE 1 102400)`, "lrwstipekxacd"},
		imapservers.Cyrus:   {`INBOX INBOX`, `INBOX (STORAGE 0 102400)`, "lrswipkxtecdan"},
		imapservers.Courier: {`"INBOX" "ROOT"`, `"ROOT"`, "acdilrsw"},
	}
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		w := wants[s.Name]
		user, pw := s.NewUser(t)
		c := srvDial(t, s, k)
		liveOK(t, "authenticate PLAIN")(c.AuthenticateSASL(ctx, PlainAuth("", user, pw)))
		if c.State() != StateAuth {
			t.Fatalf("state after AUTHENTICATE = %s", c.State())
		}
		liveOK(t, "append")(c.Append(ctx, "INBOX", "", time.Time{}, liveMsg1))
		qr, err := c.GetQuotaRoot(ctx, "INBOX")
		if err != nil || qr.Typ != "OK" || !slices.Equal(strs(qr.QuotaRoot), []string{w.root}) || !slices.Equal(strs(qr.Quota), []string{w.quota}) {
			t.Errorf("getquotaroot = %+v %v, want %s / %s", qr, err, w.root, w.quota)
		}
		if d := unquoted(liveData(t, "myrights")(c.MyRights(ctx, "INBOX"))); !slices.Equal(d, []string{"INBOX " + w.rights}) {
			t.Errorf("myrights = %q, want %q", d, w.rights)
		}
		liveOK(t, "setacl")(c.SetACL(ctx, "INBOX", "bob", "lr"))
		if d := strings.Join(unquoted(liveData(t, "getacl")(c.GetACL(ctx, "INBOX"))), " "); !strings.Contains(d, " bob lr") {
			t.Errorf("getacl after setacl = %q", d)
		}
		liveOK(t, "deleteacl")(c.DeleteACL(ctx, "INBOX", "bob"))
		if d := strings.Join(unquoted(liveData(t, "getacl")(c.GetACL(ctx, "INBOX"))), " "); strings.Contains(d, "bob") {
			t.Errorf("getacl after deleteacl = %q", d)
		}
	})
}
