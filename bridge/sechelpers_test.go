package bridge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// Fixed values of the security harness.
const (
	secIssuer   = "https://issuer.test"
	secAudience = "imap-bridge"
	secOrigin   = "https://app.example.com"
	secUpstream = "fake"
	secUser     = "alice"
	// secPassword is the IMAP password the tests send; it must never appear
	// in logs or frames.
	secPassword = "S3cr3t-Pa55word-XyZ"
	// secWait bounds every wait of a security test.
	secWait = 5 * time.Second
)

// secHMAC is the signing secret of the harness.
var secHMAC = []byte("0123456789abcdef0123456789abcdef-security-tests")

// secLog is a concurrency-safe log sink.
type secLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *secLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *secLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secEnv is one bridge in front of a scripted fake IMAP server.
type secEnv struct {
	t      *testing.T
	srv    *Server
	hs     *httptest.Server
	signer *auth.Signer
	imap   *imaptest.Server
	logs   *secLog
	dials  atomic.Int32 // dials through Config.Dial
}

// newSecEnv starts a fake IMAP server with fake, and a bridge whose config
// mod may adjust (limits, upstreams, resolver...). The upstream "fake" is the
// fake server over loopback plaintext.
func newSecEnv(t *testing.T, fake imaptest.Config, mod func(*Config)) *secEnv {
	t.Helper()
	e := &secEnv{t: t, logs: &secLog{}}
	e.imap = imaptest.NewServer(t, fake)
	v, err := auth.NewVerifier(auth.Config{Issuer: secIssuer, Audience: secAudience, Type: auth.DefaultTokenType, HMACSecret: secHMAC})
	if err != nil {
		t.Fatal(err)
	}
	e.signer, err = auth.NewHMACSigner(secHMAC)
	if err != nil {
		t.Fatal(err)
	}
	e.signer.Issuer, e.signer.Audience = secIssuer, secAudience
	cfg := Config{
		Upstreams: []Upstream{{Name: secUpstream, Addr: e.imap.Addr(), Security: SecurityPlain,
			AllowPlaintext: true, AllowPrivate: true}},
		DefaultUpstream: secUpstream,
		AllowedOrigins:  []string{secOrigin},
		Verifier:        v,
		Logger:          slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			e.dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, address)
		},
	}
	cfg.Limits.AuthDeadline = 2 * time.Second
	// Tests open many sessions from one IP for one user; the tests of those
	// caps set them low again.
	cfg.Limits.SessionsPerUser = 1000
	cfg.Limits.HandshakeBurst = 1000
	if mod != nil {
		mod(&cfg)
	}
	e.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.hs = httptest.NewServer(e.srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), secWait)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
		e.hs.Close()
	})
	return e
}

// secFake is a fake IMAP server config answering NOOP and LOGIN (any password
// but "wrong").
func secFake() imaptest.Config {
	return imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"NOOP": imaptest.SimpleHandler(nil, ""),
		"LOGIN": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if len(cmd.Args) == 2 && strings.Contains(cmd.Args[1], "wrong") {
				c.Tagged(cmd, "NO [AUTHENTICATIONFAILED] Invalid credentials")
				return
			}
			c.Tagged(cmd, "OK LOGIN completed")
		},
	}}
}

// claims returns the default claims (password mode, write+delete), after mod.
func secClaims(mod func(*auth.Claims)) auth.Claims {
	c := auth.Claims{Subject: secUser, Upstream: secUpstream, IMAPUser: secUser,
		Credential: auth.CredentialPassword, Scopes: auth.Scopes{MayDelete: true}}
	if mod != nil {
		mod(&c)
	}
	return c
}

