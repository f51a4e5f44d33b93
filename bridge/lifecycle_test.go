package bridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// fakeUpstream starts a scripted IMAP server (LOGIN and LOGOUT built in, NOOP
// answered after delay) plus extra handlers, and an Upstream "fake" for it.
func fakeUpstream(t *testing.T, delay time.Duration, caps string, extra map[string]imaptest.HandlerFunc) (*imaptest.Server, Upstream) {
	t.Helper()
	hs := map[string]imaptest.HandlerFunc{
		"NOOP": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Sleep(delay)
			c.Tagged(cmd, "OK NOOP completed")
		},
	}
	for k, v := range extra {
		hs[k] = v
	}
	fs := imaptest.NewServer(t, imaptest.Config{Capabilities: caps, Handlers: hs})
	return fs, Upstream{Name: "fake", Addr: fs.Addr(), Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true}
}

// logouts counts the LOGOUT commands the fake server received.
func logouts(fs *imaptest.Server) int {
	n := 0
	for _, c := range fs.Commands() {
		if c.Name == "LOGOUT" {
			n++
		}
	}
	return n
}

func waitLogouts(t *testing.T, fs *imaptest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for logouts(fs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d LOGOUT commands, want %d", logouts(fs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openFake opens a logged-in session of user on the fake upstream.
func openFake(t *testing.T, h *harness, user string, ttl time.Duration) *wsClient {
	t.Helper()
	c, _, err := h.dial(h.token(claims(user, "fake", "write"), ttl))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login("pw")
	return c
}

// TestSlowConsumer: a client that stops reading while large fetches are
// pushed is closed with 1008 and its IMAP connection logged out.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up},
		// The close under test is the queue overflow's. The write in progress
		// then must finish once the client reads again, which on a loaded
		// machine (CI, -race) took over 3 s: a write timeout tears the
		// connection down mid-frame, with no close code to see.
		Limits: Limits{OutboundQueue: 32, OutboundBytes: 2 << 20, WriteTimeout: 30 * time.Second}})
	user, pw := ds.User()
	// Small socket buffers on both sides, so a client that stops reading
	// blocks the bridge's writer after a few KiB instead of megabytes.
	small := httptest.NewUnstartedServer(h.srv)
	small.Listener = smallBufListener{small.Listener}
	small.Start()
	defer small.Close()
	var d net.Dialer
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(smallSocketBuffer)
		}
		return c, err
	}}}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitFrame)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(small.URL, "http")+"/ws", &websocket.DialOptions{
		HTTPClient:   hc,
		Subprotocols: []string{protocol.Subprotocol, protocol.BearerPrefix + h.token(claims(user, "dev", "read"), 0)},
		HTTPHeader:   http.Header{"Origin": {testOrigin}}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20)
	write := func(v map[string]any) {
		data, _ := json.Marshal(v)
		if err := conn.Write(ctx, websocket.MessageText, data); err != nil {
			t.Fatal(err)
		}
	}
	write(map[string]any{"id": "l", "op": "login", "password": pw})
	write(map[string]any{"id": "s", "op": "select", "mailbox": "INBOX", "readOnly": true})
	// Stop reading; ask for ~400 KiB of bodies again and again.
	for i := range 40 {
		write(map[string]any{"id": "f" + itoa3(i), "op": "fetch", "uids": "1:*", "body": []any{map[string]any{"section": "", "peek": true}}})
		time.Sleep(5 * time.Millisecond)
	}
	// Resume reading only once the bridge has decided to close: on a loaded
	// machine a fixed pause let the client drain faster than the bridge
	// produced, and the queue never overflowed.
	for deadline := time.Now().Add(waitFrame); testutil.ToFloat64(h.srv.met.closes.WithLabelValues("1008")) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the bridge never closed the slow consumer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Resume reading: the write in progress drains, then the close arrives.
	var code websocket.StatusCode = -1
	var reason string
	for {
		_, _, err := conn.Read(ctx)
		if err != nil {
			code, reason = websocket.CloseStatus(err), err.Error()
			break
		}
	}
	if code != protocol.ClosePolicy || !strings.Contains(reason, "too slow") {
		t.Errorf("close %d %q, want 1008 too slow", code, reason)
	}
	waitSessions(t, h, 0, 5*time.Second)
}

