package imapengine

import (
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// TestDovecot_NotifyStatus: after NOTIFY SET STATUS, an APPEND by a second
// connection into a mailbox that is not selected arrives as an EventStatus
// with the new MESSAGES, UIDNEXT and UNSEEN, without IDLE.
func TestDovecot_NotifyStatus(t *testing.T) {
	s := dovecottest.Start(t)
	user, pw := s.NewUser(t)
	events := make(chan Event, 16)
	o := &Options{AllowPlaintextAuth: true, OnEvent: func(e Event) {
		if e.Kind == EventStatus {
			events <- e
		}
	}}
	c := liveConnect(t, s, liveKinds[0], user, pw, o)
	ctx := liveCtx(t)
	if !c.HasCapability("NOTIFY") {
		t.Fatal("Dovecot does not offer NOTIFY (mailbox_list_index)")
	}
	liveOK(t, "create")(c.Create(ctx, "Watched"))
	if _, err := c.SelectMailbox(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	initial, err := c.NotifyStatus(ctx, []string{"Watched"})
	if err != nil {
		t.Fatal(err)
	}
	if len(initial) != 1 || initial[0].Mailbox != "Watched" || initial[0].Messages != 0 {
		t.Fatalf("initial status = %+v", initial)
	}
	if err := s.DeliverTo(user, "Watched", liveMsg1); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		st := e.Status
		if st.Mailbox != "Watched" || st.Messages != 1 || st.UIDNext != 2 || !st.Has["UNSEEN"] || st.Unseen != 1 {
			t.Errorf("status event = %+v", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no status event within 10 s")
	}
	if err := c.NotifyNone(ctx); err != nil {
		t.Fatal(err)
	}
}
