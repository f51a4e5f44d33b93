package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/imapengine"
)

// Errors of the bridge's configuration and policy.
var (
	ErrConfig    = errors.New("bridge: invalid configuration")
	ErrForbidden = errors.New("bridge: forbidden")
)

// Config configures a Server. Upstreams, AllowedOrigins and Verifier are
// required; everything else has a safe default.
type Config struct {
	// Upstreams are the IMAP servers tokens may name; DefaultUpstream is used
	// when a token names none.
	Upstreams       []Upstream
	DefaultUpstream string
	// AllowedOrigins lists the exact browser origins ("https://app.example.com")
	// allowed to open a WebSocket and to call the HTTP routes (CORS). No
	// wildcards.
	AllowedOrigins []string
	// AllowMissingOrigin accepts upgrades without an Origin header (non-browser
	// clients). Off by default: the endpoint is for browsers.
	AllowMissingOrigin bool
	// AllowQueryToken accepts the token in the URL (?token=). Off by default:
	// URLs end up in logs. Development only.
	AllowQueryToken bool
	// Verifier checks session tokens.
	Verifier *auth.Verifier
	// Limits bound every resource; zero fields take defaults.
	Limits Limits
	// IMAP are the engine options for upstream connections (timeouts, limits).
	IMAP imapengine.Options
	// Idle tunes the keep-alive of idle sessions.
	Idle imapengine.IdleOptions
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Logger receives JSON-able structured logs; secrets never reach it.
	Logger *slog.Logger
	// Registerer receives the Prometheus metrics; nil means a private registry
	// served at /metrics, which also has the Go runtime (go_*) and process
	// (process_*) collectors.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Cluster, if set, shares the per-user session cap and the per-account
	// IMAP connection cap with every replica using the same Redis, and
	// refuses revoked tokens (package cluster). Wire its OnRevoke to
	// HandleRevocation and OnResubscribe to RecheckRevocations. Nil: every
	// limit is this process's own.
	Cluster *cluster.Coordinator
	// ClusterAddr is this replica's HTTP address as the other replicas reach
	// it (host:port, e.g. the pod IP and port). With Cluster set, a transfer
	// ticket issued here is announced in Redis (by a hash of it, pointing at
	// ClusterAddr), and a transfer request for a ticket of another replica is
	// passed to that replica, so the one-time URLs work on whichever replica
	// the load balancer picks. Empty: tickets work on the issuing replica only.
	ClusterAddr string
	// Resolver and Dial replace DNS and the network dial (tests).
	Resolver *net.Resolver
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
}

// Server is the bridge: an http.Handler serving /ws (the WebSocket endpoint),
// /healthz, /readyz and /metrics. Each authenticated WebSocket owns one
// dedicated IMAP connection.
type Server struct {
	cfg       Config
	lim       Limits
	log       *slog.Logger
	upstreams map[string]*Upstream
	origins   *originPolicy
	reg       *registry
	ipLimit   *ipLimiter
	met       *metrics
	mux       *http.ServeMux
	ctx       context.Context
	cancel    context.CancelFunc
	ready     atomic.Bool
	nextID    atomic.Uint64
	tickets   *ticketStore
	sends     *sendLimiter
	revs      *revocations
	fwdOnce   sync.Once         // fwd, made at the first forwarded transfer
	fwd       http.RoundTripper // to the replica holding a ticket (ticketfwd.go)
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Verifier == nil {
		return nil, fmt.Errorf("%w: a token verifier is required", ErrConfig)
	}
	if len(cfg.Upstreams) == 0 {
		return nil, fmt.Errorf("%w: no upstream", ErrConfig)
	}
	if len(cfg.AllowedOrigins) == 0 && !cfg.AllowMissingOrigin {
		return nil, fmt.Errorf("%w: no allowed origin", ErrConfig)
	}
	s := &Server{cfg: cfg, lim: cfg.Limits.withDefaults(), upstreams: map[string]*Upstream{}, reg: newRegistry(),
		revs: &revocations{max: DefaultRevocationCache}}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for i := range cfg.Upstreams {
		u := cfg.Upstreams[i]
		if err := u.validate(); err != nil {
			return nil, err
		}
		if _, dup := s.upstreams[u.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate upstream %q", ErrConfig, u.Name)
		}
		u.initLogins()
		s.upstreams[u.Name] = &u
	}
	if cfg.DefaultUpstream != "" && s.upstreams[cfg.DefaultUpstream] == nil {
		return nil, fmt.Errorf("%w: default upstream %q not defined", ErrConfig, cfg.DefaultUpstream)
	}
	op, err := newOriginPolicy(cfg.AllowedOrigins, cfg.AllowMissingOrigin)
	if err != nil {
		return nil, err
	}
	s.origins = op
	s.ipLimit = newIPLimiter(s.lim.HandshakesPerIP, s.lim.HandshakeBurst, DefaultIPLimiters)
	reg, gat := cfg.Registerer, cfg.Gatherer
	if reg == nil {
		// The private registry also carries the Go runtime and process
		// collectors (a Registerer of the caller's has its own, if it wants them).
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, gat = r, r
	}
	s.met = newMetrics(reg)
	s.ctx, s.cancel = context.WithCancel(context.Background())

	// CORS answers exactly the WebSocket's origins: a page whose /readyz
	// request is refused knows its origin is not allowed (docs/protocol.md §7).
	c := cors.New(cors.Options{AllowOriginFunc: op.allow, AllowedMethods: []string{http.MethodGet, http.MethodPost}, MaxAge: 600})
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /ws", s.serveWS)
	s.tickets = newTicketStore()
	s.sends = newSendLimiter(s.lim.SendsPerMinute)
	tc := cors.New(cors.Options{AllowedOrigins: cfg.AllowedOrigins, AllowedMethods: []string{http.MethodGet, http.MethodPut},
		AllowedHeaders: []string{"Content-Type"}, ExposedHeaders: []string{"Content-Length", "Content-Disposition"}, MaxAge: 600})
	s.mux.Handle(TransferPath+"{ticket}", tc.Handler(http.HandlerFunc(s.serveTransfer)))
	s.mux.Handle("GET /healthz", c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})))
	s.mux.Handle("GET /readyz", c.Handler(http.HandlerFunc(s.serveReady)))
	if gat != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(gat, promhttp.HandlerOpts{}))
	}
	s.ready.Store(true)
	return s, nil
}

