package bridge

// Network faults injected between the bridge and Dovecot, and between the
// client and the bridge, with Toxiproxy (internal/faults; issue 19 item 1,
// security.md E3 half-open, E4 reset mid-literal, E5 crash and restart).
// Every scenario is bounded by faultBound, asserts that no goroutine outlives
// it (leakCheck) and that nothing is lost: after the fault a new session (as
// the SDK reconnects) resynchronises and sees every message exactly once, and
// live events resume.
//
// The scenarios are not parallel: leakCheck compares the goroutines at the
// end with those at the start, which only works while nothing else runs
// (parallel tests of the package wait until every sequential one is done).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
	"github.com/imapbridge/imapbridge/internal/faults"
)

const (
	// faultDeadline is the upstream connections' CommandTimeout: how long a
	// pending command may go without progress.
	faultDeadline = 2 * time.Second
	// faultWatchdog is the idle keepalive: after this much silence during
	// IDLE the bridge sends DONE and a NOOP bounded by it.
	faultWatchdog = time.Second
	// faultBound bounds every wait of a scenario (detection, close,
	// reconnect); the figures logged are far below it.
	faultBound = 30 * time.Second
	// faultBig is the large message of the mid-literal scenarios (10 MiB).
	faultBig = 10 << 20
)

// leakCheck fails t if a goroutine that did not exist when it was called is
// still running once t and all its cleanups (bridge shutdown, proxies, private
// Dovecot) are done. Register it first: cleanups run last-in first-out.
func leakCheck(t *testing.T) {
	t.Helper()
	opts := append([]goleak.Option{goleak.IgnoreCurrent()}, faults.LeakOptions()...)
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// faultHarness is a bridge whose upstream "plain" is addr (Dovecot's plain
// port) reached through a Toxiproxy proxy, and "direct" the same without the
// proxy, with short deadlines.
func faultHarness(t *testing.T, addr string, lim Limits) (*harness, *faults.Proxy) {
	t.Helper()
	p := faults.Start(t, addr)
	h := newHarness(t, Config{
		Upstreams: []Upstream{
			{Name: "plain", Addr: p.Addr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true},
			{Name: "direct", Addr: addr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true},
		},
		IMAP:   imapengine.Options{CommandTimeout: faultDeadline},
		Idle:   imapengine.IdleOptions{Watchdog: faultWatchdog, NoopTimeout: faultWatchdog},
		Limits: lim,
	})
	return h, p
}

// faultUser is a fresh Dovecot user holding n small messages "m0".."m<n-1>",
// and the upstream its tokens name ("" is "plain").
type faultUser struct{ name, pw, upstream string }

func newFaultUser(t *testing.T, dv *dovecottest.Server, n int) faultUser {
	t.Helper()
	name, pw := dv.NewUser(t)
	for i := range n {
		dv.Deliver(t, name, testMessage(fmt.Sprintf("m%d", i), "hello"))
	}
	return faultUser{name: name, pw: pw}
}

// open opens a logged-in session of u on h, through the WebSocket URL ws
// ("" for the bridge itself).
func (u faultUser) open(t *testing.T, h *harness, ws string) *wsClient {
	t.Helper()
	c, err := u.dial(h, ws)
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login(u.pw)
	return c
}

// dial opens a session of u without waiting for hello.
func (u faultUser) dial(h *harness, ws string) (*wsClient, error) {
	if ws == "" {
		ws = h.wsURL()
	}
	ups := u.upstream
	if ups == "" {
		ups = "plain"
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol, protocol.BearerPrefix + h.token(claims(u.name, ups, "write delete"), 0)},
		HTTPHeader:   http.Header{"Origin": {testOrigin}}})
	if err != nil {
		return nil, err
	}
	return startClient(h.t, conn, true), nil
}

