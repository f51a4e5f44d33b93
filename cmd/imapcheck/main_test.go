package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// stdioServerEnv makes the test binary serve one IMAP session on its standard
// input and output instead of running tests: the subprocess for -s.
const stdioServerEnv = "IMAPCHECK_TEST_STDIO_SERVER"

// keyAppended is the scratch key under which the fake APPEND stores the message.
const keyAppended = "appended"

func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) == "1" {
		cfg := mailstoreConfig()
		cfg.Greeting = "* PREAUTH IMAP4rev1 stdio server ready"
		imaptest.ServeConn(imaptest.Stdio(), cfg)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// mailstoreConfig answers every command of the self-test like a server with
// one mailbox holding the appended message.
func mailstoreConfig() imaptest.Config {
	return imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"CREATE": imaptest.SimpleHandler(nil, ""),
		"RENAME": imaptest.SimpleHandler(nil, ""),
		"DELETE": imaptest.SimpleHandler(nil, ""),
		"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
			data, _, err := c.ReadLiteral(cmd)
			if err != nil {
				return
			}
			c.Server().SetValue(keyAppended, data)
			c.Tagged(cmd, "OK [APPENDUID 7 1] APPEND completed")
		},
		"LIST":   imaptest.SimpleHandler([]string{`* LIST (\HasNoChildren) "/" "imapcheck-yyz 2"`}, ""),
		"SEARCH": imaptest.SimpleHandler([]string{"* SEARCH 1"}, ""),
		"FETCH": func(c *imaptest.Conn, cmd *imaptest.Command) {
			msg, _ := c.Server().Value(keyAppended).([]byte)
			c.SendRaw([]byte("* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \"01-Jan-2026 00:00:00 +0000\" RFC822 {" +
				itoa(len(msg)) + "}\r\n" + string(msg) + ")\r\n"))
			c.Tagged(cmd, "OK FETCH completed")
		},
		"STORE":   imaptest.SimpleHandler([]string{`* 1 FETCH (FLAGS (\Deleted))`}, ""),
		"EXPUNGE": imaptest.SimpleHandler([]string{"* 1 EXPUNGE"}, ""),
		"CLOSE":   imaptest.SimpleHandler(nil, ""),
	}}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// wantCommands is the command sequence of a login session (capabilities are
// asked again after LOGIN, as imaplib 3.14.7+ does).
var wantCommands = []string{"CAPABILITY", "LOGIN", "CAPABILITY", "CREATE", "RENAME", "DELETE", "CREATE", "APPEND", "LIST",
	"SELECT", "SEARCH", "FETCH", "STORE", "EXPUNGE", "CLOSE", "DELETE", "LOGOUT"}

// wantOutput are lines the transcript must hold, in order.
var wantOutput = []string{
	"PROTOCOL_VERSION = IMAP4REV1",
	"login ('bob', '***')",
	"login => OK [b'LOGIN completed']",
	"create ('imapcheck-xxx 1',)",
	"create => OK [b'CREATE completed']",
	"rename ('imapcheck-xxx 1', 'imapcheck-yyy')",
	"append => OK [b'[APPENDUID 7 1] APPEND completed']",
	`list => OK [b'(\\HasNoChildren) "/" "imapcheck-yyz 2"']`,
	"select => OK [b'2']",
	"search => OK [b'1']",
	`fetch => OK [(b'1 (FLAGS (\\Recent) INTERNALDATE "01-Jan-2026 00:00:00 +0000" RFC822 {59}', ` +
		`b'From: imapcheck@localhost\r\nSubject: IMAP4 test\r\n\r\ndata...\r\n'), b')']`,
	`store => OK [b'1 (FLAGS (\\Deleted))']`,
	"expunge => OK [b'1']",
	"close => OK [b'CLOSE completed']",
	"delete ('imapcheck-yyz 2',)",
	"logout => BYE [b'IMAP4ref1 Server logging out']",
	"All tests OK.",
}

// checkOrdered fails unless every want line occurs in out, in order.
func checkOrdered(t *testing.T, out string, want []string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w+"\n")
		if i < 0 {
			t.Errorf("output lacks %q (in order); output:\n%s", w, out)
			return
		}
		rest = rest[i+len(w):]
	}
}

