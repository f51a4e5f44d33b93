package bridge

import "time"

// Default limits (security.md §3). Every one is a field of Limits.
const (
	DefaultMaxFrameSize       = 64 << 10         // inbound WebSocket message
	DefaultOutboundQueue      = 256              // outbound frames waiting for a slow browser
	DefaultOutboundBytes      = 8 << 20          // outbound bytes waiting
	DefaultWriteTimeout       = 10 * time.Second // one WebSocket write; past it the browser is "too slow"
	DefaultMaxInFlight        = 8                // requests accepted but not yet answered, per session
	DefaultSessionsPerUser    = 5                // concurrent sessions (IMAP connections) per token subject
	DefaultFramesPerSecond    = 20               // inbound frames per second per socket ...
	DefaultFrameBurst         = 40               // ... with this burst
	DefaultHandshakesPerIP    = 10               // WebSocket handshakes per second per client IP ...
	DefaultHandshakeBurst     = 20               // ... with this burst
	DefaultMaxSessions        = 10000            // global sessions
	DefaultAuthDeadline       = 10 * time.Second // from upgrade to a verified token
	DefaultPingInterval       = 25 * time.Second
	DefaultPongTimeout        = 10 * time.Second
	DefaultMaxTokenSize       = 8 << 10
	DefaultShutdownTimeout    = 10 * time.Second
	DefaultReconnectJitterMax = 5 * time.Second       // upper bound of the retry-after delay sent on shutdown
	DefaultMaxBodyBytes       = 64 << 20              // one fetched body section sent to the browser
	DefaultMaxAppendBytes     = 35 << 20              // one appended message
	DefaultIPLimiters         = 10000                 // per-IP limiter entries kept
	DefaultUpstreamReadBuffer = 8 << 10               // each IMAP connection's read buffer (idle sessions are the common case)
	DefaultIdleDelay          = 25 * time.Millisecond // quiet time after a request before the session re-enters IDLE
)

// Limits bounds what one browser, one user and all of them can use. Zero
// fields take the defaults above.
type Limits struct {
	MaxFrameSize       int64
	OutboundQueue      int
	OutboundBytes      int
	WriteTimeout       time.Duration
	MaxInFlight        int
	SessionsPerUser    int
	FramesPerSecond    float64
	FrameBurst         int
	HandshakesPerIP    float64
	HandshakeBurst     int
	MaxSessions        int
	AuthDeadline       time.Duration
	PingInterval       time.Duration
	PongTimeout        time.Duration
	MaxTokenSize       int
	ShutdownTimeout    time.Duration
	ReconnectJitterMax time.Duration
	MaxBodyBytes       int
	MaxAppendBytes     int
	IdleDelay          time.Duration
}

func (l Limits) withDefaults() Limits {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxFrameSize <= 0 {
		l.MaxFrameSize = DefaultMaxFrameSize
	}
	set(&l.OutboundQueue, DefaultOutboundQueue)
	set(&l.OutboundBytes, DefaultOutboundBytes)
	setD(&l.WriteTimeout, DefaultWriteTimeout)
	set(&l.MaxInFlight, DefaultMaxInFlight)
	set(&l.SessionsPerUser, DefaultSessionsPerUser)
	if l.FramesPerSecond <= 0 {
		l.FramesPerSecond = DefaultFramesPerSecond
	}
	set(&l.FrameBurst, DefaultFrameBurst)
	if l.HandshakesPerIP <= 0 {
		l.HandshakesPerIP = DefaultHandshakesPerIP
	}
	set(&l.HandshakeBurst, DefaultHandshakeBurst)
	set(&l.MaxSessions, DefaultMaxSessions)
	setD(&l.AuthDeadline, DefaultAuthDeadline)
	setD(&l.PingInterval, DefaultPingInterval)
	setD(&l.PongTimeout, DefaultPongTimeout)
	set(&l.MaxTokenSize, DefaultMaxTokenSize)
	setD(&l.ShutdownTimeout, DefaultShutdownTimeout)
	setD(&l.ReconnectJitterMax, DefaultReconnectJitterMax)
	set(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	set(&l.MaxAppendBytes, DefaultMaxAppendBytes)
	setD(&l.IdleDelay, DefaultIdleDelay)
	return l
}
