package main

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge"
	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/internal/devserver"
)

// Settings of the embedded default.
const (
	defaultAddr     = "127.0.0.1:8080"
	devIssuer       = "imapbridge-dev"
	devAudience     = "imapbridge"
	devUpstream     = "demo"
	devTokenTTL     = 10 * time.Minute
	shutdownTimeout = 10 * time.Second
)

func newLogger(o options, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(o.logLevel))
	ho := &slog.HandlerOptions{Level: lvl}
	if o.logFormat == "text" {
		return slog.New(slog.NewTextHandler(w, ho))
	}
	return slog.New(slog.NewJSONHandler(w, ho))
}

// serve runs the bridge until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, o options, stdout, stderr io.Writer) error {
	log := newLogger(o, stderr)
	var (
		cfg    bridge.Config
		addr   = o.addr
		dev    *devEnv
		err    error
		ln     net.Listener
		public string
	)
	var file loaded
	if o.configPath != "" {
		file, err = loadFile(o.configPath)
		if err != nil {
			return err
		}
		cfg = file.cfg
		if addr == "" {
			addr = file.addr
		}
	}
	if addr == "" {
		addr = defaultAddr
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	public = "http://" + displayAddr(ln.Addr().String())
	if o.configPath == "" {
		dev, err = startDev(context.WithoutCancel(ctx), log, public, o) // closed by dev.close after the bridge's Shutdown, not at the signal
		if err != nil {
			return err
		}
		defer dev.close()
		cfg = dev.cfg
	} else if file.demo != nil {
		dev, err = configDemo(&cfg, file, public)
		if err != nil {
			return err
		}
	}
	cfg.Logger = log
	var brRef atomic.Pointer[bridge.Server] // for the coordinator's callbacks, set below
	if file.cluster != nil {
		co := *file.cluster
		co.Logger = log
		co.OnRevoke = func(r cluster.Revocation) {
			if b := brRef.Load(); b != nil {
				b.HandleRevocation(r)
			}
		}
		co.OnResubscribe = func() {
			if b := brRef.Load(); b != nil {
				b.RecheckRevocations()
			}
		}
		coord, err := cluster.New(co)
		if err != nil {
			return err
		}
		defer coord.Close() // after the bridge's Shutdown below: sessions release their leases first
		cfg.Cluster = coord
	}
	br, err := bridge.New(cfg)
	if err != nil {
		return err
	}
	brRef.Store(br)
	if file.adminAddr != "" {
		aln, err := net.Listen("tcp", file.adminAddr)
		if err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		as := &http.Server{Handler: br.AdminHandler(file.adminToken), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() { _ = as.Serve(aln) }()
		defer as.Close()
		log.Info("admin listening", "addr", aln.Addr().String())
	}
	var api http.Handler = br
	if dev != nil && dev.srv != nil {
		api = ownPageOrigin(public, br)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/metrics", br)
	mux.Handle(bridge.TransferPath, api) // downloads and uploads (one-time tickets bound to the page's Origin)
	if dev != nil {
		mux.HandleFunc("POST /dev/token", dev.serveToken)
		mux.Handle("/", demoHandler())
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if dev != nil {
		fmt.Fprintf(stdout, "imapbridge demo running: open %s/ (IMAP user %q, password %q)\n", public, dev.user, dev.password)
	} else {
		fmt.Fprintf(stdout, "imapbridge listening on %s\n", public)
	}
	log.Info("listening", "addr", ln.Addr().String(), "embedded", dev != nil)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: telling browsers to reconnect, logging IMAP connections out", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	berr := br.Shutdown(sctx)
	herr := hs.Shutdown(sctx)
	<-errc
	log.Info("stopped")
	if berr != nil && !errors.Is(berr, context.DeadlineExceeded) {
		return berr
	}
	if herr != nil && !errors.Is(herr, context.DeadlineExceeded) {
		return herr
	}
	return nil
}

// pageOrigins are the origins the served page may open the WebSocket from:
// its URL, and for localhost also 127.0.0.1 on the same port.
func pageOrigins(public string) []string {
	origins := []string{public}
	if strings.Contains(public, "://localhost:") {
		origins = append(origins, strings.Replace(public, "://localhost:", "://127.0.0.1:", 1))
	}
	return origins
}

// ownPageOrigin lets the embedded default's page open the WebSocket from
// whatever address the browser used to reach it (a LAN address, a published
// container port, a host name): a request whose Origin is this very request's
// http://Host — the page this server served — goes to h as if from public,
// an origin h allows. Every other Origin goes to h unchanged, so other sites
// are still refused. A DNS-rebinding page could pass as its own host; that
// gives it the in-process sample mailbox, which the embedded default's token
// endpoint hands to anyone anyway (serveToken), and never a configured
// upstream: configured bridges do not get this handler.
func ownPageOrigin(public string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && r.Host != "" && strings.EqualFold(o, "http://"+r.Host) && r.TLS == nil {
			r = r.Clone(r.Context())
			r.Header.Set("Origin", public)
		}
		h.ServeHTTP(w, r)
	})
}

// displayAddr turns a listen address into one a browser can open.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	if host == "127.0.0.1" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// devEnv is the embedded default: sample IMAP server, signing key, config.
type devEnv struct {
	srv            *devserver.Server // nil when the demo fronts a configured upstream
	signer         *auth.Signer
	cfg            bridge.Config
	user, password string
	upstream       string
	ttl            time.Duration
}

// configDemo enables the demo page and token endpoint of a configuration
// file's "demo" section, signing with its HMAC secret.
func configDemo(cfg *bridge.Config, f loaded, public string) (*devEnv, error) {
	signer, err := auth.NewHMACSigner(f.secret)
	if err != nil {
		return nil, err
	}
	signer.Issuer, signer.Audience = f.auth.Issuer, f.auth.Audience
	if f.auth.Type != "" {
		signer.Type = f.auth.Type
	}
	ttl, err := f.demo.TokenTTL.get("demo.tokenTTL")
	if err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = devTokenTTL
	}
	ups := f.demo.Upstream
	if ups == "" {
		ups = cfg.DefaultUpstream
	}
	cfg.AllowedOrigins = append(cfg.AllowedOrigins, pageOrigins(public)...)
	return &devEnv{signer: signer, cfg: *cfg, user: f.demo.IMAPUser, password: f.demo.Password, upstream: ups, ttl: ttl}, nil
}

