package bridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/internal/devserver"
)

// Settings of the integration harness.
const (
	testOrigin   = "https://app.example.test"
	testIssuer   = "imapbridge-test"
	testAudience = "imapbridge"
	// waitFrame bounds every wait for one server frame in these tests.
	waitFrame = 10 * time.Second
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-imapbridge-tests")

// harness is a bridge.Server behind httptest.NewServer with an HMAC signer.
type harness struct {
	t      testing.TB
	srv    *Server
	hs     *httptest.Server
	signer *auth.Signer
}

// newHarness starts a bridge with cfg (Verifier and AllowedOrigins filled in
// when empty). Everything is closed with t.Cleanup.
func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	return newHarnessLeeway(t, cfg, 0)
}

// newHarnessLeeway is newHarness with the verifier's leeway (0: default).
func newHarnessLeeway(t testing.TB, cfg Config, leeway time.Duration) *harness {
	t.Helper()
	signer, err := auth.NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	signer.Issuer, signer.Audience = testIssuer, testAudience
	if cfg.Verifier == nil {
		v, err := auth.NewVerifier(auth.Config{Issuer: testIssuer, Audience: testAudience, Type: signer.Type,
			HMACSecret: testSecret, Leeway: leeway})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Verifier = v
	}
	if len(cfg.AllowedOrigins) == 0 {
		cfg.AllowedOrigins = []string{testOrigin}
	}
	// The suites send many frames quickly; the rate limit has its own test.
	if cfg.Limits.FramesPerSecond == 0 {
		cfg.Limits.FramesPerSecond, cfg.Limits.FrameBurst = 10000, 10000
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, signer: signer, hs: httptest.NewServer(srv)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		h.hs.Close()
	})
	return h
}

