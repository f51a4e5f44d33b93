package protocol

import (
	"encoding/json"
)

// Limits are the session limits announced in the hello frame. Durations
// are in milliseconds.
type Limits struct {
	// MaxFrameBytes is the largest inbound text message (close 1009 above).
	MaxFrameBytes int `json:"maxFrameBytes"`
	// MaxInFlight is the most requests being processed at once.
	MaxInFlight int `json:"maxInFlight"`
	// FramesPerSecond and FrameBurst are the inbound rate limit.
	FramesPerSecond int `json:"framesPerSecond"`
	FrameBurst      int `json:"frameBurst"`
	// OutboundQueue and OutboundQueueBytes bound the frames queued for
	// the client; a client that falls further behind is closed with 1008.
	OutboundQueue      int `json:"outboundQueue"`
	OutboundQueueBytes int `json:"outboundQueueBytes"`
	// PingIntervalMs and PongTimeoutMs are the keepalive settings.
	PingIntervalMs int64 `json:"pingIntervalMs"`
	PongTimeoutMs  int64 `json:"pongTimeoutMs"`
	// MaxDepth is the deepest JSON nesting accepted in a request.
	MaxDepth int `json:"maxDepth"`
}

// DefaultLimits returns the limits of the Default constants.
func DefaultLimits() Limits {
	return Limits{
		MaxFrameBytes:      DefaultMaxFrameBytes,
		MaxInFlight:        DefaultMaxInFlight,
		FramesPerSecond:    DefaultFramesPerSecond,
		FrameBurst:         DefaultFrameBurst,
		OutboundQueue:      DefaultOutboundQueue,
		OutboundQueueBytes: DefaultOutboundQueueBytes,
		PingIntervalMs:     DefaultPingInterval.Milliseconds(),
		PongTimeoutMs:      DefaultPongTimeout.Milliseconds(),
		MaxDepth:           DefaultMaxDepth,
	}
}

// Frame is a server frame: *Hello, *Response, *ImaplibResponse,
// *ErrorFrame or *Event (or the same types as values).
type Frame interface {
	// FrameType returns the "type" member.
	FrameType() string
}

// Hello is the first server frame after successful authentication.
type Hello struct {
	// Protocol is Subprotocol.
	Protocol string `json:"protocol"`
	// Session is the bridge's id of this session (for logs and resync).
	Session string `json:"session"`
	// User is the token's subject.
	User string `json:"user"`
	// Capabilities are the IMAP server's capabilities after login,
	// upper-cased.
	Capabilities []string `json:"capabilities"`
	// Limits are the session's limits.
	Limits Limits `json:"limits"`
	// Seq is the event sequence number before the first event: 0.
	Seq uint64 `json:"seq"`
}

// FrameType implements Frame.
func (Hello) FrameType() string { return TypeHello }

// MarshalJSON implements json.Marshaler, adding "type".
func (h Hello) MarshalJSON() ([]byte, error) {
	type plain Hello
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
	}{TypeHello, plain(h)})
}

// Response answers a typed request. Result is the JSON of one of the
// result types ({} for operations without a result).
type Response struct {
	// ID is the request's id.
	ID string `json:"id"`
	// Result is the typed result.
	Result json.RawMessage `json:"result"`
}

// Result is implemented by the result types of typed operations.
type Result interface {
	// ResultOp returns the operation the result answers (OpCopy for
	// both copy and move, OpCreate for every result-less operation).
	ResultOp() string
}

// NewResponse returns the response frame carrying r for request id.
func NewResponse(id string, r Result) (*Response, error) {
	b, err := Encode(r)
	if err != nil {
		return nil, err
	}
	return &Response{ID: id, Result: b}, nil
}

// DecodeResult decodes the result of r into v (a pointer to a result
// type).
func (r *Response) DecodeResult(v Result) error {
	return json.Unmarshal(r.Result, v)
}

// FrameType implements Frame.
func (Response) FrameType() string { return TypeResponse }

// MarshalJSON implements json.Marshaler, adding "type".
func (r Response) MarshalJSON() ([]byte, error) {
	type plain Response
	if r.Result == nil {
		r.Result = json.RawMessage("{}")
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
	}{TypeResponse, plain(r)})
}

// ImaplibResponse answers an imaplib relay request with imaplib's
// (typ, data) result.
type ImaplibResponse struct {
	// ID is the request's id.
	ID string `json:"id"`
	// Typ is imaplib's typ: "OK", "NO", "BAD" (or "BYE").
	Typ string `json:"typ"`
	// Data is imaplib's data list.
	Data []Datum `json:"data"`
}

// FrameType implements Frame.
func (ImaplibResponse) FrameType() string { return TypeResponse }

// MarshalJSON implements json.Marshaler, adding "type".
func (r ImaplibResponse) MarshalJSON() ([]byte, error) {
	type plain ImaplibResponse
	if r.Data == nil {
		r.Data = []Datum{}
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
	}{TypeResponse, plain(r)})
}

// IMAPError is the IMAP status behind an imap_no or imap_bad error.
type IMAPError struct {
	// Type is "NO" or "BAD" (or "BYE").
	Type string `json:"type"`
	// Code is the response code name, e.g. "TRYCREATE", "" if none.
	Code string `json:"code,omitempty"`
	// Text is the server's human-readable text.
	Text string `json:"text"`
}

// ErrorInfo is the "error" member of an error frame.
type ErrorInfo struct {
	// Code is one of ErrorCodes.
	Code ErrorCode `json:"code"`
	// Message is human-readable and never holds secrets.
	Message string `json:"message"`
	// IMAP is set for imap_no and imap_bad.
	IMAP *IMAPError `json:"imap,omitempty"`
	// Imaplib is set, with Code CodeImaplib, when an imaplib relay call
	// raised one of imaplib's exceptions.
	Imaplib *ImaplibException `json:"imaplib,omitempty"`
	// SMTP is set, with Code CodeSMTP, when the SMTP server refused.
	SMTP *SMTPError `json:"smtp,omitempty"`
}

// The exceptions of CPython's imaplib an imaplib relay call can raise
// (ImaplibException.Exception): IMAP4.error, IMAP4.abort (the connection
// is unusable) and IMAP4.readonly (a subclass of abort: the mailbox is or
// became read-only; the connection stays usable).
const (
	ExceptionError    = "error"
	ExceptionAbort    = "abort"
	ExceptionReadOnly = "readonly"
)

// ImaplibException names the exception CPython's imaplib (3.11) would
// have raised for a relayed call, with its message text (str(exc)).
type ImaplibException struct {
	// Exception is ExceptionError, ExceptionAbort or ExceptionReadOnly.
	Exception string `json:"exception"`
	// Message is imaplib's message, e.g. "FETCH command error: BAD
	// [b'Invalid messageset']" or "command FETCH illegal in state AUTH,
	// only allowed in states SELECTED".
	Message string `json:"message"`
}

// ErrorFrame reports a failed request (ID set) or a session-level
// problem (ID empty, member absent).
type ErrorFrame struct {
	// ID is the request's id, "" when the error is not tied to one.
	ID string `json:"id,omitempty"`
	// Error describes the failure.
	Error ErrorInfo `json:"error"`
}

// FrameType implements Frame.
func (ErrorFrame) FrameType() string { return TypeError }

// MarshalJSON implements json.Marshaler, adding "type".
func (e ErrorFrame) MarshalJSON() ([]byte, error) {
	type plain ErrorFrame
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
	}{TypeError, plain(e)})
}
