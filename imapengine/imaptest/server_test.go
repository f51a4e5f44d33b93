package imaptest

import (
	"crypto/tls"
	"errors"
	"net"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestTranscriptBuiltins(t *testing.T) {
	s := NewServer(t, Config{Capabilities: "IDLE UNSELECT"})
	c := dial(t, s.Addr())
	c.expect("* OK IMAP4rev1")
	c.send("A1 CAPABILITY\r\n")
	c.expect("* CAPABILITY IMAP4rev1 IDLE UNSELECT", "A1 OK CAPABILITY completed")
	c.send(`A2 LOGIN user "pass"` + "\r\n")
	c.expect("A2 OK LOGIN completed")

	cmds := s.Commands()
	if len(cmds) != 2 {
		t.Fatalf("Commands() has %d entries, want 2", len(cmds))
	}
	if want := []string{"user", `"pass"`}; !reflect.DeepEqual(cmds[1].Args, want) {
		t.Errorf("LOGIN args = %q, want %q", cmds[1].Args, want)
	}
	if got := s.Value(KeyLogged); !reflect.DeepEqual(got, []string{"user", `"pass"`}) {
		t.Errorf("logged = %#v", got)
	}

	c.send("A3 UNSELECT\r\n")
	c.expect("A3 BAD No mailbox selected")
	c.send(`A4 SELECT "New folder"` + "\r\n")
	c.expect("* 2 EXISTS", "A4 OK [READ-WRITE] SELECT completed.")
	if got := s.Value(KeySelected); !reflect.DeepEqual(got, []string{`"New folder"`}) {
		t.Errorf("is_selected = %#v", got)
	}
	c.send("A5 UNSELECT\r\n")
	c.expect("A5 OK Returned to authenticated state. (Success)")
	c.send("A6 EXAMINE INBOX\r\n")
	c.expect("* 2 EXISTS", "A6 OK [READ-ONLY] EXAMINE completed.")
	c.send("A7 NOOP\r\n")
	c.expect("A7 BAD NOOP unknown")
	c.send("A8 LOGOUT\r\n")
	c.expect("* BYE IMAP4ref1 Server logging out", "A8 OK LOGOUT completed")
	c.expectEOF()
	if s.Value(KeyLogged) != nil {
		t.Errorf("logged not cleared by LOGOUT")
	}
	last, ok := s.LastCommand("select")
	if !ok || last.Tag != "A4" || last.ConnID != 1 {
		t.Errorf("LastCommand(select) = %+v, %v", last, ok)
	}
	if _, ok := s.LastCommand("FETCH"); ok {
		t.Errorf("LastCommand(FETCH) found a command never sent")
	}
}

func TestCapabilityNoExtras(t *testing.T) {
	s := NewServer(t, Config{Greeting: "* OK [CAPABILITY IMAP4rev1] hi"})
	c := dial(t, s.Addr())
	c.expect("* OK [CAPABILITY IMAP4rev1] hi")
	c.send("t1 capability\r\n")
	c.expect("* CAPABILITY IMAP4rev1", "t1 OK CAPABILITY completed")
}

func TestHandlersOverrideAndSimple(t *testing.T) {
	s := NewServer(t, Config{Handlers: map[string]HandlerFunc{
		"login":  func(c *Conn, cmd *Command) { c.Tagged(cmd, "NO [LOGIN] failed") },
		"ENABLE": SimpleHandler(nil, "ENABLE successful"),
		"STATUS": SimpleHandler([]string{`* STATUS INBOX (MESSAGES 2)`}, ""),
	}})
	c := dial(t, s.Addr())
	c.expect(DefaultGreeting)
	tests := []struct{ send, want string }{
		{"A1 LOGIN user pass\r\n", joinLines("A1 NO [LOGIN] failed")},
		{"A2 ENABLE UTF8=ACCEPT\r\n", joinLines("A2 OK ENABLE successful")},
		{"A3 STATUS INBOX (MESSAGES)\r\n", joinLines("* STATUS INBOX (MESSAGES 2)", "A3 OK STATUS completed")},
		{"\r\n", joinLines("* BAD empty command line")},
		{"A4\r\n", joinLines("A4 BAD missing command name")},
	}
	for _, tt := range tests {
		c.send(tt.send)
		var got strings.Builder
		for range strings.Count(tt.want, "\n") {
			got.WriteString(c.line())
		}
		if got.String() != tt.want {
			t.Errorf("send %q: got %q, want %q", tt.send, got.String(), tt.want)
		}
	}
	if last, _ := s.LastCommand("ENABLE"); !reflect.DeepEqual(last.Args, []string{"UTF8=ACCEPT"}) {
		t.Errorf("ENABLE args = %q", last.Args)
	}
	if s.Value(KeyLogged) != nil {
		t.Errorf("overridden LOGIN still ran the built-in")
	}
}

func TestScriptNoGreeting(t *testing.T) {
	s := NewServer(t, Config{NoGreeting: true, Script: func(c *Conn) {
		c.SendRaw([]byte("* OK"))
	}})
	c := dial(t, s.Addr())
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := c.r.ReadString('\n')
	if got != "* OK" || err == nil {
		t.Errorf("got %q, %v; want unterminated %q then EOF", got, err, "* OK")
	}
}

func TestScriptThenServe(t *testing.T) {
	s := NewServer(t, Config{Script: func(c *Conn) {
		cmd, err := c.ReadCommand()
		if err != nil {
			return
		}
		c.Send("* CAPABILITY IMAP4rev1 AUTH\n") // bare LF, as in test_line_termination
		c.Tagged(cmd, "OK done")
		c.Serve()
	}})
	c := dial(t, s.Addr())
	c.expect(DefaultGreeting)
	c.send("A1 CAPABILITY\r\n")
	if got := c.line() + c.line(); got != "* CAPABILITY IMAP4rev1 AUTH\n\r\n" {
		t.Errorf("got %q", got)
	}
	c.expect("A1 OK done")
	c.send("A2 LOGIN a b\r\n")
	c.expect("A2 OK LOGIN completed")
	if n := len(s.Commands()); n != 2 {
		t.Errorf("recorded %d commands, want 2", n)
	}
}

func TestTLSServer(t *testing.T) {
	s := NewServer(t, Config{TLS: true})
	c := dialTLS(t, s.Addr(), &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost"})
	c.expect(DefaultGreeting)
	c.send("A1 LOGIN user \"pass\"\r\n")
	c.expect("A1 OK LOGIN completed")

	// The certificate has no IP SAN: verifying 127.0.0.1 must fail.
	_, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: s.CertPool()})
	var hostErr x509HostnameError
	if err == nil || !errors.As(err, &hostErr) {
		t.Errorf("dial by IP: err = %v, want a hostname verification error", err)
	}
}