// devUpstream starts a devserver (no automatic delivery) and returns it with
// an Upstream named "dev" for it.
func devUpstream(t testing.TB) (*devserver.Server, Upstream) {
	t.Helper()
	ds, err := devserver.Start(context.Background(), devserver.Options{Deliver: -1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds, Upstream{Name: "dev", Addr: ds.Addr(), Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true}
}

// claims are the usual password-mode claims for user on upstream ups.
func claims(user, ups, scope string) auth.Claims {
	sc, err := auth.ParseScopes(scope)
	if err != nil {
		panic(err)
	}
	return auth.Claims{Subject: user, Upstream: ups, IMAPUser: user, Credential: auth.CredentialPassword, Scopes: sc}
}

// token signs c for ttl (default 10 minutes).
func (h *harness) token(c auth.Claims, ttl time.Duration) string {
	h.t.Helper()
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	tok, err := h.signer.Sign(c, ttl)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// wsURL is the WebSocket endpoint.
func (h *harness) wsURL() string { return "ws" + strings.TrimPrefix(h.hs.URL, "http") + "/ws" }

// frame is one decoded server frame with its raw bytes.
type frame struct {
	m   map[string]any
	raw []byte
}

func (f frame) str(k string) string { s, _ := f.m[k].(string); return s }

func (f frame) num(k string) int64 {
	switch v := f.m[k].(type) {
	case json.Number:
		n, _ := v.Int64()
		return n
	}
	return -1
}

func (f frame) obj(k string) map[string]any { o, _ := f.m[k].(map[string]any); return o }

// result is a response's result object.
func (f frame) result() map[string]any { return f.obj("result") }

// errCode is an error frame's code ("" for other frames).
func (f frame) errCode() string { c, _ := f.obj("error")["code"].(string); return c }

func (f frame) String() string { return string(f.raw) }

// wsClient is a test WebSocket client: a reader goroutine feeds frames to the
// test goroutine, which collects events while it waits for responses.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan frame
	done   chan struct{} // closed when the reader ends
	rerr   error         // the reader's final error (valid after done)
	events []frame       // every event received, in order
	stash  []frame       // answers read while waiting for another id
	evRead int           // events consumed by waitEvent
	nextID int
	once   sync.Once
}

// dial opens a session offering the token as a subprotocol ("" offers none).
func (h *harness) dial(token string) (*wsClient, *http.Response, error) {
	return h.dialOrigin(token, testOrigin)
}

func (h *harness) dialOrigin(token, origin string) (*wsClient, *http.Response, error) {
	protos := []string{protocol.Subprotocol}
	if token != "" {
		protos = append(protos, protocol.BearerPrefix+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
	defer cancel()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, h.wsURL(), &websocket.DialOptions{Subprotocols: protos, HTTPHeader: hdr})
	if err != nil {
		return nil, resp, err
	}
	return startClient(h.t, conn, true), resp, nil
}

// startClient wraps conn; with read it starts the reader goroutine.
func startClient(t testing.TB, conn *websocket.Conn, read bool) *wsClient {
	conn.SetReadLimit(64 << 20)
	c := &wsClient{t: t, conn: conn, frames: make(chan frame, 4096), done: make(chan struct{})}
	t.Cleanup(c.close)
	if read {
		go c.readLoop()
	} else {
		close(c.done)
	}
	return c
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.rerr = err
			return
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			c.rerr = fmt.Errorf("undecodable frame %q: %w", data, err)
			return
		}
		if _, err := protocol.DecodeFrame(data); err != nil {
			c.rerr = fmt.Errorf("protocol.DecodeFrame refused %q: %w", data, err)
			return
		}
		c.frames <- frame{m: m, raw: data}
	}
}

// close ends the connection at once and waits for the reader.
func (c *wsClient) close() {
	c.once.Do(func() {
		_ = c.conn.CloseNow()
		<-c.done
	})
}

// next returns the next frame, or false when the connection ended or d passed.
func (c *wsClient) next(d time.Duration) (frame, bool) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case f := <-c.frames:
		if f.str("type") == protocol.TypeEvent {
			c.events = append(c.events, f)
		}
		return f, true
	case <-c.done:
		select {
		case f := <-c.frames:
			if f.str("type") == protocol.TypeEvent {
				c.events = append(c.events, f)
			}
			return f, true
		default:
		}
		return frame{}, false
	case <-tm.C:
		return frame{}, false
	}
}

// hello waits for the hello frame.
func (c *wsClient) hello() frame {
	c.t.Helper()
	for {
		f, ok := c.next(waitFrame)
		if !ok {
			c.t.Fatalf("no hello (reader: %v)", c.rerr)
		}
		switch f.str("type") {
		case protocol.TypeHello:
			return f
		case protocol.TypeError:
			c.t.Fatalf("error instead of hello: %s", f)
		}
	}
}

// send writes one request (an "id" is added when absent) and returns its id.
func (c *wsClient) send(req map[string]any) string {
	c.t.Helper()
	id, _ := req["id"].(string)
	if id == "" {
		c.nextID++
		id = "r" + strconv.Itoa(c.nextID)
		req["id"] = id
	}
	data, err := json.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatalf("write %s: %v", data, err)
	}
	return id
}

// wait returns the response or error frame of request id, collecting events.
func (c *wsClient) wait(id string) frame {
	c.t.Helper()
	for i, f := range c.stash {
		if f.str("id") == id {
			c.stash = append(c.stash[:i], c.stash[i+1:]...)
			return f
		}
	}
	deadline := time.Now().Add(waitFrame)
	for {
		f, ok := c.next(time.Until(deadline))
		if !ok {
			c.t.Fatalf("no answer to %s (reader: %v)", id, c.rerr)
		}
		if t := f.str("type"); t == protocol.TypeResponse || t == protocol.TypeError {
			if f.str("id") == id {
				return f
			}
			if f.str("id") != "" {
				c.stash = append(c.stash, f)
			}
		}
	}
}

// call sends req and returns its answer frame.
func (c *wsClient) call(req map[string]any) frame {
	c.t.Helper()
	return c.wait(c.send(req))
}

