// Package imapengine is an IMAP4rev1 client with the whole feature set of
// Python's imaplib and the same observable results, plus what a server-side
// Go program needs: contexts on every blocking call, pipelining, typed errors
// and hard limits against hostile servers.
//
// # Connections
//
// Dial (plain TCP, imaplib's IMAP4), DialTLS (implicit TLS, IMAP4_SSL),
// DialStartTLS (plain TCP upgraded before use), DialStream (a subprocess's
// stdin and stdout, IMAP4_stream — argv, never a shell) and NewClient (any
// net.Conn) all read the greeting and the capabilities before returning.
// Certificates are verified and TLS 1.2 is the minimum unless the caller's
// tls.Config says otherwise. Credentials are refused over an unprotected TCP
// connection unless Options.AllowPlaintextAuth is set.
//
// # Results
//
// Each imaplib method has a Go method of the same name in Go style (select →
// Select, login_cram_md5 → LoginCRAMMD5, close → CloseMailbox). It returns a
// Result, imaplib's (typ, data): typ is the status and data a list of Datum,
// each None, a byte string, or a (header, literal) pair, exactly as imaplib
// builds them. Untagged responses accumulate per type until a command result
// or Response pops them, as in imaplib.
//
// # Errors
//
// Every IMAP-level failure is an *Error whose Kind mirrors imaplib's classes:
// errors.Is(err, ErrIMAP) for any, ErrAbort when the connection is unusable,
// ErrReadOnly for the READ-ONLY condition. A server's NO or BAD is reachable
// with errors.As as a *StatusError. Argument problems (NUL, CR, LF, a forged
// literal) are ErrBadArgument and nothing is written.
//
// # Concurrency and cancellation
//
// A Client is safe for concurrent use. One reader goroutine per connection
// reads every response and routes completions by tag, so commands issued from
// several goroutines are pipelined. A command whose context ends while it
// waits for its completion is abandoned: the call returns ctx.Err() and the
// response is read and dropped later. A context that ends while a command is
// half written, or while a literal awaits the server's continuation, closes
// the connection, because the stream's state is then unknown. Each command is
// also bounded by Options.CommandTimeout, whose expiry closes the connection
// with ErrTimeout. The reader goroutine exits when the connection closes;
// Shutdown waits for it.
//
// # IDLE
//
// Idle returns an Idler (imaplib 3.14's): Start, then Next or Burst to receive
// untagged responses as they arrive, then Done, which sends DONE. IdleFunc
// wraps the sequence like imaplib's with-statement.
package imapengine
