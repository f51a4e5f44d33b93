package dovecottest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// UsersDir is the directory of per-user passwd-files inside the state
// directory (one file per user, named after it): Dovecot stats a shared
// passwd-file at most once a second and would miss a user added just after a
// lookup, whereas a new file is read at its first lookup.
const UsersDir = "passwd.d"

// userTokenBytes is the number of random bytes in a fresh user's name and
// password suffix.
const userTokenBytes = 6

// NewUser adds a fresh user with an empty mailbox and returns its name and
// password. Names are unique across test binaries and runs, so parallel tests
// never share mail.
func (s *Server) NewUser(tb testing.TB) (name, password string) {
	tb.Helper()
	name, password, err := s.newUser()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return name, password
}

func (s *Server) newUser() (name, password string, err error) {
	tok := func() (string, error) {
		b := make([]byte, userTokenBytes)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("dovecottest: %w", err)
		}
		return hex.EncodeToString(b), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id, err := tok()
	if err != nil {
		return "", "", err
	}
	pw, err := tok()
	if err != nil {
		return "", "", err
	}
	name = fmt.Sprintf("u%d-%s", s.seq, id)
	password = "pw-" + pw
	dir := filepath.Join(s.Dir, UsersDir)
	tmp, err := os.CreateTemp(dir, ".new-*")
	if err != nil {
		return "", "", fmt.Errorf("dovecottest: add user: %w", err)
	}
	_, err = tmp.WriteString(name + ":" + password + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil { // complete before Dovecot can see it
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", "", fmt.Errorf("dovecottest: add user: %w", err)
	}
	s.users[name] = password
	return name, password, nil
}