// ok sends req and fails unless the answer is a response; it returns the result.
func (c *wsClient) ok(req map[string]any) map[string]any {
	c.t.Helper()
	f := c.call(req)
	if f.str("type") != protocol.TypeResponse {
		c.t.Fatalf("%v: %s", req, f)
	}
	return f.result()
}

// fails sends req and checks the error code of its answer.
func (c *wsClient) fails(req map[string]any, code string) frame {
	c.t.Helper()
	f := c.call(req)
	if f.errCode() != code {
		c.t.Fatalf("%v: want error %q, got %s", req, code, f)
	}
	return f
}

// waitEvent returns the first not yet consumed event of kind within d.
func (c *wsClient) waitEvent(kind string, d time.Duration) (frame, bool) {
	deadline := time.Now().Add(d)
	for {
		for c.evRead < len(c.events) {
			f := c.events[c.evRead]
			c.evRead++
			if f.str("event") == kind {
				return f, true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return frame{}, false
		}
		if _, ok := c.next(left); !ok && time.Until(deadline) > 0 {
			select {
			case <-c.done:
				return frame{}, false
			default:
			}
		}
	}
}

// mustEvent is waitEvent failing the test on timeout.
func (c *wsClient) mustEvent(kind string, d time.Duration) frame {
	c.t.Helper()
	f, ok := c.waitEvent(kind, d)
	if !ok {
		c.t.Fatalf("no %s event within %s (events: %v, reader: %v)", kind, d, c.events, c.rerr)
	}
	return f
}

// checkSeq verifies the events' seq are 1, 2, 3, ... without gaps.
func (c *wsClient) checkSeq() {
	c.t.Helper()
	for i, e := range c.events {
		if got := e.num("seq"); got != int64(i+1) {
			c.t.Fatalf("event %d has seq %d: %s", i, got, e)
		}
	}
}

// waitClose drains frames until the connection ends and returns the close
// status and reason (-1 when the connection ended without a close frame).
func (c *wsClient) waitClose(d time.Duration) (websocket.StatusCode, string) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		if _, ok := c.next(time.Until(deadline)); !ok {
			select {
			case <-c.done:
				var ce websocket.CloseError
				if errors.As(c.rerr, &ce) {
					return ce.Code, ce.Reason
				}
				return -1, fmt.Sprint(c.rerr)
			default:
				c.t.Fatalf("connection still open after %s", d)
			}
		}
	}
}

// login sends the password-mode login frame.
func (c *wsClient) login(password string) {
	c.t.Helper()
	c.ok(map[string]any{"op": "login", "password": password})
}

// openDev returns a logged-in session on the devserver upstream of h.
func (h *harness) openDev(ds *devserver.Server, scope string) *wsClient {
	h.t.Helper()
	user, pw := ds.User()
	c, _, err := h.dial(h.token(claims(user, "dev", scope), 0))
	if err != nil {
		h.t.Fatal(err)
	}
	c.hello()
	c.login(pw)
	return c
}

// peer is a second, direct IMAP connection (plain, loopback).
func peer(t testing.TB, addr, user, password string) *imapengine.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
	defer cancel()
	c, err := imapengine.Dial(ctx, addr, &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = c.Logout(lctx)
		_ = c.Shutdown()
	})
	if _, err := c.Login(ctx, user, password); err != nil {
		t.Fatal(err)
	}
	return c
}

// ctx5 is a short context for peer commands.
func ctx5(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testMessage is a small RFC 5322 message with CRLF endings.
func testMessage(subject, body string) []byte {
	return []byte("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: " + subject +
		"\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") +
		"@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func b64(b []byte) map[string]any {
	return map[string]any{"base64": base64.StdEncoding.EncodeToString(b)}
}

// list converts a JSON array member to []any (nil when absent).
func list(v any) []any { l, _ := v.([]any); return l }
