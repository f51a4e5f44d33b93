package imaptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// DefaultGreeting is the greeting sent when Config.Greeting is empty, as in
// CPython's SimpleIMAPHandler.
const DefaultGreeting = "* OK IMAP4rev1"

// HandlerFunc answers one command. It runs in the connection's goroutine and
// may read further client lines (continuations) with c.ReadLine.
type HandlerFunc func(c *Conn, cmd *Command)

// Config configures a Server or a ServeConn session. The zero value is a
// plain-TCP server with the built-in handlers.
type Config struct {
	// Greeting is sent (with CRLF) when a client connects; "" means
	// DefaultGreeting.
	Greeting string
	// NoGreeting sends nothing on connect; the Script decides.
	NoGreeting bool
	// Capabilities are extra capabilities: CAPABILITY answers
	// "* CAPABILITY IMAP4rev1 <Capabilities>" ("* CAPABILITY IMAP4rev1" if
	// empty).
	Capabilities string
	// Handlers answer commands by name and override the built-ins. Names
	// are matched case-insensitively (keys are upper-cased); the map is
	// copied when the server starts.
	Handlers map[string]HandlerFunc
	// Script, if set, is called instead of the command loop after the
	// greeting (raw scripting); it may call c.Serve to run the loop. The
	// connection is closed when it returns.
	Script func(c *Conn)
	// TLS serves implicit TLS with the test certificate for "localhost"
	// (see Server.CertPool) or with TLSConfig.
	TLS bool
	// TLSConfig overrides the server's TLS configuration for implicit TLS
	// and Conn.StartTLS (for example MaxVersion: tls.VersionTLS11, or a
	// certificate from NewCert). It is cloned, not modified.
	TLSConfig *tls.Config
	// SplitArgs is accepted for compatibility and ignored: arguments are
	// always split like the 3.16 harness's splitargs.
	SplitArgs bool
}

// Server is a fake IMAP server on 127.0.0.1:0, optionally over TLS. Close
// stops it and waits for every connection goroutine.
//
// NewServer registers Close with t.Cleanup, which runs after the test
// function's deferred calls: a test that checks for leaked goroutines with a
// deferred goleak.VerifyNone must call Close itself first (or verify in
// TestMain instead).
type Server struct {
	t   testing.TB
	cfg Config
	ln  net.Listener

	mu       sync.Mutex
	commands []Command
	values   map[string]any
	conns    map[*Conn]struct{}
	nextID   int
	closed   bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// newServer makes a server that is not listening yet. It copies
// cfg.Handlers with upper-cased keys, so later changes to the caller's map
// do not race with connection goroutines.
func newServer(t testing.TB, cfg Config) *Server {
	handlers := make(map[string]HandlerFunc, len(cfg.Handlers))
	for name, h := range cfg.Handlers {
		handlers[strings.ToUpper(name)] = h
	}
	cfg.Handlers = handlers
	return &Server{t: t, cfg: cfg, values: map[string]any{}, conns: map[*Conn]struct{}{}}
}

// NewServer starts a server on 127.0.0.1:0 and registers Close with
// t.Cleanup. Failing to listen or to make the certificate ends the test.
func NewServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := newServer(t, cfg)
	if cfg.TLS {
		if _, err := s.tlsConfig(); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("imaptest: listen: %v", err)
	}
	s.ln = ln
	t.Cleanup(s.Close)
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Addr returns the listening address, "127.0.0.1:port".
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Port returns the listening TCP port.
func (s *Server) Port() int {
	if s.ln == nil {
		return 0
	}
	if a, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// CertPool returns a pool holding the CA that signed the default test
// certificate (for verified TLS clients connecting to "localhost").
func (s *Server) CertPool() *x509.CertPool {
	_, pool, err := serverCert()
	if err != nil {
		if s.t != nil {
			s.t.Errorf("imaptest: %v", err)
		}
		return x509.NewCertPool()
	}
	return pool
}

// Close stops accepting, closes every connection and waits for every
// goroutine the server started. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := make([]*Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		if s.ln != nil {
			_ = s.ln.Close()
		}
		for _, c := range conns {
			c.close(false)
		}
	})
	s.wg.Wait()
}

