// Package redistest gives tests a real Redis: a private instance of
// e2e/servers/redis.sh (Debian's redis-server, installed with apt-get when
// missing) in a state directory of the test's own, on a free loopback port.
// Every Start is a new, empty instance, so tests that kill Redis never
// disturb another; it is stopped when the test ends. A Redis that cannot be
// started fails the test with the script's output: never a silent skip.
package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ScriptPath is the fixture script, relative to the repository root.
const ScriptPath = "e2e/servers/redis.sh"

// Instance is one running private Redis.
type Instance struct {
	Addr string // 127.0.0.1:port
	Dir  string // its state directory
}

// Start starts a new private Redis for tb and stops it at tb's end.
func Start(tb testing.TB) *Instance {
	tb.Helper()
	dir, err := os.MkdirTemp("", "imapbridge-redistest-")
	if err != nil {
		tb.Fatal(err)
	}
	in := &Instance{Dir: dir}
	tb.Cleanup(func() {
		_, _ = in.run("stop")
		_ = os.RemoveAll(dir)
	})
	if out, err := in.run("start"); err != nil {
		tb.Fatalf("redistest: start: %v\n%s", err, out)
	}
	out, err := in.run("env")
	if err != nil {
		tb.Fatalf("redistest: env: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "export IMAPBRIDGE_REDIS_ADDR="); ok {
			in.Addr = strings.TrimSpace(v)
		}
	}
	if in.Addr == "" {
		tb.Fatalf("redistest: no address in %q", out)
	}
	return in
}

// Kill kills the instance with SIGKILL (the "Redis died" fault).
func (in *Instance) Kill(tb testing.TB) {
	tb.Helper()
	if out, err := in.run("kill"); err != nil {
		tb.Fatalf("redistest: kill: %v\n%s", err, out)
	}
}

// Resume starts a killed or stopped instance again on the same port (empty:
// the fixture keeps nothing on disk, as a restarted cache would).
func (in *Instance) Resume(tb testing.TB) {
	tb.Helper()
	if out, err := in.run("resume"); err != nil {
		tb.Fatalf("redistest: resume: %v\n%s", err, out)
	}
}

func (in *Instance) run(cmd string) (string, error) {
	script, err := scriptPath()
	if err != nil {
		return "", err
	}
	c := exec.Command("bash", script, cmd)
	c.Env = append(os.Environ(), "IMAPBRIDGE_REDIS_DIR="+in.Dir)
	out, err := c.CombinedOutput()
	return string(out), err
}

func scriptPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("redistest: cannot locate the package source")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(ScriptPath))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("redistest: %w", err)
	}
	return p, nil
}