func startDev(ctx context.Context, log *slog.Logger, public string, o options) (*devEnv, error) {
	dopts := devserver.Options{Logger: log, Deliver: o.mailEvery, DeliverMax: o.mailMax}
	if o.mailEvery <= 0 || o.mailMax == 0 {
		dopts.Deliver = -1 // no generated mail
	}
	srv, err := devserver.Start(ctx, dopts)
	if err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		srv.Close()
		return nil, err
	}
	const kid = "dev"
	signer, err := auth.NewEd25519Signer(priv, kid)
	if err != nil {
		srv.Close()
		return nil, err
	}
	signer.Issuer, signer.Audience = devIssuer, devAudience
	v, err := auth.NewVerifier(auth.Config{Issuer: devIssuer, Audience: devAudience, Type: signer.Type,
		PublicKeys: map[string]crypto.PublicKey{kid: priv.Public()}})
	if err != nil {
		srv.Close()
		return nil, err
	}
	user, pw := srv.User()
	origins := pageOrigins(public)
	cfg := bridge.Config{
		Verifier:        v,
		AllowedOrigins:  origins,
		DefaultUpstream: devUpstream,
		Upstreams: []bridge.Upstream{{Name: devUpstream, Addr: srv.Addr(), Security: bridge.SecurityPlain,
			AllowPrivate: true, AllowPlaintext: true}},
	}
	return &devEnv{srv: srv, signer: signer, cfg: cfg, user: user, password: pw, upstream: devUpstream, ttl: devTokenTTL}, nil
}

// clientAddr is r's peer address, or the last X-Forwarded-For hop when the
// peer is one of trusted (as the bridge resolves it); the zero Addr if unknown.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	for _, p := range trusted {
		if !p.Contains(ip) {
			continue
		}
		xff := r.Header.Get("X-Forwarded-For")
		if i := strings.LastIndexByte(xff, ','); i >= 0 {
			xff = xff[i+1:]
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(xff)); err == nil {
			return a.Unmap()
		}
		break
	}
	return ip
}

func (d *devEnv) close() {
	if d.srv != nil {
		d.srv.Close()
	}
}

// serveToken issues a development token for the demo user, with the demo
// server's password so the page can log in at once.
//
// For the embedded default (d.srv set) it answers any client: the token opens
// only the in-process sample mailbox (its password is printed at start and
// sent with every token anyway), it is signed by a key generated for this
// process, and that key's verifier knows no upstream but the embedded one. So
// `docker run -p 8080:8080`, whose requests arrive from the container
// gateway's address, works, and nothing real is reachable with the token.
//
// For a configured demo (a "demo" section fronting a real account) it answers
// only loopback clients, the client being the X-Forwarded-For hop of a
// trusted proxy when there is one (a reverse proxy on the same host must not
// make every visitor loopback).
func (d *devEnv) serveToken(w http.ResponseWriter, r *http.Request) {
	if d.srv == nil {
		if ip := clientAddr(r, d.cfg.TrustedProxies); !ip.IsLoopback() {
			http.Error(w, fmt.Sprintf("the development token endpoint of a configured demo answers loopback clients only, not %s: "+
				"open the page on the bridge's own machine, or run the embedded default", ip), http.StatusForbidden)
			return
		}
	}
	scopes, _ := auth.ParseScopes("write delete")
	tok, err := d.signer.Sign(auth.Claims{Subject: d.user, Upstream: d.upstream, IMAPUser: d.user,
		Credential: auth.CredentialPassword, Scopes: scopes}, d.ttl)
	if err != nil {
		http.Error(w, "cannot sign", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "user": d.user, "password": d.password,
		"expiresIn": int(d.ttl.Seconds())})
}
