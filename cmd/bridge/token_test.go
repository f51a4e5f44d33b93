package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
)

// TestServeTokenClients: the embedded default hands tokens to any client (a
// published Docker port arrives from the gateway's address); a configured
// demo only to loopback clients, resolved through trusted proxies.
func TestServeTokenClients(t *testing.T) {
	embedded, err := startDev(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), "http://localhost:8080", options{mailEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer embedded.close()
	signer, err := auth.NewHMACSigner(bytes.Repeat([]byte("k"), auth.MinHMACSecretSize))
	if err != nil {
		t.Fatal(err)
	}
	configured := &devEnv{signer: signer, user: "alice", password: "pw", upstream: "dovecot", ttl: devTokenTTL}
	configured.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name   string
		env    *devEnv
		remote string
		xff    string
		want   int
		body   string
	}{
		{"embedded, loopback", embedded, "127.0.0.1:40000", "", 200, `"token"`},
		{"embedded, Docker gateway", embedded, "172.17.0.1:40000", "", 200, `"token"`},
		{"embedded, IPv6 peer", embedded, "[2001:db8::7]:40000", "", 200, `"token"`},
		{"configured, loopback", configured, "127.0.0.1:40000", "", 200, `"token"`},
		{"configured, IPv6 loopback", configured, "[::1]:40000", "", 200, `"token"`},
		{"configured, Docker gateway", configured, "172.17.0.1:40000", "", 403, "loopback clients only, not 172.17.0.1"},
		{"configured, via a trusted proxy from afar", configured, "127.0.0.1:40000", "127.0.0.1, 192.0.2.7", 403, "not 192.0.2.7"},
		{"configured, via a trusted proxy from loopback", configured, "127.0.0.1:40000", "127.0.0.1", 200, `"token"`},
		{"configured, forged header from an untrusted peer", configured, "172.17.0.1:40000", "127.0.0.1", 403, "not 172.17.0.1"},
		{"configured, unparsable peer", configured, "pipe", "", 403, "loopback clients only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/dev/token", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			w := httptest.NewRecorder()
			tc.env.serveToken(w, r)
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.body) {
				t.Fatalf("status %d body %q, want %d containing %q", w.Code, w.Body.String(), tc.want, tc.body)
			}
		})
	}
}

// TestOwnPageOrigin: the embedded default maps an Origin equal to the
// request's own http://Host (its page, reached by any address) to the public
// origin, and leaves every other Origin as it came.
func TestOwnPageOrigin(t *testing.T) {
	var got string
	h := ownPageOrigin("http://localhost:8080", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Get("Origin") }))
	for _, tt := range []struct{ host, origin, want string }{
		{"192.0.2.2:8080", "http://192.0.2.2:8080", "http://localhost:8080"},
		{"mail.lan:8080", "http://MAIL.lan:8080", "http://localhost:8080"},
		{"192.0.2.2:8080", "http://evil.example", "http://evil.example"},
		{"192.0.2.2:8080", "http://192.0.2.2:9090", "http://192.0.2.2:9090"},
		{"192.0.2.2:8080", "https://192.0.2.2:8080", "https://192.0.2.2:8080"},
		{"192.0.2.2:8080", "", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r.Host = tt.host
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want {
			t.Errorf("Host %s Origin %q: passed on %q, want %q", tt.host, tt.origin, got, tt.want)
		}
		if r.Header.Get("Origin") != tt.origin {
			t.Errorf("the caller's request was changed")
		}
	}
}
