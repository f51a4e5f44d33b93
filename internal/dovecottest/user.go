package dovecottest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// UsersFile is the passwd-file of ordinary users inside the state directory.
// Dovecot rereads it when it changes, so lines appended by NewUser take
// effect at the next login.
const UsersFile = "users"

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
	f, err := os.OpenFile(filepath.Join(s.Dir, UsersFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return "", "", fmt.Errorf("dovecottest: add user: %w", err)
	}
	// One write of one short line: O_APPEND keeps concurrent writers apart.
	_, err = f.Write([]byte(name + ":" + password + "\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("dovecottest: add user: %w", err)
	}
	s.users[name] = password
	return name, password, nil
}
