// Package imapwire is the IMAP4rev1 grammar codec of imapengine.
//
// It frames server responses (lines and literals) from a buffered reader,
// decodes the grammar of a framed response (atoms, numbers, quoted strings,
// literals, lists, sequence sets) and encodes client commands as chunks that
// separate synchronizing literals from the text that announces them.
//
// The package knows no IMAP command names. Everything it reads from the
// network is bounded by a [Limits] value: line length, literal size, total
// response size and list nesting depth. Every decoding error is a
// *[SyntaxError] or wraps one of the sentinel errors declared in errors.go,
// so callers can use errors.Is and errors.As.
package imapwire
