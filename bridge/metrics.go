package bridge

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bridge's Prometheus metrics.
type metrics struct {
	sessions     prometheus.Gauge
	sessionsOpen prometheus.Counter
	commands     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	events       *prometheus.CounterVec
	pushLatency  prometheus.Histogram
	refused      *prometheus.CounterVec
	errors       *prometheus.CounterVec
	closes       *prometheus.CounterVec
	// clusterFallbacks counts admissions and revocation checks decided
	// without Redis (the degraded mode).
	clusterFallbacks prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imapbridge_sessions", Help: "Live WebSocket sessions."}),
		sessionsOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imapbridge_sessions_opened_total", Help: "Sessions opened."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imapbridge_commands_total", Help: "Requests handled, by op and status."}, []string{"op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imapbridge_command_seconds", Help: "Request latency from frame read to response queued, by op.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"op"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imapbridge_events_pushed_total", Help: "Events pushed to browsers, by event."}, []string{"event"}),
		pushLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imapbridge_push_latency_seconds", Help: "From the IMAP read of an unsolicited response to its WebSocket write.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10)}),
		clusterFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imapbridge_cluster_fallbacks_total", Help: "Admissions and revocation checks decided by per-replica state because Redis did not answer."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imapbridge_refused_total", Help: "Handshakes and sessions refused, by reason."}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imapbridge_errors_total", Help: "Error frames sent to browsers, by protocol error code (docs/protocol.md)."}, []string{"code"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imapbridge_session_closes_total", Help: "Sessions ended by the bridge, by WebSocket close code (4401 token, 4429 limit, 4503 upstream, 1012 restart…)."}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.sessions, m.sessionsOpen, m.commands, m.latency, m.events, m.pushLatency, m.refused, m.errors, m.closes, m.clusterFallbacks)
	}
	return m
}