// smallSocketBuffer is the socket buffer size of the slow-consumer test.
const smallSocketBuffer = 8 << 10

// smallBufListener shrinks the send buffer of every accepted connection.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(smallSocketBuffer)
	}
	return c, err
}

func itoa3(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// TestGracefulShutdown: 20 sessions with requests in flight all get an
// answer, close 1012 with a retry delay, and a LOGOUT upstream.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	fs, up := fakeUpstream(t, 300*time.Millisecond, "", nil)
	h := newHarness(t, Config{Upstreams: []Upstream{up}, Limits: Limits{ReconnectJitterMax: 500 * time.Millisecond}})
	const n = 20
	clients := make([]*wsClient, n)
	ids := make([]string, n)
	for i := range clients {
		clients[i] = openFake(t, h, "user"+itoa3(i), 0)
		ids[i] = clients[i].send(map[string]any{"op": "noop"})
	}
	time.Sleep(50 * time.Millisecond) // the NOOPs reach the server
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Shutdown took %s", d)
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := c.wait(ids[i])
			if f.str("type") != protocol.TypeResponse && f.str("type") != protocol.TypeError {
				t.Errorf("session %d: %s", i, f)
			}
			code, reason := c.waitClose(waitFrame)
			d, ok := protocol.ParseRetryAfter(reason)
			if code != protocol.CloseRestart || !ok || d > 500*time.Millisecond {
				t.Errorf("session %d closed %d %q", i, code, reason)
			}
		}()
	}
	wg.Wait()
	waitLogouts(t, fs, n)
	if h.srv.Sessions() != 0 {
		t.Errorf("%d sessions after Shutdown", h.srv.Sessions())
	}
	// A new session is refused.
	if _, resp, err := h.dial(h.token(claims("late", "fake", "read"), 0)); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Shutdown: %v %v", err, resp)
	}
}

// TestTokenExpiry: a session ends with 4401 when its token expires, and the
// IMAP connection is logged out.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	fs, up := fakeUpstream(t, 0, "", nil)
	h := newHarnessLeeway(t, Config{Upstreams: []Upstream{up}}, time.Millisecond)
	start := time.Now()
	c := openFake(t, h, "alice", 5*time.Second)
	c.ok(map[string]any{"op": "noop"})
	code, _ := c.waitClose(8 * time.Second)
	if code != protocol.CloseAuth {
		t.Errorf("close %d, want 4401", code)
	}
	if d := time.Since(start); d < 4*time.Second || d > 7*time.Second {
		t.Errorf("closed after %s", d)
	}
	waitLogouts(t, fs, 1)
}

// TestPingTimeout: a client that answers pings stays; one that stops
// reading (and so answering) is closed.
func TestPingTimeout(t *testing.T) {
	t.Parallel()
	fs, up := fakeUpstream(t, 0, "", nil)
	h := newHarness(t, Config{Upstreams: []Upstream{up},
		Limits: Limits{PingInterval: 100 * time.Millisecond, PongTimeout: 200 * time.Millisecond}})
	alive := openFake(t, h, "alive", 0)
	ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, h.wsURL(), &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol, protocol.BearerPrefix + h.token(claims("mute", "fake", "read"), 0)},
		HTTPHeader:   http.Header{"Origin": {testOrigin}}})
	if err != nil {
		t.Fatal(err)
	}
	mute := startClient(t, conn, false)
	_ = mute
	time.Sleep(time.Second) // many ping intervals; "mute" never reads
	alive.ok(map[string]any{"op": "noop"})
	var code websocket.StatusCode
	for {
		_, _, err := conn.Read(ctx)
		if err != nil {
			code = websocket.CloseStatus(err)
			break
		}
	}
	if code != protocol.ClosePolicy {
		t.Errorf("mute client closed with %d, want 1008", code)
	}
	waitSessions(t, h, 1, 5*time.Second)
	waitLogouts(t, fs, 1) // only the mute session was logged out (it never sent login: LOGOUT anyway)
}

