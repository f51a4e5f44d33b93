// Package imaptest is a scripted fake IMAP server for transcript tests of the
// imapengine client.
//
// It reproduces the behaviour of CPython's test_imaplib harness
// (SimpleIMAPHandler and its subclasses, 3.16 flavour): a greeting, a command
// loop that reads the client one byte at a time up to CRLF, splits each line
// into tag, upper-cased command name and arguments (quoted strings and
// parenthesised groups kept whole), and dispatches to a handler per command.
// Built-in handlers answer CAPABILITY, LOGIN, LOGOUT, SELECT, EXAMINE and
// UNSELECT exactly as the Python harness does; anything else gets
// "TAG BAD <CMD> unknown" unless Config.Handlers overrides it.
//
// For hostile-server tests a Config.Script receives the raw connection after
// the greeting (or instead of it, with Config.NoGreeting) and may write any
// bytes, read the client's lines, upgrade to TLS, or fall back to the normal
// command loop with Conn.Serve. Proxy is a plaintext relay that can rewrite or
// append server bytes (STARTTLS response injection). NewCert makes test
// certificates (expired, IP SAN, self-signed) for certificate-validation tests.
//
// Handlers and scripts run in the connection's goroutine. They may call
// t.Error but not t.Fatal (which must run in the test goroutine). Server.Close,
// registered with t.Cleanup, closes every connection and waits for every
// goroutine the server started, so goleak-style checks stay clean once it has
// returned.
//
// This package must not import imapengine: it sits below it.
package imaptest
