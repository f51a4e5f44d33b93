package bridge

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/imapbridge/imapbridge/cluster"
)

// ForwardedTicketHeader marks a transfer request one replica passed to the
// replica holding its ticket; the receiver never passes it on again (no
// loops). It grants nothing: the ticket stays the credential.
const ForwardedTicketHeader = "X-Imapbridge-Ticket-Forwarded"

// Forwarding a transfer to the replica holding its ticket: connecting is
// bounded by TicketForwardTimeout; the response headers, once the request
// (an upload's whole body) is written, by TicketForwardResponseTimeout (the
// IMAP APPEND completes in between). The body then streams for as long as
// the transfer takes.
const (
	TicketForwardTimeout         = 10 * time.Second
	TicketForwardResponseTimeout = 60 * time.Second
)

// announceTicket records in Redis that this replica holds ticket id (with
// Config.Cluster and Config.ClusterAddr; best effort: with Redis away the
// ticket works on this replica only).
func (s *Server) announceTicket(ctx context.Context, id string, expires time.Time) {
	if s.cfg.Cluster == nil || s.cfg.ClusterAddr == "" {
		return
	}
	if err := s.cfg.Cluster.SetTicketHome(ctx, id, s.cfg.ClusterAddr, time.Until(expires)); err != nil {
		s.met.clusterFallbacks.Inc()
	}
}

// forwardTicket passes a transfer request for a ticket this replica does
// not hold to the replica that does, streaming both ways; false when no
// replica announced it (the caller answers 403 as for any unknown ticket).
func (s *Server) forwardTicket(w http.ResponseWriter, r *http.Request, id string) bool {
	if s.cfg.Cluster == nil || s.cfg.ClusterAddr == "" || r.Header.Get(ForwardedTicketHeader) != "" {
		return false
	}
	home, err := s.cfg.Cluster.TicketHome(r.Context(), id)
	switch {
	case errors.Is(err, cluster.ErrNoTicket), err == nil && home == s.cfg.ClusterAddr:
		return false
	case err != nil:
		s.met.clusterFallbacks.Inc()
		return false
	}
	target := &url.URL{Scheme: "http", Host: home}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(ForwardedTicketHeader, "1")
			pr.SetXForwarded()
		},
		Transport:     s.forwardTransport(),
		FlushInterval: -1, // downloads stream as the IMAP literal arrives
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			s.log.Info("transfer forward failed", "home", home, "err", errSummary(err))
			http.Error(w, "the replica holding this ticket is unreachable", http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
	return true
}

// forwardTransport is the HTTP client transport to the other replicas: no
// keep-alive (a transfer is large; no idle connection outlives it).
func (s *Server) forwardTransport() http.RoundTripper {
	s.fwdOnce.Do(func() {
		s.fwd = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: TicketForwardTimeout}).DialContext,
			ResponseHeaderTimeout: TicketForwardResponseTimeout,
			DisableKeepAlives:     true,
			DisableCompression:    true,
		}
	})
	return s.fwd
}
