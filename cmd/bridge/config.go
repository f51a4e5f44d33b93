package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge"
	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/internal/devserver"
	"github.com/imapbridge/imapbridge/submit"
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

// duration is a duration of the configuration file: a Go duration string
// ("30s", "1m30s", "250ms"), or a JSON number of nanoseconds (what
// time.Duration marshals to, accepted for older files). It keeps the raw
// value so the error can name the setting (get).
type duration struct{ raw json.RawMessage }

// UnmarshalJSON keeps the raw value for get.
func (d *duration) UnmarshalJSON(b []byte) error {
	d.raw = append(d.raw[:0], b...)
	return nil
}

// get parses the duration; absent or null is 0. name is the setting, for the error.
func (d duration) get(name string) (time.Duration, error) {
	return parseDuration(name, d.raw)
}

// parseDuration parses a configuration duration (see duration) from raw JSON.
func parseDuration(name string, raw json.RawMessage) (time.Duration, error) {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return 0, nil
	}
	if v[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		d, err := time.ParseDuration(str)
		if err != nil {
			return 0, fmt.Errorf("%s: want a Go duration such as \"30s\" or \"1m30s\": %w", name, err)
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%s: want a Go duration string (\"30s\") or whole nanoseconds: %s", name, v)
	}
	return time.Duration(n), nil
}

// decodeLimits decodes the "limits" object into bridge.Limits: field names as
// encoding/json matches them (case-insensitive), unknown names refused, and
// every time.Duration field given as a Go duration string or nanoseconds.
func decodeLimits(raw json.RawMessage) (bridge.Limits, error) {
	var lim bridge.Limits
	if len(raw) == 0 || string(raw) == "null" {
		return lim, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return lim, fmt.Errorf("limits: %w", err)
	}
	t := reflect.TypeOf(lim)
	durType := reflect.TypeOf(time.Duration(0))
	for k, v := range fields {
		f, ok := t.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, k) })
		if !ok {
			return lim, fmt.Errorf("limits: unknown field %q", k)
		}
		if f.Type == durType {
			d, err := parseDuration("limits."+k, v)
			if err != nil {
				return lim, err
			}
			fields[k] = json.RawMessage(strconv.FormatInt(int64(d), 10))
		}
	}
	norm, err := json.Marshal(fields)
	if err != nil {
		return lim, fmt.Errorf("limits: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(norm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lim); err != nil {
		return lim, fmt.Errorf("limits: %w", err)
	}
	return lim, nil
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
	Limits             json.RawMessage  `json:"limits"` // bridge.Limits; durations as Go duration strings (decodeLimits)
	// Demo serves the demo page and a development token endpoint for one
	// IMAP account of an upstream (end-to-end tests, local trials against a
	// real server); the endpoint answers loopback clients only (the client
	// being a trusted proxy's X-Forwarded-For hop). It needs auth.hmacSecretFile, whose
	// secret signs the tokens. Never enable it in production.
	Demo *demoConfig `json:"demo"`
	// Cluster coordinates replicas through Redis (cluster-wide session and
	// account caps, revocation); absent, every limit is this process's own.
	Cluster *clusterConfig `json:"cluster"`
	// Admin serves POST /admin/revoke on a listener of its own (needs cluster).
	Admin *adminConfig `json:"admin"`
}

type clusterConfig struct {
	RedisAddr         string   `json:"redisAddr"` // host:port
	RedisUsername     string   `json:"redisUsername"`
	RedisPasswordFile string   `json:"redisPasswordFile"`
	RedisTLS          bool     `json:"redisTLS"`
	RedisCAFile       string   `json:"redisCAFile"`
	KeyPrefix         string   `json:"keyPrefix"` // default cluster.DefaultKeyPrefix
	LeaseTTL          duration `json:"leaseTTL"`  // default cluster.DefaultLeaseTTL
	// AdvertiseAddr is this replica's host:port as the other replicas reach
	// it ("${POD_IP}:8080": ${VAR} is taken from the environment); set, the
	// one-time transfer URLs work on every replica (bridge.Config.ClusterAddr).
	AdvertiseAddr string `json:"advertiseAddr"`
}

type adminConfig struct {
	Addr      string `json:"addr"`      // e.g. "127.0.0.1:9090"; never the public listener
	TokenFile string `json:"tokenFile"` // the bearer token operators send
}

type demoConfig struct {
	Upstream string   `json:"upstream"`
	IMAPUser string   `json:"imapUser"`
	Password string   `json:"password"`
	TokenTTL duration `json:"tokenTTL"` // default 10m
}

// loaded is a parsed configuration file.
type loaded struct {
	cfg    bridge.Config
	addr   string
	demo   *demoConfig
	secret []byte // the HMAC secret, when configured (for the demo token endpoint)
	auth   authConfig
	// cluster is the coordinator's configuration (callbacks unset), nil
	// without a "cluster" section; admin the admin listener's.
	cluster    *cluster.Options
	adminAddr  string
	adminToken []byte
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
	// Login pacing toward this server (bridge.Upstream.LoginsPerSecond).
	LoginsPerSecond float64  `json:"loginsPerSecond"`
	LoginBurst      int      `json:"loginBurst"`
	LoginWait       duration `json:"loginWait"`
	NoNotify        bool     `json:"noNotify"` // status watches poll even when the server offers NOTIFY
	// SMTP enables submit and saveDraft for this upstream.
	SMTP *smtpConfig `json:"smtp"`
	// MaxConnectionsPerAccount caps IMAP connections per IMAP user of this
	// upstream (sessions and transfers; across replicas with "cluster").
	MaxConnectionsPerAccount int `json:"maxConnectionsPerAccount"`
}

