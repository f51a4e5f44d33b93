package imapengine

// The typed message operations on every server of internal/imapservers over
// plain, STARTTLS and TLS. Without CONDSTORE (Courier) the conditional STORE
// is refused with ErrNotSupported before sending and no MODSEQ is fetched;
// without MOVE the typed move is COPY + STORE + UID EXPUNGE; without ESEARCH
// the plain SEARCH answer fills the same SearchData.

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// TestServers_TypedMessages: UIDPLUS (APPENDUID, COPYUID), MOVE or its
// fallback, ESEARCH or SEARCH, StoreFlags (with UNCHANGEDSINCE where
// CONDSTORE is offered), ExpungeUIDs, MailboxStatus and parsed envelopes and
// body structures (TestDovecot_TypedMessages on every server).
func TestServers_TypedMessages(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		condstore := s.Offers("CONDSTORE")
		kept := s.Mailbox("Kept")
		liveOK(t, "create")(c.Create(ctx, kept))
		var uids []imap.UID
		for i, m := range [][]byte{liveMsg1, liveMsg2, liveMsg3} {
			au := mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, "INBOX", []imap.Flag{imap.FlagSeen}, liveDate, m))
			if au == nil || au.UID != imap.UID(i+1) || au.UIDValidity == 0 {
				t.Fatalf("%s: APPENDUID = %+v", s.Name, au)
			}
			uids = append(uids, au.UID)
		}
		sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{CondStore: condstore}))
		if sel.Exists != 3 {
			t.Fatalf("exists = %d", sel.Exists)
		}
		if (sel.HighestModSeq != 0) != condstore {
			t.Errorf("%s: HIGHESTMODSEQ %d with CONDSTORE offered %v", s.Name, sel.HighestModSeq, condstore)
		}
		sd := mustT[*imap.SearchData](t, "search")(c.SearchUIDs(ctx, "ALL"))
		if sd.ESEARCH != s.Offers("ESEARCH") || sd.AllUIDs().String() != "1:3" || sd.ESEARCH && sd.Count != 3 {
			t.Errorf("%s: SEARCH ALL = %+v", s.Name, sd)
		}
		sd = mustT[*imap.SearchData](t, "search subject")(c.SearchUIDs(ctx, "SUBJECT", `"Zebra"`))
		if got := sd.AllUIDs().String(); got != "3" {
			t.Errorf("%s: SEARCH SUBJECT Zebra = %q", s.Name, got)
		}
		sd = mustT[*imap.SearchData](t, "search none")(c.SearchUIDs(ctx, "SUBJECT", `"nothing-matches"`))
		if sd.Count != 0 || len(sd.AllUIDs()) != 0 {
			t.Errorf("%s: empty SEARCH = %+v", s.Name, sd)
		}
		items := "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"
		if condstore {
			items = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ)"
		}
		msgs := mustT[[]*imap.Message](t, "fetch")(c.FetchMessages(ctx, "1:3", items, &FetchOptions{UID: true}))
		if len(msgs) != 3 {
			t.Fatalf("fetched %d messages", len(msgs))
		}
		for i, m := range msgs {
			if m.Err != nil || m.UID != uids[i] || !m.HasSize || m.Size == 0 || !m.InternalDate.Equal(liveDate) ||
				m.Envelope == nil || m.BodyStructure == nil || !slices.Equal(flagStrings(m.Flags), []string{`\Seen`}) ||
				(m.ModSeq != 0) != condstore {
				t.Errorf("%s: message %d = %+v", s.Name, i+1, m)
			}
		}
		if env := msgs[0].Envelope; env != nil && (env.Subject != "Hello world" || len(env.From) != 1 || env.From[0].Addr() != "alice@example.org") {
			t.Errorf("%s: envelope 1 = %+v", s.Name, env)
		}
		if bs := msgs[2].BodyStructure; bs != nil && (!bs.IsMultipart() || len(bs.Parts) != 2 || bs.Parts[1].Filename() != "report.pdf" || bs.Parts[1].PartNumber != "2") {
			t.Errorf("%s: bodystructure 3 = %+v", s.Name, bs)
		}
		body := mustT[[]*imap.Message](t, "fetch body")(c.FetchMessages(ctx, "2", "(BODY.PEEK[TEXT])", &FetchOptions{UID: true}))
		if len(body) != 1 || body[0].Section("TEXT") == nil || string(body[0].Section("TEXT").Data) != "Viele Grüße aus Köln\r\n" {
			t.Errorf("%s: BODY[TEXT] = %+v", s.Name, body)
		}

		st := mustT[*StoreResult](t, "store")(c.StoreFlags(ctx, "1", "+FLAGS", []imap.Flag{imap.FlagFlagged}, 0))
		if len(st.Messages) != 1 || !slices.Contains(st.Messages[0].Flags, imap.FlagFlagged) {
			t.Errorf("%s: store = %+v", s.Name, st.Messages)
		}
		if condstore {
			st = mustT[*StoreResult](t, "conditional store")(c.StoreFlags(ctx, "1:2", "+FLAGS.SILENT", []imap.Flag{"$Work"}, msgs[1].ModSeq))
			if st.Modified != "1" {
				t.Errorf("%s: UNCHANGEDSINCE: MODIFIED %q, want 1 (flagged since)", s.Name, st.Modified)
			}
		} else if _, err := c.StoreFlags(ctx, "1:2", "+FLAGS.SILENT", []imap.Flag{"$Work"}, 5); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: UNCHANGEDSINCE without CONDSTORE = %v, want ErrNotSupported", s.Name, err)
		}

		cu := mustT[*imap.CopyUID](t, "copy")(c.CopyMessages(ctx, "1:2", kept))
		if cu == nil || cu.Source.String() != "1:2" || cu.Dest.String() != "1:2" {
			t.Errorf("%s: COPYUID = %+v", s.Name, cu)
		}
		mv := mustT[*imap.CopyUID](t, "move")(c.MoveMessages(ctx, "3", kept))
		if mv == nil || mv.Source.String() != "3" || mv.Dest.String() != "3" {
			t.Errorf("%s: move COPYUID = %+v (MOVE offered: %v)", s.Name, mv, s.Offers("MOVE"))
		}
		if c.MailboxSize() != 2 {
			t.Errorf("%s: MailboxSize after move = %d", s.Name, c.MailboxSize())
		}
		mustT[*StoreResult](t, "delete")(c.StoreFlags(ctx, "1:2", "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0))
		if err := c.ExpungeUIDs(ctx, "2"); err != nil {
			t.Fatalf("UID EXPUNGE: %v", err)
		}
		left := mustT[*imap.SearchData](t, "search left")(c.SearchUIDs(ctx, "ALL"))
		if left.AllUIDs().String() != "1" {
			t.Errorf("%s: after UID EXPUNGE 2: %v, want UID 1 kept (deleted but not expunged)", s.Name, left.AllUIDs())
		}
		stat := mustT[*imap.StatusData](t, "status")(c.MailboxStatus(ctx, kept, "MESSAGES", "UIDNEXT", "UNSEEN"))
		if stat.Mailbox != kept || stat.Messages != 3 || stat.UIDNext != 4 || stat.Unseen != 0 {
			t.Errorf("%s: STATUS %s = %+v", s.Name, kept, stat)
		}
	})
}

