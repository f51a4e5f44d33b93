package imapengine

// Live tests of ENABLE, imaplib's IDLE and the typed IdleLoop's events on
// every server of internal/imapservers over plain TCP, STARTTLS and implicit
// TLS. Without CONDSTORE/QRESYNC (Courier) ENABLE enables nothing and the
// expunge reaches the idler as EXPUNGE, never VANISHED: asserted, not skipped.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// srvConnect connects to s over k as user with o (TLS and deadlines filled
// in) and logs in.
func srvConnect(t *testing.T, s *imapservers.Server, k netKind, user, pw string, o *Options) *Client {
	t.Helper()
	o.TLSConfig = s.TLSConfig()
	o.CommandTimeout, o.GreetingTimeout = 10*time.Second, 10*time.Second
	c, err := k.dial(liveCtx(t), s, o)
	if err != nil {
		t.Fatalf("%s %s dial: %v", s.Name, k.name, err)
	}
	t.Cleanup(func() { c.Shutdown() })
	liveOK(t, "login")(c.Login(liveCtx(t), user, pw))
	return c
}

// TestServers_Enable: imaplib's enable of CONDSTORE (MODSEQ in FETCH and
// HIGHESTMODSEQ on select) and of QRESYNC where offered; where not
// (Courier), the server answers OK and enables nothing (RFC 5161 §3.1), and
// the typed EnableExtensions sends nothing and enables nothing.
func TestServers_Enable(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, _ := srvUser(t, s, k)
		liveOK(t, "append")(c.Append(ctx, "INBOX", "", time.Time{}, liveMsg1))
		liveOK(t, "enable")(c.Enable(ctx, "CONDSTORE"))
		enabled := strs(c.Response("ENABLED").Data)
		liveOK(t, "select")(c.Select(ctx, "", false))
		hms := c.Response("HIGHESTMODSEQ")
		if s.Offers("CONDSTORE") {
			if !slices.Equal(enabled, []string{"CONDSTORE"}) {
				t.Errorf("ENABLED after enable CONDSTORE = %q", enabled)
			}
			if hms.Data == nil || hms.Data[0].IsNone() {
				t.Errorf("no HIGHESTMODSEQ after select: %v", hms)
			}
			if d := liveData(t, "fetch modseq")(c.Fetch(ctx, "1", "(MODSEQ)")); len(d) != 1 || !strings.Contains(d[0], "MODSEQ (") {
				t.Errorf("fetch MODSEQ = %q", d)
			}
		} else {
			if len(enabled) != 0 && enabled[0] != "" {
				t.Errorf("%s: ENABLED %q from a server without CONDSTORE", s.Name, enabled)
			}
			if hms.Data != nil && !hms.Data[0].IsNone() {
				t.Errorf("%s: HIGHESTMODSEQ %v without CONDSTORE", s.Name, strs(hms.Data))
			}
		}
		c2, _ := srvUser(t, s, k)
		got, err := c2.EnableExtensions(ctx, "QRESYNC")
		if err != nil {
			t.Fatalf("EnableExtensions QRESYNC: %v", err)
		}
		if want := s.Offers("QRESYNC"); slices.Contains(got, "QRESYNC") != want || c2.isEnabled("QRESYNC") != want {
			t.Errorf("%s: EnableExtensions QRESYNC = %q (enabled %v), offered %v", s.Name, got, c2.isEnabled("QRESYNC"), want)
		}
	})
}

// TestServers_Idle: while one connection idles (imaplib's idle), a second
// delivers two messages and expunges one; the idler sees EXISTS, then
// EXPUNGE, or VANISHED with the UID after ENABLE QRESYNC where offered.
func TestServers_Idle(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		modes := []bool{false}
		if s.Offers("QRESYNC") {
			modes = append(modes, true)
		}
		for _, qresync := range modes {
			ctx := liveCtx(t)
			user, pw := s.NewUser(t)
			c := srvConnect(t, s, k, user, pw, &Options{})
			if qresync {
				liveOK(t, "enable")(c.Enable(ctx, "QRESYNC"))
			}
			s.Deliver(t, user, liveMsg1)
			liveOK(t, "select")(c.Select(ctx, "", false))
			other := srvConnect(t, s, netKinds[0], user, pw, &Options{})
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
				seen = append(seen, waitIdle(t, ctx, idler, "VANISHED", "1")...)
			} else {
				seen = append(seen, waitIdle(t, ctx, idler, "EXPUNGE", "1")...)
			}
			if err := idler.Done(ctx); err != nil {
				t.Fatalf("idle done: %v", err)
			}
			if c.State() != StateSelected {
				t.Errorf("state after idle = %s", c.State())
			}
			t.Logf("%s qresync=%v: idle saw %v", s.Name, qresync, seen)
			if d := liveData(t, "search")(c.Search(ctx, "", "ALL")); !slices.Equal(d, []string{"1 2"}) {
				t.Errorf("search after idle = %q", d)
			}
			liveOK(t, "logout")(okBye(other.Logout(ctx)))
		}
	})
}

