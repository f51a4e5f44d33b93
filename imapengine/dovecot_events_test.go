package imapengine

// Live tests of unsolicited data against Dovecot: while IdleLoop runs, a
// second connection delivers, flags and expunges, and Options.OnEvent sees
// each change with the message's UID (issue 3's "Done when").

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// TestDovecot_IdleLoopEvents: after SyncUIDs, IdleLoop reports a message
// appended by another connection (EXISTS), a flag change with its UID, and
// an expunge with its UID: EXPUNGE mapped through the sequence-number map,
// or VANISHED after ENABLE QRESYNC. Cancelling the loop leaves the
// connection usable with a consistent map.
func TestDovecot_IdleLoopEvents(t *testing.T) {
	forLiveKinds(t, false, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		for _, qresync := range []bool{false, true} {
			name := "expunge"
			if qresync {
				name = "qresync"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := liveCtx(t)
				user, pw := s.NewUser(t)
				s.Deliver(t, user, liveMsg1)
				s.Deliver(t, user, liveMsg2)
				log := &eventLog{}
				c := liveConnect(t, s, k, user, pw, &Options{OnEvent: log.on})
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

				s.Deliver(t, user, liveMsg3)
				log.waitFor(t, "exists 3", func(e Event) bool { return e.Kind == EventExists && e.Count == 3 })

				other := liveLogin(t, s, liveKinds[0], user, pw)
				mustT[*Selected](t, "other select")(other.SelectMailbox(ctx, "INBOX", nil))
				mustT[*StoreResult](t, "other flag")(other.StoreFlags(ctx, "2", "+FLAGS.SILENT", []imap.Flag{imap.FlagFlagged}, 0))
				fe := log.waitFor(t, "fetch of UID 2", func(e Event) bool { return e.Kind == EventFetch && e.UID == 2 })
				if fe.Seq != 2 || !slices.Contains(fe.Message.Flags, imap.FlagFlagged) {
					t.Errorf("flag event = %s", describeEvent(fe))
				}

				mustT[*StoreResult](t, "other delete")(other.StoreFlags(ctx, "1", "+FLAGS.SILENT", []imap.Flag{imap.FlagDeleted}, 0))
				if err := other.ExpungeUIDs(ctx, "1"); err != nil {
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
				liveOK(t, "logout other")(okBye(other.Logout(ctx)))
			})
		}
	})
}
