package imapengine

// Live tests of the typed view and of the extensions a mail view needs
// (ENABLE, CONDSTORE, QRESYNC, UIDPLUS, MOVE, ESEARCH, LITERAL+, SPECIAL-USE,
// LIST-STATUS, METADATA, modified UTF-7 names) against Dovecot, over every
// connection kind.

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// liveConnect connects as user with o (its TLS configuration and deadlines
// filled in), logging in unless the kind is preauthenticated.
func liveConnect(t *testing.T, s *dovecottest.Server, k liveKind, user, pw string, o *Options) *Client {
	t.Helper()
	o.TLSConfig = s.TLSConfig()
	o.CommandTimeout, o.GreetingTimeout = 10*time.Second, 10*time.Second
	c, err := k.dial(liveCtx(t), s, user, o)
	if err != nil {
		t.Fatalf("%s dial: %v", k.name, err)
	}
	t.Cleanup(func() { c.Shutdown() })
	if !k.stream {
		liveOK(t, "login")(c.Login(liveCtx(t), user, pw))
	}
	return c
}

// mustT fails the test when err is not nil and returns v.
func mustT[V any](t *testing.T, what string) func(V, error) V {
	t.Helper()
	return func(v V, err error) V {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// flagStrings returns the flags as sorted strings, without \Recent.
func flagStrings(fl []imap.Flag) []string {
	var out []string
	for _, f := range fl {
		if f != imap.FlagRecent {
			out = append(out, string(f))
		}
	}
	slices.Sort(out)
	return out
}

// TestDovecot_TypedEnable: EnableExtensions enables CONDSTORE and QRESYNC and
// SelectMailbox then reports HIGHESTMODSEQ; FETCH MODSEQ is parsed.
func TestDovecot_TypedEnable(t *testing.T) {
	// The stdio kind here; the network kinds on every server: TestServers_TypedEnable.
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, _ := liveUser(t, s, k)
		got := mustT[[]string](t, "enable")(c.EnableExtensions(ctx, "CONDSTORE", "QRESYNC", "XNOTOFFERED"))
		slices.Sort(got)
		if !slices.Equal(got, []string{"CONDSTORE", "QRESYNC"}) {
			t.Errorf("enabled %q, want CONDSTORE QRESYNC", got)
		}
		mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, "INBOX", nil, time.Time{}, liveMsg1))
		sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{CondStore: true}))
		if sel.Exists != 1 || sel.HighestModSeq == 0 || sel.UIDValidity == 0 || sel.UIDNext != 2 || sel.ReadOnly {
			t.Errorf("selected = %+v", sel.SelectData)
		}
		msgs := mustT[[]*imap.Message](t, "fetch")(c.FetchMessages(ctx, "1", "(UID MODSEQ)", nil))
		if len(msgs) != 1 || msgs[0].UID != 1 || msgs[0].ModSeq == 0 || msgs[0].ModSeq > sel.HighestModSeq {
			t.Errorf("fetch MODSEQ = %+v", msgs)
		}
		ro := mustT[*Selected](t, "examine")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{ReadOnly: true}))
		if !ro.ReadOnly || c.State() != StateSelected {
			t.Errorf("examine: read-only %v, state %s", ro.ReadOnly, c.State())
		}
	})
}

