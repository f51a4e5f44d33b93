package imapengine

// IdleLoop keep-alive tests against the scripted imaptest server, with
// durations compressed to milliseconds (security E6, E7, E8).

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// loopWait bounds every wait of these tests for the loop to make progress.
const loopWait = 5 * time.Second

// idleScript is a fake server's IDLE behaviour.
type idleScript struct {
	keepAlive   time.Duration // send "* OK still here" this often while idling (0: silent)
	firstGap    string        // untagged line sent between DONE and the tagged OK of the first IDLE
	earlyOK     bool          // end the first IDLE with a tagged OK without waiting for DONE
	ignoreDone  bool          // never answer DONE (a dead server)
	silentNoop  bool          // never answer NOOP
	noopReplies []string      // untagged lines of each NOOP answer

	mu    sync.Mutex
	idles int // IDLE commands received
	dones int // DONE lines received
	noops int // NOOP commands received
}

func (s *idleScript) count() (idles, dones, noops int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idles, s.dones, s.noops
}

func (s *idleScript) idle(c *imaptest.Conn, cmd *imaptest.Command) {
	s.mu.Lock()
	s.idles++
	first := s.idles == 1
	s.mu.Unlock()
	c.Send("+ idling")
	if first && s.earlyOK {
		c.Tagged(cmd, "OK IDLE ended by server")
		return
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if s.keepAlive > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(s.keepAlive)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-c.Done():
					return
				case <-tick.C:
					c.Send("* OK still here")
				}
			}
		}()
	}
	line, err := c.ReadLine()
	close(stop)
	wg.Wait()
	if err != nil {
		return
	}
	if string(line) != "DONE\r\n" {
		c.Tagged(cmd, "BAD Expected DONE")
		return
	}
	s.mu.Lock()
	s.dones++
	s.mu.Unlock()
	if s.ignoreDone {
		<-c.Done()
		return
	}
	if first && s.firstGap != "" {
		c.Send(s.firstGap)
	}
	c.Tagged(cmd, "OK Idle completed")
}

func (s *idleScript) noop(c *imaptest.Conn, cmd *imaptest.Command) {
	s.mu.Lock()
	s.noops++
	s.mu.Unlock()
	if s.silentNoop {
		<-c.Done()
		return
	}
	for _, l := range s.noopReplies {
		c.Send(l)
	}
	c.Tagged(cmd, "OK NOOP completed")
}

// idleLoopClient starts a fake server scripted by s (advertising IDLE when
// idle is set) and returns a logged-in client with INBOX selected whose
// events go to the returned log.
func idleLoopClient(t *testing.T, s *idleScript, idle bool) (*Client, *eventLog, *imaptest.Server) {
	t.Helper()
	cfg := imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{"IDLE": s.idle, "NOOP": s.noop}}
	if idle {
		cfg.Capabilities = "IDLE"
	}
	srv := transports[0].server(t, cfg)
	log := &eventLog{}
	o := transports[0].options(srv)
	o.OnEvent = log.on
	c := transports[0].mustDial(t, srv, o)
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "", false); err != nil {
		t.Fatalf("select: %v", err)
	}
	return c, log, srv
}

// runLoop starts IdleLoop in a goroutine; stop cancels it and returns its error.
func runLoop(c *Client, o *IdleOptions) (stop func() error, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- c.IdleLoop(ctx, o) }()
	return func() error {
		cancel()
		return <-ch
	}, ch
}

// waitUntil polls cond until it holds or loopWait passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(loopWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIdleLoop_Refresh (E7): IDLE is left with DONE and re-issued every
// Refresh; an EXISTS sent between DONE and the tagged OK still reaches
// OnEvent; cancelling leaves IDLE cleanly and the connection stays usable.
func TestIdleLoop_Refresh(t *testing.T) {
	s := &idleScript{firstGap: "* 5 EXISTS"}
	c, log, _ := idleLoopClient(t, s, true)
	stop, _ := runLoop(c, &IdleOptions{Refresh: 50 * time.Millisecond, Watchdog: time.Minute})
	waitUntil(t, "three IDLEs", func() bool { i, _, _ := s.count(); return i >= 3 })
	if err := stop(); err != nil {
		t.Fatalf("IdleLoop: %v", err)
	}
	log.waitFor(t, "exists 5", func(e Event) bool { return e.Kind == EventExists && e.Count == 5 })
	idles, dones, noops := s.count()
	if dones != idles || noops != 0 {
		t.Errorf("idles %d, dones %d, noops %d: want one DONE per IDLE and no NOOP", idles, dones, noops)
	}
	if st := c.State(); st != StateSelected {
		t.Errorf("state after IdleLoop = %s, want SELECTED", st)
	}
	if _, err := c.Noop(context.Background()); err != nil {
		t.Errorf("noop after IdleLoop: %v", err)
	}
	if c.MailboxSize() != 5 {
		t.Errorf("MailboxSize = %d, want 5", c.MailboxSize())
	}
}

