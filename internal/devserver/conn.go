package devserver

import (
	"net"
	"sync"
)

// trackingListener registers every accepted connection with the Server, so
// Close can close connections imapserver has not registered yet and wait for
// their goroutines.
type trackingListener struct {
	net.Listener
	s *Server
}

// Accept accepts a connection and tracks it; after Close it refuses new ones
// with net.ErrClosed, which ends imapserver's accept loop cleanly.
func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.s.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.s.conns[tc] = struct{}{}
	l.s.wg.Add(1)
	return tc, nil
}

// trackedConn is an accepted connection. Its session's Close (the last thing
// imapserver's connection goroutine does before closing the socket) calls
// release, which ends the tracking exactly once.
type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

// release forgets the connection and marks its goroutine as finished.
func (c *trackedConn) release() {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		c.s.wg.Done()
	})
}