// TestDovecot_TypedQResync: after another connection expunged one message and
// flagged another, SelectMailbox with QRESYNC reports the UID that vanished
// and the message that changed; FetchMessages with ChangedSince returns only
// the changed message, and with Vanished the expunged UID reaches OnEvent as
// VANISHED (EARLIER).
func TestDovecot_TypedQResync(t *testing.T) {
	// The stdio kind here; the network kinds on every server: TestServers_TypedQResync.
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		log := &eventLog{}
		c := liveConnect(t, s, k, user, pw, &Options{OnEvent: log.on})
		appendThree(t, c, "INBOX")
		before := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{CondStore: true}))
		mustT[Result](t, "unselect")(c.Unselect(ctx))

		other := liveLogin(t, s, liveKinds[0], user, pw)
		mustT[*Selected](t, "other select")(other.SelectMailbox(ctx, "INBOX", nil))
		mustT[*StoreResult](t, "other flag")(other.StoreFlags(ctx, "2", "+FLAGS.SILENT", []imap.Flag{imap.FlagFlagged}, 0))
		mustT[*StoreResult](t, "other delete")(other.StoreFlags(ctx, "1", "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0))
		if err := other.ExpungeUIDs(ctx, "1"); err != nil {
			t.Fatalf("other expunge: %v", err)
		}

		q := &QResync{UIDValidity: before.UIDValidity, ModSeq: before.HighestModSeq, KnownUIDs: "1:3"}
		sel := mustT[*Selected](t, "qresync select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{QResync: q}))
		if len(sel.Vanished) != 1 || sel.Vanished[0].String() != "1" {
			t.Errorf("Vanished = %v, want [1]", sel.Vanished)
		}
		if len(sel.Changed) != 1 || sel.Changed[0].UID != 2 || !slices.Contains(sel.Changed[0].Flags, imap.FlagFlagged) ||
			sel.Changed[0].ModSeq <= before.HighestModSeq {
			t.Errorf("Changed = %+v, want UID 2 flagged", sel.Changed)
		}
		if sel.Exists != 2 || sel.HighestModSeq <= before.HighestModSeq {
			t.Errorf("selected = %+v", sel.SelectData)
		}

		changed := mustT[[]*imap.Message](t, "changedsince")(c.FetchMessages(ctx, "1:*", "(UID FLAGS)",
			&FetchOptions{UID: true, ChangedSince: before.HighestModSeq}))
		if len(changed) != 1 || changed[0].UID != 2 || changed[0].ModSeq == 0 {
			t.Errorf("CHANGEDSINCE = %+v, want UID 2 with its MODSEQ", changed)
		}
		mustT[[]*imap.Message](t, "vanished")(c.FetchMessages(ctx, "1:3", "(FLAGS)",
			&FetchOptions{UID: true, ChangedSince: before.HighestModSeq, Vanished: true}))
		e := log.waitFor(t, "vanished earlier", func(e Event) bool { return e.Kind == EventVanished })
		if !e.Vanished.Earlier || e.Vanished.UIDs.String() != "1" {
			t.Errorf("VANISHED event = %+v", e.Vanished)
		}
	})
}

