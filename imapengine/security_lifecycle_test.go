package imapengine

// Connection lifecycle and fault tests: /work/shared/spec/security.md section
// E (E1, E2, E8, E11), plus pipelining and context cancellation.

import (
	"context"
	"errors"
	"math/rand"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// TestSecurity_E1_SilentServer: a command the server never answers fails
// with ErrTimeout after CommandTimeout, the connection is closed, and later
// commands fail at once.
func TestSecurity_E1_SilentServer(t *testing.T) {
	srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"SELECT": func(c *imaptest.Conn, cmd *imaptest.Command) { secDrain(c) },
	}})
	o := secOpts()
	o.CommandTimeout = time.Second
	c, err := Dial(context.Background(), srv.Addr(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	mustLogin(t, c)
	start := time.Now()
	_, err = c.Select(context.Background(), "INBOX", false)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrAbort) {
		t.Fatalf("err = %v, want ErrTimeout (abort)", err)
	}
	if d := time.Since(start); d < time.Second || d > 2*time.Second {
		t.Fatalf("timed out after %v, want about 1s", d)
	}
	select {
	case <-c.Done():
	case <-time.After(secTimeout):
		t.Fatal("connection not closed")
	}
	start = time.Now()
	if _, err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
		t.Fatalf("later command: %v, want abort", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("later command took %v, want fail-fast", d)
	}
}

// TestSecurity_E2_SlowDrip: a response trickled one byte at a time cannot
// hold a command past CommandTimeout.
func TestSecurity_E2_SlowDrip(t *testing.T) {
	for _, part := range []string{"line", "literal"} {
		t.Run(part, func(t *testing.T) {
			srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
				"NOOP": func(c *imaptest.Conn, cmd *imaptest.Command) {
					if part == "literal" {
						c.SendRaw([]byte("* 1 FETCH (BODY[] {100000}\r\n"))
					}
					for c.Sleep(50 * time.Millisecond) {
						c.SendRaw([]byte("x"))
					}
				},
			}})
			o := secOpts()
			o.CommandTimeout = time.Second
			c, err := Dial(context.Background(), srv.Addr(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Shutdown()
			start := time.Now()
			if _, err := c.Noop(context.Background()); !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v despite a 1s deadline", d)
			}
		})
	}
}

// secIdleDone answers IDLE with "+ idling", waits for DONE and completes.
func secIdleDone(c *imaptest.Conn, cmd *imaptest.Command) {
	c.Send("+ idling")
	line, err := c.ReadLine()
	if err != nil {
		return
	}
	if string(line) != "DONE\r\n" {
		c.Tagged(cmd, "BAD Expected DONE")
		return
	}
	c.Tagged(cmd, "OK Idle completed")
}

