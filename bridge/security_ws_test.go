package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// TestSecurityOrigin covers F1/F2: only allow-listed origins may upgrade,
// whatever CORS allows on the HTTP routes.
func TestSecurityOrigin(t *testing.T) {
	e := newSecEnv(t, secFake(), nil)
	tok := e.token(nil)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{secOrigin, true},
		{"HTTPS://APP.Example.COM", true},
		{"https://app.example.com:443", true},
		{"https://evil.example", false},
		{"null", false},
		{"https://app.example.com.evil.net", false},
		{"https://evilapp.example.com", false},
		{"http://app.example.com", false},
		{"https://app.example.com:8443", false},
		{"-", false}, // no Origin header: refused unless AllowMissingOrigin
	} {
		t.Run(tc.origin, func(t *testing.T) {
			c, resp, err := e.dial(tok, secDialOpts{origin: tc.origin})
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				c.hello()
				_ = c.c.Close(websocket.StatusNormalClosure, "")
				return
			}
			if err == nil {
				t.Fatal("upgrade accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("want 403, got %v", resp)
			}
		})
	}
	// /readyz answers CORS exactly for the WebSocket's origins, so a page can
	// tell a refused origin from a bridge that is down.
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{secOrigin, true}, {"https://evil.example", false}, {"null", false}} {
		req, _ := http.NewRequest(http.MethodGet, e.hs.URL+"/readyz", nil)
		req.Header.Set("Origin", tc.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin") != ""; got != tc.ok {
			t.Errorf("/readyz from %s: CORS allowed %v, want %v", tc.origin, got, tc.ok)
		}
	}
	// Wildcards are refused at configuration time.
	for _, o := range []string{"*", "https://*.example.com", "https://app.example.*"} {
		if _, err := newOriginPolicy([]string{o}, false); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
}

// TestSecurityRawFraming covers F3: RFC 6455 violations close the connection
// with 1002 (decided by coder/websocket, except unmasked frames and negative
// lengths, which the library reports without a close frame and the bridge
// maps to 1002) and invalid UTF-8 with 1007 (decided by the bridge).
func TestSecurityRawFraming(t *testing.T) {
	e := newSecEnv(t, secFake(), nil)
	noop := []byte(`{"id":"n","op":"noop"}`)
	closeWith := func(code uint16) []byte { return []byte{byte(code >> 8), byte(code)} }
	cases := []struct {
		name string
		send func(r *secRaw)
		want int
	}{
		{"unmasked", func(r *secRaw) { r.frame(0x81, noop, false) }, 1002},
		{"rsv1 without extension", func(r *secRaw) { r.frame(0xC1, noop, true) }, 1002},
		{"opcode 0x3", func(r *secRaw) { r.frame(0x83, noop, true) }, 1002},
		{"opcode 0xB", func(r *secRaw) { r.frame(0x8B, nil, true) }, 1002},
		{"ping 126 bytes", func(r *secRaw) { r.frame(0x89, bytes.Repeat([]byte("p"), 126), true) }, 1002},
		{"fragmented ping", func(r *secRaw) { r.frame(0x09, []byte("x"), true) }, 1002},
		{"continuation without start", func(r *secRaw) { r.frame(0x80, noop, true) }, 1002},
		{"text inside fragmented text", func(r *secRaw) {
			r.frame(0x01, []byte(`{"id":`), true)
			r.frame(0x81, noop, true)
		}, 1002},
		{"close 1-byte payload", func(r *secRaw) { r.frame(0x88, []byte{3}, true) }, 1002},
		{"close 999", func(r *secRaw) { r.frame(0x88, closeWith(999), true) }, 1002},
		{"close 1004", func(r *secRaw) { r.frame(0x88, closeWith(1004), true) }, 1002},
		{"close 1005", func(r *secRaw) { r.frame(0x88, closeWith(1005), true) }, 1002},
		{"close 1006", func(r *secRaw) { r.frame(0x88, closeWith(1006), true) }, 1002},
		{"close 1015", func(r *secRaw) { r.frame(0x88, closeWith(1015), true) }, 1002},
		{"close 5000", func(r *secRaw) { r.frame(0x88, closeWith(5000), true) }, 1002},
		{"64-bit length MSB set", func(r *secRaw) { r.frameLen(0x81, nil, 1<<63, true) }, 1002},
		{"invalid UTF-8", func(r *secRaw) { r.frame(0x81, []byte("{\"id\":\"\xC0\xAF\"}"), true) }, 1007},
		{"binary frame", func(r *secRaw) { r.frame(0x82, noop, true) }, 1008},
		{"normal close echoed", func(r *secRaw) { r.frame(0x88, closeWith(1000), true) }, 1000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.rawUpgrade(e.token(nil))
			r.awaitText() // hello: the session is reading
			tc.send(r)
			if got := r.closeCode(); got != tc.want {
				t.Fatalf("close code %d, want %d", got, tc.want)
			}
		})
	}

	t.Run("ping 125 bytes gets identical pong", func(t *testing.T) {
		r := e.rawUpgrade(e.token(nil))
		r.awaitText()
		payload := bytes.Repeat([]byte{0xA5, 'z', 0}, 42)[:125]
		r.frame(0x89, payload, true)
		for {
			op, p, err := r.readFrame()
			if err != nil {
				t.Fatalf("no pong: %v", err)
			}
			if op == 0xA {
				if !bytes.Equal(p, payload) {
					t.Fatal("pong payload differs from the ping's")
				}
				break
			}
		}
		// The session still works.
		r.frame(0x81, noop, true)
		if got := r.awaitText(); !bytes.Contains(got, []byte(`"id":"n"`)) {
			t.Fatalf("after ping: %s", got)
		}
	})
}

