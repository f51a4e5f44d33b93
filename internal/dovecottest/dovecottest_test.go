package dovecottest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"plain", "A=1\nB=two\n", map[string]string{"A": "1", "B": "two"}},
		{"export and quotes", "export A=\"x y\"\nexport B='z'\n", map[string]string{"A": "x y", "B": "z"}},
		{"noise ignored", "# comment\n\nnot a var\nC=3", map[string]string{"C": "3"}},
		{"empty value", "D=\n", map[string]string{"D": ""}},
		{"one quote kept", "E=\"\n", map[string]string{"E": "\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseEnv(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("ParseEnv(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("ParseEnv(%q)[%s] = %q, want %q", tt.in, k, got[k], v)
				}
			}
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{
		EnvPlain: "127.0.0.1:1", EnvTLS: "127.0.0.1:2", EnvCA: ca, EnvConf: filepath.Join(dir, "d.conf"),
		EnvMaster: "m:p", EnvUsers: "a:1 b:2",
	}
	tests := []struct {
		name   string
		change map[string]string
	}{
		{"no plain", map[string]string{EnvPlain: ""}},
		{"no master", map[string]string{EnvMaster: ""}},
		{"bad master", map[string]string{EnvMaster: "nocolon"}},
		{"bad user", map[string]string{EnvUsers: "a:1 nocolon"}},
		{"bad CA", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := make(map[string]string)
			for k, v := range full {
				env[k] = v
			}
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := fromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("fromEnv: %v, want ErrConfig", err)
			}
		})
	}
}

// TestLive starts (or finds) Dovecot, makes a fresh user, delivers a message
// and reads it back over TLS with a raw client.
func TestLive(t *testing.T) {
	s := Start(t)
	if len(s.Users) == 0 || s.Master.Name == "" {
		t.Fatalf("no users: %+v", s)
	}
	if got := s.StdioArgv("bob"); len(got) != 5 || got[2] != s.ConfPath || got[4] != "bob" {
		t.Errorf("StdioArgv = %q", got)
	}
	user, pw := s.NewUser(t)
	user2, _ := s.NewUser(t)
	if user == user2 {
		t.Fatalf("NewUser returned %q twice", user)
	}
	if got, ok := s.Password(user); !ok || got != pw {
		t.Errorf("Password(%q) = %q, %v", user, got, ok)
	}
	msg := []byte("Subject: hello\r\n\r\nbody\r\n")
	s.Deliver(t, user, msg)
	s.Deliver(t, user, msg)
	if err := s.DeliverTo(user, "NoSuchBox", msg); !errors.Is(err, ErrDeliver) {
		t.Errorf("DeliverTo(missing mailbox) = %v, want ErrDeliver", err)
	}

	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: DeliverTimeout}, "tcp", s.TLSAddr, s.TLSConfig())
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(DeliverTimeout)); err != nil {
		t.Fatal(err)
	}
	rc := rawConn{r: bufio.NewReader(conn), w: conn}
	if _, err := rc.readUntil("*"); err != nil {
		t.Fatal(err)
	}
	if err := rc.command("a", "LOGIN "+quote(user)+" "+quote(pw)); err != nil {
		t.Fatalf("login as fresh user: %v", err)
	}
	if err := rc.send("b STATUS INBOX (MESSAGES)\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := rc.r.ReadString('\n')
	if err != nil || !strings.Contains(line, "(MESSAGES 2)") {
		t.Fatalf("STATUS: %q, %v", line, err)
	}
}
