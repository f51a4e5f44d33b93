package imap

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Test for them with errors.Is.
var (
	// ErrUnexpectedResponse reports a response that is not of the kind the
	// parser handles (ParseFetch given a "* 3 EXISTS", for example).
	ErrUnexpectedResponse = errors.New("imap: unexpected response kind")
	// ErrMalformed reports a response of the right kind that breaks the
	// grammar or carries out-of-range values. Every *ParseError matches it.
	ErrMalformed = errors.New("imap: malformed response")
	// ErrNoMapping reports a COPYUID whose sets cannot be paired: a "*" in
	// either set, or sets of different sizes.
	ErrNoMapping = errors.New("imap: no UID mapping")
	// ErrSetTooLarge reports a number set with more members than the
	// caller's bound, refused before anything is allocated.
	ErrSetTooLarge = errors.New("imap: number set too large")
	// ErrWildcard reports a number set holding "*" where concrete numbers
	// are needed.
	ErrWildcard = errors.New("imap: number set contains *")
	// ErrBadMailboxName reports a mailbox name that is not valid modified
	// UTF-7 (or, in UTF-8 mode, not valid UTF-8). It is stored in
	// ListData.NameErr and StatusData.MailboxErr, never returned.
	ErrBadMailboxName = errors.New("imap: undecodable mailbox name")
)

// ParseError describes a malformed response or FETCH item. It matches
// ErrMalformed with errors.Is; Err is the underlying cause, often an
// *imapwire.SyntaxError reachable with errors.As.
type ParseError struct {
	// Response is the response kind being parsed, e.g. "FETCH".
	Response string
	// Item is the FETCH item or field being parsed, "" if none.
	Item string
	// Msg describes a semantic problem; empty when Err says it all.
	Msg string
	// Err is the cause, or nil.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	s := "imap: malformed " + e.Response
	if e.Item != "" {
		s += " item " + e.Item
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrMalformed and the cause, so errors.Is and errors.As see
// both.
func (e *ParseError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.Err}
}

// unexpected builds the error of a parser given the wrong response kind.
func unexpected(want, got string) error {
	if got == "" {
		return fmt.Errorf("%w: want %s", ErrUnexpectedResponse, want)
	}
	return fmt.Errorf("%w: want %s, got %.40q", ErrUnexpectedResponse, want, got)
}