// untilClose collects every frame until the connection ends and returns them
// with the close code and reason (-1 without a close frame).
func untilClose(t *testing.T, c *wsClient, d time.Duration) ([]frame, websocket.StatusCode, string) {
	t.Helper()
	var got []frame
	deadline := time.Now().Add(d)
	for {
		f, ok := c.next(time.Until(deadline))
		if ok {
			got = append(got, f)
			continue
		}
		select {
		case <-c.done:
			var ce websocket.CloseError
			if errors.As(c.rerr, &ce) {
				return got, ce.Code, ce.Reason
			}
			return got, -1, fmt.Sprint(c.rerr)
		default:
			t.Fatalf("connection still open after %v (frames: %v)", d, got)
		}
	}
}

// expectLost checks the documented end of a session whose IMAP connection
// died (docs/protocol.md §7): an error frame without id, code unavailable,
// then close 4503 "upstream lost". When id is set, that request must have
// been answered by an error frame of one of codes before, and never by a
// response. It returns how long the end took from start.
func expectLost(t *testing.T, c *wsClient, start time.Time, id string, codes ...string) time.Duration {
	t.Helper()
	frames, code, reason := untilClose(t, c, faultBound)
	took := time.Since(start)
	if code != protocol.CloseUpstream || reason != "upstream lost" {
		t.Fatalf("closed with %d %q after %v, want %d \"upstream lost\" (frames %v)", code, reason, took, protocol.CloseUpstream, frames)
	}
	var sawLost, sawAnswer bool
	for _, f := range frames {
		switch {
		case f.str("type") == protocol.TypeError && f.str("id") == "":
			if f.errCode() != string(protocol.CodeUnavailable) {
				t.Errorf("id-less error frame %s, want code unavailable", f)
			}
			sawLost = true
		case id != "" && f.str("id") == id:
			if sawAnswer {
				t.Errorf("request %s answered twice: %s", id, f)
			}
			sawAnswer = true
			if f.str("type") != protocol.TypeError || !slices.Contains(codes, f.errCode()) {
				t.Errorf("request %s answered %.200s, want an error frame with code in %v", id, f, codes)
			}
			if sawLost {
				t.Errorf("request %s answered after the connection-lost frame", id)
			}
		}
	}
	if !sawLost {
		t.Errorf("no id-less unavailable error frame before close 4503 (frames %v)", frames)
	}
	if id != "" && !sawAnswer {
		t.Errorf("request %s never answered before the close (F13)", id)
	}
	return took
}

// waitIdle waits for the state event "idle".
func waitIdle(t *testing.T, c *wsClient) {
	t.Helper()
	deadline := time.Now().Add(faultBound)
	for {
		f, ok := c.waitEvent(protocol.EventState, time.Until(deadline))
		if !ok {
			t.Fatalf("no idle state within %v (events %v)", faultBound, c.events)
		}
		if f.str("state") == protocol.StateIdle {
			return
		}
	}
}

// resync selects INBOX on c and checks that the subjects of its messages are
// exactly want (each once, any order) with distinct UIDs, as the SDK's
// resync after a reconnect sees them (docs/protocol.md §6).
func resync(t *testing.T, c *wsClient, want []string) {
	t.Helper()
	sel := c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	if sel["exists"] != jsonNum(len(want)) {
		t.Fatalf("after recovery INBOX has %v messages, want %d", sel["exists"], len(want))
	}
	r := c.ok(map[string]any{"op": "fetch", "uids": "1:*", "items": []string{"envelope"}})
	var got []string
	uids := map[any]bool{}
	for _, m := range list(r["messages"]) {
		mm := m.(map[string]any)
		if uids[mm["uid"]] {
			t.Fatalf("UID %v twice", mm["uid"])
		}
		uids[mm["uid"]] = true
		got = append(got, mm["envelope"].(map[string]any)["subject"].(string))
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Fatalf("after recovery the subjects are %v, want each of %v once", got, w)
	}
}