// TestServers_IdleLoopEvents: after SyncUIDs, IdleLoop reports a message
// appended by another connection (EXISTS), a flag change with its UID, and an
// expunge with its UID (EXPUNGE mapped through the sequence-number map, or
// VANISHED after ENABLE QRESYNC where offered). Cancelling the loop leaves
// the connection usable with a consistent map.
func TestServers_IdleLoopEvents(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		modes := []bool{false}
		if s.Offers("QRESYNC") {
			modes = append(modes, true)
		}
		for _, qresync := range modes {
			user, pw := s.NewUser(t)
			idleLoopEvents(t, qresync, user,
				func(o *Options) *Client { return srvConnect(t, s, k, user, pw, o) },
				func() *Client { return srvConnect(t, s, netKinds[0], user, pw, &Options{}) },
				func(msg []byte) { s.Deliver(t, user, msg) })
		}
	})
}

// idleLoopEvents is the body of the IdleLoop events tests: connect makes the
// client under test, other a second plain connection, deliver appends to
// INBOX from outside.
func idleLoopEvents(t *testing.T, qresync bool, user string, connect func(o *Options) *Client, other func() *Client, deliver func([]byte)) {
	t.Helper()
	ctx := liveCtx(t)
	deliver(liveMsg1)
	deliver(liveMsg2)
	log := &eventLog{}
	c := connect(&Options{OnEvent: log.on})
	if qresync {
		mustT[[]string](t, "enable")(c.EnableExtensions(ctx, "QRESYNC"))
	}
	sel := mustT[*Selected](t, "select")(c.SelectMailbox(ctx, "INBOX", nil))
	if sel.Exists != 2 {
		t.Fatalf("exists = %d", sel.Exists)
	}
	if err := c.SyncUIDs(ctx); err != nil {
		t.Fatalf("SyncUIDs: %v", err)
	}
	if got := uidMap(c); !slices.Equal(got, []imap.UID{1, 2}) {
		t.Fatalf("UID map after SyncUIDs = %v", got)
	}
	lctx, cancel := context.WithCancel(ctx)
	loopErr := make(chan error, 1)
	go func() {
		loopErr <- c.IdleLoop(lctx, &IdleOptions{Refresh: time.Minute, Watchdog: time.Minute, NoopTimeout: 5 * time.Second})
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-loopErr
	}
	defer stop()
	waitUntil(t, "IDLE", func() bool { return c.State() == StateIdling })

	deliver(liveMsg3)
	log.waitFor(t, "exists 3", func(e Event) bool { return e.Kind == EventExists && e.Count == 3 })

	o := other()
	mustT[*Selected](t, "other select")(o.SelectMailbox(ctx, "INBOX", nil))
	mustT[*StoreResult](t, "other flag")(o.StoreFlags(ctx, "2", "+FLAGS.SILENT", []imap.Flag{imap.FlagFlagged}, 0))
	fe := log.waitFor(t, "fetch of UID 2", func(e Event) bool { return e.Kind == EventFetch && e.UID == 2 })
	if fe.Seq != 2 || !slices.Contains(fe.Message.Flags, imap.FlagFlagged) {
		t.Errorf("flag event = %s", describeEvent(fe))
	}
	mustT[*StoreResult](t, "other delete")(o.StoreFlags(ctx, "1", "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0))
	if err := o.ExpungeUIDs(ctx, "1"); err != nil {
		t.Fatalf("other expunge: %v", err)
	}
	if qresync {
		e := log.waitFor(t, "vanished", func(e Event) bool { return e.Kind == EventVanished })
		if e.Vanished.Earlier || e.Vanished.UIDs.String() != "1" {
			t.Errorf("vanished event = %s", describeEvent(e))
		}
	} else {
		e := log.waitFor(t, "expunge", func(e Event) bool { return e.Kind == EventExpunge })
		if e.Seq != 1 || e.UID != 1 {
			t.Errorf("expunge event = %s, want seq 1 with UID 1", describeEvent(e))
		}
		if slices.ContainsFunc(log.all(), func(e Event) bool { return e.Kind == EventVanished }) {
			t.Errorf("VANISHED event without QRESYNC enabled")
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("IdleLoop: %v", err)
	}
	if st := c.State(); st != StateSelected {
		t.Errorf("state after IdleLoop = %s", st)
	}
	if n := c.MailboxSize(); n != 2 {
		t.Errorf("MailboxSize = %d, want 2", n)
	}
	if u, ok := c.UIDOf(1); !ok || u != 2 {
		t.Errorf("UIDOf(1) = %d, %v; want UID 2 renumbered", u, ok)
	}
	sd := mustT[*imap.SearchData](t, "search")(c.SearchUIDs(ctx, "ALL"))
	if sd.AllUIDs().String() != "2:3" {
		t.Errorf("UIDs after the loop = %v, want 2:3", sd.AllUIDs())
	}
	liveOK(t, "logout other")(okBye(o.Logout(ctx)))
}
