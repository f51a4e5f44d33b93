package bridge

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/cluster"
)

// RecommendedAccountConnections is a sensible Upstream.MaxConnectionsPerAccount
// for the big providers: Gmail allows 15 IMAP connections per account and
// Microsoft 365 about 20; staying below leaves room for the user's other
// clients.
const RecommendedAccountConnections = 10

// Cluster-related limits.
const (
	// DefaultRevocationCache is how many recent revocations a replica keeps
	// in memory, to refuse a revoked token while Redis is away.
	DefaultRevocationCache = 10000
	// MaxAdminBody bounds a request to the admin endpoint.
	MaxAdminBody = 4 << 10
)

// ReasonTokenRevoked is the close reason (4401) of a session whose token or
// user was revoked.
const ReasonTokenRevoked = "token revoked"

// admission is what a session or transfer holds against the budgets; release
// gives all of it back.
type admission struct{ release func() }

// limitError is a refused admission: the message for the browser, and when
// retrying may help.
type limitError struct {
	msg        string
	retryAfter time.Duration
}

func (e *limitError) Error() string { return e.msg }

// reason is the close reason: the message and the SDK's retry hint.
func (e *limitError) reason() string {
	if e.retryAfter <= 0 {
		return e.msg
	}
	return e.msg + "; " + protocol.RetryAfterReason(e.retryAfter)
}

// admit counts one IMAP connection for claims on ups against the per-user
// session cap (sessions only) and the per-account connection cap, on this
// replica and, with a Cluster, across every replica. With Redis away the
// per-replica caps alone apply (the degraded mode, docs/deploy.md).
func (s *Server) admit(ctx context.Context, c *auth.Claims, ups *Upstream, session bool) (*admission, error) {
	var undo []func()
	release := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	type budget struct {
		key, what string
		limit     int
	}
	// Sessions and transfers share the per-user cap, as on one replica.
	what := "too many sessions for this user"
	if !session {
		what = "too many connections for this user"
	}
	budgets := []budget{{"user:" + c.Subject, what, s.lim.SessionsPerUser}}
	if ups.MaxConnectionsPerAccount > 0 {
		budgets = append(budgets, budget{"account:" + ups.Name + ":" + c.IMAPUser, "too many IMAP connections for this account", ups.MaxConnectionsPerAccount})
	}
	for _, b := range budgets {
		if !s.reg.acquireUser(b.key, b.limit) {
			release()
			return nil, &limitError{msg: b.what, retryAfter: 0}
		}
		undo = append(undo, func() { s.reg.releaseUser(b.key) })
		if s.cfg.Cluster == nil {
			continue
		}
		l, err := s.cfg.Cluster.Acquire(ctx, b.key, b.limit)
		var be *cluster.BudgetError
		switch {
		case err == nil:
			undo = append(undo, l.Release)
		case errors.As(err, &be):
			release()
			s.met.refused.WithLabelValues("cluster_budget").Inc()
			return nil, &limitError{msg: b.what + " (all replicas)", retryAfter: be.RetryAfter}
		default: // Redis away: the per-replica cap above is what holds
			s.met.clusterFallbacks.Inc()
		}
	}
	return &admission{release: release}, nil
}

// clusterHandshake counts a WebSocket handshake of ip against the
// handshake rate per client IP shared by every replica (limits
// HandshakesPerIP/HandshakeBurst, the same figures as the per-replica
// limiter, which always applies first); false with the wait when it is
// exceeded. Without a Cluster, or with Redis away, only the per-replica
// limiter holds (the degraded mode).
func (s *Server) clusterHandshake(ctx context.Context, ip netip.Addr) (time.Duration, bool) {
	if s.cfg.Cluster == nil || !ip.IsValid() {
		return 0, true
	}
	err := s.cfg.Cluster.Allow(ctx, "ip:"+ip.String(), s.lim.HandshakesPerIP, s.lim.HandshakeBurst)
	var re *cluster.RateError
	switch {
	case err == nil:
		return 0, true
	case errors.As(err, &re):
		return re.RetryAfter, false
	default:
		s.met.clusterFallbacks.Inc()
		return 0, true
	}
}

// revocations is a replica's memory of recent revocations, for the time
// Redis cannot be asked.
type revocations struct {
	mu   sync.Mutex
	list []cluster.Revocation
	max  int
}

