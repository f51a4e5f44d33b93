package bridgebench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/imapbridge/imapbridge/internal/devserver"
)

// Child is a benchmark's child process (the same binary in another role),
// speaking lines on its stdout. Children keep what the measured process
// must not count (the IMAP server, the WebSocket clients) out of it.
type Child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// StartChild runs this executable with args and extra environment.
func StartChild(env []string, args ...string) (*Child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // result lines hold thousands of numbers
	return &Child{cmd: cmd, stdin: in, out: sc}, nil
}

// Line waits for the child's next output line.
func (c *Child) Line() (string, error) {
	if !c.out.Scan() {
		if err := c.out.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: child ended early", ErrBench)
	}
	return c.out.Text(), nil
}

// Say writes one line to the child's stdin.
func (c *Child) Say(line string) error {
	_, err := io.WriteString(c.stdin, line+"\n")
	return err
}

// Stop closes the child's stdin (its signal to exit) and waits for it.
func (c *Child) Stop() error {
	c.stdin.Close()
	return c.cmd.Wait()
}

// CPUTime is this process's user and system CPU time so far.
func CPUTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// ServeDevserver runs the embedded devserver (no automatic delivery) as a
// child: it prints "addr user password" and serves until stdin closes.
func ServeDevserver(stdin io.Reader, stdout io.Writer) error {
	srv, err := devserver.Start(context.Background(), devserver.Options{Deliver: -1, Seed: 1})
	if err != nil {
		return err
	}
	defer srv.Close()
	u, p := srv.User()
	fmt.Fprintln(stdout, srv.Addr(), u, p)
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}
