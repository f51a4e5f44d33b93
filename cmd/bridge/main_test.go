package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/internal/devserver"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// syncBuffer is a bytes.Buffer safe for the run goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlPattern = regexp.MustCompile(`http://[a-z0-9.]+:[0-9]+`)

// startRun runs run(args) until the test ends and returns the printed URL.
func startRun(t *testing.T, args []string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(string) string { return "" }, &out, &errOut) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := urlPattern.FindString(out.String()); m != "" {
			return m, stop
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v (stderr: %s)", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed: %q", out.String())
		}
	}
}

// wsSession is a minimal client of the bridge for these tests.
type wsSession struct {
	t    *testing.T
	conn *websocket.Conn
	n    int
}

func dialWS(t *testing.T, base, origin, token string) *wsSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol, protocol.BearerPrefix + token},
		HTTPHeader:   http.Header{"Origin": {origin}}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(16 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	s := &wsSession{t: t, conn: conn}
	if f := s.read(10 * time.Second); f["type"] != "hello" {
		t.Fatalf("no hello: %v", f)
	}
	return s
}

func (s *wsSession) read(d time.Duration) map[string]any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		s.t.Fatal(err)
	}
	return m
}

// drain keeps reading (so the server's close handshake completes) until the
// connection ends.
func (s *wsSession) drain() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := s.conn.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	s.t.Cleanup(func() { _ = s.conn.CloseNow(); <-done })
}

// call sends req and returns its result, failing on an error frame.
func (s *wsSession) call(req map[string]any) map[string]any {
	s.t.Helper()
	s.n++
	id := "c" + string(rune('a'+s.n))
	req["id"] = id
	data, _ := json.Marshal(req)
	if err := s.conn.Write(context.Background(), websocket.MessageText, data); err != nil {
		s.t.Fatal(err)
	}
	for {
		f := s.read(10 * time.Second)
		if f == nil {
			s.t.Fatalf("no answer to %v", req)
		}
		if f["id"] == id {
			if f["type"] != "response" {
				s.t.Fatalf("%v: %v", req, f)
			}
			r, _ := f["result"].(map[string]any)
			return r
		}
	}
}

