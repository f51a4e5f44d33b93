// Package imapservers is the one table of real IMAP servers the live suites
// run on: Dovecot 2.3 (internal/dovecottest), Cyrus IMAP 3.6 and Courier IMAP
// 5.0, each a private instance started by its fixture script under
// e2e/servers/ (same interface: start, stop, env). A test ranges over All (or
// Table) and asserts, per server, what its Profile says: the capabilities it
// offers and lacks, its hierarchy separator and personal namespace. Where a
// server lacks an extension the test asserts the documented fallback or
// refusal (see docs/compatibility.md, checked against Features); nothing is
// skipped.
//
// Start returns the instance shared by the whole test binary. When ci/test.sh
// has started the servers, the IMAPBRIDGE_<NAME>_* variables describe them;
// otherwise Start runs "<name>.sh start" itself once per process and leaves
// the instance running for the next test binary. A server that cannot be
// started fails the test with the script's output.
//
// Like dovecottest, the package imports nothing of imapengine, so in-package
// engine tests may import it.
package imapservers

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// Server names, as in the fixture scripts' file names.
const (
	Dovecot = "dovecot"
	Cyrus   = "cyrus"
	Courier = "courier"
)

// ErrUnknown reports a server name not in Table.
var ErrUnknown = errors.New("imapservers: unknown server")

// ErrConfig reports missing IMAPBRIDGE_<NAME>_* settings.
var ErrConfig = errors.New("imapservers: incomplete server environment")

// Profile is what the suites may assume of one server.
type Profile struct {
	// Name is the fixture's name: e2e/servers/<Name>.sh, IMAPBRIDGE_<NAME>_*.
	Name string
	// Product is the implementation and version under test.
	Product string
	// Has lists capabilities offered after login that the suites rely on.
	Has []string
	// Lacks lists capabilities the server does not offer, so the suites
	// assert the fallback (or the refusal) instead.
	Lacks []string
	// Separator is the hierarchy separator of the personal namespace.
	Separator string
	// Prefix is the personal namespace prefix ("" or "INBOX.").
	Prefix string
	// Namespace is the NAMESPACE response data the server sends.
	Namespace string
	// IDName is the "name" field of the server's ID response ("" if none).
	IDName string
}

// Table is every server the live suites run on.
var Table = []Profile{
	{
		Name:    Dovecot,
		Product: "Dovecot 2.3",
		Has: []string{"IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "UNSELECT", "NAMESPACE", "ENABLE", "CONDSTORE", "QRESYNC",
			"ESEARCH", "SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "SPECIAL-USE", "LIST-STATUS", "LIST-EXTENDED",
			"QUOTA", "ACL", "METADATA", "NOTIFY", "LITERAL+", "ID", "BINARY", "CHILDREN", "PREVIEW"},
		Lacks:     []string{"X-GM-EXT-1", "COMPRESS=DEFLATE", "OBJECTID"},
		Separator: "/",
		Prefix:    "",
		Namespace: `(("" "/")) NIL NIL`,
		IDName:    "Dovecot",
	},
	{
		Name:    Cyrus,
		Product: "Cyrus IMAP 3.6",
		Has: []string{"IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "UNSELECT", "NAMESPACE", "ENABLE", "CONDSTORE", "QRESYNC",
			"ESEARCH", "SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "SPECIAL-USE", "LIST-STATUS", "LIST-EXTENDED",
			"QUOTA", "ACL", "METADATA", "LITERAL+", "ID", "COMPRESS=DEFLATE", "BINARY", "CHILDREN", "PREVIEW", "OBJECTID"},
		Lacks:     []string{"NOTIFY", "X-GM-EXT-1"},
		Separator: ".",
		Prefix:    "INBOX.",
		Namespace: `(("INBOX." ".")) (("user." ".")) (("" "."))`,
		IDName:    "Cyrus IMAP",
	},
	{
		Name:    Courier,
		Product: "Courier IMAP 5.0",
		Has: []string{"IMAP4REV1", "IDLE", "UIDPLUS", "NAMESPACE", "ENABLE", "SORT", "THREAD=REFERENCES",
			"QUOTA", "ACL", "CHILDREN"},
		Lacks: []string{"MOVE", "UNSELECT", "CONDSTORE", "QRESYNC", "ESEARCH", "SORT=DISPLAY", "SPECIAL-USE",
			"LIST-STATUS", "LIST-EXTENDED", "METADATA", "NOTIFY", "LITERAL+", "ID", "COMPRESS=DEFLATE", "BINARY",
			"X-GM-EXT-1", "PREVIEW", "OBJECTID"},
		Separator: ".",
		Prefix:    "INBOX.",
		Namespace: `(("INBOX." ".")) NIL (("#shared." ".")("shared." "."))`,
	},
}