// liveAgain delivers one more message and waits for its exists event.
func liveAgain(t *testing.T, c *wsClient, dv *dovecottest.Server, u faultUser, count int) {
	t.Helper()
	waitIdle(t, c)
	dv.Deliver(t, u.name, testMessage("live again", "x"))
	deadline := time.Now().Add(faultBound)
	for {
		f, ok := c.waitEvent(protocol.EventExists, time.Until(deadline))
		if !ok {
			t.Fatalf("no exists event after recovery (events %v)", c.events)
		}
		if f.num("count") == int64(count) {
			return
		}
	}
}

func subjects(n int, extra ...string) []string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf("m%d", i))
	}
	return append(s, extra...)
}

// E3: the link to Dovecot goes half-open (a black hole both ways) while the
// session idles. The idle keepalive (watchdog, then a NOOP bounded by it)
// finds it; the session ends with the documented error frame and close 4503.
// When a request arrives on the dead link before that, it is answered with
// an error frame by its deadline (security F13), never left unanswered.
func TestFaultHalfOpenIdle(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	for _, tc := range []struct {
		name    string
		request bool
	}{{"quiet", false}, {"request", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := faultHarness(t, dv.PlainAddr, Limits{})
			u := newFaultUser(t, dv, 2)
			c := u.open(t, h, "")
			c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
			waitIdle(t, c)
			p.HalfOpen(t)
			start := time.Now()
			id := ""
			if tc.request {
				id = c.send(map[string]any{"op": "noop"})
			}
			took := expectLost(t, c, start, id, string(protocol.CodeTimeout), string(protocol.CodeAbort), string(protocol.CodeUnavailable))
			t.Logf("half-open during IDLE (%s): session closed 4503 after %v (watchdog %v + NOOP %v)", tc.name, took.Round(time.Millisecond), faultWatchdog, faultWatchdog)
			p.Remove(t, "halfopen-down")
			p.Remove(t, "halfopen-up")
			c2 := u.open(t, h, "")
			resync(t, c2, subjects(2))
			liveAgain(t, c2, dv, u, 3)
		})
	}
}

// E3: the link goes half-open in the middle of a FETCH of a large body
// (throttled so that it is still arriving): the request fails with an error
// frame (timeout) after CommandTimeout without progress, never with a
// truncated body, and the session closes with 4503.
func TestFaultHalfOpenFetch(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, p := faultHarness(t, dv.PlainAddr, Limits{})
	u := newFaultUser(t, dv, 1)
	dv.Deliver(t, u.name, bigMessage(2<<20))
	c := u.open(t, h, "")
	c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	p.Bandwidth(t, 512) // 2 MiB take 4 s
	id := c.send(map[string]any{"op": "fetch", "uids": "2", "body": []any{map[string]any{"section": "", "peek": true}}})
	time.Sleep(time.Second) // the literal is arriving
	p.HalfOpen(t)
	start := time.Now()
	took := expectLost(t, c, start, id, string(protocol.CodeTimeout))
	t.Logf("half-open during FETCH: request failed (timeout), session closed 4503 after %v (CommandTimeout %v)", took.Round(time.Millisecond), faultDeadline)
	// Recovery over a healthy link (removing the toxics of this dead one
	// can block Toxiproxy for 10 s flushing the throttled data).
	u.upstream = "direct"
	c2 := u.open(t, h, "")
	resync(t, c2, subjects(1, "big"))
	liveAgain(t, c2, dv, u, 3)
}

// bigMessage is a message of about size bytes with numbered lines, subject "big".
func bigMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%08d ................................................................\r\n", i)
	}
	return b.Bytes()
}

