// Package dovecottest gives tests a real Dovecot IMAP server: the private
// instance that e2e/servers/dovecot.sh runs on loopback (plain port with
// STARTTLS, implicit-TLS port, and the preauthenticated stdio mode).
//
// Start returns the instance shared by the whole test binary. When ci/test.sh
// has started Dovecot, the IMAPBRIDGE_DOVECOT_* variables describe it;
// otherwise Start runs "dovecot.sh start" itself, once per process, and leaves
// the instance running for the next test binary ("dovecot.sh stop" ends it).
// A Dovecot that cannot be started fails the test with its log: live tests are
// never skipped silently.
//
// NewUser gives each test a fresh mailbox user so tests run in parallel and
// never see each other's mail; Deliver appends a message for a user over a
// second, hand-written IMAP connection.
//
// The package imports nothing of imapengine, so in-package engine tests may
// import it without a cycle.
package dovecottest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Environment variables printed by "dovecot.sh env" and read by Start.
const (
	EnvDir    = "IMAPBRIDGE_DOVECOT_DIR"      // state directory
	EnvPlain  = "IMAPBRIDGE_DOVECOT_PLAIN"    // host:port of the plain (STARTTLS) listener
	EnvTLS    = "IMAPBRIDGE_DOVECOT_TLS"      // host:port of the implicit-TLS listener
	EnvCA     = "IMAPBRIDGE_DOVECOT_CA"       // PEM file of the CA that signed the server certificate
	EnvConf   = "IMAPBRIDGE_DOVECOT_CONF"     // the private dovecot.conf
	EnvUsers  = "IMAPBRIDGE_DOVECOT_USERS"    // "name:password name:password ..."
	EnvMaster = "IMAPBRIDGE_DOVECOT_MASTER"   // "name:password" of the master user
	EnvIMAP   = "IMAPBRIDGE_DOVECOT_IMAP_BIN" // Dovecot's imap binary, for the stdio mode
)

// ScriptPath is the start/stop script, relative to the repository root.
const ScriptPath = "e2e/servers/dovecot.sh"

// MasterSeparator joins a user name and the master user's name in a master
// login ("alice*master"), as auth_master_user_separator is configured.
const MasterSeparator = "*"

// ErrConfig reports missing or malformed IMAPBRIDGE_DOVECOT_* settings.
var ErrConfig = errors.New("dovecottest: incomplete Dovecot environment")

// User is a login name and its password.
type User struct {
	Name     string
	Password string
}

// Server is a running Dovecot instance. Its fields are set by Start and must
// not be changed.
type Server struct {
	// PlainAddr is the loopback address of the plain listener (STARTTLS offered).
	PlainAddr string
	// TLSAddr is the loopback address of the implicit-TLS listener.
	TLSAddr string
	// CAFile is the PEM file of the test CA; the server certificate names
	// "localhost" and 127.0.0.1.
	CAFile string
	// ConfPath is the instance's dovecot.conf.
	ConfPath string
	// IMAPBin is Dovecot's imap binary (stdio mode).
	IMAPBin string
	// Dir is the state directory (users file, mail, log).
	Dir string
	// Users maps the predefined users to their passwords. They are shared by
	// every test; prefer NewUser.
	Users map[string]string
	// Master is the master user: log in as "user*master" with its password to
	// act as any user.
	Master User

	pool *x509.CertPool

	mu    sync.Mutex // serialises appends to the users file
	seq   int
	users map[string]string // users made by NewUser
}

var (
	startOnce   sync.Once
	startServer *Server
	startErr    error
)

// Start returns the Dovecot instance shared by this test binary, starting it
// if the environment does not describe one. It fails tb, with Dovecot's log,
// when the server cannot be started.
func Start(tb testing.TB) *Server {
	tb.Helper()
	startOnce.Do(func() { startServer, startErr = start() })
	if startErr != nil {
		tb.Fatalf("%v", startErr)
	}
	return startServer
}

func start() (*Server, error) {
	if os.Getenv(EnvPlain) != "" {
		return fromEnv(os.LookupEnv)
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd := exec.Command("bash", script, "start")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dovecottest: %s start: %w\n%s", script, err, stderr.String())
	}
	out, err := exec.Command("bash", script, "env").Output()
	if err != nil {
		return nil, fmt.Errorf("dovecottest: %s env: %w", script, err)
	}
	vars := ParseEnv(string(out))
	return fromEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
}

// scriptPath finds dovecot.sh from this source file's directory.
func scriptPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("dovecottest: cannot locate the package source")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	p := filepath.Join(root, filepath.FromSlash(ScriptPath))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("dovecottest: %w", err)
	}
	return p, nil
}

// ParseEnv parses the output of "dovecot.sh env": lines of NAME=VALUE,
// optionally prefixed by "export " and with VALUE in double or single quotes.
// Other lines are ignored.
func ParseEnv(text string) map[string]string {
	vars := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	return vars
}

// fromEnv builds a Server from the IMAPBRIDGE_DOVECOT_* variables.
func fromEnv(lookup func(string) (string, bool)) (*Server, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	s := &Server{
		PlainAddr: get(EnvPlain),
		TLSAddr:   get(EnvTLS),
		CAFile:    get(EnvCA),
		ConfPath:  get(EnvConf),
		IMAPBin:   get(EnvIMAP),
		Dir:       get(EnvDir),
		Users:     make(map[string]string),
		users:     make(map[string]string),
	}
	for k, v := range map[string]string{EnvPlain: s.PlainAddr, EnvTLS: s.TLSAddr, EnvCA: s.CAFile, EnvConf: s.ConfPath, EnvMaster: get(EnvMaster)} {
		if v == "" {
			return nil, fmt.Errorf("%w: %s is not set", ErrConfig, k)
		}
	}
	if s.Dir == "" {
		s.Dir = filepath.Dir(s.ConfPath)
	}
	if s.IMAPBin == "" {
		s.IMAPBin = "/usr/lib/dovecot/imap"
	}
	for _, f := range strings.Fields(get(EnvUsers)) {
		name, pw, ok := strings.Cut(f, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: bad user %q in %s", ErrConfig, f, EnvUsers)
		}
		s.Users[name] = pw
	}
	name, pw, ok := strings.Cut(get(EnvMaster), ":")
	if !ok || name == "" {
		return nil, fmt.Errorf("%w: bad %s", ErrConfig, EnvMaster)
	}
	s.Master = User{Name: name, Password: pw}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("dovecottest: CA: %w", err)
	}
	s.pool = x509.NewCertPool()
	if !s.pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: no certificate in %s", ErrConfig, s.CAFile)
	}
	return s, nil
}

// CAPool returns a pool holding the test CA.
func (s *Server) CAPool() *x509.CertPool { return s.pool }

// TLSConfig returns a fresh client configuration that trusts the test CA and
// verifies the name "localhost".
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// StdioArgv returns the command line of Dovecot's preauthenticated stdio mode
// for user: the imap binary with the private config. Its log lines go to
// standard error.
func (s *Server) StdioArgv(user string) []string {
	return []string{s.IMAPBin, "-c", s.ConfPath, "-u", user}
}

// MasterLogin returns the login name and password with which the master user
// acts as user.
func (s *Server) MasterLogin(user string) (name, password string) {
	return user + MasterSeparator + s.Master.Name, s.Master.Password
}

// Password returns the password of a predefined user or one made by NewUser.
func (s *Server) Password(user string) (string, bool) {
	if pw, ok := s.Users[user]; ok {
		return pw, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.users[user]
	return pw, ok
}
