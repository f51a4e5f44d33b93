package protocol

import "time"

// Subprotocol is the WebSocket subprotocol name of this contract version.
// The server selects exactly this value and never echoes any other.
const Subprotocol = "imapbridge.v1"

// BearerPrefix starts the optional second Sec-WebSocket-Protocol value
// that carries the token ("bearer.<jwt>").
const BearerPrefix = "bearer."

// Request operations (the "op" of a request frame).
const (
	OpAuth        = "auth"
	OpLogin       = "login"
	OpImaplib     = "imaplib"
	OpSelect      = "select"
	OpList        = "list"
	OpStatus      = "status"
	OpFetch       = "fetch"
	OpSearch      = "search"
	OpStore       = "store"
	OpCopy        = "copy"
	OpMove        = "move"
	OpExpunge     = "expunge"
	OpAppend      = "append"
	OpDownload    = "download"
	OpUpload      = "upload"
	OpCreate      = "create"
	OpDelete      = "delete"
	OpSubscribe   = "subscribe"
	OpUnsubscribe = "unsubscribe"
	OpRename      = "rename"
	OpNoop        = "noop"
	OpLogout      = "logout"
	OpSubmit      = "submit"
	OpSaveDraft   = "saveDraft"
)

// Ops lists every request operation, in documentation order.
var Ops = []string{
	OpAuth, OpLogin, OpImaplib, OpSelect, OpList, OpStatus, OpFetch,
	OpSearch, OpStore, OpCopy, OpMove, OpExpunge, OpAppend, OpDownload, OpUpload, OpCreate,
	OpDelete, OpSubscribe, OpUnsubscribe, OpRename, OpNoop, OpLogout,
	OpFind, OpSort, OpThread, OpWatch, OpUnwatch,
	OpSubmit, OpSaveDraft,
}

// Server frame types (the "type" of a server frame).
const (
	TypeHello    = "hello"
	TypeResponse = "response"
	TypeError    = "error"
	TypeEvent    = "event"
)

// Event kinds (the "event" of an event frame).
const (
	EventExists       = "exists"
	EventExpunge      = "expunge"
	EventFlags        = "flags"
	EventVanished     = "vanished"
	EventRecent       = "recent"
	EventMailboxReset = "mailbox_reset"
	EventAlert        = "alert"
	EventBye          = "bye"
	EventState        = "state"
)

// Events lists every event kind, in documentation order.
var Events = []string{
	EventExists, EventExpunge, EventFlags, EventVanished, EventRecent,
	EventMailboxReset, EventAlert, EventBye, EventState, EventStatus,
}

// Session states carried by the "state" event.
const (
	StateReady        = "ready"
	StateIdle         = "idle"
	StateBusy         = "busy"
	StateReconnecting = "reconnecting"
	StateClosing      = "closing"
)

// Store modes of a store request.
const (
	StoreAdd    = "add"
	StoreRemove = "remove"
	StoreSet    = "set"
)

// Fetch items of a fetch request ("items").
const (
	ItemUID           = "uid"
	ItemFlags         = "flags"
	ItemEnvelope      = "envelope"
	ItemBodyStructure = "bodystructure"
	ItemSize          = "size"
	ItemInternalDate  = "internaldate"
	ItemModSeq        = "modseq"
	// Gmail's X-GM-MSGID, X-GM-THRID and X-GM-LABELS (X-GM-EXT-1 only).
	ItemGmailMsgID    = "gmailMsgId"
	ItemGmailThreadID = "gmailThreadId"
	ItemGmailLabels   = "gmailLabels"
)

// Status items of status and list requests, in IMAP spelling.
const (
	StatusMessages      = "MESSAGES"
	StatusRecent        = "RECENT"
	StatusUIDNext       = "UIDNEXT"
	StatusUIDValidity   = "UIDVALIDITY"
	StatusUnseen        = "UNSEEN"
	StatusHighestModSeq = "HIGHESTMODSEQ"
)