// TestServers_TypedQResync: a select with QRESYNC after another connection
// flagged one message and expunged another reports the expunged UID as
// vanished and the flagged one as changed, and FETCH CHANGEDSINCE … VANISHED
// gives a VANISHED (EARLIER) event (TestDovecot_TypedQResync on every server).
// Without QRESYNC (Courier) the select is a plain SELECT with nothing
// vanished or changed reported, CHANGEDSINCE is refused with ErrNotSupported,
// and the documented fallback, a full UID SEARCH ALL, shows the expunge.
func TestServers_TypedQResync(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		log := &eventLog{}
		c := srvConnect(t, s, k, user, pw, &Options{OnEvent: log.on})
		appendThree(t, c, "INBOX")
		qresync := s.Offers("QRESYNC")
		before := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{CondStore: s.Offers("CONDSTORE")}))
		other := srvConnect(t, s, netKinds[0], user, pw, &Options{})
		mustT[*Selected](t, "other select")(other.SelectMailbox(ctx, "INBOX", nil))
		mustT[*StoreResult](t, "other flag")(other.StoreFlags(ctx, "2", "+FLAGS.SILENT", []imap.Flag{imap.FlagFlagged}, 0))
		mustT[*StoreResult](t, "other delete")(other.StoreFlags(ctx, "1", "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0))
		if err := other.ExpungeUIDs(ctx, "1"); err != nil {
			t.Fatalf("other expunge: %v", err)
		}
		// Leave INBOX (ENABLE QRESYNC needs the AUTH state): UNSELECT where
		// offered, else CLOSE, which expunges nothing more (UID 1 is gone).
		if s.Offers("UNSELECT") {
			mustT[Result](t, "unselect")(c.Unselect(ctx))
		} else {
			liveOK(t, "close")(c.CloseMailbox(ctx))
		}

		q := &QResync{UIDValidity: before.UIDValidity, ModSeq: before.HighestModSeq, KnownUIDs: "1:3"}
		sel := mustT[*Selected](t, "qresync select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{QResync: q}))
		if sel.Exists != 2 {
			t.Errorf("%s: exists after the expunge = %d", s.Name, sel.Exists)
		}
		if !qresync {
			if len(sel.Vanished) != 0 || len(sel.Changed) != 0 || sel.HighestModSeq != 0 {
				t.Errorf("%s: without QRESYNC: vanished %v changed %v modseq %d", s.Name, sel.Vanished, sel.Changed, sel.HighestModSeq)
			}
			if _, err := c.FetchMessages(ctx, "1:*", "(UID FLAGS)", &FetchOptions{UID: true, ChangedSince: 1}); !errors.Is(err, ErrNotSupported) {
				t.Errorf("%s: CHANGEDSINCE without CONDSTORE = %v, want ErrNotSupported", s.Name, err)
			}
			if all := mustT[*imap.SearchData](t, "fallback search")(c.SearchUIDs(ctx, "ALL")); all.AllUIDs().String() != "2:3" {
				t.Errorf("%s: fallback UID SEARCH ALL = %v, want 2:3", s.Name, all.AllUIDs())
			}
			return
		}
		if len(sel.Vanished) != 1 || sel.Vanished[0].String() != "1" {
			t.Errorf("%s: Vanished = %v, want [1]", s.Name, sel.Vanished)
		}
		if len(sel.Changed) != 1 || sel.Changed[0].UID != 2 || !slices.Contains(sel.Changed[0].Flags, imap.FlagFlagged) ||
			sel.Changed[0].ModSeq <= before.HighestModSeq {
			t.Errorf("%s: Changed = %+v, want UID 2 flagged", s.Name, sel.Changed)
		}
		if sel.HighestModSeq <= before.HighestModSeq {
			t.Errorf("%s: selected = %+v", s.Name, sel.SelectData)
		}
		changed := mustT[[]*imap.Message](t, "changedsince")(c.FetchMessages(ctx, "1:*", "(UID FLAGS)",
			&FetchOptions{UID: true, ChangedSince: before.HighestModSeq}))
		if len(changed) != 1 || changed[0].UID != 2 || changed[0].ModSeq == 0 {
			t.Errorf("%s: CHANGEDSINCE = %+v, want UID 2 with its MODSEQ", s.Name, changed)
		}
		mustT[[]*imap.Message](t, "vanished")(c.FetchMessages(ctx, "1:3", "(FLAGS)",
			&FetchOptions{UID: true, ChangedSince: before.HighestModSeq, Vanished: true}))
		e := log.waitFor(t, "vanished earlier", func(e Event) bool { return e.Kind == EventVanished })
		if !e.Vanished.Earlier || e.Vanished.UIDs.String() != "1" {
			t.Errorf("%s: VANISHED event = %+v", s.Name, e.Vanished)
		}
	})
}

