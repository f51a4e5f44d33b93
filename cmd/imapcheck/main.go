// Command imapcheck exercises an IMAP server with the imapengine client, like
// Python's "python -m imaplib [-d level] [-s command] [host]" self-test.
//
// Usage:
//
//	imapcheck [flags] [host[:port]]
//
// It logs in (unless the server greets with PREAUTH), creates a test mailbox,
// renames and deletes it, creates another, appends a test message, selects
// the mailbox, searches for and fetches the message, marks it \Deleted,
// expunges, closes and deletes the mailbox and logs out, printing each command
// and its (typ, data) result. It exits with status 0 when every step
// succeeded, 1 when one failed and 2 for a usage error.
//
// The connection is plain TCP to port 143 by default; -tls uses implicit TLS
// (port 993) and -starttls upgrades before logging in. Logging in over plain
// TCP needs -insecure-plaintext-auth. With -s the command is run as a
// subprocess speaking IMAP on its standard input and output (for example
// "/usr/lib/dovecot/imap"); its words are split on spaces, never given to a
// shell.
//
// The password is read from the IMAPCHECK_PASSWORD environment variable, or
// prompted for on standard input; there is no flag for it, so that it never
// appears in a process listing.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/imapengine"
)

// Names of the environment variables imapcheck reads.
const (
	// PasswordEnv holds the password; when unset or empty it is prompted for.
	PasswordEnv = "IMAPCHECK_PASSWORD"
	// UserEnv is the default user name when -user is not given.
	UserEnv = "USER"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// maxPasswordLine bounds the password line read from standard input.
const maxPasswordLine = 4096

// Test mailboxes and message, after imaplib's self-test.
const (
	mailbox1   = "imapcheck-xxx 1"
	mailbox1b  = "imapcheck-yyy"
	mailbox2   = "imapcheck-yyz 2"
	listMatch  = "imapcheck-yy*"
	testSearch = "test"
)

// errUsage marks command-line errors (exit status 2).
var errUsage = errors.New("imapcheck: usage error")

// errTestFailed reports a step the server answered with NO.
var errTestFailed = errors.New("imapcheck: test failed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	code := exitCode(err)
	if code != exitOK {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// exitCode maps run's error to the process exit status.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	default:
		return exitFailure
	}
}

// config is the parsed command line.
type config struct {
	debug     int
	stream    string
	tls       bool
	starttls  bool
	plaintext bool
	user      string
	caFile    string
	timeout   time.Duration
	addr      string
}

func parseArgs(args []string, env func(string) string, stderr io.Writer) (*config, error) {
	var cfg config
	fs := flag.NewFlagSet("imapcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.debug, "d", 0, "imaplib debug level (1 errors, 3 capabilities, 4 every line, 5 every response), logged to stderr")
	fs.StringVar(&cfg.stream, "s", "", "run this command and speak IMAP over its stdin/stdout (split on spaces, no shell)")
	fs.BoolVar(&cfg.tls, "tls", false, "connect with implicit TLS (default port 993)")
	fs.BoolVar(&cfg.starttls, "starttls", false, "upgrade the connection with STARTTLS before logging in")
	fs.BoolVar(&cfg.plaintext, "insecure-plaintext-auth", false, "allow sending the password over an unencrypted connection")
	fs.StringVar(&cfg.user, "user", env(UserEnv), "user name (default $"+UserEnv+")")
	fs.StringVar(&cfg.caFile, "cafile", "", "PEM file of trusted CA certificates (default: system roots)")
	fs.DurationVar(&cfg.timeout, "timeout", 0, "connect and per-command timeout (default: the engine's defaults)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: imapcheck [flags] [host[:port]]\nThe password is read from $"+PasswordEnv+" or prompted for.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 1:
		return nil, fmt.Errorf("%w: at most one host argument, got %q", errUsage, fs.Args())
	case cfg.tls && cfg.starttls:
		return nil, fmt.Errorf("%w: -tls and -starttls are exclusive", errUsage)
	case cfg.stream != "" && (cfg.tls || cfg.starttls || fs.NArg() > 0):
		return nil, fmt.Errorf("%w: -s excludes -tls, -starttls and a host", errUsage)
	case cfg.stream != "" && len(strings.Fields(cfg.stream)) == 0:
		return nil, fmt.Errorf("%w: -s needs a command", errUsage)
	case cfg.timeout < 0:
		return nil, fmt.Errorf("%w: negative -timeout", errUsage)
	}
	cfg.addr = "localhost"
	if fs.NArg() == 1 {
		cfg.addr = fs.Arg(0)
	}
	return &cfg, nil
}

// options turns the command line into client options.
func (cfg *config) options(stderr io.Writer) (*imapengine.Options, error) {
	opts := &imapengine.Options{
		Timeout:            cfg.timeout,
		AllowPlaintextAuth: cfg.plaintext,
		Debug:              cfg.debug,
		Stderr:             stderr,
	}
	if cfg.debug > 0 {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.caFile != "" {
		pem, err := os.ReadFile(cfg.caFile)
		if err != nil {
			return nil, fmt.Errorf("imapcheck: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("imapcheck: no certificate in %s", cfg.caFile)
		}
		opts.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return opts, nil
}

// dial connects as the command line asks.
func (cfg *config) dial(ctx context.Context, opts *imapengine.Options) (*imapengine.Client, error) {
	switch {
	case cfg.stream != "":
		return imapengine.DialStream(ctx, strings.Fields(cfg.stream), opts)
	case cfg.tls:
		return imapengine.DialTLS(ctx, cfg.addr, opts)
	case cfg.starttls:
		return imapengine.DialStartTLS(ctx, cfg.addr, opts)
	default:
		return imapengine.Dial(ctx, cfg.addr, opts)
	}
}

// run is the whole program: args are the command-line arguments without the
// program name, env looks up environment variables, stdin answers the
// password prompt, stdout receives the transcript and stderr the prompt,
// debug traces and failure hints.
func run(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseArgs(args, env, stderr)
	if err != nil {
		return err
	}
	opts, err := cfg.options(stderr)
	if err != nil {
		return err
	}
	c, err := cfg.dial(ctx, opts)
	if err != nil {
		return fmt.Errorf("imapcheck: connect: %w", err)
	}
	defer c.Shutdown()
	fmt.Fprintf(stdout, "PROTOCOL_VERSION = %s\n", c.ProtocolVersion())
	fmt.Fprintf(stdout, "CAPABILITIES = %s\n", strings.Join(c.Capabilities(), " "))
	t := &tester{c: c, out: stdout}
	if err := t.sequence(ctx, cfg.user, func() (string, error) { return password(env, stdin, stderr) }); err != nil {
		fmt.Fprintln(stderr, "\nTests failed.")
		if cfg.debug == 0 {
			fmt.Fprintln(stderr, "If you would like to see debugging output, try: imapcheck -d 4 ...")
		}
		return err
	}
	fmt.Fprintln(stdout, "\nAll tests OK.")
	return nil
}

// password returns $IMAPCHECK_PASSWORD, or prompts on stderr and reads one
// line from stdin.
func password(env func(string) string, stdin io.Reader, stderr io.Writer) (string, error) {
	if p := env(PasswordEnv); p != "" {
		return p, nil
	}
	fmt.Fprint(stderr, "Password: ")
	r := bufio.NewReaderSize(io.LimitReader(stdin, maxPasswordLine), maxPasswordLine)
	line, err := r.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("empty password")
		}
		return "", fmt.Errorf("imapcheck: reading password: %w", err)
	}
	return line, nil
}