// TestSecurityFrameSize covers F4: one byte over the 64 KiB limit closes with
// 1009, as do many fragments adding up past it; a message of exactly the
// limit is served.
func TestSecurityFrameSize(t *testing.T) {
	e := newSecEnv(t, secFake(), nil)
	noop := `{"id":"big","op":"noop"}`
	pad := func(n int) string { return strings.Repeat(" ", n-len(noop)) + noop }

	t.Run("at the limit", func(t *testing.T) {
		c := e.session()
		c.send(pad(DefaultMaxFrameSize))
		if code := c.awaitError("big"); code != "" {
			t.Fatalf("error %s", code)
		}
	})
	t.Run("one byte over", func(t *testing.T) {
		c := e.session()
		c.send(pad(DefaultMaxFrameSize + 1))
		if got := c.closed(); got != websocket.StatusMessageTooBig {
			t.Fatalf("close %d, want 1009", got)
		}
	})
	t.Run("fragments", func(t *testing.T) {
		r := e.rawUpgrade(e.token(nil))
		r.awaitText()
		frag := bytes.Repeat([]byte(" "), 8<<10)
		r.frame(0x01, frag, true)
		for range 10 { // 88 KiB in all; the bridge stops reading at 64 KiB
			r.frame(0x00, frag, true)
		}
		if got := r.closeCode(); got != 1009 {
			t.Fatalf("close %d, want 1009", got)
		}
	})
}

