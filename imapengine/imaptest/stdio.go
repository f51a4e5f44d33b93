package imaptest

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// ServeConn serves one connection on any stream (for example a subprocess's
// stdin and stdout) with cfg, and returns when the session ends. rw is closed
// on return. Server.Value and friends are reachable through Conn.Server.
func ServeConn(rw io.ReadWriteCloser, cfg Config) {
	s := newServer(nil, cfg)
	var tc *tls.Conn
	if cfg.TLS {
		tcfg, err := s.tlsConfig()
		if err != nil {
			_ = rw.Close()
			return
		}
		nc, ok := rw.(net.Conn)
		if !ok {
			nc = rwConn{rw}
		}
		tc = tls.Server(nc, tcfg)
	}
	c := s.track(rw, tc)
	if c == nil {
		return
	}
	s.wg.Add(1)
	s.serve(c)
}

// Stdio returns the process's standard input and output as one stream for
// ServeConn, for a test binary that re-executes itself as an IMAP server
// subprocess (the stdio transport). Closing it closes both.
func Stdio() io.ReadWriteCloser { return stdio{r: os.Stdin, w: os.Stdout} }

type stdio struct {
	r io.ReadCloser
	w io.WriteCloser
}

func (s stdio) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s stdio) Close() error                { return errors.Join(s.r.Close(), s.w.Close()) }

// SetReadDeadline forwards to standard input when it supports deadlines
// (pipes usually do), so Conn.ClientSentNothing works over stdio.
func (s stdio) SetReadDeadline(t time.Time) error {
	if d, ok := s.r.(deadliner); ok {
		return d.SetReadDeadline(t)
	}
	return ErrNoDeadline
}
