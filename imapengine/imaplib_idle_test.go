package imapengine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// idleConfig is a server advertising IDLE whose IDLE command is answered by h.
func idleConfig(h imaptest.HandlerFunc) imaptest.Config {
	return imaptest.Config{Capabilities: "IDLE", Handlers: map[string]imaptest.HandlerFunc{"IDLE": h}}
}

// idleFetch is the FETCH response IdleHandler sends, as imaplib returns it.
var idleFetch = []string{"1 (BODY[HEADER.FIELDS (DATE)] {41}|" + imaptest.IdleLiteral, ")"}

// checkUntagged fails the test unless u is (typ, want).
func checkUntagged(t *testing.T, i int, u Untagged, typ string, want []string) {
	t.Helper()
	if u.Typ != typ || !slices.Equal(strs(u.Data), want) {
		t.Fatalf("response %d = (%s, %q), want (%s, %q)", i, u.Typ, strs(u.Data), typ, want)
	}
}

// TestImaplib_test_idle_capability: idle() fails at once, before anything is
// sent, when the server does not advertise IDLE.
func TestImaplib_test_idle_capability(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{})
		mustLogin(t, c)
		_, err := c.Idle(0)
		wantErr(t, err, ErrIMAP, "does not support IMAP4 IDLE")
		err = c.IdleFunc(context.Background(), 0, func(*Idler) error {
			t.Error("IdleFunc ran its body without IDLE support")
			return nil
		})
		wantErr(t, err, ErrNotSupported, "does not support IMAP4 IDLE")
		if n := countCommands(srv, "IDLE"); n != 0 {
			t.Fatalf("server got %d IDLE commands, want 0", n)
		}
	})
}

// TestImaplib_test_idle_denied: a NO to IDLE is "idle denied" with the
// server's text, raised when the IDLE starts; the state is unchanged.
func TestImaplib_test_idle_denied(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, idleConfig(imaptest.IdleDenyHandler()))
		mustLogin(t, c)
		ran := false
		err := c.IdleFunc(context.Background(), 0, func(*Idler) error {
			ran = true
			return nil
		})
		wantErr(t, err, ErrIMAP, "idle denied: [b'IDLE is not allowed at this time']")
		if ran {
			t.Fatal("IdleFunc ran its body after a denied IDLE")
		}
		if c.State() != StateAuth {
			t.Fatalf("state = %s, want AUTH", c.State())
		}
	})
}

// TestImaplib_test_idle_iter: iteration yields the responses in order, the one
// received before "+" first and the fragmented literal whole; responses not
// iterated (and those after DONE) stay available through Response.
func TestImaplib_test_idle_iter(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, idleConfig(imaptest.IdleHandler()))
		mustLogin(t, c)
		ctx := context.Background()
		want := []struct {
			typ  string
			data []string
		}{
			{"EXISTS", []string{"0"}},
			{"EXISTS", []string{"2"}},
			{"FETCH", idleFetch},
			{"EXISTS", []string{"3"}},
		}
		err := c.IdleFunc(ctx, 0, func(idler *Idler) error {
			if c.State() != StateIdling {
				t.Errorf("state during IDLE = %s, want IDLING", c.State())
			}
			for i, w := range want {
				u, ok, err := idler.Next(ctx)
				if err != nil || !ok {
					t.Fatalf("next %d: ok=%v err=%v", i, ok, err)
				}
				checkUntagged(t, i, u, w.typ, w.data)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("idle: %v", err)
		}
		if c.State() != StateAuth {
			t.Fatalf("state after IDLE = %s, want AUTH", c.State())
		}
		if r := c.Response("EXISTS"); r.Typ != "EXISTS" || !slices.Equal(strs(r.Data), []string{"<None>"}) {
			t.Fatalf("response('EXISTS') = %v, want ('EXISTS', [None])", r)
		}
		r := c.Response("RECENT")
		if got := strs(r.Data); len(got) < 2 || got[0] != "1" || got[1] != "9" {
			t.Fatalf("response('RECENT') = %v, want [b'1', b'9', ...]", r)
		}
	})
}

// TestImaplib_test_idle_burst: a burst with a 0.1 s interval collects the four
// responses that arrive together and stops at the 1 s gap before RECENT.
func TestImaplib_test_idle_burst(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, idleConfig(imaptest.IdleHandler()))
		mustLogin(t, c)
		ctx := context.Background()
		err := c.IdleFunc(ctx, 0, func(idler *Idler) error {
			burst, err := idler.Burst(ctx, 100*time.Millisecond)
			if err != nil {
				t.Fatalf("burst: %v", err)
			}
			if len(burst) != 4 {
				t.Fatalf("burst has %d responses, want 4: %+v", len(burst), burst)
			}
			checkUntagged(t, 0, burst[0], "EXISTS", []string{"0"})
			checkUntagged(t, 1, burst[1], "EXISTS", []string{"2"})
			checkUntagged(t, 2, burst[2], "FETCH", idleFetch)
			checkUntagged(t, 3, burst[3], "EXISTS", []string{"3"})
			return nil
		})
		if err != nil {
			t.Fatalf("idle: %v", err)
		}
		if r := c.Response("RECENT"); !slices.Equal(strs(r.Data), []string{"1", "9"}) {
			t.Fatalf("response('RECENT') = %v, want ('RECENT', [b'1', b'9'])", r)
		}
	})
}

// TestImaplib_test_idle_delayed_packet: with a 0.5 s duration, a response line
// that has started but not finished by the deadline ends iteration; DONE then
// completes it without an abort.
func TestImaplib_test_idle_delayed_packet(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, idleConfig(imaptest.IdleDelayedPacketHandler()))
		mustLogin(t, c)
		ctx := context.Background()
		err := c.IdleFunc(ctx, 500*time.Millisecond, func(idler *Idler) error {
			start := time.Now()
			u, ok, err := idler.Next(ctx)
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			if ok {
				t.Fatalf("next = %+v, want the end of iteration", u)
			}
			if d := time.Since(start); d > imaptest.IdleFirstSplitDelay+imaptest.IdleSecondSplitDelay {
				t.Fatalf("iteration ended after %v, want about 0.5 s", d)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("idle done: %v", err)
		}
		if c.State() != StateAuth {
			t.Fatalf("state after IDLE = %s, want AUTH", c.State())
		}
		if c.Err() != nil {
			t.Fatalf("connection ended: %v", c.Err())
		}
		if r := c.Response("EXISTS"); !slices.Equal(strs(r.Data), []string{"1"}) {
			t.Fatalf("response('EXISTS') = %v, want ('EXISTS', [b'1'])", r)
		}
	})
}