// TestServers_Literals: an APPEND (typed and imaplib) sends non-synchronizing
// literals ({n+}, no continuation) where LITERAL+ is offered, and waits for
// the server's "+" with synchronizing literals where it is not (Courier);
// both messages arrive byte for byte (TestDovecot_LiteralPlus on every
// server).
func TestServers_Literals(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		user, pw := s.NewUser(t)
		var trace syncBuffer
		logger := slog.New(slog.NewTextHandler(&trace, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := srvConnect(t, s, k, user, pw, &Options{Logger: logger, Debug: 4})
		if c.HasCapability("LITERAL+") != s.Offers("LITERAL+") {
			t.Fatalf("%s: LITERAL+ advertised %v, the table says %v", s.Name, c.HasCapability("LITERAL+"), s.Offers("LITERAL+"))
		}
		mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, "INBOX", nil, time.Time{}, liveMsg2))
		liveOK(t, "append imaplib")(c.Append(ctx, "INBOX", "", time.Time{}, liveMsg1))
		c.Shutdown()
		out := trace.String()
		plus, cont := strings.Count(out, "+}"), strings.Count(out, `line="+`)
		if s.Offers("LITERAL+") && (plus != 2 || cont != 0) || !s.Offers("LITERAL+") && (plus != 0 || cont < 2) {
			t.Errorf("%s: %d non-synchronizing literals and %d continuations (LITERAL+ offered: %v):\n%s", s.Name, plus, cont, s.Offers("LITERAL+"), out)
		}
		c2 := srvConnect(t, s, netKinds[0], user, pw, &Options{})
		mustT[*Selected](t, "select")(c2.SelectMailbox(ctx, "INBOX", nil))
		got := mustT[[]*imap.Message](t, "fetch")(c2.FetchMessages(ctx, "1:2", "(BODY.PEEK[])", nil))
		if len(got) != 2 || !bytes.Equal(got[0].Section("").Data, liveMsg2) || !bytes.Equal(got[1].Section("").Data, liveMsg1) {
			t.Errorf("%s: appended messages differ: %+v", s.Name, got)
		}
	})
}