// smtpConfig is an upstream's submission server (bridge.SMTP).
type smtpConfig struct {
	Addr          string   `json:"addr"`
	Security      string   `json:"security"` // starttls (default, port 587) or tls (465)
	CAFile        string   `json:"caFile"`   // default: the upstream's caFile
	LocalName     string   `json:"localName"`
	Identities    []string `json:"identities"` // e.g. "{user}@example.com"
	SentMailbox   string   `json:"sentMailbox"`
	DraftsMailbox string   `json:"draftsMailbox"`
	SavesSent     bool     `json:"savesSent"`
}

type authConfig struct {
	Issuer         string   `json:"issuer"`
	Audience       string   `json:"audience"`
	Type           string   `json:"type"`
	Leeway         duration `json:"leeway"`
	MaxLifetime    duration `json:"maxLifetime"`
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
	if ac.Leeway, err = fc.Auth.Leeway.get("auth.leeway"); err != nil {
		return fail(err)
	}
	if ac.MaxLifetime, err = fc.Auth.MaxLifetime.get("auth.maxLifetime"); err != nil {
		return fail(err)
	}
	limits, err := decodeLimits(fc.Limits)
	if err != nil {
		return fail(err)
	}
	if fc.Demo != nil {
		if _, err := fc.Demo.TokenTTL.get("demo.tokenTTL"); err != nil {
			return fail(err)
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
		DefaultUpstream: fc.DefaultUpstream, Verifier: v, Limits: limits}
	for _, p := range fc.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fail(fmt.Errorf("trustedProxies: %w", err))
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, pfx)
	}
	for _, u := range fc.Upstreams {
		up := bridge.Upstream{Name: u.Name, Addr: u.Addr, Security: bridge.Security(u.Security), Command: u.Command,
			AllowPrivate: u.AllowPrivate, AllowPlaintext: u.AllowPlaintext, MasterUser: u.MasterUser, OAuthMechanism: u.OAuthMechanism,
			LoginsPerSecond: u.LoginsPerSecond, LoginBurst: u.LoginBurst, NoNotify: u.NoNotify,
			MaxConnectionsPerAccount: u.MaxConnectionsPerAccount}
		if up.LoginWait, err = u.LoginWait.get("upstreams[" + u.Name + "].loginWait"); err != nil {
			return fail(err)
		}
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
		if m := u.SMTP; m != nil {
			up.SMTP = &bridge.SMTP{Addr: m.Addr, Security: submit.Security(m.Security), TLSConfig: up.TLSConfig,
				LocalName: m.LocalName, Identities: m.Identities, SentMailbox: m.SentMailbox,
				DraftsMailbox: m.DraftsMailbox, SavesSent: m.SavesSent}
			if m.CAFile != "" {
				pem, err := os.ReadFile(m.CAFile)
				if err != nil {
					return fail(err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return fail(fmt.Errorf("upstream %s: smtp: no certificate in %s", u.Name, m.CAFile))
				}
				up.SMTP.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
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
	out := loaded{cfg: cfg, addr: fc.Addr, demo: fc.Demo, secret: secret, auth: fc.Auth}
	if cc := fc.Cluster; cc != nil {
		co := &cluster.Options{Addr: cc.RedisAddr, Username: cc.RedisUsername, KeyPrefix: cc.KeyPrefix}
		if cc.RedisAddr == "" {
			return fail(errors.New("cluster: redisAddr is required"))
		}
		if co.LeaseTTL, err = cc.LeaseTTL.get("cluster.leaseTTL"); err != nil {
			return fail(err)
		}
		if cc.RedisPasswordFile != "" {
			pw, err := os.ReadFile(cc.RedisPasswordFile)
			if err != nil {
				return fail(err)
			}
			co.Password = strings.TrimRight(string(pw), "\r\n")
		}
		if cc.RedisTLS || cc.RedisCAFile != "" {
			co.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: hostOf(cc.RedisAddr)}
			if cc.RedisCAFile != "" {
				pem, err := os.ReadFile(cc.RedisCAFile)
				if err != nil {
					return fail(err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return fail(fmt.Errorf("cluster: no certificate in %s", cc.RedisCAFile))
				}
				co.TLSConfig.RootCAs = pool
			}
		}
		out.cluster = co
		if cc.AdvertiseAddr != "" {
			a := os.ExpandEnv(cc.AdvertiseAddr)
			if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
				return fail(fmt.Errorf("cluster.advertiseAddr: want host:port, got %q", a))
			}
			out.cfg.ClusterAddr = a
		}
	}
	if ad := fc.Admin; ad != nil {
		if out.cluster == nil {
			return fail(errors.New("admin: revocation needs the cluster section (Redis)"))
		}
		if ad.Addr == "" || ad.TokenFile == "" {
			return fail(errors.New("admin: addr and tokenFile are required"))
		}
		tok, err := os.ReadFile(ad.TokenFile)
		if err != nil {
			return fail(err)
		}
		out.adminAddr, out.adminToken = ad.Addr, []byte(strings.TrimSpace(string(tok)))
		if len(out.adminToken) < 16 {
			return fail(errors.New("admin: the token in tokenFile must be at least 16 bytes"))
		}
	}
	return out, nil
}

// hostOf is the host part of a host:port (the address itself if it has none).
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