// token signs secClaims(mod) for five minutes.
func (e *secEnv) token(mod func(*auth.Claims)) string {
	e.t.Helper()
	tok, err := e.signer.Sign(secClaims(mod), 5*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *secEnv) wsURL() string { return "ws" + strings.TrimPrefix(e.hs.URL, "http") + "/ws" }

// secDialOpts are the handshake's variable parts.
type secDialOpts struct {
	origin       string   // "" means secOrigin; "-" means no Origin header
	subprotocols []string // nil means imapbridge.v1 (+ bearer.token when token != "")
	header       http.Header
	query        string
}

// dial opens a WebSocket with token in the subprotocol (none if "").
func (e *secEnv) dial(token string, o secDialOpts) (*secClient, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	h := http.Header{}
	for k, v := range o.header {
		h[k] = v
	}
	switch o.origin {
	case "":
		h.Set("Origin", secOrigin)
	case "-":
	default:
		h.Set("Origin", o.origin)
	}
	sp := o.subprotocols
	if sp == nil {
		sp = []string{protocol.Subprotocol}
		if token != "" {
			sp = append(sp, protocol.BearerPrefix+token)
		}
	}
	u := e.wsURL()
	if o.query != "" {
		u += "?" + o.query
	}
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, Subprotocols: sp})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(16 << 20)
	cl := &secClient{t: e.t, c: c}
	e.t.Cleanup(func() { _ = c.CloseNow() })
	return cl, resp, nil
}

// mustDial dials and fails the test on error.
func (e *secEnv) mustDial(token string) *secClient {
	e.t.Helper()
	c, _, err := e.dial(token, secDialOpts{})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

// session dials with a fresh token, waits for hello and logs in.
func (e *secEnv) session() *secClient {
	e.t.Helper()
	c := e.mustDial(e.token(nil))
	c.hello()
	c.send(fmt.Sprintf(`{"id":"login","op":"login","password":%q}`, secPassword))
	if _, ok := c.await("login").(*protocol.Response); !ok {
		e.t.Fatal("login failed")
	}
	return c
}

// secClient is the test's side of a WebSocket session.
type secClient struct {
	t      *testing.T
	c      *websocket.Conn
	events []*protocol.Event
	errs   []*protocol.ErrorFrame // error frames without an id
}

// send writes one text message.
func (c *secClient) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads and decodes one server frame.
func (c *secClient) next(ctx context.Context) (protocol.Frame, []byte, error) {
	typ, data, err := c.c.Read(ctx)
	if err != nil {
		return nil, nil, err
	}
	if typ != websocket.MessageText {
		return nil, data, errors.New("binary frame from the bridge")
	}
	f, err := protocol.DecodeFrame(data)
	return f, data, err
}

// hello waits for the hello frame.
func (c *secClient) hello() *protocol.Hello {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	for {
		f, _, err := c.next(ctx)
		if err != nil {
			c.t.Fatalf("waiting for hello: %v", err)
		}
		if h, ok := f.(*protocol.Hello); ok {
			return h
		}
		c.note(f)
	}
}

// note keeps events and id-less errors seen while waiting for something else.
func (c *secClient) note(f protocol.Frame) {
	switch v := f.(type) {
	case *protocol.Event:
		c.events = append(c.events, v)
	case *protocol.ErrorFrame:
		if v.ID == "" {
			c.errs = append(c.errs, v)
		}
	}
}

// await returns the response or error frame for id, collecting events.
func (c *secClient) await(id string) protocol.Frame {
	c.t.Helper()
	f, err := c.tryAwait(id)
	if err != nil {
		c.t.Fatalf("waiting for %q: %v", id, err)
	}
	return f
}

func (c *secClient) tryAwait(id string) (protocol.Frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	for {
		f, _, err := c.next(ctx)
		if err != nil {
			return nil, err
		}
		switch v := f.(type) {
		case *protocol.Response:
			if v.ID == id {
				return v, nil
			}
		case *protocol.ImaplibResponse:
			if v.ID == id {
				return v, nil
			}
		case *protocol.ErrorFrame:
			if v.ID == id {
				return v, nil
			}
		}
		c.note(f)
	}
}

// awaitError waits for id's answer and returns its error code ("" for a
// response).
func (c *secClient) awaitError(id string) protocol.ErrorCode {
	c.t.Helper()
	if ef, ok := c.await(id).(*protocol.ErrorFrame); ok {
		return ef.Error.Code
	}
	return ""
}

// closed reads until the connection ends and returns the close status (-1
// when none was received), collecting frames.
func (c *secClient) closed() websocket.StatusCode {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	for {
		f, _, err := c.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				c.t.Fatal("the bridge did not close the connection in time")
			}
			return websocket.CloseStatus(err)
		}
		c.note(f)
	}
}

