package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/bridge"
)

// TestDeployExampleConfig loads the Kubernetes example overlay's bridge.json
// with this binary's own loader, its mounted secret paths pointed at the
// overlay's files, so the example cannot drift from the configuration format.
func TestDeployExampleConfig(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "overlays", "example")
	data, err := os.ReadFile(filepath.Join(dir, "bridge.json"))
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "/run/secrets/imapbridge/", abs+"/")
	path := filepath.Join(t.TempDir(), "bridge.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := loadFile(path)
	if err != nil {
		t.Fatalf("deploy/overlays/example/bridge.json: %v", err)
	}
	if l.addr != ":8080" || len(l.cfg.Upstreams) == 0 || len(l.cfg.AllowedOrigins) == 0 {
		t.Errorf("loaded %+v", l)
	}
}

// TestDeploymentGracePeriod ties the base Deployment's
// terminationGracePeriodSeconds to the bridge's shutdown: the preStop sleep,
// then Shutdown's whole timeout (the retry-after hints it sends are at most
// DefaultReconnectJitterMax, inside it) must end before the kubelet's SIGKILL.
func TestDeploymentGracePeriod(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "base", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	num := func(re string) time.Duration {
		m := regexp.MustCompile(re).FindSubmatch(data)
		if m == nil {
			t.Fatalf("no %s in deployment.yaml", re)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return time.Duration(n) * time.Second
	}
	grace := num(`terminationGracePeriodSeconds: (\d+)`)
	preStop := num(`sleep:\s*\n\s*seconds: (\d+)`)
	if need := preStop + shutdownTimeout + 5*time.Second; grace < need {
		t.Errorf("terminationGracePeriodSeconds %v < preStop %v + shutdown %v + 5 s", grace, preStop, shutdownTimeout)
	}
	if bridge.DefaultReconnectJitterMax >= shutdownTimeout {
		t.Errorf("retry hints up to %v do not fit the %v shutdown", bridge.DefaultReconnectJitterMax, shutdownTimeout)
	}
}
