package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/cmd/bridge/demobuild/bundle"
)

// TestDemoBuildFresh rebuilds the demo in memory and fails when the
// committed, embedded files differ from it.
func TestDemoBuildFresh(t *testing.T) {
	root, err := bundle.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	built, err := bundle.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, filepath.FromSlash(bundle.OutputDir))
	for _, name := range bundle.Outputs {
		committed, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s/%s: %v — run `go generate ./cmd/bridge`", bundle.OutputDir, name, err)
			continue
		}
		if !bytes.Equal(committed, built[name]) {
			t.Errorf("%s/%s is stale (%d bytes committed, %d built from %s) — run `go generate ./cmd/bridge` and commit the result",
				bundle.OutputDir, name, len(committed), len(built[name]), bundle.SourceDir)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !bytes.Contains([]byte(strings.Join(bundle.Outputs, "\n")+"\n"), []byte(e.Name()+"\n")) {
			t.Errorf("%s/%s is not built by demobuild — run `go generate ./cmd/bridge`", bundle.OutputDir, e.Name())
		}
	}
}

// TestDemoBuildDeterministic builds twice and expects identical bytes.
func TestDemoBuildDeterministic(t *testing.T) {
	root, err := bundle.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	a, err := bundle.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range bundle.Outputs {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
}

// TestDemoHandler checks what the embedded demo serves, and with which headers.
func TestDemoHandler(t *testing.T) {
	srv := httptest.NewServer(demoHandler())
	defer srv.Close()
	tests := []struct {
		path         string
		status       int
		contentType  string
		body         []string
		csp          []string
		frameOptions string
	}{
		{"/", 200, "text/html", []string{`data-testid="conn-state"`, `src="app.js"`}, []string{"frame-ancestors 'none'", "script-src 'self'", "img-src 'self' data: blob: http: https:"}, "DENY"},
		{"/app.js", 200, "text/javascript", []string{"/dev/token"}, []string{"default-src 'self'"}, "DENY"},
		{"/style.css", 200, "text/css", []string{".row"}, []string{"default-src 'self'"}, "DENY"},
		{"/widget.html", 200, "text/html", []string{`data-testid="unread-count"`, `data-testid="widget-state"`, `src="widget.js"`}, []string{"frame-ancestors *", "script-src 'self'"}, ""},
		{"/widget.js", 200, "text/javascript", []string{"/dev/token"}, []string{"frame-ancestors 'none'"}, "DENY"},
		{"/shared-worker.js", 200, "text/javascript", []string{"onconnect"}, []string{"default-src 'self'"}, "DENY"},
		{"/missing.js", 404, "", nil, []string{"default-src 'self'"}, "DENY"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			for _, s := range tc.body {
				if !strings.Contains(string(body), s) {
					t.Errorf("body lacks %q", s)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, s := range tc.csp {
				if !strings.Contains(csp, s) {
					t.Errorf("CSP %q lacks %q", csp, s)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
				t.Errorf("CSP %q allows inline or eval'd scripts", csp)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != tc.frameOptions {
				t.Errorf("X-Frame-Options %q, want %q", got, tc.frameOptions)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
		})
	}
}