// TestDovecot_TypedMessages: UIDPLUS (APPENDUID, COPYUID), MOVE, ESEARCH,
// StoreFlags with UNCHANGEDSINCE, ExpungeUIDs, MailboxStatus and parsed
// envelopes and body structures.
func TestDovecot_TypedMessages(t *testing.T) {
	// The stdio kind here; the network kinds on every server: TestServers_TypedMessages.
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, _ := liveUser(t, s, k)
		for _, capa := range []string{"UIDPLUS", "MOVE", "ESEARCH", "CONDSTORE"} {
			if !c.HasCapability(capa) {
				t.Errorf("Dovecot does not advertise %s", capa)
			}
		}
		liveOK(t, "create")(c.Create(ctx, "Archive"))
		var uids []imap.UID
		for i, m := range [][]byte{liveMsg1, liveMsg2, liveMsg3} {
			au := mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, "INBOX", []imap.Flag{imap.FlagSeen}, liveDate, m))
			if au == nil || au.UID != imap.UID(i+1) || au.UIDValidity == 0 {
				t.Fatalf("APPENDUID = %+v", au)
			}
			uids = append(uids, au.UID)
		}
		sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "", &SelectOptions{CondStore: true}))
		if sel.Exists != 3 {
			t.Fatalf("exists = %d", sel.Exists)
		}

		sd := mustT[*imap.SearchData](t, "search")(c.SearchUIDs(ctx, "ALL"))
		if !sd.ESEARCH || sd.Count != 3 || sd.AllUIDs().String() != "1:3" {
			t.Errorf("ESEARCH ALL = %+v", sd)
		}
		sd = mustT[*imap.SearchData](t, "search subject")(c.SearchUIDs(ctx, "SUBJECT", `"Zebra"`))
		if got := sd.AllUIDs().String(); got != "3" {
			t.Errorf("ESEARCH SUBJECT Zebra = %q", got)
		}
		sd = mustT[*imap.SearchData](t, "search none")(c.SearchUIDs(ctx, "SUBJECT", `"nothing-matches"`))
		if sd.Count != 0 || len(sd.AllUIDs()) != 0 {
			t.Errorf("empty ESEARCH = %+v", sd)
		}

		msgs := mustT[[]*imap.Message](t, "fetch")(c.FetchMessages(ctx, "1:3", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ)", &FetchOptions{UID: true}))
		if len(msgs) != 3 {
			t.Fatalf("fetched %d messages", len(msgs))
		}
		for i, m := range msgs {
			if m.Err != nil || m.UID != uids[i] || !m.HasSize || m.Size == 0 || !m.InternalDate.Equal(liveDate) ||
				m.Envelope == nil || m.BodyStructure == nil || !slices.Equal(flagStrings(m.Flags), []string{`\Seen`}) {
				t.Errorf("message %d = %+v", i+1, m)
			}
		}
		if env := msgs[0].Envelope; env != nil && (env.Subject != "Hello world" || len(env.From) != 1 || env.From[0].Addr() != "alice@example.org") {
			t.Errorf("envelope 1 = %+v", env)
		}
		if bs := msgs[2].BodyStructure; bs != nil && (!bs.IsMultipart() || len(bs.Parts) != 2 || bs.Parts[1].Filename() != "report.pdf" || bs.Parts[1].PartNumber != "2") {
			t.Errorf("bodystructure 3 = %+v", bs)
		}
		body := mustT[[]*imap.Message](t, "fetch body")(c.FetchMessages(ctx, "2", "(BODY.PEEK[TEXT])", &FetchOptions{UID: true}))
		if len(body) != 1 || body[0].Section("TEXT") == nil || string(body[0].Section("TEXT").Data) != "Viele Grüße aus Köln\r\n" {
			t.Errorf("BODY[TEXT] = %+v", body)
		}
		// Streaming with Reuse: every body is the same inside fn as kept by FetchMessages.
		kept := mustT[[]*imap.Message](t, "fetch bodies")(c.FetchMessages(ctx, "1:3", "(BODY.PEEK[])", nil))
		var streamed []string
		if err := c.FetchEach(ctx, "1:3", "(BODY.PEEK[])", &FetchOptions{Reuse: true}, func(m *imap.Message) error {
			streamed = append(streamed, string(m.Section("").Data))
			return nil
		}); err != nil {
			t.Fatalf("FetchEach with Reuse: %v", err)
		}
		if len(kept) != 3 || len(streamed) != 3 {
			t.Fatalf("kept %d, streamed %d bodies", len(kept), len(streamed))
		}
		for i := range kept {
			if string(kept[i].Section("").Data) != streamed[i] || streamed[i] == "" {
				t.Errorf("message %d: streamed body differs from the kept one", i+1)
			}
		}
		// The imaplib view in a loop with Release: each body right although the
		// memory of the previous one is reused.
		for i := range kept {
			r, err := c.Fetch(ctx, strconv.Itoa(i+1), "(BODY.PEEK[])")
			if err != nil || len(r.Data) == 0 || string(r.Data[0].Literal()) != string(kept[i].Section("").Data) {
				t.Errorf("message %d fetched after Release: %v %v", i+1, r, err)
			}
			c.Release(r)
		}

		st := mustT[*StoreResult](t, "store")(c.StoreFlags(ctx, "1", "+FLAGS", []imap.Flag{imap.FlagFlagged}, 0))
		if len(st.Messages) != 1 || !slices.Contains(st.Messages[0].Flags, imap.FlagFlagged) {
			t.Errorf("store = %+v", st.Messages)
		}
		st = mustT[*StoreResult](t, "conditional store")(c.StoreFlags(ctx, "1:2", "+FLAGS.SILENT", []imap.Flag{"$Work"}, msgs[1].ModSeq))
		if msgs[0].ModSeq == 0 || msgs[1].ModSeq == 0 {
			t.Errorf("MODSEQ %d, %d: want both set", msgs[0].ModSeq, msgs[1].ModSeq)
		}
		if st.Modified != "1" {
			t.Errorf("UNCHANGEDSINCE: MODIFIED %q, want 1 (flagged since)", st.Modified)
		}

		cu := mustT[*imap.CopyUID](t, "copy")(c.CopyMessages(ctx, "1:2", "Archive"))
		if cu == nil || cu.Source.String() != "1:2" || cu.Dest.String() != "1:2" {
			t.Errorf("COPYUID = %+v", cu)
		}
		mv := mustT[*imap.CopyUID](t, "move")(c.MoveMessages(ctx, "3", "Archive"))
		if mv == nil || mv.Source.String() != "3" || mv.Dest.String() != "3" {
			t.Errorf("MOVE COPYUID = %+v", mv)
		}
		if c.MailboxSize() != 2 {
			t.Errorf("MailboxSize after move = %d", c.MailboxSize())
		}
		mustT[*StoreResult](t, "delete")(c.StoreFlags(ctx, "1:2", "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0))
		if err := c.ExpungeUIDs(ctx, "2"); err != nil {
			t.Fatalf("UID EXPUNGE: %v", err)
		}
		left := mustT[*imap.SearchData](t, "search left")(c.SearchUIDs(ctx, "ALL"))
		if left.AllUIDs().String() != "1" {
			t.Errorf("after UID EXPUNGE 2: %v, want UID 1 kept (deleted but not expunged)", left.AllUIDs())
		}
		stat := mustT[*imap.StatusData](t, "status")(c.MailboxStatus(ctx, "Archive", "MESSAGES", "UIDNEXT", "UNSEEN"))
		if stat.Mailbox != "Archive" || stat.Messages != 3 || stat.UIDNext != 4 || stat.Unseen != 0 {
			t.Errorf("STATUS Archive = %+v", stat)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDovecot_LiteralPlus: Dovecot offers LITERAL+, so APPEND sends its
// literal as {N+} at once: the trace shows no continuation request from the
// server, and the message arrives intact.
func TestDovecot_LiteralPlus(t *testing.T) {
	// The stdio kind here; the network kinds on every server: TestServers_Literals.
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		var trace syncBuffer
		logger := slog.New(slog.NewTextHandler(&trace, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := liveConnect(t, s, k, user, pw, &Options{Logger: logger, Debug: 4})
		if !c.HasCapability("LITERAL+") {
			t.Fatal("Dovecot does not advertise LITERAL+")
		}
		mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, "INBOX", nil, time.Time{}, liveMsg2))
		liveOK(t, "append imaplib")(c.Append(ctx, "INBOX", "", time.Time{}, liveMsg1))
		c.Shutdown()
		out := trace.String()
		if n := strings.Count(out, "+}"); n != 2 {
			t.Errorf("%d non-synchronizing literals in the trace, want 2:\n%s", n, out)
		}
		if strings.Contains(out, `line="+`) {
			t.Errorf("the server sent a continuation request:\n%s", out)
		}
		c2 := liveLogin(t, s, liveKinds[0], user, pw)
		mustT[*Selected](t, "select")(c2.SelectMailbox(ctx, "", nil))
		got := mustT[[]*imap.Message](t, "fetch")(c2.FetchMessages(ctx, "1:2", "(BODY.PEEK[])", nil))
		if len(got) != 2 || !bytes.Equal(got[0].Section("").Data, liveMsg2) || !bytes.Equal(got[1].Section("").Data, liveMsg1) {
			t.Errorf("appended messages differ: %+v", got)
		}
	})
}

// TestDovecot_MailboxNames: a name created through the imaplib view in UTF-8
// is sent in modified UTF-7, listed decoded by ListMailboxes (raw by List),
// and selectable and appendable by its decoded name; special-use attributes
// and LIST-STATUS come back typed.
func TestDovecot_MailboxNames(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, _ := liveUser(t, s, k)
		const name = "Entwürfe/日本語"
		liveOK(t, "create")(c.Create(ctx, name))
		for _, m := range []string{"Sent", "Trash", "Drafts"} {
			liveOK(t, "create "+m)(c.Create(ctx, m))
		}
		raw := liveData(t, "list")(c.List(ctx, "", "Entw*"))
		if !hasItem(raw, `"Entw&APw-rfe/&ZeVnLIqe-"`) && !hasItem(raw, "Entw&APw-rfe/&ZeVnLIqe-") {
			t.Errorf("imaplib list = %q, want the modified UTF-7 name", raw)
		}
		list := mustT[[]*imap.ListData](t, "ListMailboxes")(c.ListMailboxes(ctx, "", "*", &ListOptions{SpecialUse: true, Status: []string{"MESSAGES", "UIDNEXT"}}))
		byName := map[string]*imap.ListData{}
		for _, l := range list {
			byName[l.Name] = l
			if l.NameErr != nil {
				t.Errorf("%q: %v", l.RawName, l.NameErr)
			}
		}
		ld := byName[name]
		if ld == nil || ld.Delim != "/" || string(ld.RawName) != "Entw&APw-rfe/&ZeVnLIqe-" {
			t.Fatalf("ListMailboxes = %+v, want %q", byName, name)
		}
		if ld.Status == nil || ld.Status.Messages != 0 || ld.Status.UIDNext != 1 {
			t.Errorf("status of %q = %+v", name, ld.Status)
		}
		// Dovecot lists the implicit parent (created by the hierarchy, not by
		// CREATE) as \NonExistent.
		if p := byName["Entwürfe"]; p == nil || (!p.HasChildren() && !p.HasAttr(`\NonExistent`)) {
			t.Errorf("parent Entwürfe = %+v", p)
		}
		for m, use := range map[string]string{"Sent": `\Sent`, "Trash": `\Trash`, "Drafts": `\Drafts`, "INBOX": ""} {
			if l := byName[m]; l == nil || l.SpecialUse() != use {
				t.Errorf("%s: %+v, want special use %q", m, l, use)
			}
		}

		mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, name, nil, time.Time{}, liveMsg1))
		sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, name, nil))
		if sel.Exists != 1 {
			t.Errorf("select %q: exists %d", name, sel.Exists)
		}
		st := mustT[*imap.StatusData](t, "status")(c.MailboxStatus(ctx, name, "MESSAGES"))
		if st.Mailbox != name || st.Messages != 1 {
			t.Errorf("STATUS = %+v", st)
		}
		sub := mustT[[]*imap.ListData](t, "subscribed")(c.ListMailboxes(ctx, "", "*", &ListOptions{Subscribed: true}))
		if slices.ContainsFunc(sub, func(l *imap.ListData) bool { return l.Name == name }) {
			t.Errorf("%q listed as subscribed before SUBSCRIBE", name)
		}
		liveOK(t, "subscribe")(c.Subscribe(ctx, name))
		sub = mustT[[]*imap.ListData](t, "subscribed")(c.ListMailboxes(ctx, "", "*", &ListOptions{Subscribed: true}))
		if !slices.ContainsFunc(sub, func(l *imap.ListData) bool { return l.Name == name }) {
			t.Errorf("%q not listed as subscribed: %+v", name, sub)
		}
	})
}