func TestTLSConfigOverride(t *testing.T) {
	s := NewServer(t, Config{TLS: true, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{mustServerCert(t)},
		MaxVersion:   tls.VersionTLS11,
	}})
	_, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost"})
	if err == nil {
		t.Fatal("TLS 1.1 server accepted by a default (TLS 1.2+) client")
	}
}

func TestServeConn(t *testing.T) {
	base := runtime.NumGoroutine()
	srvSide, cliSide := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ServeConn(srvSide, Config{Capabilities: "X"})
	}()
	c := newClient(t, cliSide)
	c.expect(DefaultGreeting)
	c.send("A1 CAPABILITY\r\n")
	c.expect("* CAPABILITY IMAP4rev1 X", "A1 OK CAPABILITY completed")
	c.send("A2 LOGOUT\r\n")
	c.expect("* BYE IMAP4ref1 Server logging out", "A2 OK LOGOUT completed")
	<-done
	_ = cliSide.Close()
	checkGoroutines(t, base)
}

func TestCloseWithIdleClients(t *testing.T) {
	base := runtime.NumGoroutine()
	var s *Server
	t.Run("inner", func(t *testing.T) {
		s = NewServer(t, Config{Handlers: map[string]HandlerFunc{"IDLE": IdleHandler()}})
		a := dial(t, s.Addr())
		a.expect(DefaultGreeting)
		b := dial(t, s.Addr())
		b.expect(DefaultGreeting)
		a.send("A1 IDLE\r\n") // handler sleeps; Close must interrupt it
		a.expect("* 0 EXISTS")
		start := time.Now()
		s.Close()
		if d := time.Since(start); d > IdleRecentDelay/2 {
			t.Errorf("Close took %v", d)
		}
		a.drainToEOF()
		b.expectEOF()
	})
	if s.ConnCount() != 2 {
		t.Errorf("ConnCount = %d, want 2", s.ConnCount())
	}
	checkGoroutines(t, base)
}

func TestClientDisconnectEndsGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("inner", func(t *testing.T) {
		s := NewServer(t, Config{})
		c := dial(t, s.Addr())
		c.expect(DefaultGreeting)
		c.send("A1 LOGIN u") // partial line, then hang up
		_ = c.nc.Close()
		deadline := time.Now().Add(testTimeout)
		for {
			s.mu.Lock()
			n := len(s.conns)
			s.mu.Unlock()
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("connection goroutine still running after client disconnect")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	checkGoroutines(t, base)
}

func TestHandlerPanicIsReported(t *testing.T) {
	ft := &fakeTB{TB: t}
	s := NewServer(ft, Config{Handlers: map[string]HandlerFunc{
		"BOOM": func(*Conn, *Command) { panic("boom") },
	}})
	c := dial(t, s.Addr())
	c.expect(DefaultGreeting)
	c.send("A1 BOOM\r\n")
	c.expectEOF()
	s.Close()
	if !ft.failed() {
		t.Error("handler panic not reported through t.Error")
	}
}