// TestSecurity_E8_IdleEdgeCases: IDLE denied (NO), refused (BAD), ended by
// the server without DONE, and a command issued while idling, which waits
// for DONE and the tagged OK instead of interleaving.
func TestSecurity_E8_IdleEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		handler  imaptest.HandlerFunc
		wantErr  error // from IdleFunc; nil means success
		usable   bool  // the connection works afterwards
		noDoneOK bool  // DONE must not be sent
	}{
		{"denied", imaptest.IdleDenyHandler(), ErrIMAP, true, true},
		{"BAD", func(c *imaptest.Conn, cmd *imaptest.Command) { c.Tagged(cmd, "BAD no idling") }, ErrAbort, false, true},
		{"tagged OK without DONE", func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("+ idling")
			c.Send("* 1 EXISTS")
			c.Tagged(cmd, "OK IDLE terminated by server")
		}, nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv2 := imaptest.NewServer(t, imaptest.Config{Capabilities: "IDLE", Handlers: map[string]imaptest.HandlerFunc{
				"IDLE": tt.handler,
				"NOOP": imaptest.SimpleHandler(nil, ""),
			}})
			c, err := Dial(context.Background(), srv2.Addr(), secOpts())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Shutdown()
			mustLogin(t, c)
			var seen []string
			err = c.IdleFunc(context.Background(), 0, func(i *Idler) error {
				for {
					u, ok, err := i.Next(context.Background())
					if err != nil || !ok {
						return err
					}
					seen = append(seen, u.Typ)
				}
			})
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("IdleFunc err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && strings.Join(seen, ",") != "EXISTS" {
				t.Fatalf("responses %q, want EXISTS", seen)
			}
			if c.State() == StateIdling {
				t.Fatal("still IDLING")
			}
			if tt.usable {
				if _, err := c.Noop(context.Background()); err != nil {
					t.Fatalf("connection unusable: %v", err)
				}
			}
			if tt.noDoneOK {
				for _, cmd := range srv2.Commands() {
					if cmd.Tag == "DONE" {
						t.Fatal("DONE sent after the IDLE had ended")
					}
				}
			}
		})
	}

	t.Run("command while idling", func(t *testing.T) {
		srv := imaptest.NewServer(t, imaptest.Config{Capabilities: "IDLE", Handlers: map[string]imaptest.HandlerFunc{
			"IDLE":  secIdleDone,
			"FETCH": imaptest.SimpleHandler([]string{"* 1 FETCH (UID 7)"}, ""),
		}})
		c, err := Dial(context.Background(), srv.Addr(), secOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Shutdown()
		mustLogin(t, c)
		if _, err := c.Select(context.Background(), "", false); err != nil {
			t.Fatal(err)
		}
		// Like imaplib, a command in the IDLING state is refused at once
		// (nothing is written, so the IDLE is never interleaved); after
		// DONE and the tagged OK it runs normally.
		err = c.IdleFunc(context.Background(), 0, func(i *Idler) error {
			n := len(srv.Commands())
			_, err := c.Fetch(context.Background(), "1", "(UID)")
			if !errors.Is(err, ErrIllegalState) {
				return errors.New("FETCH during IDLE: " + errString(err))
			}
			if len(srv.Commands()) != n {
				return errors.New("FETCH written during IDLE")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Fetch(context.Background(), "1", "(UID)"); err != nil {
			t.Fatalf("FETCH after IDLE: %v", err)
		}
		var names []string
		for _, cmd := range srv.Commands() {
			names = append(names, cmd.Name)
		}
		if got := strings.Join(names, " "); !strings.HasSuffix(got, "IDLE FETCH") {
			t.Fatalf("server saw %q, want IDLE then FETCH (DONE read by the handler)", got)
		}
	})
}

// errString renders a possibly nil error.
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestSecurity_ConcurrentPipelining: 8 goroutines issue commands at once; each
// gets its own tagged result.
func TestSecurity_ConcurrentPipelining(t *testing.T) {
	srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"COPY": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Tagged(cmd, "OK [COPYUID 1 "+cmd.Args[0]+" "+cmd.Args[0]+"] done")
		},
	}})
	c, err := Dial(context.Background(), srv.Addr(), secOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "", false); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				set := strconv.Itoa(w*1000 + i + 1)
				res, err := c.Copy(context.Background(), set, "Dest")
				if err != nil {
					errs <- err
					return
				}
				if want := "[COPYUID 1 " + set + " " + set + "] done"; string(res.First()) != want {
					errs <- errors.New("got " + string(res.First()) + ", want " + want)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSecurity_ContextCancellation: a context ending while a command waits
// abandons the wait without breaking the connection.
func TestSecurity_ContextCancellation(t *testing.T) {
	srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"CHECK": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if c.Sleep(300 * time.Millisecond) {
				c.Tagged(cmd, "OK CHECK late")
			}
		},
		"NOOP": imaptest.SimpleHandler(nil, ""),
	}})
	c, err := Dial(context.Background(), srv.Addr(), secOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "", false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Check(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatalf("connection broken by a cancelled wait: %v", err)
	}
	if c.Err() != nil {
		t.Fatalf("closed: %v", c.Err())
	}
}

// TestSecurity_E11_LeakSoak: 200 connect/command/close cycles against a server
// that injects a random fault each time; every cycle ends within its
// deadlines and the goroutine count returns to its baseline.
func TestSecurity_E11_LeakSoak(t *testing.T) {
	cycles := 200
	if testing.Short() {
		cycles = 40
	}
	rng := rand.New(rand.NewSource(1))
	faults := make([]int, cycles+1)
	for i := range faults {
		faults[i] = rng.Intn(6)
	}
	srv := imaptest.NewServer(t, imaptest.Config{
		NoGreeting: true,
		Script: func(c *imaptest.Conn) {
			f := 0
			if c.ID() < len(faults) {
				f = faults[c.ID()]
			}
			switch f {
			case 1: // EOF at once
				return
			case 2: // garbage greeting
				c.SendRaw([]byte("HTTP/1.1 400 Bad Request\r\n"))
			case 3: // silent after the greeting
				c.Send("* OK [CAPABILITY IMAP4rev1] hi")
			case 4: // BYE after the greeting
				c.Send("* OK [CAPABILITY IMAP4rev1] hi")
				c.Send("* BYE going down")
			case 5: // overlong line
				c.SendRaw([]byte("* OK [CAPABILITY IMAP4rev1] " + strings.Repeat("x", 100<<10)))
			default:
				c.Send("* OK [CAPABILITY IMAP4rev1] hi")
				c.Serve()
				return
			}
			secDrain(c)
		},
	})
	o := secOpts()
	o.CommandTimeout = 200 * time.Millisecond
	o.GreetingTimeout = 500 * time.Millisecond
	o.Limits.MaxLineLength = 4096
	base := runtime.NumGoroutine()
	for i := 0; i < cycles; i++ {
		c, err := Dial(context.Background(), srv.Addr(), o)
		if err != nil {
			continue
		}
		_, _ = c.Login(context.Background(), "user", "pass")
		_, _ = c.Noop(context.Background())
		if i%2 == 0 {
			_, _ = c.Logout(context.Background())
		}
		c.Shutdown()
	}
	srv.Close()
	deadline := time.Now().Add(secTimeout)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after the soak, baseline %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