// TestIdleLoop_Watchdog (E6): a server that stops sending anything makes the
// watchdog leave IDLE and send a NOOP; a NOOP left unanswered past
// NoopTimeout, or a DONE never answered, closes the connection with
// ErrTimeout and IdleLoop returns that error. A server that keeps sending
// does not trip it.
func TestIdleLoop_Watchdog(t *testing.T) {
	tests := []struct {
		name      string
		script    *idleScript
		wantErr   bool
		wantNoops int // minimum NOOPs sent
	}{
		{"noop unanswered", &idleScript{silentNoop: true}, true, 1},
		{"done unanswered", &idleScript{ignoreDone: true}, true, 0},
		{"noop answered", &idleScript{}, false, 1},
		{"server keeps talking", &idleScript{keepAlive: 20 * time.Millisecond}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.script
			c, _, _ := idleLoopClient(t, s, true)
			o := &IdleOptions{Refresh: time.Minute, Watchdog: 150 * time.Millisecond, NoopTimeout: 150 * time.Millisecond}
			stop, done := runLoop(c, o)
			if tt.wantErr {
				var err error
				select {
				case err = <-done:
				case <-time.After(loopWait):
					stop()
					t.Fatal("IdleLoop did not notice the dead connection")
				}
				if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrAbort) {
					t.Errorf("IdleLoop = %v, want ErrTimeout and ErrAbort", err)
				}
				if _, err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
					t.Errorf("noop after watchdog: %v, want ErrAbort (connection closed)", err)
				}
			} else {
				if tt.wantNoops > 0 {
					waitUntil(t, "a watchdog NOOP and a second IDLE", func() bool {
						i, _, n := s.count()
						return n >= tt.wantNoops && i >= 2
					})
				} else {
					time.Sleep(4 * o.Watchdog)
				}
				if err := stop(); err != nil {
					t.Fatalf("IdleLoop: %v", err)
				}
				if _, err := c.Noop(context.Background()); err != nil {
					t.Errorf("noop after IdleLoop: %v", err)
				}
			}
			_, _, noops := s.count()
			if noops < tt.wantNoops || (tt.wantNoops == 0 && !tt.wantErr && noops > 1) {
				t.Errorf("NOOPs = %d, want at least %d", noops, tt.wantNoops)
			}
		})
	}
}

// TestIdleLoop_Poll (E8): without IDLE, IdleLoop sends a NOOP every
// PollInterval and the untagged data of the answers reaches OnEvent.
func TestIdleLoop_Poll(t *testing.T) {
	s := &idleScript{noopReplies: []string{"* 4 EXISTS"}}
	c, log, _ := idleLoopClient(t, s, false)
	start := time.Now()
	stop, _ := runLoop(c, &IdleOptions{PollInterval: 30 * time.Millisecond})
	waitUntil(t, "three NOOPs", func() bool { _, _, n := s.count(); return n >= 3 })
	elapsed := time.Since(start)
	if err := stop(); err != nil {
		t.Fatalf("IdleLoop: %v", err)
	}
	if elapsed < 3*30*time.Millisecond {
		t.Errorf("three NOOPs after %v, want at least 3 poll intervals", elapsed)
	}
	if i, _, _ := s.count(); i != 0 {
		t.Errorf("IDLE sent %d times to a server without IDLE", i)
	}
	log.waitFor(t, "exists 4", func(e Event) bool { return e.Kind == EventExists && e.Count == 4 })
	if _, err := c.Noop(context.Background()); err != nil {
		t.Errorf("noop after IdleLoop: %v", err)
	}
}

// TestIdleLoop_Edges (E8): a server that ends IDLE with a tagged OK before
// DONE gets a new IDLE (and no stray DONE); an IDLE refused with BAD ends
// IdleLoop with an error; a context already cancelled sends nothing.
func TestIdleLoop_Edges(t *testing.T) {
	t.Run("server ends idle", func(t *testing.T) {
		s := &idleScript{earlyOK: true}
		c, _, srv := idleLoopClient(t, s, true)
		stop, _ := runLoop(c, &IdleOptions{Refresh: time.Minute, Watchdog: time.Minute})
		waitUntil(t, "a second IDLE", func() bool { i, _, _ := s.count(); return i >= 2 })
		if err := stop(); err != nil {
			t.Fatalf("IdleLoop: %v", err)
		}
		if _, err := c.Noop(context.Background()); err != nil {
			t.Errorf("noop: %v", err)
		}
		if _, ok := srv.LastCommand("DONE"); ok {
			t.Error("a DONE was sent outside IDLE")
		}
	})
	t.Run("idle refused", func(t *testing.T) {
		srv := transports[0].server(t, imaptest.Config{Capabilities: "IDLE", Handlers: map[string]imaptest.HandlerFunc{
			"IDLE": func(c *imaptest.Conn, cmd *imaptest.Command) { c.Tagged(cmd, "BAD not now") },
		}})
		c := transports[0].mustDial(t, srv, nil)
		mustLogin(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), loopWait)
		defer cancel()
		if err := c.IdleLoop(ctx, nil); !errors.Is(err, ErrIMAP) {
			t.Errorf("IdleLoop = %v, want an *Error", err)
		}
	})
	t.Run("cancelled before start", func(t *testing.T) {
		s := &idleScript{}
		c, _, _ := idleLoopClient(t, s, true)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.IdleLoop(ctx, nil); err != nil {
			t.Errorf("IdleLoop = %v", err)
		}
		if i, _, n := s.count(); i+n != 0 {
			t.Errorf("sent %d IDLE, %d NOOP after cancellation", i, n)
		}
	})
}
