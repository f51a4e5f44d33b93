// Package devserver is the embedded default IMAP server that `go run
// ./cmd/bridge` uses when it has no configuration: an in-process server
// (github.com/emersion/go-imap/v2's imapserver with its in-memory backend,
// imapmemserver) listening on a loopback port, with one demo user, realistic
// sample mail in several folders, and new mail delivered to INBOX now and
// then (Options.Deliver, Options.DeliverMax) so live push is visible.
//
// It speaks plain IMAP (no TLS) and accepts LOGIN in the clear, which is only
// acceptable because it listens on 127.0.0.1. It is a development aid, not a
// mail server: everything lives in memory and is lost on Close.
//
// Sessions that IDLE on a mailbox are told about new mail, expunges and flag
// changes made by other sessions (and by Deliver) through go-imap's
// MailboxTracker, which the in-memory backend uses for every mailbox.
//
// Limits of the backend (go-imap v2.0.0-beta.8): no CONDSTORE or QRESYNC
// (no MODSEQ, no VANISHED), no \Recent, no QUOTA, ACL, METADATA, SORT or
// THREAD; flags and keywords are stored and returned in lower case
// ("\seen"), which RFC 3501 allows for system flags but which loses a
// keyword's spelling; PERMANENTFLAGS lists only the flags in use plus \*.
package devserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Defaults and limits.
const (
	// DefaultUser and DefaultPassword are the demo credentials.
	DefaultUser     = "demo"
	DefaultPassword = "demo"
	// DefaultDeliverInterval is how often new mail arrives when
	// Options.Deliver is zero: calm enough that a demo left open does not
	// bury its sample mail.
	DefaultDeliverInterval = 30 * time.Second
	// DefaultDeliverMax is how many messages automatic delivery brings
	// when Options.DeliverMax is zero; then it stops (Server.Deliver still
	// works).
	DefaultDeliverMax = 20
	// MinDeliverInterval is the shortest accepted delivery interval; shorter
	// positive values are raised to it so a typo cannot flood the server.
	MinDeliverInterval = 100 * time.Millisecond
	// MaxInboxMessages bounds INBOX: when a delivery would exceed it, the
	// oldest messages are expunged first, so a server left running keeps a
	// bounded memory footprint (about MaxInboxMessages × 10 KiB).
	MaxInboxMessages = 500
	// MaxUserLength bounds Options.User and Options.Password.
	MaxUserLength = 256
	// ListenAddr is where the server listens: an ephemeral loopback port.
	ListenAddr = "127.0.0.1:0"
)

// Errors.
var (
	// ErrClosed is returned by Deliver after Close.
	ErrClosed = errors.New("devserver: server closed")
	// ErrInvalidOptions is returned by Start for an unusable Options value.
	ErrInvalidOptions = errors.New("devserver: invalid options")
)

// Options configures Start. The zero value is usable.
type Options struct {
	// User and Password are the demo account's credentials (default
	// DefaultUser / DefaultPassword). They must be non-empty after defaults,
	// at most MaxUserLength bytes and free of control characters. Danger: the
	// server accepts them in the clear over plain TCP on loopback.
	User, Password string
	// Deliver is the interval between automatic deliveries of new mail to
	// INBOX: 0 means DefaultDeliverInterval, a negative value disables
	// automatic delivery (Server.Deliver still works), and positive values
	// below MinDeliverInterval are raised to it.
	Deliver time.Duration
	// DeliverMax caps automatic delivery: after this many new messages it
	// stops. 0 means DefaultDeliverMax, a negative value means no cap (INBOX
	// stays bounded by MaxInboxMessages either way).
	DeliverMax int
	// Logger receives the server's warnings and delivery errors; nil
	// discards them.
	Logger *slog.Logger
	// Seed makes the generated mail deterministic: the same seed gives the
	// same messages (dates are relative to the start time).
	Seed int64
}

// Server is a running embedded IMAP server. Its methods are safe for
// concurrent use.
type Server struct {
	imap     *imapserver.Server
	ln       net.Listener
	user     *imapmemserver.User
	name     string
	password string
	log      *slog.Logger
	meta     *folderMeta

	deliverMu sync.Mutex // serialises Deliver and guards gen
	gen       *generator

	mu     sync.Mutex
	closed bool
	conns  map[*trackedConn]struct{}

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	stopCtx   func() bool
}

