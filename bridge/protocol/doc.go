// Package protocol is the wire contract of the imapbridge WebSocket API,
// subprotocol "imapbridge.v1": one Go type per frame kind, the strict
// request decoder, the server-frame encoder and conversions from the
// engine's data model (package imap) to the JSON result types.
//
// Every frame is one JSON text message. Requests (browser → bridge) carry
// "id" and "op"; server frames carry "type". The reference for clients is
// docs/protocol.md; the golden fixtures under testdata/ are shared with
// the SDK, and the tests keep the Go types and the fixtures in step.
//
// Decoding is strict (security.md F11): DecodeRequest refuses duplicate
// keys (also when they differ only in case), keys spelled in another case
// than the contract's, unknown fields, trailing data, nesting deeper than
// the caller's bound, numbers that are not integers or do not fit,
// invalid UTF-8 and unpaired UTF-16 surrogate escapes. Every refusal is a
// *ProtocolError with code "bad_request" (or "forbidden" for an imaplib
// command that may never be relayed), carrying the request id when it
// could be read, and wrapping a sentinel usable with errors.Is.
//
// The package does no I/O and imports only the standard library and the
// engine's data model.
package protocol