// TestSecurityHandshakeHeaders covers F5 and G7: no compression is
// negotiated, and the selected subprotocol is exactly imapbridge.v1 — the
// token is never echoed.
func TestSecurityHandshakeHeaders(t *testing.T) {
	e := newSecEnv(t, secFake(), nil)
	tok := e.token(nil)
	r := e.rawUpgrade(tok, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	if ext := r.resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) != 0 {
		t.Errorf("extensions negotiated: %q", ext)
	}
	if sp := r.resp.Header.Values("Sec-WebSocket-Protocol"); len(sp) != 1 || sp[0] != protocol.Subprotocol {
		t.Errorf("subprotocol %q", sp)
	}
	var dump bytes.Buffer
	_ = r.resp.Header.Write(&dump)
	if strings.Contains(dump.String(), tok) || strings.Contains(dump.String(), "bearer") {
		t.Error("the 101 response echoes the token")
	}
	// Without imapbridge.v1 the handshake is refused.
	_, resp, err := e.dial("", secDialOpts{subprotocols: []string{"bearer." + tok}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("handshake without the subprotocol: %v %v", err, resp)
	}
}

// TestSecurityPreAuth covers F6 and G7: nothing reaches IMAP before a
// verified token; silent sockets are closed at the auth deadline; oversize
// tokens are refused before the upgrade and before the JWT parser.
func TestSecurityPreAuth(t *testing.T) {
	e := newSecEnv(t, secFake(), func(c *Config) {
		c.Limits.AuthDeadline = 300 * time.Millisecond
		c.Limits.MaxTokenSize = 512 // below the verifier's own 8 KiB cap
	})
	t.Run("silent socket", func(t *testing.T) {
		c := e.mustDial("")
		start := time.Now()
		if got := c.closed(); got != protocol.ClosePolicy {
			t.Fatalf("close %d, want 1008", got)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("closed after %v", d)
		}
	})
	t.Run("first frame not auth", func(t *testing.T) {
		c := e.mustDial("")
		c.send(`{"id":"x","op":"imaplib","cmd":"delete","args":["INBOX"]}`)
		if code := c.awaitError("x"); code != protocol.CodeAuth {
			t.Fatalf("code %q", code)
		}
		if got := c.closed(); got != protocol.ClosePolicy {
			t.Fatalf("close %d", got)
		}
	})
	t.Run("oversize subprotocol token", func(t *testing.T) {
		_, resp, err := e.dial(strings.Repeat(".", 513), secDialOpts{})
		if err == nil || resp == nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("want 431, got %v %v", err, resp)
		}
	})
	t.Run("1 MB subprotocol", func(t *testing.T) {
		_, resp, err := e.dial(strings.Repeat(".", 1<<20), secDialOpts{})
		if err == nil || resp == nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("want 431, got %v %v", err, resp)
		}
	})
	t.Run("oversize first-frame token", func(t *testing.T) {
		c := e.mustDial("")
		c.send(`{"id":"a","op":"auth","token":"` + strings.Repeat("A", 600) + `"}`)
		if code := c.awaitError("a"); code != protocol.CodeAuth {
			t.Fatalf("code %q", code)
		}
		if got := c.closed(); got != protocol.CloseAuth {
			t.Fatalf("close %d, want 4401", got)
		}
	})
	t.Run("query token refused by default", func(t *testing.T) {
		c, _, err := e.dial("", secDialOpts{query: "token=" + e.token(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.closed(); got != protocol.ClosePolicy {
			t.Fatalf("close %d, want 1008 (query token ignored, auth deadline)", got)
		}
	})
	if n := e.imap.ConnCount(); n != 0 {
		t.Errorf("the IMAP server saw %d connections before authentication", n)
	}
	if n := e.dials.Load(); n != 0 {
		t.Errorf("%d dials before authentication", n)
	}
	// A first-frame auth then works and dials once.
	c := e.mustDial("")
	c.send(`{"id":"a","op":"auth","token":` + secJSON(e.token(nil)) + `}`)
	c.hello()
	if n := e.dials.Load(); n != 1 {
		t.Errorf("%d dials after authentication", n)
	}
}

// TestSecurityCaps covers F9: per-user cap (refused before IMAP dial, 4429),
// per-IP handshake limiter (429), X-Forwarded-For only from trusted proxies,
// and the global cap (503).
func TestSecurityCaps(t *testing.T) {
	t.Run("per user", func(t *testing.T) {
		e := newSecEnv(t, secFake(), func(c *Config) { c.Limits.SessionsPerUser = 2 })
		e.mustDial(e.token(nil)).hello()
		e.mustDial(e.token(nil)).hello()
		c := e.mustDial(e.token(nil))
		if got := c.closed(); got != protocol.CloseSessionLimit {
			t.Fatalf("close %d, want 4429", got)
		}
		if len(c.errs) != 1 || c.errs[0].Error.Code != protocol.CodeLimit {
			t.Errorf("errors %+v", c.errs)
		}
		if n := e.imap.ConnCount(); n != 2 {
			t.Errorf("IMAP connections %d, want 2", n)
		}
		// Another user is not affected.
		e.mustDial(e.token(func(c *secClaimsT) { c.Subject = "bob" })).hello()
	})
	for _, tc := range []struct {
		name    string
		trusted bool
		limited bool
	}{
		{"xff from untrusted peer ignored", false, true},
		{"xff from trusted proxy believed", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSecEnv(t, secFake(), func(c *Config) {
				c.Limits.HandshakesPerIP = 0.001
				c.Limits.HandshakeBurst = 2
				if tc.trusted {
					c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
				}
			})
			var refused int
			for i := range 4 {
				h := http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i+1)}}
				c, resp, err := e.dial(e.token(nil), secDialOpts{header: h})
				if err != nil {
					if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
						t.Fatalf("refusal %v %v", err, resp)
					}
					refused++
					continue
				}
				_ = c.c.Close(websocket.StatusNormalClosure, "")
			}
			if got := refused == 2; got != tc.limited {
				t.Fatalf("refused %d of 4", refused)
			}
		})
	}
	t.Run("global", func(t *testing.T) {
		e := newSecEnv(t, secFake(), func(c *Config) { c.Limits.MaxSessions = 1 })
		e.mustDial(e.token(nil)).hello()
		_, resp, err := e.dial(e.token(func(c *secClaimsT) { c.Subject = "bob" }), secDialOpts{})
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("want 503, got %v %v", err, resp)
		}
		if n := e.imap.ConnCount(); n != 1 {
			t.Errorf("IMAP connections %d", n)
		}
	})
}

