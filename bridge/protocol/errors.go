package protocol

import (
	"errors"
	"fmt"
)

// ErrorCode is the "code" of an error frame.
type ErrorCode string

// Error codes of error frames. docs/protocol.md explains when each is sent.
const (
	// CodeAuth: authentication failed or is required first.
	CodeAuth ErrorCode = "auth"
	// CodeForbidden: the token's scopes or the contract forbid the request.
	CodeForbidden ErrorCode = "forbidden"
	// CodeNotFound: the mailbox or message does not exist.
	CodeNotFound ErrorCode = "not_found"
	// CodeBadRequest: the frame is malformed or breaks the contract.
	CodeBadRequest ErrorCode = "bad_request"
	// CodeIMAPNo: the IMAP server answered NO (see the "imap" member).
	CodeIMAPNo ErrorCode = "imap_no"
	// CodeIMAPBad: the IMAP server answered BAD.
	CodeIMAPBad ErrorCode = "imap_bad"
	// CodeAbort: the IMAP connection failed or sent a malformed response;
	// the session will close or reconnect.
	CodeAbort ErrorCode = "abort"
	// CodeTimeout: the command did not complete in time.
	CodeTimeout ErrorCode = "timeout"
	// CodeLimit: a limit was reached (in-flight requests, sizes, rates).
	CodeLimit ErrorCode = "limit"
	// CodeUnavailable: the upstream cannot be reached or the bridge is
	// shutting down.
	CodeUnavailable ErrorCode = "unavailable"
	// CodeImaplib: an imaplib relay call raised one of imaplib's
	// exceptions (ErrorInfo.Imaplib says which, with imaplib's text).
	CodeImaplib ErrorCode = "imaplib"
	// CodeSMTP: the SMTP submission server refused the message (see the
	// "smtp" member); nothing was sent.
	CodeSMTP ErrorCode = "smtp"
	// CodeNotConfigured: the operation needs something the upstream's
	// configuration lacks (submit and saveDraft without an SMTP section).
	CodeNotConfigured ErrorCode = "not_configured"
)

// ErrorCodes lists every error code, in documentation order.
var ErrorCodes = []ErrorCode{
	CodeAuth, CodeForbidden, CodeNotFound, CodeBadRequest, CodeIMAPNo,
	CodeIMAPBad, CodeAbort, CodeTimeout, CodeLimit, CodeUnavailable,
	CodeImaplib, CodeSMTP, CodeNotConfigured,
}

// Sentinel causes of a *ProtocolError. Test for them with errors.Is.
var (
	// ErrSyntax reports a frame that is not well-formed JSON.
	ErrSyntax = errors.New("protocol: malformed JSON")
	// ErrInvalidUTF8 reports invalid UTF-8 or an unpaired surrogate escape.
	ErrInvalidUTF8 = errors.New("protocol: invalid UTF-8")
	// ErrNotObject reports a frame whose top-level value is not an object.
	ErrNotObject = errors.New("protocol: frame is not a JSON object")
	// ErrDuplicateKey reports a key repeated in one object, also when the
	// repetitions differ only in case.
	ErrDuplicateKey = errors.New("protocol: duplicate key")
	// ErrKeyCase reports a key that matches a contract field only when
	// case is ignored, or a key that is not ASCII.
	ErrKeyCase = errors.New("protocol: key not spelled as in the contract")
	// ErrUnknownField reports a key the request type does not have.
	ErrUnknownField = errors.New("protocol: unknown field")
	// ErrTrailingData reports bytes after the frame's JSON value.
	ErrTrailingData = errors.New("protocol: trailing data after frame")
	// ErrTooDeep reports nesting deeper than the decoder's bound.
	ErrTooDeep = errors.New("protocol: nesting too deep")
	// ErrNumber reports a number that is not an integer or does not fit
	// its field.
	ErrNumber = errors.New("protocol: number out of range")
	// ErrFieldType reports a value of the wrong JSON type for its field.
	ErrFieldType = errors.New("protocol: wrong type for field")
	// ErrUnknownOp reports a missing or unknown "op".
	ErrUnknownOp = errors.New("protocol: unknown op")
	// ErrInvalidField reports a field value the contract does not allow
	// (an empty mailbox, a bad UID set, an unknown fetch item, ...).
	ErrInvalidField = errors.New("protocol: invalid field value")
	// ErrForbiddenCommand reports an imaplib command that is never
	// relayed (login, authenticate, starttls, proxyauth, xatom, logout).
	ErrForbiddenCommand = errors.New("protocol: imaplib command not allowed")
)

// ProtocolError is the error DecodeRequest returns. The bridge turns it
// into an error frame with Code and Msg, and ID when it is not empty.
type ProtocolError struct {
	// Code is CodeBadRequest, or CodeForbidden for ErrForbiddenCommand.
	Code ErrorCode
	// ID is the request id when it could be read, else "".
	ID string
	// Msg is the human-readable detail, safe to send to the client.
	Msg string
	// Err is the sentinel cause (ErrDuplicateKey, ...), or nil.
	Err error
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return "protocol: " + string(e.Code) + ": " + e.Msg
}

// Unwrap returns the sentinel cause.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Frame returns the error frame reporting e to the client.
func (e *ProtocolError) Frame() ErrorFrame {
	return ErrorFrame{ID: e.ID, Error: ErrorInfo{Code: e.Code, Message: e.Msg}}
}

func badRequest(cause error, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: CodeBadRequest, Msg: fmt.Sprintf(format, args...), Err: cause}
}
