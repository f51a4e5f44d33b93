package devserver

import (
	"context"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine"
)

// TestIdlePushFlagsAndExpunge checks that flag changes and expunges made by
// another session reach an idling session, as the bridge's events need.
func TestIdlePushFlagsAndExpunge(t *testing.T) {
	s := startTest(t, Options{})
	events := make(chan imapengine.Event, 64)
	a := dial(t, s, &imapengine.Options{OnEvent: func(e imapengine.Event) { events <- e }})
	b := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	for _, c := range []*imapengine.Client{a, b} {
		if _, err := c.SelectMailbox(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
	}
	defer idleInBackground(t, ctx, a)()

	tests := []struct {
		name string
		act  func() error
		kind imapengine.EventKind
	}{
		{"flag", func() error {
			_, err := b.Store(ctx, "3", "+FLAGS", `(\Flagged)`)
			return err
		}, imapengine.EventFetch},
		{"expunge", func() error {
			if _, err := b.Store(ctx, "2", "+FLAGS.SILENT", `(\Deleted)`); err != nil {
				return err
			}
			_, err := b.Expunge(ctx)
			return err
		}, imapengine.EventExpunge},
	}
	for _, tt := range tests {
		if err := tt.act(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		waitKind(t, events, tt.kind, testTimeout)
	}
}

// idleInBackground starts c.IdleLoop and returns the function that stops it
// and checks that it ended cleanly.
func idleInBackground(t *testing.T, ctx context.Context, c *imapengine.Client) (stop func()) {
	t.Helper()
	idleCtx, stopIdle := context.WithCancel(ctx)
	idleDone := make(chan error, 1)
	go func() { idleDone <- c.IdleLoop(idleCtx, nil) }()
	return func() {
		stopIdle()
		if err := <-idleDone; err != nil {
			t.Errorf("IdleLoop: %v", err)
		}
	}
}

// waitKind waits for an event of kind k, failing after d.
func waitKind(t *testing.T, events <-chan imapengine.Event, k imapengine.EventKind, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e := <-events:
			if e.Kind == k {
				return
			}
		case <-timer.C:
			t.Fatalf("no %v event within %v", k, d)
		}
	}
}

// TestIdlePush checks live push: a session idling on INBOX hears "* N
// EXISTS" within a second of Deliver, and of another session's APPEND.
func TestIdlePush(t *testing.T) {
	s := startTest(t, Options{})
	events := make(chan imapengine.Event, 16)
	a := dial(t, s, &imapengine.Options{OnEvent: func(e imapengine.Event) { events <- e }})
	b := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if _, err := a.SelectMailbox(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	// Mail that arrives between SELECT and IDLE is reported when IDLE starts.
	if err := s.Deliver(); err != nil {
		t.Fatal(err)
	}
	defer idleInBackground(t, ctx, a)()

	tests := []struct {
		name    string
		deliver func() error
		want    uint32
	}{
		{"before IDLE", func() error { return nil }, inboxSeedCount + 1},
		{"Deliver", s.Deliver, inboxSeedCount + 2},
		{"APPEND from another session", func() error {
			_, err := b.Append(ctx, "INBOX", "", time.Now(), []byte("Subject: hi\r\n\r\nhello\r\n"))
			return err
		}, inboxSeedCount + 3},
	}
	for _, tt := range tests {
		start := time.Now()
		if err := tt.deliver(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		waitExists(t, events, tt.want, time.Second)
		t.Logf("%s: EXISTS after %v", tt.name, time.Since(start))
	}
}

// waitExists waits for an EXISTS event with count want (earlier ones, such as
// SELECT's, are skipped), failing after d.
func waitExists(t *testing.T, events <-chan imapengine.Event, want uint32, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e := <-events:
			if e.Kind == imapengine.EventExists && e.Count == want {
				return
			}
			if e.Kind == imapengine.EventExists && e.Count > want {
				t.Fatalf("EXISTS %d, want %d", e.Count, want)
			}
		case <-timer.C:
			t.Fatalf("no EXISTS %d within %v", want, d)
		}
	}
}