// E4: the IMAP connection is cut (limit_data) or reset (reset_peer) in the
// middle of a 10 MiB FETCH literal: the request is answered with an error
// frame (abort), never with a response holding a truncated body, and the
// session closes with 4503. The message is intact on the server afterwards.
func TestFaultCutMidLiteralFetch(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	for _, tc := range []struct {
		name   string
		inject func(*faults.Proxy)
	}{
		{"limit_data", func(p *faults.Proxy) { p.CutAfter(t, 1<<20) }},
		// 4 MB/s: the reset after 500 ms lands about 2 MiB into the literal.
		{"reset_peer", func(p *faults.Proxy) { p.Bandwidth(t, 4096); p.ResetAfter(t, 500) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := faultHarness(t, dv.PlainAddr, Limits{})
			u := newFaultUser(t, dv, 1)
			dv.Deliver(t, u.name, bigMessage(faultBig))
			c := u.open(t, h, "")
			c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
			tc.inject(p)
			start := time.Now()
			id := c.send(map[string]any{"op": "fetch", "uids": "2", "body": []any{map[string]any{"section": "", "peek": true}}})
			took := expectLost(t, c, start, id, string(protocol.CodeAbort))
			t.Logf("%s mid-literal: error frame (abort), close 4503 after %v", tc.name, took.Round(time.Millisecond))
			// Recover on the direct upstream: removing a toxic from a link whose
			// connection died under it can block inside Toxiproxy (it hung a
			// CI run for 13 minutes), and the proxy is this subtest's alone.
			u.upstream = "direct"
			c2 := u.open(t, h, "")
			resync(t, c2, subjects(1, "big"))
			r := c2.ok(map[string]any{"op": "fetch", "uids": "2", "items": []string{"size"}})
			if sz := list(r["messages"])[0].(map[string]any)["size"].(json.Number); sz.String() != fmt.Sprint(len(bigMessage(faultBig))) {
				t.Fatalf("size after recovery: %v, want %d", sz, len(bigMessage(faultBig)))
			}
		})
	}
}

// E4 over HTTP: the IMAP connection of a download is cut mid-literal. The
// response, already started (200 and headers), is aborted: the client reads
// fewer bytes than a complete body and gets an error, never a clean end of
// body — with Content-Length (the whole message as .eml) and without it (a
// decoded base64 part, chunked). The WebSocket session goes on serving.
func TestFaultCutDownload(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, p := faultHarness(t, dv.PlainAddr, Limits{})
	u := newFaultUser(t, dv, 0)
	raw := transferMessage(t, 8<<20)
	dv.Deliver(t, u.name, raw)
	wantPart := decodedParts(t, raw)["3"]
	c := u.open(t, h, "")
	c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	for _, tc := range []struct {
		name, part string
		full       int // bytes of the complete body
	}{{"eml", "", len(raw)}, {"part", "3", 8 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1}
			if tc.part != "" {
				req["part"] = tc.part
			}
			r := c.ok(req)
			p.CutAfter(t, 1<<20)
			defer p.Remove(t, "cut")
			hr, _ := http.NewRequest(http.MethodGet, h.hs.URL+r["url"].(string), nil)
			hr.Header.Set("Origin", testOrigin)
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			defer resp.Body.Close()
			hash := sha256.New()
			n, rerr := io.Copy(hash, resp.Body)
			t.Logf("%s: status %d, Content-Length %q, %d of %d bytes, then %v", tc.name, resp.StatusCode, resp.Header.Get("Content-Length"), n, tc.full, rerr)
			if resp.StatusCode != http.StatusOK {
				return // failed before the first byte: an honest error status
			}
			if rerr == nil {
				t.Fatalf("cut download ended cleanly after %d of %d bytes", n, tc.full)
			}
			if n >= int64(tc.full) || (tc.part != "" && [32]byte(hash.Sum(nil)) == wantPart) {
				t.Fatalf("cut download delivered the complete body")
			}
		})
	}
	c.ok(map[string]any{"op": "noop"})
	// Recovery: the same download, uncut, is complete.
	r := c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1, "part": "3"})
	resp, body := h.transfer(t, http.MethodGet, r["url"].(string), testOrigin, nil, 0)
	if resp == nil || resp.StatusCode != 200 || sha256.Sum256(body) != wantPart {
		t.Fatalf("download after the faults: %v, %d bytes", resp, len(body))
	}
}

