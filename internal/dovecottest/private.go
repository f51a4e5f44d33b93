package dovecottest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PrivateDirPattern names the temporary directory of a private instance.
const PrivateDirPattern = "imapbridge-private-dovecot.*"

// Private is a Dovecot instance of one test's own, for scenarios that must
// not disturb the shared one: a crash (kill -9) and a restart on the same
// ports. Its embedded Server works as Start's does (NewUser, Deliver, ...).
type Private struct {
	*Server
	script string
	env    []string
}

// StartPrivate starts a fresh instance (new ports, empty mail) in a
// temporary state directory with "dovecot.sh start", and stops and removes it
// when tb's test ends. It takes about half a second.
func StartPrivate(tb testing.TB) *Private {
	tb.Helper()
	script, err := scriptPath()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	root, err := os.MkdirTemp("", PrivateDirPattern)
	if err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	// The mail user reaches its mail below the directory.
	if err := os.Chmod(root, 0o755); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	p := &Private{script: script, env: append(os.Environ(), EnvDir+"="+filepath.Join(root, "dovecot"))}
	tb.Cleanup(func() {
		if out, err := p.run("stop"); err != nil {
			tb.Errorf("dovecottest: stop private instance: %v\n%s", err, out)
		}
		_ = os.RemoveAll(root)
	})
	if out, err := p.run("start"); err != nil {
		tb.Fatalf("dovecottest: start private instance: %v\n%s", err, out)
	}
	out, err := p.run("env")
	if err != nil {
		tb.Fatalf("dovecottest: env of private instance: %v\n%s", err, out)
	}
	vars := ParseEnv(out)
	s, err := fromEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		tb.Fatalf("%v", err)
	}
	p.Server = s
	return p
}

// Crash kills the instance with SIGKILL, master and children at once
// ("dovecot.sh crash", security.md E5): clients see their connections reset
// with no BYE, and the ports refuse connections until Resume.
func (p *Private) Crash(tb testing.TB) {
	tb.Helper()
	if out, err := p.run("crash"); err != nil {
		tb.Fatalf("dovecottest: crash: %v\n%s", err, out)
	}
}

// Resume starts the crashed or stopped instance again on the same ports with
// its users and mail ("dovecot.sh resume").
func (p *Private) Resume(tb testing.TB) {
	tb.Helper()
	if out, err := p.run("resume"); err != nil {
		tb.Fatalf("dovecottest: resume: %v\n%s", err, out)
	}
}

// DropInMaildir delivers msg the way an MTA writes a Maildir: a file in
// user's Maildir/new that Dovecot picks up (and numbers) at its next look,
// also while the server is down. The user must have logged in once (Dovecot
// creates the Maildir then).
func (s *Server) DropInMaildir(tb testing.TB, user string, msg []byte) {
	tb.Helper()
	maildir := filepath.Join(s.Dir, "mail", user, "Maildir")
	st, err := os.Stat(maildir)
	if err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "1700000000." + hex.EncodeToString(b) + ".localhost"
	tmp := filepath.Join(maildir, "tmp", name)
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	if err := chownLike(tmp, st); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(maildir, "new", name)); err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
}

func (p *Private) run(cmd string) (string, error) {
	c := exec.Command("bash", p.script, cmd)
	c.Env = p.env
	var out strings.Builder
	if cmd == "env" {
		var errOut strings.Builder
		c.Stdout, c.Stderr = &out, &errOut
		if err := c.Run(); err != nil {
			return errOut.String(), fmt.Errorf("%s %s: %w", p.script, cmd, err)
		}
		return out.String(), nil
	}
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w", p.script, cmd, err)
	}
	return out.String(), nil
}