// Lookup returns the profile of the named server.
func Lookup(name string) (Profile, error) {
	for _, p := range Table {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("%w: %q", ErrUnknown, name)
}

// Offers reports whether the profile lists capability c as offered; it
// panics if the profile lists it neither way (a table that does not decide
// is a defect of the table, caught by the first test that asks).
func (p Profile) Offers(c string) bool {
	switch {
	case slices.Contains(p.Has, c):
		return true
	case slices.Contains(p.Lacks, c):
		return false
	}
	panic(fmt.Sprintf("imapservers: %s profile does not decide capability %s", p.Name, c))
}

// Mailbox returns the server's name for the personal mailbox path, written
// with "/" as separator ("Work/Sub" → "INBOX.Work.Sub" on Cyrus and Courier).
// "INBOX" and "" stay as they are.
func (p Profile) Mailbox(path string) string {
	if path == "" || strings.EqualFold(path, "INBOX") {
		return path
	}
	return p.Prefix + strings.ReplaceAll(path, "/", p.Separator)
}

// Server is a running instance of one Profile. Its fields are set by Start
// and must not be changed.
type Server struct {
	Profile
	// PlainAddr is the loopback address of the plain listener (STARTTLS offered).
	PlainAddr string
	// TLSAddr is the loopback address of the implicit-TLS listener.
	TLSAddr string
	// CAFile is the PEM file of the test CA (certificate for localhost, 127.0.0.1).
	CAFile string
	// Dir is the instance's private state directory.
	Dir string
	// Users maps the predefined users (alice, bob, carol) to their passwords.
	Users map[string]string
	// Dovecot is the dovecottest view of the Dovecot instance (master user,
	// stdio mode), nil for the other servers.
	Dovecot *dovecottest.Server

	script string
	pool   *x509.CertPool
	mu     sync.Mutex
	seq    int
	users  map[string]string
}

var (
	startMu sync.Mutex
	started = map[string]*Server{}
	errs    = map[string]error{}
)

// Start returns the named server shared by this test binary, starting it if
// the environment does not describe it. It fails tb when it cannot.
func Start(tb testing.TB, name string) *Server {
	tb.Helper()
	p, err := Lookup(name)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	if name == Dovecot {
		d := dovecottest.Start(tb)
		startMu.Lock()
		defer startMu.Unlock()
		if s := started[name]; s != nil {
			return s
		}
		s := &Server{Profile: p, PlainAddr: d.PlainAddr, TLSAddr: d.TLSAddr, CAFile: d.CAFile, Dir: d.Dir,
			Users: d.Users, Dovecot: d, pool: d.CAPool()}
		started[name] = s
		return s
	}
	startMu.Lock()
	defer startMu.Unlock()
	if s := started[name]; s != nil {
		return s
	}
	if err := errs[name]; err != nil {
		tb.Fatalf("%v", err)
	}
	s, err := start(p)
	if err != nil {
		errs[name] = err
		tb.Fatalf("%v", err)
	}
	started[name] = s
	return s
}

// All starts (or finds) every server of Table, in Table's order.
func All(tb testing.TB) []*Server {
	tb.Helper()
	out := make([]*Server, 0, len(Table))
	for _, p := range Table {
		out = append(out, Start(tb, p.Name))
	}
	return out
}

// envName returns IMAPBRIDGE_<NAME>_<key>.
func envName(name, key string) string {
	return "IMAPBRIDGE_" + strings.ToUpper(name) + "_" + key
}

func start(p Profile) (*Server, error) {
	script, err := scriptPath(p.Name)
	if err != nil {
		return nil, err
	}
	lookup := os.LookupEnv
	if os.Getenv(envName(p.Name, "PLAIN")) == "" {
		var out strings.Builder
		cmd := exec.Command("bash", script, "start")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("imapservers: %s start: %w\n%s", script, err, out.String())
		}
		env, err := exec.Command("bash", script, "env").Output()
		if err != nil {
			return nil, fmt.Errorf("imapservers: %s env: %w", script, err)
		}
		vars := dovecottest.ParseEnv(string(env))
		lookup = func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	get := func(k string) string { v, _ := lookup(envName(p.Name, k)); return v }
	s := &Server{Profile: p, PlainAddr: get("PLAIN"), TLSAddr: get("TLS"), CAFile: get("CA"), Dir: get("DIR"),
		Users: map[string]string{}, users: map[string]string{}, script: script}
	for k, v := range map[string]string{"PLAIN": s.PlainAddr, "TLS": s.TLSAddr, "CA": s.CAFile, "DIR": s.Dir} {
		if v == "" {
			return nil, fmt.Errorf("%w: %s is not set", ErrConfig, envName(p.Name, k))
		}
	}
	for _, f := range strings.Fields(get("USERS")) {
		name, pw, ok := strings.Cut(f, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: bad user %q", ErrConfig, f)
		}
		s.Users[name] = pw
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("imapservers: CA: %w", err)
	}
	s.pool = x509.NewCertPool()
	if !s.pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: no certificate in %s", ErrConfig, s.CAFile)
	}
	return s, nil
}