// TestRunEmbedded runs the embedded default: page with CSP, dev token,
// login, list, INBOX, fetch, an exists event for delivered mail, clean stop.
func TestRunEmbedded(t *testing.T) {
	url, stop := startRun(t, []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-demo-mail-every", "1s", "-demo-mail-max", "10"})
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") || len(page) == 0 {
		t.Fatalf("GET /: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Post(url+"/dev/token", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token, User, Password string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.Token == "" || tok.Password == "" {
		t.Fatalf("dev token: %v %+v", err, tok)
	}
	s := dialWS(t, url, url, tok.Token)
	s.call(map[string]any{"op": "login", "password": tok.Password})
	r := s.call(map[string]any{"op": "list", "specialUse": true})
	if len(r["mailboxes"].([]any)) < 3 {
		t.Errorf("list: %v", r)
	}
	r = s.call(map[string]any{"op": "select", "mailbox": "INBOX"})
	exists := r["exists"].(float64)
	r = s.call(map[string]any{"op": "fetch", "seqs": "1:5", "items": []string{"envelope", "flags"}})
	if len(r["messages"].([]any)) != 5 {
		t.Errorf("fetch: %v", r)
	}
	// The one-time transfer URLs are routed to the bridge: a download of
	// message 1 streams it; the ticket's second use is refused (410).
	r = s.call(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1})
	for i, want := range []int{http.StatusOK, http.StatusGone} {
		req, _ := http.NewRequest(http.MethodGet, url+r["url"].(string), nil)
		req.Header.Set("Origin", url)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (i == 0 && (resp.Header.Get("Content-Type") != "message/rfc822" || len(body) == 0)) {
			t.Fatalf("GET %s (use %d): %d %v %q", r["url"], i+1, resp.StatusCode, resp.Header, body)
		}
	}
	// New mail arrives every second (-demo-mail-every).
	deadline := time.Now().Add(8 * time.Second)
	for {
		f := s.read(time.Until(deadline))
		if f == nil {
			t.Fatal("no exists event within 8 s")
		}
		if f["event"] == "exists" && f["count"].(float64) > exists {
			break
		}
	}
	s.drain()
	if err := stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// TestRunConfigFile runs with a JSON configuration: HMAC secret file and a
// Dovecot upstream.
func TestRunConfigFile(t *testing.T) {
	dv := dovecottest.Start(t)
	dir := t.TempDir()
	secret := "this-is-a-test-secret-of-at-least-32-bytes"
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := map[string]any{
		"addr":            "127.0.0.1:0",
		"allowedOrigins":  []string{"https://app.example.test"},
		"defaultUpstream": "dovecot",
		"upstreams": []any{map[string]any{"name": "dovecot", "addr": dv.TLSAddr, "security": "tls",
			"caFile": dv.CAFile, "allowPrivate": true}},
		"auth": map[string]any{"issuer": "iss", "audience": "aud", "type": auth.DefaultTokenType,
			"hmacSecretFile": write("secret", secret+"\n")},
	}
	data, _ := json.Marshal(cfg)
	url, stop := startRun(t, []string{"-config", write("bridge.json", string(data)), "-log-level", "error"})

	signer, err := auth.NewHMACSigner([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	signer.Issuer, signer.Audience = "iss", "aud"
	user, pw := dv.NewUser(t)
	dv.Deliver(t, user, []byte("Subject: via config\r\n\r\nhi\r\n"))
	sc, _ := auth.ParseScopes("read")
	tok, err := signer.Sign(auth.Claims{Subject: user, IMAPUser: user, Credential: auth.CredentialPassword, Scopes: sc}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s := dialWS(t, url, "https://app.example.test", tok)
	s.call(map[string]any{"op": "login", "password": pw})
	if r := s.call(map[string]any{"op": "select", "mailbox": "INBOX"}); r["exists"].(float64) != 1 {
		t.Errorf("select: %v", r)
	}
	s.drain()
	if err := stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// TestRunHelp: -h and -help print the usage (every flag) and end with
// flag.ErrHelp, which main turns into exit status 0.
func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out, errOut syncBuffer
		err := run(t.Context(), []string{arg}, func(string) string { return "" }, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s: %v, want flag.ErrHelp", arg, err)
		}
		for _, want := range []string{"Usage of bridge", "-config", "-demo-mail-every", "-demo-mail-max"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, errOut.String())
			}
		}
	}
}

// TestDemoMailFlags: the demo-mail knob from flags and environment.
func TestDemoMailFlags(t *testing.T) {
	env := map[string]string{"IMAPBRIDGE_DEMO_MAIL_EVERY": "10s", "IMAPBRIDGE_DEMO_MAIL_MAX": "7"}
	o, err := parseFlags(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.mailEvery != 10*time.Second || o.mailMax != 7 {
		t.Fatalf("env: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"-demo-mail-every", "1m", "-demo-mail-max", "-1"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.mailEvery != time.Minute || o.mailMax != -1 {
		t.Fatalf("flags: %+v %v", o, err)
	}
	o, err = parseFlags(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.mailEvery != devserver.DefaultDeliverInterval || o.mailMax != devserver.DefaultDeliverMax {
		t.Fatalf("defaults: %+v %v", o, err)
	}
}

// TestRunInvalidConfig checks that bad flags and files give clear errors.
func TestRunInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("this-is-a-test-secret-of-at-least-32-bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := `"auth":{"issuer":"i","audience":"a","hmacSecretFile":"` + secret + `"}`
	ups := `"upstreams":[{"name":"u","addr":"127.0.0.1:1","security":"plain","allowPrivate":true,"allowPlaintext":true}]`
	tests := []struct {
		name, file string
		args       []string
		want       string
	}{
		{name: "unexpected argument", args: []string{"extra"}, want: "unexpected argument"},
		{name: "unknown flag", args: []string{"-nope"}, want: "flag provided but not defined"},
		{name: "missing file", args: []string{"-config", filepath.Join(dir, "missing.json")}, want: "no such file"},
		{name: "unknown field", file: `{"addr":"127.0.0.1:0","bogus":1}`, want: "unknown field"},
		{name: "no key", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],` + ups + `,"auth":{"issuer":"i","audience":"a"}}`, want: "hmacSecretFile"},
		{name: "bad leeway", file: `{"addr":"127.0.0.1:0","auth":{"issuer":"i","audience":"a","leeway":"soon","hmacSecretFile":"` + secret + `"}}`, want: "leeway"},
		{name: "no upstream", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],` + good + `}`, want: "no upstream"},
		{name: "no origin", file: `{"addr":"127.0.0.1:0",` + ups + `,` + good + `}`, want: "no allowed origin"},
		{name: "plaintext not allowed", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"upstreams":[{"name":"u","addr":"127.0.0.1:1","security":"plain"}],` + good + `}`, want: "plaintext"},
		// Issue 20 item 7: upstream hosts are validated at load, with the
		// upstream named, before any resolver sees them.
		{name: "host with user info", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"upstreams":[{"name":"u","addr":"host@127.0.0.1:993"}],` + good + `}`, want: `upstreams: bridge: invalid upstream "u": bridge: upstream host must be`},
		{name: "host with NUL", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"upstreams":[{"name":"u","addr":"imap\u0000.example.com:993"}],` + good + `}`, want: "not allowed in a host name"},
		{name: "host with space", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"upstreams":[{"name":"u","addr":"imap example.com:993"}],` + good + `}`, want: "not allowed in a host name"},
		{name: "hex shorthand", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"upstreams":[{"name":"u","addr":"0x7f.1:993"}],` + good + `}`, want: "numeric form"},
		{name: "short dotted", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"upstreams":[{"name":"u","addr":"127.1:993","allowPrivate":true}],` + good + `}`, want: "numeric form"},
		{name: "bad default", file: `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],"defaultUpstream":"x",` + ups + `,` + good + `}`, want: "default upstream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				p := filepath.Join(t.TempDir(), "c.json")
				if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"-config", p}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out, errOut syncBuffer
			err := run(ctx, args, func(string) string { return "" }, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestConfigDurations: every duration of the configuration file is a Go
// duration string, nanoseconds (a JSON number) still accepted; bad values and
// unknown limits are refused naming the setting.
func TestConfigDurations(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("this-is-a-test-secret-of-at-least-32-bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(limits, leeway string) (loaded, error) {
		p := filepath.Join(t.TempDir(), "c.json")
		doc := `{"addr":"127.0.0.1:0","allowedOrigins":["https://a.test"],` +
			`"upstreams":[{"name":"u","addr":"127.0.0.1:1","security":"plain","allowPrivate":true,"allowPlaintext":true}],` +
			`"auth":{"issuer":"i","audience":"a","hmacSecretFile":"` + secret + `","leeway":` + leeway + `},` +
			`"demo":{"upstream":"u","imapUser":"x","password":"y","tokenTTL":"90s"},"limits":` + limits + `}`
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return loadFile(p)
	}
	l, err := load(`{"pingInterval":"30s","pongTimeout":"1m30s","WriteTimeout":2500000000,"idleDelay":"250ms","sessionsPerUser":3,"ticketTTL":"45s"}`, `"5s"`)
	if err != nil {
		t.Fatal(err)
	}
	got := l.cfg.Limits
	if got.PingInterval != 30*time.Second || got.PongTimeout != 90*time.Second || got.WriteTimeout != 2500*time.Millisecond ||
		got.IdleDelay != 250*time.Millisecond || got.SessionsPerUser != 3 || got.TicketTTL != 45*time.Second {
		t.Errorf("limits %+v", got)
	}
	if d, err := l.demo.TokenTTL.get("demo.tokenTTL"); err != nil || d != 90*time.Second {
		t.Errorf("tokenTTL %v %v", d, err)
	}
	if _, err := load(`{}`, `30000000000`); err != nil {
		t.Errorf("leeway in nanoseconds: %v", err)
	}
	for _, tc := range []struct{ limits, leeway, want string }{
		{`{"pingInterval":"soon"}`, `"5s"`, "limits.pingInterval: want a Go duration"},
		{`{"pingInterval":1.5}`, `"5s"`, "limits.pingInterval: want a Go duration string"},
		{`{"pingIntervals":"1s"}`, `"5s"`, `limits: unknown field "pingIntervals"`},
		{`{"sessionsPerUser":"3"}`, `"5s"`, "limits: json: cannot unmarshal string"},
		{`{}`, `"5 s"`, "auth.leeway: want a Go duration"},
		{`{}`, `true`, "auth.leeway"},
	} {
		if _, err := load(tc.limits, tc.leeway); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("limits %s leeway %s: %v, want %q", tc.limits, tc.leeway, err, tc.want)
		}
	}
}