// pipelineFake is a fake IMAP server that reads commands while earlier
// ones are still unanswered, so it can count how many a client pipelines.
type pipelineFake struct {
	outstanding atomic.Int32
	max         atomic.Int32
	delay       time.Duration
}

func (p *pipelineFake) config() imaptest.Config {
	return imaptest.Config{Script: func(c *imaptest.Conn) {
		pending := make(chan *imaptest.Command, 1024)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cmd := range pending {
				if cmd.Name == "NOOP" && !c.Sleep(p.delay) {
					return
				}
				switch cmd.Name {
				case "CAPABILITY":
					c.Send("* CAPABILITY IMAP4rev1")
				case "LOGOUT":
					c.Send("* BYE bye")
				}
				p.outstanding.Add(-1)
				c.Tagged(cmd, "OK done")
			}
		}()
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				break
			}
			n := p.outstanding.Add(1)
			for {
				m := p.max.Load()
				if n <= m || p.max.CompareAndSwap(m, n) {
					break
				}
			}
			pending <- cmd
		}
		close(pending)
		wg.Wait()
	}}
}

// TestSecurityFlood covers F10: a noop flood meets the frame limiter (limit
// errors, then close 1008) and the in-flight cap; the IMAP server never has
// more than MaxInFlight commands outstanding.
func TestSecurityFlood(t *testing.T) {
	p := &pipelineFake{delay: 20 * time.Millisecond}
	e := newSecEnv(t, p.config(), func(c *Config) {
		c.Limits.FramesPerSecond = 20
		c.Limits.FrameBurst = 8
		c.Limits.MaxInFlight = 2
	})
	c := e.session()
	for i := range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), secWait)
		err := c.c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"id":"n%d","op":"noop"}`, i))
		cancel()
		if err != nil {
			break // closed by the bridge
		}
	}
	limits, answered := 0, 0
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	var code websocket.StatusCode
	for {
		f, _, err := c.next(ctx)
		if err != nil {
			code = websocket.CloseStatus(err)
			break
		}
		switch v := f.(type) {
		case *protocol.ErrorFrame:
			if v.Error.Code == protocol.CodeLimit {
				limits++
			}
		case *protocol.Response:
			answered++
		}
	}
	if code != protocol.ClosePolicy {
		t.Errorf("close %d, want 1008", code)
	}
	if limits == 0 {
		t.Error("no limit error frames")
	}
	if m := p.max.Load(); m > 2 {
		t.Errorf("the IMAP server had %d commands outstanding, cap 2", m)
	}
	t.Logf("answered %d, limit errors %d, max outstanding at IMAP %d", answered, limits, p.max.Load())
}

// TestSecurityCloseCodes covers F12 (and G9 for expiry): each failure class
// closes with its documented code.
func TestSecurityCloseCodes(t *testing.T) {
	e := newSecEnv(t, secFake(), func(c *Config) {
		c.Upstreams = append(c.Upstreams, Upstream{Name: "down", Addr: "127.0.0.1:1", Security: SecurityPlain,
			AllowPlaintext: true, AllowPrivate: true})
	})
	expired := func() string {
		s := *e.signer
		s.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
		tok, err := s.Sign(secClaims(nil), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		name string
		run  func() *secClient
		want websocket.StatusCode
	}{
		{"logout", func() *secClient {
			c := e.session()
			c.send(`{"id":"o","op":"logout"}`)
			return c
		}, protocol.CloseNormal},
		{"invalid token", func() *secClient { return e.mustDial("not.a.jwt") }, protocol.CloseAuth},
		{"expired token", func() *secClient { return e.mustDial(expired()) }, protocol.CloseAuth},
		{"unknown upstream", func() *secClient {
			return e.mustDial(e.token(func(c *secClaimsT) { c.Upstream = "nope" }))
		}, protocol.ClosePolicy},
		{"upstream unreachable", func() *secClient {
			return e.mustDial(e.token(func(c *secClaimsT) { c.Upstream = "down" }))
		}, protocol.CloseUpstream},
		{"binary frame", func() *secClient {
			c := e.session()
			_ = c.c.Write(context.Background(), websocket.MessageBinary, []byte(`{}`))
			return c
		}, protocol.ClosePolicy},
		{"too big", func() *secClient {
			c := e.session()
			_ = c.c.Write(context.Background(), websocket.MessageText, make([]byte, DefaultMaxFrameSize+1))
			return c
		}, protocol.CloseTooBig},
		{"token expires during the session", func() *secClient {
			// Expired 29 s ago, inside the 30 s leeway: the session ends
			// at exp + leeway, one second from now.
			e.signer.Now = func() time.Time { return time.Now().Add(-59 * time.Second) }
			tok, err := e.signer.Sign(secClaims(nil), 30*time.Second)
			e.signer.Now = nil
			if err != nil {
				t.Fatal(err)
			}
			c := e.mustDial(tok)
			c.hello()
			return c
		}, protocol.CloseAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run().closed(); got != tc.want {
				t.Fatalf("close %d, want %d", got, tc.want)
			}
		})
	}
}

// TestSecurityShutdown covers F13: sessions are closed with 1012 and a
// retry-after delay, every in-flight request is answered, every IMAP
// connection is logged out, and new handshakes get 503.
func TestSecurityShutdown(t *testing.T) {
	fake := secFake()
	fake.Handlers["NOOP"] = func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Sleep(300 * time.Millisecond)
		c.Tagged(cmd, "OK NOOP completed")
	}
	e := newSecEnv(t, fake, nil)
	const n = 4
	clients := make([]*secClient, n)
	for i := range clients {
		clients[i] = e.session()
		clients[i].send(`{"id":"slow","op":"noop"}`)
	}
	time.Sleep(50 * time.Millisecond) // the NOOPs reach the server
	type outcome struct {
		answered bool
		code     websocket.StatusCode
		reason   string
	}
	results := make([]outcome, n)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), secWait)
			defer cancel()
			for {
				f, _, err := c.next(ctx)
				if err != nil {
					var ce websocket.CloseError
					if errors.As(err, &ce) {
						results[i].code, results[i].reason = ce.Code, ce.Reason
					}
					return
				}
				switch v := f.(type) {
				case *protocol.Response:
					results[i].answered = results[i].answered || v.ID == "slow"
				case *protocol.ErrorFrame:
					results[i].answered = results[i].answered || v.ID == "slow"
				}
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), secWait)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	wg.Wait()
	for i, r := range results {
		if !r.answered {
			t.Errorf("client %d: in-flight request unanswered", i)
		}
		if r.code != protocol.CloseRestart {
			t.Errorf("client %d: close %d, want 1012", i, r.code)
		}
		if d, ok := protocol.ParseRetryAfter(r.reason); !ok || d < 0 || d > DefaultReconnectJitterMax {
			t.Errorf("client %d: close reason %q", i, r.reason)
		}
	}
	logouts := 0
	for _, cmd := range e.imap.Commands() {
		if cmd.Name == "LOGOUT" {
			logouts++
		}
	}
	if logouts != n {
		t.Errorf("%d LOGOUTs for %d sessions", logouts, n)
	}
	_, resp, err := e.dial(e.token(nil), secDialOpts{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("handshake after shutdown: %v %v", err, resp)
	}
}