// Close codes of the WebSocket connection (RFC 6455 §7.4 and the
// application range 4000–4999). They are untyped so that they convert to
// any WebSocket library's status type.
const (
	// CloseNormal: the session ended at the client's or server's request
	// (after logout).
	CloseNormal = 1000
	// CloseGoingAway: the server is shutting down and will not be back
	// soon; reconnect with backoff.
	CloseGoingAway = 1001
	// ClosePolicy: policy violation (origin, auth deadline, rate limit,
	// slow consumer); do not retry without changing something.
	ClosePolicy = 1008
	// CloseTooBig: an inbound frame exceeded the frame-size limit.
	CloseTooBig = 1009
	// CloseInternal: unexpected server error; retry with backoff.
	CloseInternal = 1011
	// CloseRestart: the server restarts; reconnect after the delay in the
	// close reason ("retry-after-ms=N", see RetryAfterReason).
	CloseRestart = 1012
	// CloseTryLater: the bridge's global session cap was reached, or the
	// upstream's login rate would keep the session waiting too long; retry
	// later with backoff.
	CloseTryLater = 1013
	// CloseAuth: the token expired (reason ReasonTokenExpired) or was
	// refused (any other reason); get a new token before reconnecting.
	CloseAuth = 4401
	// CloseSessionLimit: the user (the token's sub) already has the
	// configured number of sessions; retrying helps only once one of them
	// ends, so retry slowly.
	CloseSessionLimit = 4429
	// CloseUpstream: the IMAP server is unreachable, refused the
	// connection or dropped it; reconnect with backoff.
	CloseUpstream = 4503
)

// Close reasons a client may rely on (the others are free text).
const (
	// ReasonTokenExpired is CloseAuth's reason when the session reached
	// the token's exp (plus leeway) after it was accepted.
	ReasonTokenExpired = "token expired"
)

// Default limits announced in the hello frame and applied by the bridge
// unless configured otherwise. docs/protocol.md lists them with their
// meaning.
const (
	// DefaultMaxFrameBytes is the largest inbound text message.
	DefaultMaxFrameBytes = 64 << 10
	// DefaultOutboundQueue is the most server frames queued for a socket
	// before the session is closed with ClosePolicy.
	DefaultOutboundQueue = 256
	// DefaultOutboundQueueBytes is the most bytes queued for a socket.
	DefaultOutboundQueueBytes = 8 << 20
	// DefaultWriteTimeout bounds one WebSocket write.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxInFlight is the most requests of one session being
	// processed or waiting for the IMAP connection.
	DefaultMaxInFlight = 8
	// DefaultSessionsPerUser is the most concurrent sessions of one token
	// subject.
	DefaultSessionsPerUser = 5
	// DefaultFramesPerSecond and DefaultFrameBurst configure the inbound
	// token-bucket rate limit per socket.
	DefaultFramesPerSecond = 20
	DefaultFrameBurst      = 40
	// DefaultHandshakesPerSecond and DefaultHandshakeBurst limit WebSocket
	// handshakes per client IP.
	DefaultHandshakesPerSecond = 10
	DefaultHandshakeBurst      = 20
	// DefaultAuthDeadline is the time allowed between the upgrade and a
	// successful auth frame.
	DefaultAuthDeadline = 10 * time.Second
	// DefaultPingInterval and DefaultPongTimeout configure the server's
	// WebSocket keepalive.
	DefaultPingInterval = 25 * time.Second
	DefaultPongTimeout  = 10 * time.Second
	// DefaultShutdownGrace bounds graceful shutdown.
	DefaultShutdownGrace = 10 * time.Second
	// MaxTokenBytes is the longest token accepted, checked before parsing.
	MaxTokenBytes = 8 << 10
	// DefaultMaxDepth is the deepest JSON nesting DecodeRequest accepts
	// when given a non-positive bound.
	DefaultMaxDepth = 32
)

// Bounds on request fields, checked by DecodeRequest.
const (
	// MinIDLength and MaxIDLength bound a request id, in characters.
	MinIDLength = 1
	MaxIDLength = 64
	// MaxArgs is the most positional arguments of an imaplib request.
	MaxArgs = 64
	// MaxItems is the most entries of any list field of a request
	// (criteria, flags, items, body sections, status items).
	MaxItems = 256
	// MaxSectionLength is the longest body section specification.
	MaxSectionLength = 512
)
