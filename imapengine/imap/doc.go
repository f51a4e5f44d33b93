// Package imap is the shared data model of imapengine: named types for
// flags, sequence numbers, UIDs and number sets, result structs for the
// server responses a mail client needs (FETCH, SELECT/EXAMINE state, LIST,
// STATUS, SEARCH/ESEARCH, UIDPLUS, QUOTA, ACL, NAMESPACE, METADATA, ID,
// VANISHED, ENABLED), and pure parsers that turn one framed
// *imapwire.Response into those types.
//
// The package does no I/O. Every parser walks the response with an
// imapwire.Scanner, so list nesting (BODYSTRUCTURE, nested
// message/rfc822) is bounded by imapwire.Limits.MaxDepth, numbers are
// range-checked, and number sets stay ranges: "1:4294967295" is one
// NumRange, never four billion values. No input makes a parser panic.
//
// Text meant for people is returned as valid UTF-8: RFC 2047 encoded words
// in envelopes and RFC 2231 parameters in body structures are decoded from
// any charset known to the WHATWG encoding index; bytes that cannot be
// decoded are replaced with U+FFFD and the result is marked Lossy.
//
// Errors wrap the sentinels of errors.go; a malformed response is a
// *ParseError, which matches ErrMalformed with errors.Is and exposes the
// scanner's *imapwire.SyntaxError (when there is one) with errors.As.
package imap
