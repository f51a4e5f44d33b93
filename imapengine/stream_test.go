package imapengine

// The stdio (subprocess) transport, imaplib's IMAP4_stream, and its hardening
// (/work/shared/spec/security.md C5). The test binary re-executes itself as
// the server: TestHelperProcess serves one imaptest session on stdin/stdout
// when secStreamEnv is set.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// secStreamEnv selects the helper's behaviour in the child process.
const secStreamEnv = "IMAPENGINE_STREAM_HELPER"

// Helper behaviours.
const (
	streamServe   = "serve"   // a normal session
	streamEndless = "endless" // a greeting line that never ends
	streamBomb    = "bomb"    // a greeting announcing a 2^40-byte literal
	streamHang    = "hang"    // a greeting, then silence forever
	streamMute    = "mute"    // nothing at all
)

// TestHelperProcess is not a test: it is the server side of the stream
// transport, run in a child process.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(secStreamEnv)
	if mode == "" {
		return
	}
	out := os.Stdout
	switch mode {
	case streamServe:
		imaptest.ServeConn(imaptest.Stdio(), imaptest.Config{Capabilities: "IDLE", Handlers: map[string]imaptest.HandlerFunc{
			"FETCH": imaptest.SimpleHandler([]string{"* 1 FETCH (BODY[] {5}\r\nhello)"}, ""),
			"IDLE":  secIdleDone,
		}})
	case streamEndless:
		_, _ = out.WriteString("* OK ")
		chunk := []byte(strings.Repeat("A", 64<<10))
		for {
			if _, err := out.Write(chunk); err != nil {
				break
			}
		}
	case streamBomb:
		_, _ = out.WriteString("* OK {1099511627776}\r\n")
		time.Sleep(time.Hour)
	case streamHang:
		_, _ = out.WriteString("* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		time.Sleep(time.Hour)
	case streamMute:
		time.Sleep(time.Hour)
	}
	os.Exit(0)
}

// secDialStream starts the test binary as a stream server in mode.
func secDialStream(t *testing.T, mode string, o *Options) (*Client, error) {
	t.Helper()
	t.Setenv(secStreamEnv, mode)
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	if o == nil {
		o = secOpts()
		o.AllowPlaintextAuth = false // a stream needs no permission
	}
	return DialStream(context.Background(), []string{os.Args[0], "-test.run=^TestHelperProcess$"}, o)
}

// secChildren returns the PIDs of this process's children, zombies included
// (Linux /proc); nil where /proc is unavailable.
func secChildren(t *testing.T) []string {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	me := strconv.Itoa(os.Getpid())
	var out []string
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == me {
			out = append(out, strings.Fields(s)[0]+"("+fields[0]+")")
		}
	}
	return out
}

// secNoChildren fails if a child process (a zombie in particular) is left.
func secNoChildren(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(secTimeout)
	for {
		kids := secChildren(t)
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child processes left: %v", kids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestImaplib_test_stream_session runs login, select, fetch and IDLE over
// the stdio transport (CPython's IMAP4_stream).
func TestImaplib_test_stream_session(t *testing.T) {
	c, err := secDialStream(t, streamServe, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer secNoChildren(t)
	defer c.Shutdown()
	if c.Socket() != nil || c.Host() != "" || c.IsTLS() {
		t.Fatal("a stream has no socket, host or TLS")
	}
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "", false); err != nil {
		t.Fatal(err)
	}
	res, err := c.Fetch(context.Background(), "1", "(BODY[])")
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(res.Data); len(got) != 2 || got[0] != "1 (BODY[] {5}|hello" {
		t.Fatalf("FETCH = %q", got)
	}
	if err := c.IdleFunc(context.Background(), 100*time.Millisecond, func(i *Idler) error {
		_, err := i.Burst(context.Background(), 10*time.Millisecond)
		return err
	}); err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	if res, err := c.Logout(context.Background()); err != nil || res.Typ != "BYE" {
		t.Fatalf("Logout = %v, %v", res, err)
	}
}

// TestSecurity_C5_StreamHardening: a stream gets the socket limits (an endless
// line, a 2^40-byte literal), a silent child times out, and Shutdown kills and
// reaps a hung child.
func TestSecurity_C5_StreamHardening(t *testing.T) {
	tests := []struct {
		mode string
		want error
	}{
		{streamEndless, imapwire.ErrLineTooLong},
		{streamBomb, imapwire.ErrLiteralTooLarge},
		{streamMute, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			o := secOpts()
			o.Limits.MaxLineLength = 4096
			o.GreetingTimeout = 500 * time.Millisecond
			start := time.Now()
			c, err := secDialStream(t, tt.mode, o)
			if err == nil {
				c.Shutdown()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > secTimeout {
				t.Fatalf("took %v", d)
			}
			secNoChildren(t)
		})
	}
	t.Run("Shutdown kills a hung child", func(t *testing.T) {
		c, err := secDialStream(t, streamHang, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat("/proc/self/stat"); err == nil && len(secChildren(t)) == 0 {
			t.Fatal("no child process found")
		}
		start := time.Now()
		if err := c.Shutdown(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Shutdown took %v", d)
		}
		secNoChildren(t)
		if _, err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
			t.Fatalf("after Shutdown: %v, want abort", err)
		}
	})
	t.Run("no shell", func(t *testing.T) {
		// A shell command line is one argv[0], not interpreted.
		_, err := DialStream(context.Background(), []string{"sh -c id"}, secOpts())
		if err == nil {
			t.Fatal("a shell command line was executed")
		}
		secNoChildren(t)
	})
}
