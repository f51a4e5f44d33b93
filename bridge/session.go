package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
)

// session is one authenticated WebSocket and its dedicated IMAP connection.
//
// Goroutines: run (the owner) starts a frame reader and itself executes
// requests in order, idling the IMAP connection (IdleLoop, in run's own
// goroutine) whenever a mailbox is selected and nothing is pending; a request
// arriving interrupts the idle. A writer goroutine runs only while frames are
// queued, the pinger only while a ping is in flight (a timer in between), and
// the closer only once the session ends; the engine runs onEvent the same way
// (a dispatcher only while events wait). So an idle session holds three
// goroutines: run (in IDLE), the frame reader and the engine's reader
// (bench/bridge measures the memory this saves). Every goroutine ends before
// run returns.
type session struct {
	srv    *Server
	conn   *websocket.Conn
	ip     netip.Addr
	id     string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	claims   *auth.Claims
	shared   atomic.Pointer[auth.Claims] // claims, for other goroutines (revocation)
	ups      *Upstream
	client   *imapengine.Client
	loggedIn bool
	origin   string // the upgrade's Origin: transfer tickets are bound to it
	// password is the browser's IMAP password in credential mode
	// "password", kept (never logged) to open transfer connections.
	password string

	// The outbound queue: frames wait in outQ (at most Limits.OutboundQueue,
	// allocated as frames arrive, dropped when drained) for a writer
	// goroutine that runs only while outQ is not empty.
	outMu       sync.Mutex
	outQ        []*outFrame   // guarded by outMu
	writing     bool          // a writer goroutine is running (guarded by outMu)
	writeFailed bool          // a write failed: later frames are dropped (guarded by outMu)
	outClosed   bool          // the close frame is going out: frames are dropped (guarded by outMu)
	outIdle     chan struct{} // closed when the writer stops (guarded by outMu)
	outBytes    atomic.Int64
	connClosed  chan struct{} // closed once closeConn has sent the close frame
	// upstreamDone is closed once the IMAP connection is logged out and the
	// session's places (admission) are given back: a restart's close frame
	// (1012) waits for it, so the browser's reconnect, on whichever replica,
	// finds its place free instead of a 4429 (issue 18).
	upstreamDone chan struct{}
	adm          *admission    // the session's places; released by finish
	queued       chan struct{} // closed by finish: no more answers will be queued
	executing    atomic.Bool   // execLoop has started: the closer waits for queued
	requests     chan received

	idleMu   sync.Mutex
	idleStop context.CancelFunc // ends the IdleLoop in progress (guarded by idleMu)

	evMu      sync.Mutex
	evSeq     uint64
	mailbox   string            // selected mailbox (guarded by evMu)
	lastState string            // last state event sent (guarded by evMu)
	uidVals   map[string]uint32 // last UIDVALIDITY seen per mailbox (executor only)
	watchEv   *watcher          // the status watch, for onEvent (guarded by evMu)

	// Executor only: the status watch, its poll signal (from the watch
	// timer) and the envelopes of a fallback sort.
	watch     *watcher
	pollC     chan struct{}
	envelopes *envelopeCache

	pingMu      sync.Mutex
	pingTimer   *time.Timer
	pingStopped bool

	closeOnce   sync.Once
	closeCode   websocket.StatusCode
	closeReason string
}

// reasonTooSlow is the close reason for a browser that does not keep up.
const reasonTooSlow = "too slow"

// outFrame is one encoded server frame waiting for the writer.
type outFrame struct {
	data     []byte
	event    string    // event name, for metrics
	received time.Time // when the IMAP data behind an event was read
}

// received is one decoded request with its arrival time.
type received struct {
	req protocol.Request
	at  time.Time
}

func newSession(s *Server, conn *websocket.Conn, ip netip.Addr) *session {
	ctx, cancel := context.WithCancel(s.ctx)
	id := strconv.FormatUint(s.nextID.Add(1), 36) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	return &session{
		srv: s, conn: conn, ip: ip, id: id, ctx: ctx, cancel: cancel,
		log:          s.log.With("session", id),
		connClosed:   make(chan struct{}),
		upstreamDone: make(chan struct{}),
		queued:       make(chan struct{}),
		requests:     make(chan received, s.lim.MaxInFlight),
		uidVals:      map[string]uint32{},
		pollC:        make(chan struct{}, 1),
	}
}

// closeWith ends the session with a WebSocket close code; the first call wins.
func (s *session) closeWith(code websocket.StatusCode, reason string) {
	s.closeOnce.Do(func() {
		s.closeCode, s.closeReason = code, reason
		s.srv.met.closes.WithLabelValues(strconv.Itoa(int(code))).Inc()
		s.cancel()
	})
}