func (r *revocations) add(v cluster.Revocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) >= r.max {
		r.list = append(r.list[:0], r.list[len(r.list)/2:]...)
	}
	r.list = append(r.list, v)
}

func (r *revocations) match(c *auth.Claims) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.list {
		if v.Matches(c.ID, c.Subject, c.IssuedAt) {
			return true
		}
	}
	return false
}

// revoked reports whether the verified token c was revoked: one of the
// revocations this replica has heard of (which also covers Redis being
// away, or restarted without its data), else asked of Redis.
func (s *Server) revoked(ctx context.Context, c *auth.Claims) bool {
	if s.cfg.Cluster == nil {
		return false
	}
	if s.revs.match(c) { // heard of it: holds even after Redis lost its data
		return true
	}
	ok, err := s.cfg.Cluster.Revoked(ctx, c.ID, c.Subject, c.IssuedAt)
	if err != nil {
		s.met.clusterFallbacks.Inc()
		return false
	}
	return ok
}

// HandleRevocation closes, with 4401 "token revoked", every session on this
// replica whose token r covers, and remembers r for Redis outages. Wire it
// to cluster.Options.OnRevoke.
func (s *Server) HandleRevocation(r cluster.Revocation) {
	s.revs.add(r)
	for _, sess := range s.reg.snapshot() {
		if c := sess.claimsOrNil(); c != nil && r.Matches(c.ID, c.Subject, c.IssuedAt) {
			s.met.refused.WithLabelValues("revoked").Inc()
			sess.closeWith(protocol.CloseAuth, ReasonTokenRevoked)
		}
	}
}

// RecheckRevocations asks Redis about every live session's token and closes
// the revoked ones: announcements may have been missed while the
// subscription was down. Wire it to cluster.Options.OnResubscribe.
func (s *Server) RecheckRevocations() {
	for _, sess := range s.reg.snapshot() {
		c := sess.claimsOrNil()
		if c == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, cluster.DefaultOpTimeout)
		ok, err := s.cfg.Cluster.Revoked(ctx, c.ID, c.Subject, c.IssuedAt)
		cancel()
		if err != nil {
			return // Redis away again; the next resubscription rechecks
		}
		if ok {
			sess.closeWith(protocol.CloseAuth, ReasonTokenRevoked)
		}
	}
}

// RevokeRequest is the body of POST /admin/revoke: exactly one of JTI (one
// token) and User (every token of the user issued until now, and so all the
// user's sessions).
type RevokeRequest struct {
	JTI  string `json:"jti,omitempty"`
	User string `json:"user,omitempty"`
}

// AdminHandler serves POST /admin/revoke, authenticated by "Authorization:
// Bearer <token>" compared in constant time. It needs Config.Cluster (the
// revocation must reach every replica) and is meant for a listener of its
// own that only operators reach; an empty token refuses everything.
func (s *Server) AdminHandler(token []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/revoke", func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if len(token) == 0 || !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if s.cfg.Cluster == nil {
			http.Error(w, "revocation needs the cluster (Redis) configured", http.StatusNotImplemented)
			return
		}
		var req RevokeRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxAdminBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		rev := cluster.Revocation{JTI: req.JTI, User: req.User}
		if mt := s.cfg.Verifier.MaxLifetime(); mt > 0 {
			rev.Until = time.Now().Add(mt + s.cfg.Verifier.Leeway() + time.Minute)
		}
		rev, err := s.cfg.Cluster.Revoke(r.Context(), rev)
		switch {
		case errors.Is(err, cluster.ErrBadArgument):
			http.Error(w, "bad request: name exactly one of jti and user", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "redis unavailable", http.StatusServiceUnavailable)
			return
		}
		s.log.Info("revoked", "jti", rev.JTI != "", "user", rev.User)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"revoked": true, "at": rev.At})
	})
	return mux
}

// clusterStatus is the /readyz detail line of the coordination.
func (s *Server) clusterStatus() string {
	if s.cfg.Cluster == nil {
		return ""
	}
	st := s.cfg.Cluster.Status()
	if st.Healthy {
		return fmt.Sprintf("cluster: ok (%d leases)\n", st.Leases)
	}
	return fmt.Sprintf("cluster: degraded since %s (per-replica limits only): %s\n", st.Since.UTC().Format(time.RFC3339), st.Err)
}