// E4 for uploads: a PUT whose IMAP APPEND literal is cut on its way to
// Dovecot, and a PUT whose own connection (client → bridge) is cut after
// 1 MiB, both fail and store nothing; an upload afterwards works.
func TestFaultCutUpload(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, p := faultHarness(t, dv.PlainAddr, Limits{})
	bp := faults.Start(t, h.hs.Listener.Addr().String()) // client → bridge
	u := newFaultUser(t, dv, 0)
	c := u.open(t, h, "")
	c.ok(map[string]any{"op": "create", "mailbox": "Drafts"})
	msg := transferMessage(t, 4<<20)
	put := func(base string) (int, error) {
		r := c.ok(map[string]any{"op": "upload", "mailbox": "Drafts", "size": len(msg)})
		req, _ := http.NewRequest(http.MethodPut, base+r["url"].(string), bytes.NewReader(msg))
		req.Header.Set("Origin", testOrigin)
		req.ContentLength = int64(len(msg))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	stored := func() int {
		peerC := peer(t, dv.PlainAddr, u.name, u.pw)
		st, err := peerC.Status(ctx5(t), "Drafts", "(MESSAGES)")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		_, _ = fmt.Sscanf(string(st.Data[0].Bytes())[strings.Index(string(st.Data[0].Bytes()), "MESSAGES ")+9:], "%d", &n)
		return n
	}
	t.Run("imap side", func(t *testing.T) {
		p.Toxic(t, "cut-up", "limit_data", faults.Upstream, map[string]any{"bytes": 1 << 20})
		defer p.Remove(t, "cut-up")
		code, err := put(h.hs.URL)
		t.Logf("APPEND literal cut after 1 MiB: status %d, err %v", code, err)
		if err == nil && code == http.StatusOK {
			t.Fatal("upload with its APPEND cut succeeded")
		}
	})
	t.Run("client side", func(t *testing.T) {
		bp.Toxic(t, "cut-up", "limit_data", faults.Upstream, map[string]any{"bytes": 1 << 20})
		defer bp.Remove(t, "cut-up")
		code, err := put("http://" + bp.Addr)
		t.Logf("PUT cut after 1 MiB on the client's side: status %d, err %v", code, err)
		if err == nil && code == http.StatusOK {
			t.Fatal("upload cut on the client's side succeeded")
		}
	})
	// Nothing stored; the session was not disturbed; an upload now works.
	if n := stored(); n != 0 {
		t.Fatalf("Drafts holds %d messages after the cut uploads, want 0", n)
	}
	c.ok(map[string]any{"op": "noop"})
	if code, err := put(h.hs.URL); err != nil || code != http.StatusOK {
		t.Fatalf("upload after the faults: %d %v", code, err)
	}
	if n := stored(); n != 1 {
		t.Fatalf("Drafts holds %d messages, want 1", n)
	}
}

// E3 on the client's side: the link between the client and the bridge goes
// half-open. The bridge's ping finds it (no pong within PongTimeout), ends
// the session and logs its IMAP connection out; a new session works.
func TestFaultHalfOpenClient(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, _ := faultHarness(t, dv.PlainAddr, Limits{PingInterval: 300 * time.Millisecond, PongTimeout: 500 * time.Millisecond})
	bp := faults.Start(t, h.hs.Listener.Addr().String())
	ws := "ws://" + bp.Addr + "/ws"
	u := newFaultUser(t, dv, 2)
	c := u.open(t, h, ws)
	c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	waitIdle(t, c)
	if n := h.sessions(); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	bp.HalfOpen(t)
	start := time.Now()
	deadline := start.Add(faultBound)
	for h.sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the bridge kept the session of a half-open client for %v", faultBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Ping 300 ms, pong timeout 500 ms, then the close handshake (1008
	// "ping timeout", docs/protocol.md §7) waits out its own 5 s timeout.
	t.Logf("client half-open: the bridge ended the session after %v", time.Since(start).Round(time.Millisecond))
	c.close()
	bp.Remove(t, "halfopen-down")
	bp.Remove(t, "halfopen-up")
	c2 := u.open(t, h, ws)
	resync(t, c2, subjects(2))
	liveAgain(t, c2, dv, u, 3)
}

// sessions is the number of live sessions of the bridge.
func (h *harness) sessions() int {
	h.srv.reg.mu.Lock()
	defer h.srv.reg.mu.Unlock()
	return len(h.srv.reg.sessions)
}

// reconnect opens a session of u again and again with full-jitter
// exponential backoff (what the SDK does: a random delay in [0, min(cap,
// base·2^n)]) until one gets hello, and returns it with the attempts made.
// Attempts refused while the upstream is down end with close 4503
// "upstream unavailable". whileDown runs after the first refused attempt.
func reconnect(t *testing.T, h *harness, u faultUser, whileDown func()) (*wsClient, int) {
	t.Helper()
	const base, maxDelay = 50 * time.Millisecond, time.Second
	deadline := time.Now().Add(faultBound)
	refused := 0
	for attempt := 0; ; attempt++ {
		if time.Now().After(deadline) {
			t.Fatalf("no session within %v (%d attempts)", faultBound, attempt)
		}
		c, err := u.dial(h, "")
		if err != nil {
			t.Fatal(err)
		}
		f, ok := c.next(waitFrame)
		if ok && f.str("type") == protocol.TypeHello {
			if refused == 0 {
				t.Fatal("a session opened while Dovecot was down")
			}
			c.login(u.pw)
			return c, attempt + 1
		}
		_, code, reason := untilClose(t, c, faultBound)
		if !ok || f.errCode() != string(protocol.CodeUnavailable) || code != protocol.CloseUpstream || reason != "upstream unavailable" {
			t.Fatalf("attempt %d while Dovecot is down: %s, close %d %q; want an unavailable frame and 4503 \"upstream unavailable\"", attempt, f, code, reason)
		}
		refused++
		if refused == 1 && whileDown != nil {
			whileDown()
		}
		time.Sleep(rand.N(min(maxDelay, base<<attempt) + 1))
	}
}

// E5: Dovecot is killed (SIGKILL of the master and every child: no BYE, the
// kernel resets the connections) during IDLE, and during a FETCH of a large
// body, then restarted on the same port. The session ends with the
// documented frames and close 4503; reconnects are refused (4503 "upstream
// unavailable") while it is down; once it is back a reconnect with jittered
// backoff succeeds, the resync shows every message exactly once (mail that
// arrived while the server was down included) and events resume.
func TestFaultDovecotKilled(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.StartPrivate(t)
	for _, tc := range []struct {
		name  string
		fetch bool
	}{{"idle", false}, {"fetch", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := faultHarness(t, dv.PlainAddr, Limits{})
			u := newFaultUser(t, dv.Server, 3)
			want := subjects(3)
			if tc.fetch {
				dv.Deliver(t, u.name, bigMessage(4<<20))
				want = append(want, "big")
			}
			c := u.open(t, h, "")
			c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
			id := ""
			if tc.fetch {
				p.Bandwidth(t, 1024) // 4 MiB take 4 s
				id = c.send(map[string]any{"op": "fetch", "uids": "4", "body": []any{map[string]any{"section": "", "peek": true}}})
				time.Sleep(time.Second) // the literal is arriving
			} else {
				waitIdle(t, c)
			}
			dv.Crash(t)
			start := time.Now()
			// Through the throttling proxy the reset may reach the bridge
			// as a stall of the literal (timeout) rather than an EOF (abort).
			took := expectLost(t, c, start, id, string(protocol.CodeAbort), string(protocol.CodeTimeout))
			t.Logf("kill -9 during %s: session closed 4503 after %v", tc.name, took.Round(time.Millisecond))
			if tc.fetch {
				// Reconnect without the throttle (removing it from the dead
				// link can block Toxiproxy for 10 s).
				u.upstream = "direct"
			}
			c2, attempts := reconnect(t, h, u, func() {
				for i := range 2 {
					s := fmt.Sprintf("while down %d", i)
					dv.DropInMaildir(t, u.name, testMessage(s, "x"))
					want = append(want, s)
				}
				dv.Resume(t)
			})
			t.Logf("kill -9 during %s: back after %v and %d attempts", tc.name, time.Since(start).Round(time.Millisecond), attempts)
			resync(t, c2, want)
			liveAgain(t, c2, dv.Server, u, len(want)+1)
		})
	}
}