// Commands returns every command line received so far, on all connections,
// in arrival order. The result is a copy.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Command, len(s.commands))
	for i, cmd := range s.commands {
		out[i] = cmd.clone()
	}
	return out
}

// LastCommand returns the most recent command named name (case-insensitive).
func (s *Server) LastCommand(name string) (Command, bool) {
	name = strings.ToUpper(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.commands) - 1; i >= 0; i-- {
		if s.commands[i].Name == name {
			return s.commands[i].clone(), true
		}
	}
	return Command{}, false
}

// ConnCount returns how many connections the server has accepted.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextID
}

// Value returns the shared scratch value stored under key (nil if none).
// Built-in handlers use "logged", "is_selected" and "response", like the
// attributes of CPython's test server.
func (s *Server) Value(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// SetValue stores v under key in the shared scratch state; nil deletes it.
func (s *Server) SetValue(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v == nil {
		delete(s.values, key)
		return
	}
	s.values[key] = v
}

func (s *Server) record(cmd Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, cmd.clone())
}

// tlsConfig returns the configuration for implicit TLS and StartTLS.
func (s *Server) tlsConfig() (*tls.Config, error) {
	if s.cfg.TLSConfig != nil {
		return s.cfg.TLSConfig.Clone(), nil
	}
	cert, _, err := serverCert()
	if err != nil {
		return nil, fmt.Errorf("imaptest: test certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && s.t != nil && !s.isClosed() {
				s.t.Errorf("imaptest: accept: %v", err)
			}
			return
		}
		var tc *tls.Conn
		if s.cfg.TLS {
			cfg, err := s.tlsConfig()
			if err != nil {
				_ = nc.Close()
				continue
			}
			tc = tls.Server(nc, cfg)
		}
		c := s.track(nc, tc)
		if c == nil {
			return
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a new connection on raw (served through tc if it is not
// nil), or closes raw and returns nil if the server is shutting down.
func (s *Server) track(raw io.ReadWriteCloser, tc *tls.Conn) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = raw.Close()
		return nil
	}
	s.nextID++
	c := newConn(s, s.nextID, raw)
	if tc != nil {
		c.rw, c.tlsConn = tc, tc
	}
	s.conns[c] = struct{}{}
	return c
}

// serve runs one connection to completion; the caller has done wg.Add(1).
func (s *Server) serve(c *Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	defer c.Close()
	defer s.recoverPanic()

	if !s.cfg.NoGreeting {
		g := s.cfg.Greeting
		if g == "" {
			g = DefaultGreeting
		}
		c.Send(g)
	}
	if s.cfg.Script != nil {
		s.cfg.Script(c)
		return
	}
	c.Serve()
}

func (s *Server) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	msg := fmt.Sprintf("imaptest: handler panic: %v\n%s", r, debug.Stack())
	if s.t != nil {
		s.t.Error(msg)
		return
	}
	fmt.Fprintln(os.Stderr, msg)
}

// Serve runs the command loop on c until the client disconnects, a read
// fails, or a handler closes the connection: read a line, record it (see
// Server.Commands), and dispatch it to Config.Handlers or a built-in. Scripts
// call it to continue normally after raw steps.
func (c *Conn) Serve() {
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		cmd := ParseCommand(line)
		cmd.ConnID = c.id
		c.srv.record(cmd)
		c.dispatch(&cmd)
		if c.isClosed() {
			return
		}
	}
}

// ReadCommand reads, parses and records one command line, for scripts that
// answer commands by hand.
func (c *Conn) ReadCommand() (*Command, error) {
	line, err := c.ReadLine()
	if err != nil {
		return nil, err
	}
	cmd := ParseCommand(line)
	cmd.ConnID = c.id
	c.srv.record(cmd)
	return &cmd, nil
}

func (c *Conn) dispatch(cmd *Command) {
	if h, ok := c.srv.cfg.Handlers[cmd.Name]; ok && h != nil {
		h(c, cmd)
		return
	}
	if h, ok := builtins[cmd.Name]; ok {
		h(c, cmd)
		return
	}
	switch {
	case cmd.Tag == "":
		c.Send("* BAD empty command line")
	case cmd.Name == "":
		c.Tagged(cmd, "BAD missing command name")
	default:
		c.Tagged(cmd, "BAD "+cmd.Name+" unknown")
	}
}