// Start seeds the mail store, listens on ListenAddr (plain IMAP on loopback)
// and starts automatic delivery. The server runs until Close is called or ctx
// ends, whichever is first; ctx does not bound Start itself beyond that.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("devserver: start: %w", err)
	}
	name, password, interval, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		name:     name,
		password: password,
		log:      logger,
		gen:      newGenerator(opts.Seed, name),
		conns:    make(map[*trackedConn]struct{}),
		done:     make(chan struct{}),
	}
	s.user = imapmemserver.NewUser(name, password)
	s.meta, err = seed(s.user, s.gen, time.Now())
	if err != nil {
		return nil, err
	}
	s.imap = imapserver.New(&imapserver.Options{
		NewSession:   s.newSession,
		Caps:         capabilities(),
		Logger:       printfLogger{logger},
		InsecureAuth: true, // loopback only; see the package doc
	})
	ln, err := net.Listen("tcp", ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("devserver: listen: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.serve(&trackingListener{Listener: ln, s: s})
	if interval > 0 {
		s.wg.Add(1)
		go s.deliverLoop(interval, deliverMax(opts.DeliverMax))
	}
	s.stopCtx = context.AfterFunc(ctx, func() { _ = s.Close() })
	logger.Info("devserver: listening", "addr", ln.Addr().String(), "user", name)
	return s, nil
}

// deliverMax resolves Options.DeliverMax: the number of automatic
// deliveries, or -1 for no cap.
func deliverMax(n int) int {
	switch {
	case n == 0:
		return DefaultDeliverMax
	case n < 0:
		return -1
	}
	return n
}

// resolve applies the defaults of opts and validates it.
func resolve(opts Options) (name, password string, interval time.Duration, err error) {
	name, password = opts.User, opts.Password
	if name == "" {
		name = DefaultUser
	}
	if password == "" {
		password = DefaultPassword
	}
	for _, v := range []string{name, password} {
		if len(v) > MaxUserLength {
			return "", "", 0, fmt.Errorf("%w: user or password longer than %d bytes", ErrInvalidOptions, MaxUserLength)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return "", "", 0, fmt.Errorf("%w: control character in user or password", ErrInvalidOptions)
			}
		}
	}
	switch interval = opts.Deliver; {
	case interval == 0:
		interval = DefaultDeliverInterval
	case interval > 0 && interval < MinDeliverInterval:
		interval = MinDeliverInterval
	}
	return name, password, interval, nil
}

// capabilities are the extensions advertised on top of IMAP4rev1. Each is
// implemented by imapmemserver or by this package's session wrapper
// (SPECIAL-USE, CREATE-SPECIAL-USE and CHILDREN in its LIST).
func capabilities() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1:        {},
		imap.CapNamespace:        {},
		imap.CapUIDPlus:          {},
		imap.CapESearch:          {},
		imap.CapSearchRes:        {},
		imap.CapListExtended:     {},
		imap.CapListStatus:       {},
		imap.CapMove:             {},
		imap.CapStatusSize:       {},
		imap.CapBinary:           {},
		imap.CapChildren:         {},
		imap.CapSpecialUse:       {},
		imap.CapCreateSpecialUse: {},
		imap.CapLiteralPlus:      {},
	}
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string {
	return s.ln.Addr().String()
}

// User returns the demo account's credentials.
func (s *Server) User() (name, password string) {
	return s.name, s.password
}

// Deliver appends one new, unread, realistic message to INBOX now. Sessions
// idling on INBOX receive "* N EXISTS". When INBOX already holds
// MaxInboxMessages, its oldest messages are expunged first.
func (s *Server) Deliver() error {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	if err := trimInbox(s.user, MaxInboxMessages-1); err != nil {
		return err
	}
	m := s.gen.live(time.Now())
	if _, err := s.user.Append("INBOX", bytes.NewReader(m.raw), &imap.AppendOptions{Time: m.date}); err != nil {
		return fmt.Errorf("devserver: deliver: %w", err)
	}
	return nil
}

// Close stops delivery, closes the listener and every connection, and waits
// for the server's goroutines. It is idempotent; every call returns the same
// result.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stopCtx()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		// Deliver checks done under deliverMu, so once done is closed under
		// it no delivery is in flight or can start.
		s.deliverMu.Lock()
		close(s.done)
		s.deliverMu.Unlock()
		if cerr := s.imap.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = fmt.Errorf("devserver: close: %w", cerr)
		}
		// A connection accepted just before the listener closed may not be
		// known to imapserver yet; close every one this package tracked.
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Conn.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return err
}

// serve runs the IMAP server on ln until Close.
func (s *Server) serve(ln net.Listener) {
	defer s.wg.Done()
	if err := s.imap.Serve(ln); err != nil {
		s.log.Warn("devserver: serve", "err", err)
	}
}

// deliverLoop calls Deliver every interval until Close or until it has
// delivered limit messages (limit < 0: no cap).
func (s *Server) deliverLoop(interval time.Duration, limit int) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; limit < 0 || n < limit; n++ {
		select {
		case <-s.done:
			return
		case <-t.C:
			if err := s.Deliver(); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Warn("devserver: delivery failed", "err", err)
			}
		}
	}
}

// printfLogger adapts a slog.Logger to imapserver.Logger.
type printfLogger struct{ l *slog.Logger }

// Printf logs one imapserver message at warning level.
func (p printfLogger) Printf(format string, args ...any) {
	p.l.Warn("devserver: " + fmt.Sprintf(format, args...))
}