// run drives the session to its end.
//
// The WebSocket is read with contexts that are never cancelled: coder/websocket
// tears a connection down without a close frame when a Read's context ends.
// Instead, once the session's context ends, closeConn sends the close frame
// (after the writer has flushed), which also ends any pending Read.
func (s *session) run(token string) {
	defer s.cancel()
	var wg sync.WaitGroup
	// The closer is a goroutine only from the moment the session ends.
	context.AfterFunc(s.ctx, s.closeConn)

	if err := s.authenticate(token); err != nil {
		s.finish(&wg)
		return
	}
	adm, err := s.srv.admit(s.ctx, s.claims, s.ups, true)
	if err != nil {
		le := err.(*limitError)
		s.srv.met.refused.WithLabelValues("user_cap").Inc()
		s.sendError("", protocol.CodeLimit, le.msg, nil)
		s.closeWith(protocol.CloseSessionLimit, le.reason())
		s.finish(&wg)
		return
	}
	s.adm = adm // released by finish, before a restart's close frame

	// The token's expiry ends the session (4401), with the verifier's leeway.
	exp := time.AfterFunc(time.Until(s.claims.ExpiresAt.Add(s.srv.cfg.Verifier.Leeway())), func() {
		s.closeWith(protocol.CloseAuth, protocol.ReasonTokenExpired)
	})
	defer exp.Stop()

	if err := s.connectUpstream(); err != nil {
		s.finish(&wg)
		return
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.readLoop() }()
	s.startPings(&wg)
	s.sendHello()
	s.executing.Store(true)
	s.execLoop()
	s.finish(&wg)
}

// finish logs the IMAP connection out, lets closeConn close the WebSocket
// and waits for the session's goroutines.
func (s *session) finish(wg *sync.WaitGroup) {
	s.closeWith(websocket.StatusNormalClosure, "")
	s.stopPings()
	// Requests accepted but never started are answered too (security F13:
	// every in-flight request gets a response or an error frame).
	for drained := false; !drained; {
		select {
		case r := <-s.requests:
			s.sendError(r.req.RequestID(), protocol.CodeUnavailable, "session closing", nil)
		default:
			drained = true
		}
	}
	close(s.queued)
	s.stopWatchTimer()
	if s.client != nil {
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = s.client.Logout(lctx)
		cancel()
		s.client.Shutdown()
	}
	if s.adm != nil {
		s.adm.release()
	}
	close(s.upstreamDone)
	<-s.connClosed
	s.waitWriter()
	wg.Wait()
	s.log.Debug("session closed", "code", int(s.closeCode), "reason", s.closeReason)
}

// claimsOrNil returns the session's verified claims, nil before authentication.
func (s *session) claimsOrNil() *auth.Claims { return s.shared.Load() }

// closeConn runs once the session's context ends: it waits for the
// executor's last answers to be queued and written (unless the browser is too
// slow to read them), then sends the close frame with the session's code. A
// Read in progress returns once the peer answers the close (or the handshake
// times out).
func (s *session) closeConn() {
	defer close(s.connClosed)
	if s.closeReason != reasonTooSlow {
		<-s.queuedOrIdle()
	}
	if s.closeCode == protocol.CloseRestart {
		<-s.upstreamDone // logged out and places released: the reconnect is admitted
	}
	for {
		s.outMu.Lock()
		// Too slow: the writer drops what is queued and stops after the
		// write in progress (bounded by WriteTimeout), which would otherwise
		// hold back the close frame.
		if !s.writing {
			s.outClosed = true
			s.outMu.Unlock()
			break
		}
		idle := s.writerIdleLocked()
		s.outMu.Unlock()
		<-idle
	}
	_ = s.conn.Close(s.closeCode, s.closeReason)
}

// writerIdleLocked returns a channel closed when the writer goroutine stops.
func (s *session) writerIdleLocked() chan struct{} {
	if s.outIdle == nil {
		s.outIdle = make(chan struct{})
	}
	return s.outIdle
}

// waitWriter waits until no writer goroutine runs.
func (s *session) waitWriter() {
	s.outMu.Lock()
	if !s.writing {
		s.outMu.Unlock()
		return
	}
	idle := s.writerIdleLocked()
	s.outMu.Unlock()
	<-idle
}

