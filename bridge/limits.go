package bridge

import "time"

// Default limits (security.md §3). Every one is a field of Limits.
const (
	DefaultMaxFrameSize         = 64 << 10         // inbound WebSocket message
	DefaultOutboundQueue        = 256              // outbound frames waiting for a slow browser
	DefaultOutboundBytes        = 8 << 20          // outbound bytes waiting
	DefaultWriteTimeout         = 10 * time.Second // one WebSocket write; past it the browser is "too slow"
	DefaultMaxInFlight          = 8                // requests accepted but not yet answered, per session
	DefaultSessionsPerUser      = 5                // concurrent sessions (IMAP connections) per token subject
	DefaultFramesPerSecond      = 20               // inbound frames per second per socket ...
	DefaultFrameBurst           = 40               // ... with this burst
	DefaultHandshakesPerIP      = 10               // WebSocket handshakes per second per client IP ...
	DefaultHandshakeBurst       = 20               // ... with this burst
	DefaultMaxSessions          = 10000            // global sessions
	DefaultAuthDeadline         = 10 * time.Second // from upgrade to a verified token
	DefaultPingInterval         = 25 * time.Second
	DefaultPongTimeout          = 10 * time.Second
	DefaultMaxTokenSize         = 8 << 10
	DefaultShutdownTimeout      = 10 * time.Second
	DefaultReconnectJitterMax   = 5 * time.Second       // upper bound of the retry-after delay sent on shutdown
	DefaultMaxBodyBytes         = 64 << 20              // one fetched body section sent to the browser
	DefaultMaxAppendBytes       = 35 << 20              // one appended message
	DefaultIPLimiters           = 10000                 // per-IP limiter entries kept
	DefaultUpstreamReadBuffer   = 8 << 10               // each IMAP connection's read buffer (idle sessions are the common case)
	DefaultIdleDelay            = 25 * time.Millisecond // quiet time after a request before the session re-enters IDLE
	DefaultMaxUploadBytes       = 25 << 20              // one message uploaded with an upload ticket (HTTP PUT)
	DefaultTransfersPerUser     = 4                     // concurrent HTTP downloads + uploads per user, each on its own IMAP connection
	DefaultTicketTTL            = 60 * time.Second      // validity of a one-time transfer ticket (security G8: at most 60 s)
	DefaultUploadIdleTimeout    = 60 * time.Second      // an upload that sends no byte for this long is abandoned
	DefaultTicketsPerUser       = 64                    // unused tickets kept per user; more are refused
	DefaultSortFallbackMessages = 5000                  // most messages sort/thread handles in the bridge when the server lacks SORT/THREAD
	DefaultWatchPollInterval    = 30 * time.Second      // status polling interval of a watch without NOTIFY
	DefaultWatchPollBudget      = 20                    // STATUS commands per polling round (LIST-STATUS counts one); larger sets go round-robin
	DefaultWatchMaxMailboxes    = 1000                  // most mailboxes one watch covers
	DefaultWSReadBuffer         = 1 << 10               // each WebSocket's read buffer (larger frames are read straight into their memory)
	DefaultWSWriteBuffer        = 1 << 10               // each WebSocket's write buffer (larger frames are written straight from theirs)
	DefaultMaxRecipients        = 100                   // envelope recipients (to + cc + bcc) of one submit
	DefaultMaxSubmitBytes       = 25 << 20              // one submitted message when the SMTP server announces no SIZE
	DefaultSendsPerMinute       = 10                    // submits per user (token subject) per minute, with this burst
	DefaultSubmitTimeout        = 2 * time.Minute       // one whole SMTP submission (connect to final reply)
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
	// Transfers (downloads and uploads over HTTP with one-time tickets).
	MaxUploadBytes    int64
	TransfersPerUser  int
	TicketTTL         time.Duration // capped at DefaultTicketTTL
	UploadIdleTimeout time.Duration
	TicketsPerUser    int
	// Sort, thread and status watching (docs/protocol.md "sort, thread", "watch").
	SortFallbackMessages int
	WatchPollInterval    time.Duration
	WatchPollBudget      int
	WatchMaxMailboxes    int
	// WebSocket buffers, held for a session's whole life (net/http's own are
	// 4 KiB each); frames larger than them bypass them.
	WSReadBuffer  int
	WSWriteBuffer int
	// Submission (submit op; the server's SIZE, when announced, replaces
	// MaxSubmitBytes).
	MaxRecipients  int
	MaxSubmitBytes int64
	SendsPerMinute int
	SubmitTimeout  time.Duration
}

func (l Limits) withDefaults() Limits {
	orDefault(&l.MaxFrameSize, DefaultMaxFrameSize)
	orDefault(&l.OutboundQueue, DefaultOutboundQueue)
	orDefault(&l.OutboundBytes, DefaultOutboundBytes)
	orDefault(&l.WriteTimeout, DefaultWriteTimeout)
	orDefault(&l.MaxInFlight, DefaultMaxInFlight)
	orDefault(&l.SessionsPerUser, DefaultSessionsPerUser)
	orDefault(&l.FramesPerSecond, DefaultFramesPerSecond)
	orDefault(&l.FrameBurst, DefaultFrameBurst)
	orDefault(&l.HandshakesPerIP, DefaultHandshakesPerIP)
	orDefault(&l.HandshakeBurst, DefaultHandshakeBurst)
	orDefault(&l.MaxSessions, DefaultMaxSessions)
	orDefault(&l.AuthDeadline, DefaultAuthDeadline)
	orDefault(&l.PingInterval, DefaultPingInterval)
	orDefault(&l.PongTimeout, DefaultPongTimeout)
	orDefault(&l.MaxTokenSize, DefaultMaxTokenSize)
	orDefault(&l.ShutdownTimeout, DefaultShutdownTimeout)
	orDefault(&l.ReconnectJitterMax, DefaultReconnectJitterMax)
	orDefault(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	orDefault(&l.MaxAppendBytes, DefaultMaxAppendBytes)
	orDefault(&l.IdleDelay, DefaultIdleDelay)
	orDefault(&l.MaxUploadBytes, DefaultMaxUploadBytes)
	orDefault(&l.TransfersPerUser, DefaultTransfersPerUser)
	orDefault(&l.TicketTTL, DefaultTicketTTL)
	l.TicketTTL = min(l.TicketTTL, DefaultTicketTTL)
	orDefault(&l.UploadIdleTimeout, DefaultUploadIdleTimeout)
	orDefault(&l.TicketsPerUser, DefaultTicketsPerUser)
	orDefault(&l.SortFallbackMessages, DefaultSortFallbackMessages)
	orDefault(&l.WatchPollInterval, DefaultWatchPollInterval)
	orDefault(&l.WatchPollBudget, DefaultWatchPollBudget)
	orDefault(&l.WatchMaxMailboxes, DefaultWatchMaxMailboxes)
	orDefault(&l.WSReadBuffer, DefaultWSReadBuffer)
	orDefault(&l.WSWriteBuffer, DefaultWSWriteBuffer)
	orDefault(&l.MaxRecipients, DefaultMaxRecipients)
	orDefault(&l.MaxSubmitBytes, DefaultMaxSubmitBytes)
	orDefault(&l.SendsPerMinute, DefaultSendsPerMinute)
	orDefault(&l.SubmitTimeout, DefaultSubmitTimeout)
	return l
}

// orDefault replaces a zero or negative limit with its default.
func orDefault[T int | int64 | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
