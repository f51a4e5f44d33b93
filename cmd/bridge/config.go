package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge"
	"github.com/imapbridge/imapbridge/internal/devserver"
)

// options are the command line and environment settings.
type options struct {
	addr       string // listen address
	configPath string // JSON configuration; "" runs the embedded default
	logLevel   string
	logFormat  string
	healthOnly bool // -healthcheck: probe a running bridge's /healthz and exit
	// The embedded default's generated mail: one message every mailEvery,
	// at most mailMax of them (0: none, -1: no cap).
	mailEvery time.Duration
	mailMax   int
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var o options
	fs.StringVar(&o.addr, "addr", env("IMAPBRIDGE_ADDR", ""), "listen address (env IMAPBRIDGE_ADDR; default 127.0.0.1:8080, or the config file's)")
	fs.StringVar(&o.configPath, "config", env("IMAPBRIDGE_CONFIG", ""), "JSON configuration file (env IMAPBRIDGE_CONFIG); none runs the embedded demo")
	fs.StringVar(&o.logLevel, "log-level", env("IMAPBRIDGE_LOG_LEVEL", "info"), "debug, info, warn or error (env IMAPBRIDGE_LOG_LEVEL)")
	fs.StringVar(&o.logFormat, "log-format", env("IMAPBRIDGE_LOG_FORMAT", "json"), "json or text (env IMAPBRIDGE_LOG_FORMAT)")
	fs.DurationVar(&o.mailEvery, "demo-mail-every", envDuration(getenv, "IMAPBRIDGE_DEMO_MAIL_EVERY", devserver.DefaultDeliverInterval),
		"embedded demo: a new sample message every this long (env IMAPBRIDGE_DEMO_MAIL_EVERY; Go duration, e.g. 10s)")
	fs.IntVar(&o.mailMax, "demo-mail-max", envInt(getenv, "IMAPBRIDGE_DEMO_MAIL_MAX", devserver.DefaultDeliverMax),
		"embedded demo: stop after this many new messages; 0 none, -1 no cap (env IMAPBRIDGE_DEMO_MAIL_MAX)")
	fs.BoolVar(&o.healthOnly, "healthcheck", false, "probe http://ADDR/healthz of a running bridge and exit 0 if healthy (for container health checks)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// envDuration is the Go duration in the environment variable k, or def
// when it is unset or unparsable (the flag's usage names the variable).
func envDuration(getenv func(string) string, k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(getenv(k)); err == nil {
		return d
	}
	return def
}

// envInt is the integer in the environment variable k, or def.
func envInt(getenv func(string) string, k string, def int) int {
	if n, err := strconv.Atoi(getenv(k)); err == nil {
		return n
	}
	return def
}

// fileConfig is the JSON configuration file for a real deployment.
type fileConfig struct {
	Addr               string           `json:"addr"`
	AllowedOrigins     []string         `json:"allowedOrigins"`
	AllowMissingOrigin bool             `json:"allowMissingOrigin"`
	TrustedProxies     []string         `json:"trustedProxies"`
	DefaultUpstream    string           `json:"defaultUpstream"`
	Upstreams          []upstreamConfig `json:"upstreams"`
	Auth               authConfig       `json:"auth"`
	Limits             bridge.Limits    `json:"limits"`
	// Demo serves the demo page and a development token endpoint for one
	// IMAP account of an upstream (end-to-end tests, local trials against a
	// real server); the endpoint answers loopback clients only (the client
	// being a trusted proxy's X-Forwarded-For hop). It needs auth.hmacSecretFile, whose
	// secret signs the tokens. Never enable it in production.
	Demo *demoConfig `json:"demo"`
}

type demoConfig struct {
	Upstream string `json:"upstream"`
	IMAPUser string `json:"imapUser"`
	Password string `json:"password"`
	TokenTTL string `json:"tokenTTL"` // default 10m
}

// loaded is a parsed configuration file.
type loaded struct {
	cfg    bridge.Config
	addr   string
	demo   *demoConfig
	secret []byte // the HMAC secret, when configured (for the demo token endpoint)
	auth   authConfig
}

type upstreamConfig struct {
	Name               string   `json:"name"`
	Addr               string   `json:"addr"`
	Security           string   `json:"security"` // tls (default), starttls, plain, stdio
	Command            []string `json:"command"`
	CAFile             string   `json:"caFile"`
	AllowPrivate       bool     `json:"allowPrivate"`
	AllowPlaintext     bool     `json:"allowPlaintext"`
	MasterUser         string   `json:"masterUser"`
	MasterPasswordFile string   `json:"masterPasswordFile"`
	OAuthMechanism     string   `json:"oauthMechanism"`
}

type authConfig struct {
	Issuer         string   `json:"issuer"`
	Audience       string   `json:"audience"`
	Type           string   `json:"type"`
	Leeway         string   `json:"leeway"`
	MaxLifetime    string   `json:"maxLifetime"`
	HMACSecretFile string   `json:"hmacSecretFile"`
	PublicKeyFiles []string `json:"publicKeyFiles"`
	JWKSFile       string   `json:"jwksFile"`
}

// loadFile reads and validates a configuration file.
func loadFile(path string) (loaded, error) {
	fail := func(err error) (loaded, error) { return loaded{}, err }
	var fc fileConfig
	var secret []byte
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	ac := auth.Config{Issuer: fc.Auth.Issuer, Audience: fc.Auth.Audience, Type: fc.Auth.Type}
	if fc.Auth.Leeway != "" {
		if ac.Leeway, err = time.ParseDuration(fc.Auth.Leeway); err != nil {
			return fail(fmt.Errorf("auth.leeway: %w", err))
		}
	}
	if fc.Auth.MaxLifetime != "" {
		if ac.MaxLifetime, err = time.ParseDuration(fc.Auth.MaxLifetime); err != nil {
			return fail(fmt.Errorf("auth.maxLifetime: %w", err))
		}
	}
	switch {
	case fc.Auth.HMACSecretFile != "":
		sec, err := os.ReadFile(fc.Auth.HMACSecretFile)
		if err != nil {
			return fail(err)
		}
		ac.HMACSecret = []byte(strings.TrimSpace(string(sec)))
		secret = ac.HMACSecret
	case fc.Auth.JWKSFile != "":
		if ac.PublicKeys, err = auth.LoadJWKS(fc.Auth.JWKSFile); err != nil {
			return fail(err)
		}
	case len(fc.Auth.PublicKeyFiles) > 0:
		if ac.PublicKeys, err = auth.LoadPEMKeys(fc.Auth.PublicKeyFiles...); err != nil {
			return fail(err)
		}
	default:
		return fail(errors.New("auth: one of hmacSecretFile, jwksFile, publicKeyFiles is required"))
	}
	v, err := auth.NewVerifier(ac)
	if err != nil {
		return fail(err)
	}
	cfg := bridge.Config{AllowedOrigins: fc.AllowedOrigins, AllowMissingOrigin: fc.AllowMissingOrigin,
		DefaultUpstream: fc.DefaultUpstream, Verifier: v, Limits: fc.Limits}
	for _, p := range fc.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fail(fmt.Errorf("trustedProxies: %w", err))
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, pfx)
	}
	for _, u := range fc.Upstreams {
		up := bridge.Upstream{Name: u.Name, Addr: u.Addr, Security: bridge.Security(u.Security), Command: u.Command,
			AllowPrivate: u.AllowPrivate, AllowPlaintext: u.AllowPlaintext, MasterUser: u.MasterUser, OAuthMechanism: u.OAuthMechanism}
		if u.CAFile != "" {
			pem, err := os.ReadFile(u.CAFile)
			if err != nil {
				return fail(err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fail(fmt.Errorf("upstream %s: no certificate in %s", u.Name, u.CAFile))
			}
			up.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		if u.MasterPasswordFile != "" {
			pw, err := os.ReadFile(u.MasterPasswordFile)
			if err != nil {
				return fail(err)
			}
			up.MasterPassword = strings.TrimRight(string(pw), "\r\n")
		}
		if err := up.Validate(); err != nil {
			return fail(fmt.Errorf("upstreams: %w", err))
		}
		cfg.Upstreams = append(cfg.Upstreams, up)
	}
	if fc.Demo != nil && len(secret) == 0 {
		return fail(errors.New("demo: needs auth.hmacSecretFile to sign development tokens"))
	}
	return loaded{cfg: cfg, addr: fc.Addr, demo: fc.Demo, secret: secret, auth: fc.Auth}, nil
}
