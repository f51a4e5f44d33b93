package imapengine

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Helpers shared by the imaplib_*_test.go transcript files.

// wantErr fails the test unless err matches class (with errors.Is) and its
// message contains every one of substrs.
func wantErr(t *testing.T, err error, class error, substrs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", class)
	}
	if class != nil && !errors.Is(err, class) {
		t.Fatalf("error %q (%T) is not %v", err, err, class)
	}
	for _, s := range substrs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not contain %q", err, s)
		}
	}
}

// rawGreetingServer starts a server that sends greeting verbatim (no CRLF is
// added) instead of the default greeting, then closes the connection.
func rawGreetingServer(t *testing.T, tr transport, greeting string) *imaptest.Server {
	t.Helper()
	return tr.server(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
		c.SendRaw([]byte(greeting))
	}})
}

// sameStrings fails the test unless got equals want element by element.
func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// serverArgs returns the arguments of the last command named name the server
// received, failing the test if there was none.
func serverArgs(t *testing.T, srv *imaptest.Server, name string) []string {
	t.Helper()
	cmd, ok := srv.LastCommand(name)
	if !ok {
		t.Fatalf("server received no %s command", name)
	}
	return cmd.Args
}

// countCommands reports how many command lines named name the server received.
func countCommands(srv *imaptest.Server, name string) int {
	n := 0
	for _, c := range srv.Commands() {
		if c.Name == name {
			n++
		}
	}
	return n
}

// TestImaplib_test_EOF_without_complete_welcome_message: "* OK" without CRLF,
// then EOF, is an abort.
func TestImaplib_test_EOF_without_complete_welcome_message(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv := rawGreetingServer(t, tr, "* OK")
		c, err := tr.dial(t, srv, nil)
		if err == nil {
			c.Shutdown()
		}
		wantErr(t, err, ErrAbort)
	})
}

// TestImaplib_test_invalid_greeting covers test_invalid_greeting,
// test_invalid_greeting_untagged and test_invalid_greeting_bare_continuation:
// a greeting that is neither OK nor PREAUTH is an error (not an abort) naming
// the line.
func TestImaplib_test_invalid_greeting(t *testing.T) {
	tests := []struct {
		name, greeting, want string
	}{
		{"test_invalid_greeting", "+OK POP3 server ready\r\n", "invalid greeting: +OK POP3 server ready"},
		{"test_invalid_greeting_untagged", "* BYE Server unavailable\r\n", "invalid greeting: * BYE Server unavailable"},
		{"test_invalid_greeting_bare_continuation", "+\r\n", "invalid greeting: +"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv := rawGreetingServer(t, tr, tt.greeting)
				c, err := tr.dial(t, srv, nil)
				if err == nil {
					c.Shutdown()
				}
				wantErr(t, err, ErrIMAP, tt.want)
				if errors.Is(err, ErrAbort) {
					t.Fatalf("invalid greeting is an abort, want a plain error: %v", err)
				}
			})
		})
	}
}

// TestImaplib_test_line_termination: a CAPABILITY response ended by a bare LF
// makes the constructor abort.
func TestImaplib_test_line_termination(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv := tr.server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"CAPABILITY": func(c *imaptest.Conn, cmd *imaptest.Command) {
				c.SendRaw([]byte("* CAPABILITY IMAP4rev1 AUTH\n"))
				c.Tagged(cmd, "OK CAPABILITY completed")
			},
		}})
		c, err := tr.dial(t, srv, nil)
		if err == nil {
			c.Shutdown()
		}
		wantErr(t, err, ErrAbort)
	})
}

// TestImaplib_test_greeting_capabilities: a CAPABILITY response code in the
// greeting is used as is; CAPABILITY is never sent.
func TestImaplib_test_greeting_capabilities(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{Greeting: "* OK [CAPABILITY IMAP4rev1 ENABLE] Server ready"})
		sameStrings(t, "capabilities", c.Capabilities(), []string{"IMAP4REV1", "ENABLE"})
		if n := countCommands(srv, "CAPABILITY"); n != 0 {
			t.Fatalf("server got %d CAPABILITY commands, want 0", n)
		}
	})
}

// TestImaplib_test_imap4_host_default_value (§4.1 item 6): with no address the
// client dials localhost:143; with nothing listening there the connection is
// refused.
func TestImaplib_test_imap4_host_default_value(t *testing.T) {
	if l, err := net.Listen("tcp", "127.0.0.1:143"); err == nil {
		l.Close()
	} else if errors.Is(err, syscall.EADDRINUSE) {
		t.Skip("something listens on local port 143")
	}
	if conn, err := net.DialTimeout("tcp", "localhost:143", time.Second); err == nil {
		conn.Close()
		t.Skip("something listens on local port 143")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "", &Options{})
	if err == nil {
		c.Shutdown()
		t.Fatal("Dial(\"\") succeeded, want connection refused")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("Dial(\"\") = %v, want a connection-refused error", err)
	}
}