// TestServers_TypedEnable: EnableExtensions enables exactly what the server
// offers of CONDSTORE and QRESYNC (nothing, and nothing sent, on Courier);
// SelectMailbox then reports HIGHESTMODSEQ where CONDSTORE is offered and
// FETCH MODSEQ is parsed; EXAMINE is read-only everywhere.
func TestServers_TypedEnable(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		got := mustT[[]string](t, "enable")(c.EnableExtensions(ctx, "CONDSTORE", "QRESYNC", "XNOTOFFERED"))
		slices.Sort(got)
		var want []string
		for _, x := range []string{"CONDSTORE", "QRESYNC"} {
			if s.Offers(x) {
				want = append(want, x)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: enabled %q, want %q", s.Name, got, want)
		}
		condstore := s.Offers("CONDSTORE")
		mustT[*imap.AppendUID](t, "append")(c.AppendMessage(ctx, "INBOX", nil, time.Time{}, liveMsg1))
		sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{CondStore: true}))
		// Courier 5.0 sends no OK [UIDNEXT] on SELECT (RFC 3501 §6.3.1 lists
		// it as required): UIDNext stays 0, "not sent"; STATUS has it.
		wantNext := imap.UID(2)
		if s.Name == imapservers.Courier {
			wantNext = 0
			if st := mustT[*imap.StatusData](t, "status")(c.MailboxStatus(ctx, "INBOX", "UIDNEXT")); st.UIDNext != 2 {
				t.Errorf("%s: STATUS UIDNEXT = %d, want 2", s.Name, st.UIDNext)
			}
		}
		if sel.Exists != 1 || (sel.HighestModSeq != 0) != condstore || sel.UIDValidity == 0 || sel.UIDNext != wantNext || sel.ReadOnly {
			t.Errorf("%s: selected = %+v", s.Name, sel.SelectData)
		}
		if condstore {
			msgs := mustT[[]*imap.Message](t, "fetch")(c.FetchMessages(ctx, "1", "(UID MODSEQ)", nil))
			if len(msgs) != 1 || msgs[0].UID != 1 || msgs[0].ModSeq == 0 || msgs[0].ModSeq > sel.HighestModSeq {
				t.Errorf("%s: fetch MODSEQ = %+v", s.Name, msgs)
			}
		}
		ro := mustT[*Selected](t, "examine")(c.SelectMailbox(ctx, "INBOX", &SelectOptions{ReadOnly: true}))
		if !ro.ReadOnly || c.State() != StateSelected {
			t.Errorf("%s: examine: read-only %v, state %s", s.Name, ro.ReadOnly, c.State())
		}
	})
}