// envFaultsLong runs the long variants (as internal/faults): here the
// throttled download at the spec's 100 KB/s (~100 s).
const envFaultsLong = "IMAPBRIDGE_FAULTS_LONG"

// E10 over HTTP: a 10 MiB download (the whole message, streamed from the
// IMAP literal to the response) over a throttled link to Dovecot completes
// intact although it lasts longer than CommandTimeout (progress keeps it
// alive), and the live heap (sampled after a GC every 200 ms) stays far below
// the message size: it is streamed, never held. CI throttles to 4 MB/s
// (~2.5 s); IMAPBRIDGE_FAULTS_LONG=1 to the spec's 100 KB/s (~100 s).
func TestFaultThrottledDownload(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, p := faultHarness(t, dv.PlainAddr, Limits{})
	u := newFaultUser(t, dv, 0)
	msg := bigMessage(faultBig)
	dv.Deliver(t, u.name, msg)
	size, want := int64(len(msg)), sha256.Sum256(msg)
	msg = nil // only its hash is kept: the heap measured is the bridge's
	c := u.open(t, h, "")
	c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	rate := int64(4096)
	if os.Getenv(envFaultsLong) != "" {
		rate = 100
	}
	r := c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1})
	p.Bandwidth(t, rate)
	live := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := live()
	stop := make(chan struct{})
	peak := make(chan uint64, 1)
	go func() {
		var top uint64
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-time.After(200 * time.Millisecond):
			}
			top = max(top, live())
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, h.hs.URL+r["url"].(string), nil)
	req.Header.Set("Origin", testOrigin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		close(stop)
		<-peak
		t.Fatalf("GET: %v", err)
	}
	sum := sha256.New()
	n, rerr := io.Copy(sum, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	close(stop)
	grew := int64(<-peak) - int64(base)
	if resp.StatusCode != http.StatusOK || rerr != nil || n != size || [32]byte(sum.Sum(nil)) != want {
		t.Fatalf("throttled download: status %d, %d of %d bytes, %v (or the bytes differ)", resp.StatusCode, n, size, rerr)
	}
	t.Logf("%d KB/s: %d bytes intact in %v (CommandTimeout %v); live heap grew by at most %d KiB", rate, n, took.Round(time.Millisecond), faultDeadline, grew>>10)
	if grew > faultBig/2 {
		t.Fatalf("live heap grew by %d bytes during a streamed %d-byte download", grew, faultBig)
	}
	c.ok(map[string]any{"op": "noop"})
}