// scriptPath finds e2e/servers/<name>.sh from this source file's directory.
func scriptPath(name string) (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("imapservers: cannot locate the package source")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "e2e", "servers", name+".sh")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("imapservers: %w", err)
	}
	return p, nil
}

// TLSConfig returns a fresh client configuration that trusts the test CA and
// verifies the name "localhost".
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// userTokenBytes is the number of random bytes in a fresh user's name and
// password suffix.
const userTokenBytes = 6

// NewUser adds a fresh user with an empty mailbox and returns its name and
// password; names are unique across test binaries and runs.
func (s *Server) NewUser(tb testing.TB) (name, password string) {
	tb.Helper()
	if s.Dovecot != nil {
		return s.Dovecot.NewUser(tb)
	}
	name, password, err := s.newUser()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return name, password
}

func (s *Server) newUser() (string, string, error) {
	b := make([]byte, 2*userTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("imapservers: %w", err)
	}
	s.mu.Lock()
	s.seq++
	// Cyrus and Courier take "." as the hierarchy separator: none in names.
	name := fmt.Sprintf("u%d-%s", s.seq, hex.EncodeToString(b[:userTokenBytes]))
	s.mu.Unlock()
	pw := "pw-" + hex.EncodeToString(b[userTokenBytes:])
	cmd := exec.Command("bash", s.script, "adduser", name, pw)
	cmd.Env = append(os.Environ(), envName(s.Name, "DIR")+"="+s.Dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("imapservers: %s adduser: %w\n%s", s.Name, err, out)
	}
	s.mu.Lock()
	s.users[name] = pw
	s.mu.Unlock()
	return name, pw, nil
}

// Password returns the password of a predefined user or one made by NewUser.
func (s *Server) Password(user string) (string, bool) {
	if s.Dovecot != nil {
		return s.Dovecot.Password(user)
	}
	if pw, ok := s.Users[user]; ok {
		return pw, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.users[user]
	return pw, ok
}

// Deliver appends msg (CRLF line endings) to user's INBOX over a second,
// hand-written connection; it fails tb if the server does not answer OK.
func (s *Server) Deliver(tb testing.TB, user string, msg []byte) {
	tb.Helper()
	if err := s.DeliverTo(user, "INBOX", msg); err != nil {
		tb.Fatalf("%v", err)
	}
}

// DeliverTo appends msg to mailbox (the server's own name for it) of user:
// as Dovecot's master user there, as the user elsewhere. Safe from any
// goroutine.
func (s *Server) DeliverTo(user, mailbox string, msg []byte) error {
	if s.Dovecot != nil {
		return s.Dovecot.DeliverTo(user, mailbox, msg)
	}
	pw, ok := s.Password(user)
	if !ok {
		return fmt.Errorf("%w: no password for %q", ErrConfig, user)
	}
	return dovecottest.AppendAs(s.PlainAddr, user, pw, mailbox, msg)
}