// authenticate verifies the token from the subprotocol, or from the first
// frame within the auth deadline. No IMAP connection exists before it.
func (s *session) authenticate(token string) error {
	id := ""
	if token == "" {
		deadline := time.AfterFunc(s.srv.lim.AuthDeadline, func() {
			s.closeWith(protocol.ClosePolicy, "authentication deadline")
		})
		typ, data, err := s.conn.Read(context.Background())
		deadline.Stop()
		if err != nil {
			s.closeWith(protocol.ClosePolicy, "authentication deadline")
			return err
		}
		req, err := s.decode(typ, data)
		if err != nil {
			s.closeWith(protocol.ClosePolicy, "authentication required")
			return err
		}
		ar, ok := req.(*protocol.AuthRequest)
		if !ok {
			s.sendError(req.RequestID(), protocol.CodeAuth, "the first frame must be auth", nil)
			s.closeWith(protocol.ClosePolicy, "authentication required")
			return ErrForbidden
		}
		id, token = ar.ID, ar.Token
	}
	if len(token) > s.srv.lim.MaxTokenSize {
		s.sendError(id, protocol.CodeAuth, "token too large", nil)
		s.closeWith(protocol.CloseAuth, "invalid token")
		return auth.ErrTokenTooLarge
	}
	claims, err := s.srv.cfg.Verifier.Verify(token)
	if err != nil {
		s.srv.met.refused.WithLabelValues("token").Inc()
		s.sendError(id, protocol.CodeAuth, "invalid or expired token", nil)
		s.closeWith(protocol.CloseAuth, "invalid token")
		return err
	}
	name := claims.Upstream
	if name == "" {
		name = s.srv.cfg.DefaultUpstream
	}
	ups := s.srv.upstreams[name]
	if ups == nil {
		s.sendError(id, protocol.CodeForbidden, "unknown upstream", nil)
		s.closeWith(protocol.ClosePolicy, "unknown upstream")
		return ErrForbidden
	}
	if s.srv.revoked(s.ctx, claims) {
		s.srv.met.refused.WithLabelValues("revoked").Inc()
		s.sendError(id, protocol.CodeAuth, ReasonTokenRevoked, nil)
		s.closeWith(protocol.CloseAuth, ReasonTokenRevoked)
		return ErrForbidden
	}
	s.claims, s.ups = claims, ups
	s.shared.Store(claims)
	s.log = s.log.With("user", claims.Subject, "upstream", ups.Name)
	return nil
}

// DefaultEngineEventQueue bounds the engine's event queue
// (imapengine.Options.EventQueue) on upstream connections when Config.IMAP
// leaves it zero. onEvent never blocks (it encodes and queues the frame, or
// closes a slow consumer), so a short queue suffices (the engine allocates
// it only while events wait).
const DefaultEngineEventQueue = 64

// connectUpstream dials the IMAP server and, except in password mode (the
// browser sends a login frame), authenticates.
func (s *session) connectUpstream() error {
	opts := s.srv.cfg.IMAP
	opts.OnEvent = s.onEvent
	if opts.Limits.ReadBufferSize == 0 {
		opts.Limits.ReadBufferSize = DefaultUpstreamReadBuffer
	}
	if opts.EventQueue == 0 {
		opts.EventQueue = DefaultEngineEventQueue
	}
	opts.Logger = nil // engine traces are off in the bridge; secrets never reach logs anyway
	d := &Dialer{Resolver: s.srv.cfg.Resolver, AllowPrivate: s.ups.AllowPrivate, Dial: s.srv.cfg.Dial}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	c, err := s.ups.dial(ctx, s.claims.IMAPUser, d, opts)
	var lre *LoginRateError
	if errors.As(err, &lre) {
		s.srv.met.refused.WithLabelValues("login_rate").Inc()
		s.sendError("", protocol.CodeLimit, "IMAP login rate limit: retry later", nil)
		s.closeWith(protocol.CloseTryLater, "upstream login rate")
		return err
	}
	if err != nil {
		s.log.Info("upstream connect failed", "err", errSummary(err))
		s.sendError("", protocol.CodeUnavailable, "IMAP server unavailable", nil)
		s.closeWith(protocol.CloseUpstream, "upstream unavailable")
		return err
	}
	s.client = c
	if s.ups.Security == SecurityStdio || c.State() != imapengine.StateNonAuth {
		s.loggedIn = true
		return nil
	}
	switch s.claims.Credential {
	case auth.CredentialMaster:
		if s.ups.MasterUser == "" {
			s.sendError("", protocol.CodeForbidden, "master login not configured for this upstream", nil)
			s.closeWith(protocol.ClosePolicy, "forbidden")
			return ErrForbidden
		}
		_, err = c.AuthenticateSASL(ctx, imapengine.PlainAuth(s.claims.IMAPUser, s.ups.MasterUser, s.ups.MasterPassword))
	case auth.CredentialOAuth:
		mech := imapengine.XOAuth2(s.claims.IMAPUser, s.claims.OAuthToken)
		if s.ups.OAuthMechanism == "OAUTHBEARER" {
			mech = imapengine.OAuthBearer(s.claims.IMAPUser, s.claims.OAuthToken, "", 0)
		}
		_, err = c.AuthenticateSASL(ctx, mech)
	default:
		return nil // password mode: wait for the login frame
	}
	if err != nil {
		if errors.Is(err, imapengine.ErrTooManyConnections) {
			// Not a credential problem, and retrying at once cannot help.
			s.sendError("", protocol.CodeLimit, MsgTooManyConnections, imapErr(err))
			s.closeWith(protocol.CloseAuth, MsgTooManyConnections)
			return err
		}
		s.sendError("", protocol.CodeAuth, "IMAP authentication failed", imapErr(err))
		s.closeWith(protocol.CloseAuth, "IMAP authentication failed")
		return err
	}
	s.loggedIn = true
	return nil
}