// tlsFixture makes a self-signed certificate for 127.0.0.1 and writes it as
// PEM for -cafile.
func tlsFixture(t *testing.T) (*tls.Config, string) {
	cert, _ := imaptest.NewCert(t, imaptest.CertOptions{SelfSigned: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, path
}

func TestRunSelfTest(t *testing.T) {
	serverTLS, caFile := tlsFixture(t)
	tests := []struct {
		name     string
		cfg      func(*imaptest.Config)
		args     []string // the server address is appended
		password string   // $IMAPCHECK_PASSWORD
		stdin    string
		wantErr  error // nil: success
		wantOut  []string
		wantErrs []string // substrings of stderr
		noLogin  bool
	}{
		{name: "plain", args: []string{"-insecure-plaintext-auth", "-user", "bob"}, password: "s3cret", wantOut: wantOutput},
		{name: "prompted password", args: []string{"-insecure-plaintext-auth", "-user", "bob"}, stdin: "s3cret\n",
			wantOut: wantOutput, wantErrs: []string{"Password: "}},
		{name: "TLS", cfg: func(c *imaptest.Config) { c.TLS, c.TLSConfig = true, serverTLS },
			args: []string{"-tls", "-cafile", caFile, "-user", "bob"}, password: "s3cret", wantOut: wantOutput},
		{name: "STARTTLS", cfg: func(c *imaptest.Config) {
			c.Capabilities, c.TLSConfig = "STARTTLS", serverTLS
			c.Handlers["STARTTLS"] = imaptest.StartTLSHandler()
		}, args: []string{"-starttls", "-cafile", caFile, "-user", "bob"}, password: "s3cret", wantOut: wantOutput},
		{name: "debug", args: []string{"-d", "4", "-insecure-plaintext-auth", "-user", "bob"}, password: "s3cret",
			wantOut: wantOutput, wantErrs: []string{"level=DEBUG", "imap: "}},
		{name: "plaintext refused", args: []string{"-user", "bob"}, password: "s3cret",
			wantErr: imapengine.ErrTLSRequired, wantErrs: []string{"Tests failed.", "imapcheck -d 4"}, noLogin: true},
		{name: "TLS unverified", cfg: func(c *imaptest.Config) { c.TLS, c.TLSConfig = true, serverTLS },
			args: []string{"-tls", "-user", "bob"}, password: "s3cret", wantErr: errAny, noLogin: true},
		{name: "NO fails", cfg: func(c *imaptest.Config) {
			c.Handlers["RENAME"] = func(c *imaptest.Conn, cmd *imaptest.Command) { c.Tagged(cmd, "NO [ALREADYEXISTS] exists") }
		}, args: []string{"-insecure-plaintext-auth", "-user", "bob"}, password: "s3cret",
			wantErr: errTestFailed, wantOut: []string{"rename => NO [b'[ALREADYEXISTS] exists']"}, wantErrs: []string{"Tests failed."}},
		{name: "no password", args: []string{"-insecure-plaintext-auth", "-user", "bob"},
			wantErr: errAny, wantErrs: []string{"Password: "}, noLogin: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mailstoreConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			srv := imaptest.NewServer(t, cfg)
			env := func(k string) string {
				if k == PasswordEnv {
					return tt.password
				}
				return ""
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append(tt.args, srv.Addr()), env, strings.NewReader(tt.stdin), &stdout, &stderr)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("run error = %v, want %v", err, tt.wantErr)
			}
			if (err == nil) != (exitCode(err) == exitOK) || (err != nil && exitCode(err) != exitFailure) {
				t.Errorf("exitCode(%v) = %d", err, exitCode(err))
			}
			checkOrdered(t, stdout.String(), tt.wantOut)
			for _, w := range tt.wantErrs {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), "s3cret") {
				t.Error("the password appears in the output")
			}
			srv.Close()
			login, ok := srv.LastCommand("LOGIN")
			if ok == tt.noLogin {
				t.Fatalf("LOGIN sent = %v, want %v", ok, !tt.noLogin)
			}
			if tt.wantErr == nil {
				if len(login.Args) != 2 || login.Args[0] != "bob" || login.Args[1] != `"s3cret"` {
					t.Errorf("LOGIN args = %q", login.Args)
				}
				var names []string
				for _, c := range srv.Commands() {
					names = append(names, c.Name)
				}
				want := wantCommands
				if slices.Contains(tt.args, "-starttls") {
					// Capabilities are asked again over TLS.
					want = append([]string{"CAPABILITY", "STARTTLS"}, wantCommands...)
				}
				if !slices.Equal(names, want) {
					t.Errorf("commands = %v\nwant       %v", names, want)
				}
				if got, _ := srv.Value(keyAppended).([]byte); string(got) != strings.ReplaceAll(testMessage, "\n", "\r\n") {
					t.Errorf("appended %q", got)
				}
			}
		})
	}
}

// errAny in a test table means "any error".
var errAny = errors.New("any error")

// TestRunStream runs the self-test over -s: the test binary itself is the
// subprocess, serving a PREAUTH session on stdio, so no login happens.
func TestRunStream(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	t.Setenv(stdioServerEnv, "1")
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"-s", exe + " -test.run=^$"}, func(string) string { return "" },
		strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	if strings.Contains(stdout.String(), "login") || strings.Contains(stderr.String(), "Password") {
		t.Errorf("PREAUTH session logged in:\n%s", &stdout)
	}
	checkOrdered(t, stdout.String(), wantOutput[3:])
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"unknown flag", []string{"-bogus"}, errUsage},
		{"two hosts", []string{"a", "b"}, errUsage},
		{"tls and starttls", []string{"-tls", "-starttls"}, errUsage},
		{"stream and host", []string{"-s", "imapd", "host"}, errUsage},
		{"stream and tls", []string{"-s", "imapd", "-tls"}, errUsage},
		{"empty stream", []string{"-s", "  "}, errUsage},
		{"negative timeout", []string{"-timeout", "-1s"}, errUsage},
		{"bad debug", []string{"-d", "x"}, errUsage},
		{"help", []string{"-h"}, flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
			if !errors.Is(err, tt.want) {
				t.Fatalf("run(%q) = %v, want %v", tt.args, err, tt.want)
			}
			wantCode := exitUsage
			if tt.want == flag.ErrHelp {
				wantCode = exitOK
			}
			if got := exitCode(err); got != wantCode {
				t.Errorf("exitCode = %d, want %d", got, wantCode)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q", &stdout)
			}
		})
	}
}

func TestRunConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	err = run(context.Background(), []string{addr}, func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || exitCode(err) != exitFailure || !strings.HasPrefix(err.Error(), "imapcheck: connect") {
		t.Fatalf("run = %v (exit %d)", err, exitCode(err))
	}
}
