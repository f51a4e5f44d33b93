package imapengine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// loopbackTimeout is CPython's support.LOOPBACK_TIMEOUT.
const loopbackTimeout = 10 * time.Second

// TestImaplib_test_linetoolong covers the mixin's test_linetoolong (_MAXLINE
// patched to 10, Limits.MaxLineLength here) and ThreadedNetworkedTests'
// (a greeting of _MAXLINE+7 bytes against the default limit): an over-long
// greeting is an error naming the limit.
func TestImaplib_test_linetoolong(t *testing.T) {
	tests := []struct {
		name     string
		limit    int
		greeting string
		want     string
	}{
		{"patched_MAXLINE", 10, "* OK " + strings.Repeat("x", 11), "got more than 10 bytes"},
		{"default_MAXLINE", 0, "* OK " + strings.Repeat("x", DefaultMaxLineLength),
			fmt.Sprintf("got more than %d bytes", DefaultMaxLineLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv := tr.server(t, imaptest.Config{Greeting: tt.greeting})
				opts := tr.options(srv)
				opts.Limits.MaxLineLength = tt.limit
				c, err := tr.dial(t, srv, opts)
				if err == nil {
					c.Shutdown()
				}
				wantErr(t, err, ErrIMAP, tt.want)
			})
		})
	}
}

// TestImaplib_ThreadedNetworkedTests_test_truncated_large_literal is
// ThreadedNetworkedTests(SSL).test_truncated_large_literal over both
// transports (security_parse_test.go has the TCP-only gh-119511 variant): a
// greeting announcing a literal of 2**e bytes (e in 15..63) and then closing
// ends in an abort quickly, without allocating anything near the announced
// size.
func TestImaplib_ThreadedNetworkedTests_test_truncated_large_literal(t *testing.T) {
	const (
		maxDuration = 5 * time.Second // per connection, generous for -race
		maxHeap     = 4 << 20         // bytes allocated per connection
	)
	forTransports(t, func(t *testing.T, tr transport) {
		for e := 15; e <= 63; e++ {
			size := fmt.Sprintf("%d", uint64(1)<<e)
			srv := tr.server(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
				c.Send("* OK {" + size + "}")
				c.Send("IMAP4rev1")
			}})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			c, err := tr.dial(t, srv, nil)
			d := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil {
				c.Shutdown()
				t.Fatalf("size 2**%d: dial succeeded", e)
			}
			if !errors.Is(err, ErrAbort) {
				t.Fatalf("size 2**%d: error %v is not an abort", e, err)
			}
			if d > maxDuration {
				t.Fatalf("size 2**%d: took %v", e, d)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxHeap {
				t.Fatalf("size 2**%d: allocated %d bytes", e, alloc)
			}
			srv.Close()
		}
	})
}

// TestImaplib_test_simple_with_statement: connect, then leave the block
// (Logout): LOGOUT is sent and the BYE handled.
func TestImaplib_test_simple_with_statement(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{})
		r, err := c.Logout(context.Background())
		if err != nil {
			t.Fatalf("logout: %v", err)
		}
		if r.Typ != "BYE" {
			t.Fatalf("logout = %v, want BYE", r)
		}
		if n := countCommands(srv, "LOGOUT"); n != 1 {
			t.Fatalf("server got %d LOGOUT commands, want 1", n)
		}
	})
}

// TestImaplib_test_imaplib_timeout_test: Options.Timeout zero (None) and
// positive both connect; negative (timeout=0) is refused before dialling.
//
// Differs from imaplib: a net.Conn exposes no socket timeout to read back, so
// the positive cases only check that the connection works.
func TestImaplib_test_imaplib_timeout_test(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		wantErr error
	}{
		{"timeout=None", 0, nil},
		{"timeout=LOOPBACK_TIMEOUT", loopbackTimeout, nil},
		{"timeout=0", -1, ErrInvalidTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv := tr.server(t, imaptest.Config{})
				opts := tr.options(srv)
				opts.Timeout = tt.timeout
				c, err := tr.dial(t, srv, opts)
				if tt.wantErr != nil {
					if err == nil {
						c.Shutdown()
					}
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("dial = %v, want %v", err, tt.wantErr)
					}
					if n := srv.ConnCount(); n != 0 {
						t.Fatalf("server accepted %d connections, want 0", n)
					}
					return
				}
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if _, err := c.Logout(context.Background()); err != nil {
					t.Fatalf("logout: %v", err)
				}
			})
		})
	}
}

// isTimeout reports whether err is a timeout: ErrTimeout, a context deadline
// or a net.Error timeout (imaplib's TimeoutError).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// TestImaplib_test_imaplib_timeout_functionality_test: a server that waits
// 1 s before its greeting makes a client with a small Timeout fail with a
// timeout, long before the greeting arrives.
func TestImaplib_test_imaplib_timeout_functionality_test(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		strict  bool // over TCP the greeting wait is what expires: ErrTimeout
	}{
		{"timeout=0.001", time.Millisecond, false},
		{"timeout=0.2", 200 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv := tr.server(t, imaptest.Config{NoGreeting: true, Script: func(c *imaptest.Conn) {
					if c.Sleep(time.Second) {
						c.Send(imaptest.DefaultGreeting)
					}
				}})
				opts := tr.options(srv)
				opts.Timeout = tt.timeout
				start := time.Now()
				c, err := tr.dial(t, srv, opts)
				if err == nil {
					c.Shutdown()
					t.Fatal("dial succeeded, want a timeout")
				}
				if d := time.Since(start); d >= time.Second {
					t.Fatalf("timeout after %v, want before the greeting (1 s)", d)
				}
				if !isTimeout(err) {
					t.Fatalf("dial = %v, want a timeout", err)
				}
				// Over TLS the fake server only handshakes with its first
				// write (after the sleep), so the client's handshake is what
				// times out: a context deadline from the dial, still a timeout.
				if tt.strict && !tr.tls {
					wantErr(t, err, ErrTimeout)
					wantErr(t, err, ErrAbort)
				}
			})
		})
	}
}