func (s *session) sendHello() {
	lim := protocol.DefaultLimits()
	h := protocol.Hello{Protocol: protocol.Subprotocol, Session: s.id, User: s.claims.Subject,
		Capabilities: s.client.Capabilities(), Limits: lim}
	s.sendFrame(h, "", time.Time{})
}

// decode checks and decodes one inbound message.
func (s *session) decode(typ websocket.MessageType, data []byte) (protocol.Request, error) {
	if typ != websocket.MessageText {
		s.closeWith(protocol.ClosePolicy, "binary frames are not accepted")
		return nil, ErrForbidden
	}
	if !utf8.Valid(data) {
		s.closeWith(websocket.StatusInvalidFramePayloadData, "invalid UTF-8")
		return nil, ErrForbidden
	}
	req, err := protocol.DecodeRequest(data, 32)
	if err != nil {
		var pe *protocol.ProtocolError
		if errors.As(err, &pe) {
			s.sendFrame(pe.Frame(), "", time.Time{})
		} else {
			s.sendError("", protocol.CodeBadRequest, "malformed frame", nil)
		}
		return nil, err
	}
	return req, nil
}

// readLoop reads frames, applies the rate and in-flight limits, and queues
// requests for the executor.
func (s *session) readLoop() {
	lim := rate.NewLimiter(rate.Limit(s.srv.lim.FramesPerSecond), s.srv.lim.FrameBurst)
	strikes := 0
	for {
		typ, data, err := s.conn.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			switch {
			case errors.As(err, &ce):
				s.closeWith(websocket.StatusNormalClosure, "")
			case websocket.CloseStatus(err) == websocket.StatusMessageTooBig:
				s.closeWith(protocol.CloseTooBig, "frame too big")
			default:
				// coder/websocket closes with 1002 (1009) itself for most
				// violations, but reports an unmasked client frame or a
				// negative length without a close frame: say 1002 here (a
				// no-op when the library has already closed, or the session
				// is ending for another reason).
				s.closeWith(websocket.StatusProtocolError, "protocol error")
			}
			return
		}
		at := time.Now()
		if !lim.Allow() {
			strikes++
			if strikes > s.srv.lim.FrameBurst {
				s.closeWith(protocol.ClosePolicy, "rate limit")
				return
			}
			s.sendError(peekID(data), protocol.CodeLimit, "rate limit: slow down", nil)
			continue
		}
		strikes = 0
		req, err := s.decode(typ, data)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			continue
		}
		select {
		case s.requests <- received{req: req, at: at}:
			s.interruptIdle()
		default:
			s.sendError(req.RequestID(), protocol.CodeLimit, "too many requests in flight", nil)
		}
	}
}

// peekID extracts a request id for an error frame without trusting the frame.
func peekID(data []byte) string {
	var h struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &h) != nil || len(h.ID) > 64 {
		return ""
	}
	return h.ID
}

