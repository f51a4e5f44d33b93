package imapengine

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"sync"
)

// DialStream runs argv as a subprocess and speaks IMAP over its standard input
// and output (imaplib's IMAP4_stream), for example a preauthenticated
// "/usr/lib/dovecot/imap". Unlike imaplib the command is executed directly,
// never through a shell, and the same line and literal limits apply as on a
// socket. Shutdown kills and reaps the child.
func DialStream(ctx context.Context, argv []string, opts *Options) (*Client, error) {
	if len(argv) == 0 {
		return nil, errors.New("imapengine: DialStream needs a command")
	}
	c := newClient(opts)
	if c.opts.Timeout < 0 {
		return nil, ErrInvalidTimeout
	}
	sc, err := startStream(argv, c.opts.Stderr)
	if err != nil {
		return nil, err
	}
	c.kind = kindStream
	c.attach(nil, sc, sc)
	if err := c.connect(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// streamConn joins a child's stdout (read) and stdin (write).
type streamConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	once   sync.Once
	err    error
}

func startStream(argv []string, stderr io.Writer) (*streamConn, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &streamConn{cmd: cmd, stdin: stdin, stdout: stdout}, nil
}

func (s *streamConn) Read(p []byte) (int, error)  { return s.stdout.Read(p) }
func (s *streamConn) Write(p []byte) (int, error) { return s.stdin.Write(p) }

// Close closes the pipes, kills the child and waits for it, so no zombie is left.
func (s *streamConn) Close() error {
	s.once.Do(func() {
		s.stdin.Close()
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		s.err = s.cmd.Wait()
	})
	return nil
}
