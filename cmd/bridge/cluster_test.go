package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterConfig: the "cluster" and "admin" sections load into the
// coordinator's options and the admin listener, and their mistakes are
// configuration errors.
func TestClusterConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := write("secret", "0123456789abcdef0123456789abcdef")
	redisPW := write("redis-pw", "r3dis\n")
	adminTok := write("admin", "an-admin-token-of-32-characters!\n")
	short := write("short", "short")
	base := `"allowedOrigins":["https://a.example"],"upstreams":[{"name":"u","addr":"imap.example.com:993","maxConnectionsPerAccount":12}],
		"auth":{"issuer":"i","audience":"a","hmacSecretFile":"` + secret + `"}`
	t.Setenv("IMAPBRIDGE_TEST_POD_IP", "10.1.2.3")
	for _, tc := range []struct {
		name, extra, err string
	}{
		{"none", ``, ""},
		{"cluster", `,"cluster":{"redisAddr":"redis.internal:6379","redisPasswordFile":"` + redisPW + `","leaseTTL":"20s","keyPrefix":"ib:"}`, ""},
		{"cluster and admin", `,"cluster":{"redisAddr":"r:6379"},"admin":{"addr":"127.0.0.1:0","tokenFile":"` + adminTok + `"}`, ""},
		{"no redis address", `,"cluster":{}`, "redisAddr is required"},
		{"bad lease", `,"cluster":{"redisAddr":"r:6379","leaseTTL":"soon"}`, "cluster.leaseTTL"},
		{"admin without cluster", `,"admin":{"addr":"127.0.0.1:0","tokenFile":"` + adminTok + `"}`, "needs the cluster"},
		{"short admin token", `,"cluster":{"redisAddr":"r:6379"},"admin":{"addr":"127.0.0.1:0","tokenFile":"` + short + `"}`, "at least 16 bytes"},
		{"unknown field", `,"cluster":{"redisAddr":"r:6379","redis":"x"}`, "unknown field"},
		{"advertise", `,"cluster":{"redisAddr":"r:6379","advertiseAddr":"${IMAPBRIDGE_TEST_POD_IP}:8080"}`, ""},
		{"bad advertise", `,"cluster":{"redisAddr":"r:6379","advertiseAddr":"${IMAPBRIDGE_TEST_UNSET}"}`, "cluster.advertiseAddr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := loadFile(write("c.json", "{"+base+tc.extra+"}"))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := l.cfg.Upstreams[0].MaxConnectionsPerAccount; n != 12 {
				t.Errorf("maxConnectionsPerAccount %d", n)
			}
			switch tc.name {
			case "none":
				if l.cluster != nil || l.adminAddr != "" {
					t.Errorf("cluster %+v admin %q", l.cluster, l.adminAddr)
				}
			case "cluster":
				c := l.cluster
				if c == nil || c.Addr != "redis.internal:6379" || c.Password != "r3dis" || c.LeaseTTL != 20*time.Second || c.KeyPrefix != "ib:" {
					t.Errorf("cluster %+v", c)
				}
			case "advertise":
				if l.cfg.ClusterAddr != "10.1.2.3:8080" {
					t.Errorf("ClusterAddr %q", l.cfg.ClusterAddr)
				}
			case "cluster and admin":
				if l.adminAddr != "127.0.0.1:0" || string(l.adminToken) != "an-admin-token-of-32-characters!" {
					t.Errorf("admin %q %q", l.adminAddr, l.adminToken)
				}
			}
		})
	}
}