// TestDovecot_TypedMetadata: SetMetadata and GetMetadata (RFC 5464) on a
// mailbox and on the server; a nil value removes an entry.
func TestDovecot_TypedMetadata(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		ctx := liveCtx(t)
		c, user := liveUser(t, s, k)
		for _, mbox := range []string{"INBOX", ""} {
			v := "note for " + user + "\r\nsecond line"
			if err := c.SetMetadata(ctx, mbox, map[string]*string{"/private/comment": &v}); err != nil {
				t.Fatalf("SetMetadata %q: %v", mbox, err)
			}
			md := mustT[*imap.Metadata](t, "GetMetadata")(c.GetMetadata(ctx, mbox, "/private/comment", "/shared/comment"))
			if got := string(md.Entries["/private/comment"]); got != v {
				t.Errorf("%q /private/comment = %q, want %q (entries %q)", mbox, got, v, md.Entries)
			}
			if err := c.SetMetadata(ctx, mbox, map[string]*string{"/private/comment": nil}); err != nil {
				t.Fatalf("SetMetadata nil %q: %v", mbox, err)
			}
			md = mustT[*imap.Metadata](t, "GetMetadata")(c.GetMetadata(ctx, mbox, "/private/comment"))
			if len(md.Entries["/private/comment"]) != 0 {
				t.Errorf("%q after removal: %q", mbox, md.Entries)
			}
		}
		if _, err := c.GetMetadata(ctx, "INBOX"); !errors.Is(err, ErrBadArgument) {
			t.Errorf("GetMetadata without entries: %v, want ErrBadArgument", err)
		}
		if _, err := c.GetMetadata(ctx, "Nope", "/private/comment"); err != nil {
			wantStatus(t, "GetMetadata missing mailbox", err, "NO", "")
		} else {
			t.Error("GetMetadata on a missing mailbox: want NO")
		}
	})
}