// E3 over HTTP: the link to Dovecot goes half-open in the middle of a
// download. The transfer's command stalls, CommandTimeout ends it, and the
// response, already started, is aborted: the client gets an error, never a
// clean end of a short body, within the deadline.
func TestFaultHalfOpenDownload(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, p := faultHarness(t, dv.PlainAddr, Limits{})
	u := newFaultUser(t, dv, 0)
	msg := bigMessage(2 << 20)
	dv.Deliver(t, u.name, msg)
	c := u.open(t, h, "")
	r := c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1})
	p.Bandwidth(t, 512) // 2 MiB take 4 s
	req, _ := http.NewRequest(http.MethodGet, h.hs.URL+r["url"].(string), nil)
	req.Header.Set("Origin", testOrigin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got, err := io.CopyN(io.Discard, resp.Body, 256<<10)
	if err != nil {
		t.Fatalf("first 256 KiB: %v", err)
	}
	p.HalfOpen(t)
	start := time.Now()
	done := make(chan struct{})
	var n int64
	var rerr error
	go func() {
		defer close(done)
		n, rerr = io.Copy(io.Discard, resp.Body)
	}()
	select {
	case <-done:
	case <-time.After(faultBound):
		t.Fatalf("download still open %v after the link went half-open", faultBound)
	}
	took := time.Since(start)
	t.Logf("half-open mid-download: %d of %d bytes, then %v after %v (CommandTimeout %v)", got+n, len(msg), rerr, took.Round(time.Millisecond), faultDeadline)
	if rerr == nil || got+n >= int64(len(msg)) {
		t.Fatalf("download over a half-open link ended cleanly (%d of %d bytes)", got+n, len(msg))
	}
}