// TestImaplib_test_with_statement covers test_with_statement and
// test_with_statement_logout: LOGIN inside the block is recorded by the server,
// and leaving the block logs out; an explicit Logout inside the block leaves
// nothing for the block's end to do.
//
// Differs from imaplib: Go has no with-statement; the block's end is a Logout
// guarded by the state (as __exit__ checks for LOGOUT), and the test's cleanup
// Shutdown must then be a harmless no-op.
func TestImaplib_test_with_statement(t *testing.T) {
	tests := []struct {
		name           string
		explicitLogout bool
	}{
		{"test_with_statement", false},
		{"test_with_statement_logout", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr transport) {
				srv, c := tr.setup(t, imaptest.Config{})
				ctx := context.Background()
				exit := func() error { // __exit__
					if c.State() == StateLogout {
						return nil
					}
					_, err := c.Logout(ctx)
					return err
				}
				mustLogin(t, c)
				logged, _ := srv.Value(imaptest.KeyLogged).([]string)
				sameStrings(t, "logged", logged, []string{"user", `"pass"`})
				if tt.explicitLogout {
					if _, err := c.Logout(ctx); err != nil {
						t.Fatalf("logout: %v", err)
					}
					if srv.Value(imaptest.KeyLogged) != nil {
						t.Fatal("server still logged in after logout")
					}
				}
				if err := exit(); err != nil {
					t.Fatalf("exit: %v", err)
				}
				if srv.Value(imaptest.KeyLogged) != nil {
					t.Fatal("server still logged in after the block")
				}
				if c.State() != StateLogout {
					t.Fatalf("state = %s, want LOGOUT", c.State())
				}
				if n := countCommands(srv, "LOGOUT"); n != 1 {
					t.Fatalf("server got %d LOGOUT commands, want 1", n)
				}
				if err := c.Shutdown(); err != nil {
					t.Fatalf("shutdown after logout: %v", err)
				}
			})
		})
	}
}

// TestImaplib_test_readonly_error_reports_mailbox: a READ-ONLY answer to a
// read-write SELECT is a readonly error naming the mailbox; the next SELECT
// flushes the previous READ-ONLY and reports it again.
func TestImaplib_test_readonly_error_reports_mailbox(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"SELECT": imaptest.SimpleHandler([]string{"* 2 EXISTS"}, "[READ-ONLY] SELECT completed."),
		}})
		mustLogin(t, c)
		// imaplib's second call passes b'INBOX' ("b'INBOX' is not writable");
		// Go has one string type, so both calls pass "INBOX".
		for i := 0; i < 2; i++ {
			_, err := c.Select(context.Background(), "INBOX", false)
			wantErr(t, err, ErrReadOnly, "'INBOX' is not writable")
			wantErr(t, err, ErrAbort)
		}
	})
}

// TestSelectMailboxAfterExamine: the typed SelectMailbox read-write after a
// read-only one succeeds; the EXAMINE's READ-ONLY was the old mailbox's.
func TestSelectMailboxAfterExamine(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		_, c := tr.setup(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
			"EXAMINE": imaptest.SimpleHandler([]string{"* 2 EXISTS"}, "[READ-ONLY] EXAMINE completed."),
			"SELECT":  imaptest.SimpleHandler([]string{"* 2 EXISTS"}, "[READ-WRITE] SELECT completed."),
		}})
		mustLogin(t, c)
		ctx := context.Background()
		ro, err := c.SelectMailbox(ctx, "INBOX", &SelectOptions{ReadOnly: true})
		if err != nil || !ro.ReadOnly {
			t.Fatalf("examine: %+v %v", ro, err)
		}
		rw, err := c.SelectMailbox(ctx, "Drafts", nil)
		if err != nil || rw.ReadOnly {
			t.Fatalf("select after examine: %+v %v", rw, err)
		}
	})
}

// TestImaplib_test_uid_unknown_command_reports_command: an unknown UID command
// is refused before the state check, naming the command, and nothing is sent.
func TestImaplib_test_uid_unknown_command_reports_command(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		srv, c := tr.setup(t, imaptest.Config{})
		before := len(srv.Commands())
		_, err := c.UID(context.Background(), "BOGUS", "1")
		wantErr(t, err, ErrIMAP, "Unknown IMAP4 UID command: 'BOGUS'")
		if errors.Is(err, ErrIllegalState) {
			t.Fatalf("unknown command reported as a state error: %v", err)
		}
		// A known command in the wrong state is the state error.
		_, err = c.UID(context.Background(), "FETCH", "1", "(FLAGS)")
		wantErr(t, err, ErrIllegalState, "illegal in state NONAUTH")
		if cmds := srv.Commands(); len(cmds) != before {
			t.Fatalf("server got %v, want nothing", slices.Clone(cmds[before:]))
		}
	})
}