// ServeHTTP routes /ws, /healthz, /readyz and /metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n" + s.clusterStatus()))
}

// Sessions returns the number of live sessions.
func (s *Server) Sessions() int { return s.reg.count() }

// clientIP returns the peer address, or the last X-Forwarded-For hop when
// the peer is a trusted proxy.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			xff := r.Header.Get("X-Forwarded-For")
			if i := strings.LastIndexByte(xff, ','); i >= 0 {
				xff = xff[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(xff)); err == nil {
				return a.Unmap()
			}
			break
		}
	}
	return ip
}

// serveWS checks the handshake (caps, rate, origin, subprotocol) before
// accepting, then runs the session. No IMAP connection is made before the
// token is verified.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		s.met.refused.WithLabelValues("shutdown").Inc()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if s.reg.count() >= s.lim.MaxSessions {
		s.met.refused.WithLabelValues("global_cap").Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many sessions", http.StatusServiceUnavailable)
		return
	}
	if !s.ipLimit.allow(s.clientIP(r)) {
		s.met.refused.WithLabelValues("ip_rate").Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many handshakes", http.StatusTooManyRequests)
		return
	}
	if wait, ok := s.clusterHandshake(r.Context(), s.clientIP(r)); !ok {
		s.met.refused.WithLabelValues("ip_rate_cluster").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		http.Error(w, "too many handshakes (all replicas)", http.StatusTooManyRequests)
		return
	}
	if !s.origins.allow(r.Header.Get("Origin")) {
		s.met.refused.WithLabelValues("origin").Inc()
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	token, offered := tokenFromSubprotocols(r.Header.Values("Sec-WebSocket-Protocol"))
	if !offered {
		s.met.refused.WithLabelValues("subprotocol").Inc()
		http.Error(w, "subprotocol "+protocol.Subprotocol+" required", http.StatusBadRequest)
		return
	}
	if len(token) > s.lim.MaxTokenSize {
		s.met.refused.WithLabelValues("token_size").Inc()
		http.Error(w, "token too large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	if token == "" && s.cfg.AllowQueryToken {
		token = r.URL.Query().Get("token")
	}
	conn, err := websocket.Accept(&smallBuffers{ResponseWriter: w, lim: &s.lim}, r, &websocket.AcceptOptions{
		Subprotocols:       []string{protocol.Subprotocol},
		InsecureSkipVerify: true, // the Origin allow-list above is the check
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	conn.SetReadLimit(s.lim.MaxFrameSize)
	sess := newSession(s, conn, s.clientIP(r))
	sess.origin = r.Header.Get("Origin")
	if !s.reg.add(sess, s.lim.MaxSessions) {
		conn.Close(protocol.CloseTryLater, "server busy")
		return
	}
	s.met.sessions.Inc()
	s.met.sessionsOpen.Inc()
	// The session runs in a goroutine of its own and the handler returns:
	// net/http's connection goroutine, its request and its buffers are freed
	// (the registry's wait group is what Shutdown waits for).
	go func() {
		defer s.reg.remove(sess)
		defer s.met.sessions.Dec()
		sess.run(token)
	}()
}

// tokenFromSubprotocols finds "imapbridge.v1" and an optional "bearer.<jwt>"
// among the offered subprotocols.
func tokenFromSubprotocols(values []string) (token string, offered bool) {
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			switch {
			case p == protocol.Subprotocol:
				offered = true
			case strings.HasPrefix(p, protocol.BearerPrefix):
				token = strings.TrimPrefix(p, protocol.BearerPrefix)
			}
		}
	}
	return token, offered
}

// Shutdown stops accepting sessions, tells every client to reconnect after a
// jittered delay (close 1012), logs every IMAP connection out, and waits for
// the sessions to end or ctx to expire; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	live := s.reg.startClosing()
	for _, sess := range live {
		d := time.Duration(rand.Int64N(int64(s.lim.ReconnectJitterMax) + 1))
		sess.closeWith(protocol.CloseRestart, protocol.RetryAfterReason(d))
	}
	done := make(chan struct{})
	go func() {
		s.reg.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel() // forces every session down
		<-done
		return ctx.Err()
	}
}
