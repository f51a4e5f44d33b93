// Package postfixtest gives tests a real Postfix submission server: the
// private instance that e2e/servers/postfix.sh runs on loopback, with SASL
// through the private Dovecot's auth socket and delivery into that Dovecot
// by LMTP (see internal/dovecottest).
//
// Start returns the instance shared by the whole test binary. When ci/test.sh
// has started Postfix, the IMAPBRIDGE_POSTFIX_* variables describe it;
// otherwise Start runs "postfix.sh start" itself, once per process (which
// starts Dovecot too), and leaves it running ("postfix.sh stop" ends it). A
// Postfix that cannot be started fails the test with its log: live tests are
// never skipped silently.
//
// Users are Dovecot's: a user made by dovecottest.NewUser logs in to the
// submission port with the same name and password, and receives mail at
// Address(name).
package postfixtest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// Environment variables printed by "postfix.sh env" and read by Start.
const (
	EnvDir         = "IMAPBRIDGE_POSTFIX_DIR"         // state directory
	EnvSubmission  = "IMAPBRIDGE_POSTFIX_SUBMISSION"  // host:port, STARTTLS required (RFC 6409, like 587)
	EnvSubmissions = "IMAPBRIDGE_POSTFIX_SUBMISSIONS" // host:port, implicit TLS (RFC 8314, like 465)
	EnvCA          = "IMAPBRIDGE_POSTFIX_CA"          // PEM file of the CA that signed the certificate
	EnvDomain      = "IMAPBRIDGE_POSTFIX_DOMAIN"      // the mail domain delivered to Dovecot
	EnvSize        = "IMAPBRIDGE_POSTFIX_SIZE"        // message_size_limit, announced as SIZE
	EnvLog         = "IMAPBRIDGE_POSTFIX_LOG"         // Postfix's log file
)

// ScriptPath is the start/stop script, relative to the repository root.
const ScriptPath = "e2e/servers/postfix.sh"

// ErrConfig reports missing or malformed IMAPBRIDGE_POSTFIX_* settings.
var ErrConfig = errors.New("postfixtest: incomplete Postfix environment")

// Server is a running Postfix instance. Its fields are set by Start and must
// not be changed.
type Server struct {
	// SubmissionAddr is the loopback listener that requires STARTTLS before AUTH.
	SubmissionAddr string
	// SubmissionsAddr is the implicit-TLS loopback listener.
	SubmissionsAddr string
	// CAFile is the PEM file of the test CA (the Dovecot fixture's); the
	// certificate names "localhost" and 127.0.0.1.
	CAFile string
	// Domain is the mail domain: user@Domain is delivered to Dovecot's user.
	Domain string
	// SizeLimit is the message size limit Postfix announces with SIZE.
	SizeLimit int64
	// LogPath is Postfix's log file (for failure messages).
	LogPath string
	// Dir is the state directory.
	Dir string
	// Dovecot is the IMAP server mail is delivered to.
	Dovecot *dovecottest.Server

	pool *x509.CertPool
}

var (
	startOnce   sync.Once
	startServer *Server
	startErr    error
)

// Start returns the Postfix instance shared by this test binary (and the
// Dovecot it delivers to), starting it if the environment does not describe
// one.
func Start(tb testing.TB) *Server {
	tb.Helper()
	dc := dovecottest.Start(tb)
	startOnce.Do(func() { startServer, startErr = start(dc) })
	if startErr != nil {
		tb.Fatalf("%v", startErr)
	}
	return startServer
}

func start(dc *dovecottest.Server) (*Server, error) {
	if os.Getenv(EnvSubmission) != "" {
		return fromEnv(os.LookupEnv, dc)
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), dovecottest.EnvDir+"="+dc.Dir)
	var stderr strings.Builder
	cmd := exec.Command("bash", script, "start")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("postfixtest: %s start: %w\n%s", script, err, stderr.String())
	}
	cmd = exec.Command("bash", script, "env")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("postfixtest: %s env: %w", script, err)
	}
	vars := dovecottest.ParseEnv(string(out))
	return fromEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, dc)
}

func scriptPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("postfixtest: cannot locate the package source")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(ScriptPath))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("postfixtest: %w", err)
	}
	return p, nil
}

func fromEnv(lookup func(string) (string, bool), dc *dovecottest.Server) (*Server, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	s := &Server{
		SubmissionAddr:  get(EnvSubmission),
		SubmissionsAddr: get(EnvSubmissions),
		CAFile:          get(EnvCA),
		Domain:          get(EnvDomain),
		LogPath:         get(EnvLog),
		Dir:             get(EnvDir),
		Dovecot:         dc,
	}
	for k, v := range map[string]string{EnvSubmission: s.SubmissionAddr, EnvSubmissions: s.SubmissionsAddr, EnvCA: s.CAFile, EnvDomain: s.Domain} {
		if v == "" {
			return nil, fmt.Errorf("%w: %s is not set", ErrConfig, k)
		}
	}
	if v := get(EnvSize); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: bad %s %q", ErrConfig, EnvSize, v)
		}
		s.SizeLimit = n
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("postfixtest: %w", err)
	}
	s.pool = x509.NewCertPool()
	if !s.pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: no certificate in %s", ErrConfig, s.CAFile)
	}
	return s, nil
}

// CAPool is the pool holding the test CA.
func (s *Server) CAPool() *x509.CertPool { return s.pool }

// TLSConfig verifies the server certificate against the test CA for the name
// "localhost".
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// Address is the mail address delivered to the Dovecot user name.
func (s *Server) Address(user string) string { return user + "@" + s.Domain }

// Log returns the tail of Postfix's log (up to n bytes), for failure messages.
func (s *Server) Log(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
