package main

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed demo
var demoFiles embed.FS

// demoHandler serves the demo page with a strict Content-Security-Policy:
// scripts and styles only from this origin, WebSocket only back to it, no
// framing.
func demoHandler() http.Handler {
	sub, _ := fs.Sub(demoFiles, "demo")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
}
