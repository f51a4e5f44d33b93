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
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge"
)

// options are the command line and environment settings.
type options struct {
	addr       string // listen address
	configPath string // JSON configuration; "" runs the embedded default
	logLevel   string
	logFormat  string
	healthOnly bool // -healthcheck: probe a running bridge's /healthz and exit
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
	fs.BoolVar(&o.healthOnly, "healthcheck", false, "probe http://ADDR/healthz of a running bridge and exit 0 if healthy (for container health checks)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
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

// loadConfig reads and validates a configuration file into a bridge.Config.
func loadConfig(path string) (bridge.Config, string, error) {
	var fc fileConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return bridge.Config{}, "", err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return bridge.Config{}, "", fmt.Errorf("%s: %w", path, err)
	}
	ac := auth.Config{Issuer: fc.Auth.Issuer, Audience: fc.Auth.Audience, Type: fc.Auth.Type}
	if fc.Auth.Leeway != "" {
		if ac.Leeway, err = time.ParseDuration(fc.Auth.Leeway); err != nil {
			return bridge.Config{}, "", fmt.Errorf("auth.leeway: %w", err)
		}
	}
	if fc.Auth.MaxLifetime != "" {
		if ac.MaxLifetime, err = time.ParseDuration(fc.Auth.MaxLifetime); err != nil {
			return bridge.Config{}, "", fmt.Errorf("auth.maxLifetime: %w", err)
		}
	}
	switch {
	case fc.Auth.HMACSecretFile != "":
		sec, err := os.ReadFile(fc.Auth.HMACSecretFile)
		if err != nil {
			return bridge.Config{}, "", err
		}
		ac.HMACSecret = []byte(strings.TrimSpace(string(sec)))
	case fc.Auth.JWKSFile != "":
		if ac.PublicKeys, err = auth.LoadJWKS(fc.Auth.JWKSFile); err != nil {
			return bridge.Config{}, "", err
		}
	case len(fc.Auth.PublicKeyFiles) > 0:
		if ac.PublicKeys, err = auth.LoadPEMKeys(fc.Auth.PublicKeyFiles...); err != nil {
			return bridge.Config{}, "", err
		}
	default:
		return bridge.Config{}, "", errors.New("auth: one of hmacSecretFile, jwksFile, publicKeyFiles is required")
	}
	v, err := auth.NewVerifier(ac)
	if err != nil {
		return bridge.Config{}, "", err
	}
	cfg := bridge.Config{AllowedOrigins: fc.AllowedOrigins, AllowMissingOrigin: fc.AllowMissingOrigin,
		DefaultUpstream: fc.DefaultUpstream, Verifier: v, Limits: fc.Limits}
	for _, p := range fc.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return bridge.Config{}, "", fmt.Errorf("trustedProxies: %w", err)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, pfx)
	}
	for _, u := range fc.Upstreams {
		up := bridge.Upstream{Name: u.Name, Addr: u.Addr, Security: bridge.Security(u.Security), Command: u.Command,
			AllowPrivate: u.AllowPrivate, AllowPlaintext: u.AllowPlaintext, MasterUser: u.MasterUser, OAuthMechanism: u.OAuthMechanism}
		if u.CAFile != "" {
			pem, err := os.ReadFile(u.CAFile)
			if err != nil {
				return bridge.Config{}, "", err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return bridge.Config{}, "", fmt.Errorf("upstream %s: no certificate in %s", u.Name, u.CAFile)
			}
			up.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		if u.MasterPasswordFile != "" {
			pw, err := os.ReadFile(u.MasterPasswordFile)
			if err != nil {
				return bridge.Config{}, "", err
			}
			up.MasterPassword = strings.TrimRight(string(pw), "\r\n")
		}
		cfg.Upstreams = append(cfg.Upstreams, up)
	}
	return cfg, fc.Addr, nil
}