// ---- raw RFC 6455 client ----

// secRaw is a hand-made WebSocket client for framing tests.
type secRaw struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// rawUpgrade performs the HTTP upgrade by hand with extra header lines.
func (e *secEnv) rawUpgrade(token string, extra ...string) *secRaw {
	e.t.Helper()
	conn, err := net.DialTimeout("tcp", e.hs.Listener.Addr().String(), secWait)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(2 * secWait))
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	sp := protocol.Subprotocol
	if token != "" {
		sp += ", " + protocol.BearerPrefix + token
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", e.hs.Listener.Addr())
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n", base64.StdEncoding.EncodeToString(key), secOrigin)
	fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", sp)
	for _, x := range extra {
		b.WriteString(x + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		e.t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		e.t.Fatalf("upgrade: %s", resp.Status)
	}
	return &secRaw{t: e.t, conn: conn, br: br, resp: resp}
}

// frame writes one frame: first is FIN|RSV|opcode; masked applies a key.
func (r *secRaw) frame(first byte, payload []byte, masked bool) {
	r.t.Helper()
	r.frameLen(first, payload, uint64(len(payload)), masked)
}

// frameLen writes a frame header declaring n bytes, then payload.
func (r *secRaw) frameLen(first byte, payload []byte, n uint64, masked bool) {
	r.t.Helper()
	hdr := []byte{first, 0}
	var m byte
	if masked {
		m = 0x80
	}
	switch {
	case n <= 125:
		hdr[1] = m | byte(n)
	case n <= 0xFFFF:
		hdr[1] = m | 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] = m | 127
		hdr = binary.BigEndian.AppendUint64(hdr, n)
	}
	p := append([]byte(nil), payload...)
	if masked {
		key := []byte{0x12, 0x34, 0x56, 0x78}
		hdr = append(hdr, key...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	if _, err := r.conn.Write(append(hdr, p...)); err != nil {
		r.t.Logf("raw write: %v", err)
	}
}

// readFrame reads one (unmasked) server frame.
func (r *secRaw) readFrame() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 16<<20 {
		return 0, nil, errors.New("server frame too large")
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r.br, payload)
	return h[0] & 0x0F, payload, err
}

// closeCode reads frames until a close frame and returns its code (-1 if
// the connection ended without one, 1005 for an empty close payload).
func (r *secRaw) closeCode() int {
	for {
		op, p, err := r.readFrame()
		if err != nil {
			return -1
		}
		if op == 0x8 {
			if len(p) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(p))
		}
	}
}

// awaitText reads frames until a text frame and returns it.
func (r *secRaw) awaitText() []byte {
	r.t.Helper()
	for {
		op, p, err := r.readFrame()
		if err != nil {
			r.t.Fatalf("raw read: %v", err)
		}
		if op == 0x1 {
			return p
		}
	}
}

// secJSON quotes s as a JSON string.
func secJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// secClaimsT shortens claim modifiers in tests.
type secClaimsT = auth.Claims

// waitIdle waits until the bridge has no live session, so that counters
// read next belong to what follows.
func (e *secEnv) waitIdle() {
	e.t.Helper()
	deadline := time.Now().Add(secWait)
	for e.srv.Sessions() > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d sessions still live", e.srv.Sessions())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