// startPings pings the browser every PingInterval from a timer (an idle
// session holds no goroutine for it); a missing pong closes the session.
func (s *session) startPings(wg *sync.WaitGroup) {
	var t *time.Timer
	ping := func() {
		s.pingMu.Lock()
		if s.pingStopped {
			s.pingMu.Unlock()
			return
		}
		wg.Add(1)
		s.pingMu.Unlock()
		defer wg.Done()
		// Not derived from s.ctx: a cancelled write context tears the
		// connection down without a close frame. Ping returns at once when
		// the connection closes.
		ctx, cancel := context.WithTimeout(context.Background(), s.srv.lim.PongTimeout)
		err := s.conn.Ping(ctx)
		cancel()
		if err != nil {
			s.closeWith(protocol.ClosePolicy, "ping timeout")
			return
		}
		s.pingMu.Lock()
		if !s.pingStopped {
			t.Reset(s.srv.lim.PingInterval)
		}
		s.pingMu.Unlock()
	}
	s.pingMu.Lock()
	t = time.AfterFunc(s.srv.lim.PingInterval, ping)
	s.pingTimer = t
	s.pingMu.Unlock()
}

// stopPings stops the keepalive; a ping in progress is waited for by finish.
func (s *session) stopPings() {
	s.pingMu.Lock()
	s.pingStopped = true
	if s.pingTimer != nil {
		s.pingTimer.Stop()
	}
	s.pingMu.Unlock()
}

// writeLoop writes queued frames until the queue is empty, then ends (the
// next frame starts another); a write that exceeds WriteTimeout closes the
// session as a slow consumer. Once a session closing as too slow has ended,
// what is queued is dropped: the browser does not read, flushing would only
// block.
func (s *session) writeLoop() {
	for {
		s.outMu.Lock()
		if len(s.outQ) == 0 || s.writeFailed || (s.ctx.Err() != nil && s.closeReason == reasonTooSlow) {
			for _, f := range s.outQ {
				s.outBytes.Add(-int64(len(f.data)))
			}
			s.outQ = nil
			s.writing = false
			if s.outIdle != nil {
				close(s.outIdle)
				s.outIdle = nil
			}
			s.outMu.Unlock()
			return
		}
		f := s.outQ[0]
		s.outQ[0] = nil
		s.outQ = s.outQ[1:]
		s.outMu.Unlock()
		if !s.write(f) {
			s.outMu.Lock()
			s.writeFailed = true
			s.outMu.Unlock()
		}
	}
}

// queuedOrIdle is closed once no more answers will be queued: at once before
// the executor has started (authentication blocks on a Read that only the
// close frame ends), else when finish closes queued.
func (s *session) queuedOrIdle() <-chan struct{} {
	if !s.executing.Load() {
		return closedChan
	}
	return s.queued
}

// closedChan is a closed channel.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (s *session) write(f *outFrame) bool {
	ctx, cancel := context.WithTimeout(context.Background(), s.srv.lim.WriteTimeout)
	err := s.conn.Write(ctx, websocket.MessageText, f.data)
	cancel()
	s.outBytes.Add(-int64(len(f.data)))
	if err != nil {
		s.closeWith(protocol.ClosePolicy, reasonTooSlow)
		return false
	}
	if f.event != "" {
		s.srv.met.events.WithLabelValues(f.event).Inc()
		s.srv.met.pushLatency.Observe(time.Since(f.received).Seconds())
	}
	return true
}

// sendFrame queues a frame; a full queue closes the session (slow consumer).
func (s *session) sendFrame(v protocol.Frame, event string, received time.Time) {
	data, err := protocol.Encode(v)
	if err != nil {
		s.log.Error("encode frame", "err", err)
		return
	}
	// The byte budget bounds what waits for a slow browser; one frame alone
	// (a large fetch) may exceed it when nothing else is waiting.
	if n := s.outBytes.Add(int64(len(data))); n > int64(s.srv.lim.OutboundBytes) && n != int64(len(data)) {
		s.outBytes.Add(-int64(len(data)))
		s.closeWith(protocol.ClosePolicy, reasonTooSlow)
		return
	}
	s.outMu.Lock()
	switch {
	case s.outClosed || s.writeFailed:
		s.outMu.Unlock()
		s.outBytes.Add(-int64(len(data)))
		return
	case len(s.outQ) >= s.srv.lim.OutboundQueue:
		s.outMu.Unlock()
		s.outBytes.Add(-int64(len(data)))
		s.closeWith(protocol.ClosePolicy, reasonTooSlow)
		return
	}
	s.outQ = append(s.outQ, &outFrame{data: data, event: event, received: received})
	start := !s.writing
	s.writing = true
	s.outMu.Unlock()
	if start {
		go s.writeLoop()
	}
}

func (s *session) sendError(id string, code protocol.ErrorCode, msg string, ie *protocol.IMAPError) {
	s.sendFrame(protocol.ErrorFrame{ID: id, Error: protocol.ErrorInfo{Code: code, Message: msg, IMAP: ie}}, "", time.Time{})
}

// errSummary renders err for logs: imapengine and net errors never hold secrets.
func errSummary(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprint(err)
}
