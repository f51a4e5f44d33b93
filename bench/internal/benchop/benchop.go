// Package benchop holds what every client of the comparison benchmark shares:
// the operation names, the IMAP commands they stand for, how a client finds
// the server, and the one-line JSON result a client prints.
//
// Every client (the engine's two views, the raw-socket floor, and
// bench/imaplib_bench.py) is a separate program run once per operation, so
// the driver can read each one's peak RSS from the kernel.
package benchop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Op names one benchmarked operation.
type Op string

// The operations, in the order the driver runs and prints them.
const (
	// FetchAll is "FETCH 1:* (RFC822)" in one command.
	FetchAll Op = "fetch-all"
	// FetchEnvelope is "FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)".
	FetchEnvelope Op = "fetch-envelope"
	// FetchLoop is "FETCH n (RFC822)" for n = 1..LoopCount, one at a time.
	FetchLoop Op = "fetch-loop"
	// Noop is LoopCount NOOP commands, one at a time.
	Noop Op = "noop"
	// UIDSearch is "UID SEARCH ALL".
	UIDSearch Op = "uid-search"
)

// LoopCount is the number of commands of the FetchLoop and Noop operations.
const LoopCount = 1000

// Mailbox is the mailbox every client examines (read-only) before an operation.
const Mailbox = "INBOX"

// FetchAllItems and FetchEnvelopeItems are the FETCH items of FetchAll (and
// FetchLoop) and FetchEnvelope.
const (
	FetchAllItems      = "(RFC822)"
	FetchEnvelopeItems = "(FLAGS UID RFC822.SIZE ENVELOPE)"
)

// Ops lists every operation in display order.
var Ops = []Op{FetchAll, FetchEnvelope, FetchLoop, Noop, UIDSearch}

// Environment variables through which the driver tells a client where to
// connect. The password travels in the environment, never on a command line.
const (
	EnvAddr     = "IMAPBENCH_ADDR"     // host:port of a plain IMAP listener
	EnvUser     = "IMAPBENCH_USER"     // login name
	EnvPassword = "IMAPBENCH_PASSWORD" // password
)

// ErrUsage reports a missing setting or an unknown operation.
var ErrUsage = errors.New("benchop: usage")

// ErrShortResult reports a client that saw fewer items than it should have.
var ErrShortResult = errors.New("benchop: short result")

// Server is where a client connects and as whom.
type Server struct {
	Addr, User, Password string
}

// ServerFromEnv reads the Env* variables.
func ServerFromEnv() (Server, error) {
	s := Server{Addr: os.Getenv(EnvAddr), User: os.Getenv(EnvUser), Password: os.Getenv(EnvPassword)}
	if s.Addr == "" || s.User == "" || s.Password == "" {
		return s, fmt.Errorf("%w: set %s, %s and %s", ErrUsage, EnvAddr, EnvUser, EnvPassword)
	}
	return s, nil
}

// ParseOp returns the Op named s.
func ParseOp(s string) (Op, error) {
	for _, op := range Ops {
		if string(op) == s {
			return op, nil
		}
	}
	return "", fmt.Errorf("%w: unknown operation %q", ErrUsage, s)
}

// Result is what a client prints, as one JSON line, after one operation.
type Result struct {
	// Seconds is the wall time of the operation alone (connect, login and
	// EXAMINE excluded).
	Seconds float64 `json:"seconds"`
	// Items counts what the operation returned: FETCH responses, NOOP
	// completions or UIDs found.
	Items int `json:"items"`
	// Bytes counts message bytes received (RFC822 literals), 0 when the
	// client does not look at them. The floor counts every byte read.
	Bytes int64 `json:"bytes"`
}

// Write prints r as one JSON line.
func (r Result) Write(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("benchop: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Expected returns the Items a correct client reports for op on a mailbox of
// n messages.
func Expected(op Op, n int) int {
	switch op {
	case FetchLoop, Noop:
		return LoopCount
	}
	return n
}
