package main

//go:generate go run ./demobuild

import (
	"embed"
	"io/fs"
	"net/http"
)

// demoFiles is the built demo (web/demo, built by ./demobuild; demo_test.go
// fails when it is stale).
//
//go:embed demo
var demoFiles embed.FS

// demoCSP is the policy of the demo's pages: scripts, styles and sockets
// only from this origin, no plugins, no framing, no forms. A message body is
// an <iframe sandbox srcdoc>, which inherits this policy on top of its own
// (stricter) one, so two sources are opened for it: inline styles (HTML mail
// is styled inline; the page itself never writes HTML, so this gives an
// attacker nothing to inject into) and http:/https: images, which the
// message's own policy still blocks until the reader clicks "load images".
// blob: images and frames are the attachment previews: object URLs the page's
// own script makes from a downloaded part, re-typed to the image or
// application/pdf type it previews (web/demo/src/attachments.ts).
const demoCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; " +
	"connect-src 'self'; frame-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// widgetCSP is demoCSP for /widget.html, which exists to be embedded in
// another site's page: it may be framed by anyone. It has no actions a
// framing page could trick a user into, and shows nothing but a count.
const widgetCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors *; base-uri 'none'; form-action 'none'"

// widgetPath is the embeddable widget page.
const widgetPath = "/widget.html"

// demoHandler serves the embedded demo with its Content-Security-Policy
// (demoCSP; widgetCSP for the widget), nosniff and no referrer.
func demoHandler() http.Handler {
	var files http.Handler = http.NotFoundHandler()
	if sub, err := fs.Sub(demoFiles, "demo"); err == nil { // "demo" is a valid path: it never fails
		files = http.FileServerFS(sub)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.URL.Path == widgetPath {
			h.Set("Content-Security-Policy", widgetCSP)
		} else {
			h.Set("Content-Security-Policy", demoCSP)
			h.Set("X-Frame-Options", "DENY")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
