package imaptest

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

func TestProxyRelays(t *testing.T) {
	s := NewServer(t, Config{})
	p := NewProxy(t, s.Addr())
	c := dial(t, p.Addr())
	c.expect(DefaultGreeting)
	c.send("A1 LOGIN user pass\r\n")
	c.expect("A1 OK LOGIN completed")
	if last, ok := s.LastCommand("LOGIN"); !ok || last.Tag != "A1" {
		t.Errorf("upstream did not see LOGIN: %+v", last)
	}
}

func TestProxySTARTTLSInjection(t *testing.T) {
	const injected = "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA2 OK LOGIN completed\r\n"
	s := NewServer(t, Config{Handlers: map[string]HandlerFunc{
		"STARTTLS": func(c *Conn, cmd *Command) { c.Tagged(cmd, "OK Begin TLS now") },
	}})
	p := NewProxy(t, s.Addr())
	p.OnServerData = func(b []byte) []byte {
		if bytes.HasPrefix(b, []byte("A1 OK Begin TLS now\r\n")) {
			return append(b, injected...)
		}
		return b
	}
	c := dial(t, p.Addr())
	c.expect(DefaultGreeting)
	c.send("A1 STARTTLS\r\n")
	c.expect("A1 OK Begin TLS now")
	if n := c.r.Buffered(); n != len(injected) {
		t.Errorf("buffered after tagged OK = %d, want %d (injection in the same segment)", n, len(injected))
	}
	c.expect("* CAPABILITY IMAP4rev1 AUTH=PLAIN", "A2 OK LOGIN completed")
}

func TestProxyInject(t *testing.T) {
	tests := []struct {
		name     string
		before   bool // Inject before the client connects
		want     []string
		setHook  bool
		hookDrop bool
	}{
		{"queued before connect", true, []string{"A1 OK", DefaultGreeting}, false, false},
		{"while connected", false, []string{DefaultGreeting, "A1 OK"}, false, false},
		{"hook drops server data", true, []string{"A1 OK"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, Config{})
			p := NewProxy(t, s.Addr())
			if tt.setHook {
				p.SetOnServerData(func([]byte) []byte { return nil })
			}
			if tt.before {
				p.Inject([]byte("A1 OK\r\n"))
			}
			c := dial(t, p.Addr())
			if !tt.before {
				c.expect(DefaultGreeting)
				p.Inject([]byte("A1 OK\r\n"))
				c.expect(tt.want[1:]...)
				return
			}
			c.expect(tt.want...)
			if tt.hookDrop {
				_ = c.nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if l, err := c.r.ReadString('\n'); err == nil {
					t.Errorf("hook returned nil but client got %q", l)
				}
			}
		})
	}
}

func TestProxyCloseNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("inner", func(t *testing.T) {
		s := NewServer(t, Config{})
		p := NewProxy(t, s.Addr())
		c := dial(t, p.Addr())
		c.expect(DefaultGreeting)
		p.Close()
		c.expectEOF()
		s.Close()
	})
	checkGoroutines(t, base)
}