// E3 for uploads: the link to Dovecot goes half-open after the first MiB
// of a PUT has been streamed into the APPEND literal. The literal stops
// being accepted (or its answer never comes); by CommandTimeout the upload
// fails with an error status, and nothing is stored.
func TestFaultHalfOpenUpload(t *testing.T) {
	leakCheck(t)
	dv := dovecottest.Start(t)
	h, p := faultHarness(t, dv.PlainAddr, Limits{})
	u := newFaultUser(t, dv, 0)
	c := u.open(t, h, "")
	c.ok(map[string]any{"op": "create", "mailbox": "Drafts"})
	msg := transferMessage(t, 8<<20)
	r := c.ok(map[string]any{"op": "upload", "mailbox": "Drafts", "size": len(msg)})
	// The pause is on the bridge's side of the request body: the bridge
	// reads it only while it streams the APPEND literal, so the link goes
	// half-open mid-literal (not before the transfer's IMAP connection).
	body := &pausingReader{at: 1 << 20, reached: make(chan struct{}), proceed: make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body.r = req.Body
		req.Body = io.NopCloser(body)
		h.srv.ServeHTTP(w, req)
	}))
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodPut, hs.URL+r["url"].(string), bytes.NewReader(msg))
	req.Header.Set("Origin", testOrigin)
	req.ContentLength = int64(len(msg))
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{0, err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	select {
	case <-body.reached:
	case res := <-done:
		t.Fatalf("upload ended before its first MiB was sent: %v", res)
	case <-time.After(faultBound):
		t.Fatal("the bridge did not read the upload")
	}
	// The session has no mailbox selected (no IDLE keepalive): only the
	// upload's connection talks over the dead link.
	p.HalfOpen(t)
	start := time.Now()
	close(body.proceed)
	var res result
	select {
	case res = <-done:
	case <-time.After(faultBound):
		t.Fatalf("upload over a half-open link still running after %v", faultBound)
	}
	t.Logf("half-open mid-upload: status %d, err %v after %v (CommandTimeout %v)", res.code, res.err, time.Since(start).Round(time.Millisecond), faultDeadline)
	if res.err == nil && res.code == http.StatusOK {
		t.Fatal("upload over a half-open link succeeded")
	}
	p.Remove(t, "halfopen-down")
	p.Remove(t, "halfopen-up")
	peerC := peer(t, dv.PlainAddr, u.name, u.pw)
	st, err := peerC.Status(ctx5(t), "Drafts", "(MESSAGES)")
	if err != nil || !strings.Contains(string(st.Data[0].Bytes()), "MESSAGES 0") {
		t.Fatalf("Drafts after the half-open upload: %v %v, want MESSAGES 0", st, err)
	}
}

// pausingReader reads r; once at bytes have been read it closes reached and
// waits for proceed.
type pausingReader struct {
	r       io.Reader
	at, n   int64
	paused  bool
	reached chan struct{}
	proceed chan struct{}
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.n >= p.at && !p.paused {
		p.paused = true
		close(p.reached)
		<-p.proceed
	}
	if p.n < p.at {
		b = b[:min(int64(len(b)), p.at-p.n)]
	}
	k, err := p.r.Read(b)
	p.n += int64(k)
	return k, err
}