// TestSessionsPerUser: the sixth session of one user is closed with 4429.
func TestSessionsPerUser(t *testing.T) {
	t.Parallel()
	_, up := fakeUpstream(t, 0, "", nil)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	for range DefaultSessionsPerUser {
		openFake(t, h, "bob", 0)
	}
	c, _, err := h.dial(h.token(claims("bob", "fake", "read"), 0))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := c.next(waitFrame)
	if f.errCode() != "limit" {
		t.Errorf("sixth session: %s", f)
	}
	if code, _ := c.waitClose(waitFrame); code != protocol.CloseSessionLimit {
		t.Errorf("close %d, want 4429", code)
	}
	openFake(t, h, "carol", 0) // other users are not affected
}

// TestInFlightCap: requests beyond the in-flight cap get error "limit";
// every request is answered.
func TestInFlightCap(t *testing.T) {
	t.Parallel()
	_, up := fakeUpstream(t, 200*time.Millisecond, "", nil)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	c := openFake(t, h, "dave", 0)
	var ids []string
	for range 14 {
		ids = append(ids, c.send(map[string]any{"op": "noop"}))
	}
	limited := 0
	for _, id := range ids {
		f := c.wait(id)
		switch {
		case f.errCode() == "limit":
			limited++
		case f.str("type") != protocol.TypeResponse:
			t.Errorf("%s: %s", id, f)
		}
	}
	if limited == 0 || limited > 14-DefaultMaxInFlight {
		t.Errorf("%d requests limited", limited)
	}
}

// TestOAuthUpstream: in mode "oauth" the bridge authenticates with XOAUTH2
// and the token's access token.
func TestOAuthUpstream(t *testing.T) {
	t.Parallel()
	const access = "ya29.access-token"
	var mu sync.Mutex
	var got string
	authH := func(c *imaptest.Conn, cmd *imaptest.Command) {
		var ir string
		if len(cmd.Args) > 1 {
			ir = cmd.Args[1]
		} else {
			c.Send("+ ")
			line, err := c.ReadLine()
			if err != nil {
				return
			}
			ir = strings.TrimSpace(string(line))
		}
		raw, _ := base64.StdEncoding.DecodeString(ir)
		mu.Lock()
		got = string(raw)
		mu.Unlock()
		if strings.ToUpper(cmd.Args[0]) == "XOAUTH2" && string(raw) == "user=erin\x01auth=Bearer "+access+"\x01\x01" {
			c.Tagged(cmd, "OK authenticated")
			return
		}
		c.Tagged(cmd, "NO [AUTHENTICATIONFAILED] bad token")
	}
	_, up := fakeUpstream(t, 0, "AUTH=XOAUTH2 SASL-IR", map[string]imaptest.HandlerFunc{"AUTHENTICATE": authH})
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	for _, tc := range []struct {
		token string
		ok    bool
	}{{access, true}, {"wrong", false}} {
		cl := claims("erin", "fake", "read")
		cl.Credential, cl.OAuthToken = auth.CredentialOAuth, tc.token
		c, _, err := h.dial(h.token(cl, 0))
		if err != nil {
			t.Fatal(err)
		}
		if tc.ok {
			c.hello()
			c.ok(map[string]any{"op": "noop"})
			c.fails(map[string]any{"op": "login", "password": "x"}, "forbidden")
		} else {
			f, _ := c.next(waitFrame)
			if f.errCode() != "auth" {
				t.Errorf("bad oauth token: %s", f)
			}
			if code, _ := c.waitClose(waitFrame); code != protocol.CloseAuth {
				t.Errorf("close %d, want 4401", code)
			}
		}
		c.close()
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(got, "user=erin\x01") {
		t.Errorf("XOAUTH2 payload %q", got)
	}
}
