package imaptest

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// stdioEnv makes the test binary serve one IMAP session on stdin/stdout.
const stdioEnv = "IMAPTEST_SERVE_STDIO"

func TestMain(m *testing.M) {
	if os.Getenv(stdioEnv) == "1" {
		ServeConn(Stdio(), Config{Capabilities: "STDIO", Handlers: map[string]HandlerFunc{
			"APPEND": func(c *Conn, cmd *Command) {
				if _, _, err := c.ReadLiteral(cmd); err != nil {
					c.Tagged(cmd, "BAD "+err.Error())
					return
				}
				c.Tagged(cmd, "OK appended")
			},
		}})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestServeConnSubprocess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stdioEnv+"=1", "GORACE=atexit_sleep_ms=0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := &client{t: t, r: bufio.NewReader(stdout)}
	write := func(s string) {
		if _, err := stdin.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	readLine := func() string {
		l, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, l)
		}
		return l
	}
	steps := []struct{ send, want string }{
		{"", DefaultGreeting + "\r\n"},
		{"A1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1 STDIO\r\n"},
		{"", "A1 OK CAPABILITY completed\r\n"},
		{"A2 APPEND INBOX {5}\r\n", "+\r\n"},
		{"hello\r\n", "A2 OK appended\r\n"},
		{"A3 LOGOUT\r\n", "* BYE IMAP4ref1 Server logging out\r\n"},
		{"", "A3 OK LOGOUT completed\r\n"},
	}
	for _, st := range steps {
		if st.send != "" {
			write(st.send)
		}
		if got := readLine(); got != st.want {
			t.Fatalf("after %q: got %q, want %q", st.send, got, st.want)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("subprocess: %v", err)
	}
}
