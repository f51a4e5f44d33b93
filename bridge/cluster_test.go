package bridge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
	"github.com/imapbridge/imapbridge/internal/redistest"
)

// replicas starts n bridges on one fake upstream, each with its own
// cluster.Coordinator on the same Redis, wired as cmd/bridge wires them.
func replicas(t *testing.T, redisAddr string, n int, lim Limits, up Upstream) []*harness {
	t.Helper()
	hs := make([]*harness, n)
	for i := range hs {
		var h *harness
		ready := make(chan struct{})
		coord, err := cluster.New(cluster.Options{Addr: redisAddr,
			OnRevoke:      func(r cluster.Revocation) { <-ready; h.srv.HandleRevocation(r) },
			OnResubscribe: func() { <-ready; h.srv.RecheckRevocations() }})
		if err != nil {
			t.Fatal(err)
		}
		h = newHarness(t, Config{Upstreams: []Upstream{up}, Limits: lim, Cluster: coord})
		close(ready)
		t.Cleanup(func() { coord.Close() }) // after the harness's Shutdown (cleanups run last-in first-out)
		hs[i] = h
	}
	return hs
}

// TestClusterSessionBudget: the per-user session cap and the per-account
// IMAP connection cap hold across replicas; a closed session frees its
// place on every replica at once.
func TestClusterSessionBudget(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	_, up := fakeUpstream(t, 0, "", nil)
	up.MaxConnectionsPerAccount = 3
	hs := replicas(t, r.Addr, 3, Limits{SessionsPerUser: 2}, up)
	a := openFake(t, hs[0], "ann", 0)
	openFake(t, hs[1], "ann", 0)
	c, _, err := hs[2].dial(hs[2].token(claims("ann", "fake", "read"), 0))
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := c.waitClose(waitFrame); code != protocol.CloseSessionLimit || !strings.Contains(reason, "all replicas") {
		t.Fatalf("third session of ann on a third replica: close %d %q", code, reason)
	}
	a.close()
	waitSessions(t, hs[0], 0, waitFrame)
	openFake(t, hs[2], "ann", 0) // ann's freed place, on another replica

	// Another bridge user on the same IMAP account: the account cap (3) counts
	// ann's two sessions.
	cl := claims("ann-2", "fake", "read")
	cl.IMAPUser = "ann"
	openFakeClaims(t, hs[0], cl)
	c, _, err = hs[1].dial(hs[1].token(cl, 0))
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := c.waitClose(waitFrame); code != protocol.CloseSessionLimit || !strings.Contains(reason, "account") {
		t.Fatalf("fourth connection to the account: close %d %q", code, reason)
	}
}

func openFakeClaims(t *testing.T, h *harness, cl auth.Claims) *wsClient {
	t.Helper()
	c, _, err := h.dial(h.token(cl, 0))
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login("pw")
	return c
}

// TestClusterRevocation: a user revoked through one replica's admin
// endpoint loses every session on the other replicas within 1 s; their
// tokens are refused afterwards everywhere; other users are untouched; a
// token issued after the revocation works.
func TestClusterRevocation(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	_, up := fakeUpstream(t, 0, "", nil)
	hs := replicas(t, r.Addr, 3, Limits{}, up)
	admin := httptest.NewServer(hs[0].srv.AdminHandler([]byte("admin-secret")))
	defer admin.Close()
	tok := hs[1].token(claims("rex", "fake", "read"), 0)
	var rex []*wsClient
	for _, h := range hs[1:] {
		c, _, err := h.dial(tok)
		if err != nil {
			t.Fatal(err)
		}
		c.hello()
		c.login("pw")
		rex = append(rex, c)
	}
	other := openFake(t, hs[2], "otto", 0)

	post := func(auth, body string) int {
		req, _ := http.NewRequest(http.MethodPost, admin.URL+"/admin/revoke", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, bad := range []struct{ auth, body string }{{"", `{"user":"rex"}`}, {"wrong", `{"user":"rex"}`}} {
		if code := post(bad.auth, bad.body); code != http.StatusUnauthorized {
			t.Errorf("auth %q: %d", bad.auth, code)
		}
	}
	for _, body := range []string{`{}`, `{"user":"rex","jti":"x"}`, `{"user":`, `{"usr":"rex"}`, string(bytes.Repeat([]byte("x"), MaxAdminBody+1))} {
		if code := post("admin-secret", body); code != http.StatusBadRequest {
			t.Errorf("body %.40q: %d", body, code)
		}
	}
	start := time.Now()
	if code := post("admin-secret", `{"user":"rex"}`); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	for i, c := range rex {
		code, reason := c.waitClose(waitFrame)
		if code != protocol.CloseAuth || reason != ReasonTokenRevoked {
			t.Errorf("rex on replica %d: close %d %q", i+1, code, reason)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("rex on replica %d closed %v after the revocation", i+1, d)
		}
	}
	other.ok(map[string]any{"op": "noop"})
	for i, h := range hs {
		c, _, err := h.dial(tok)
		if err != nil {
			t.Fatal(err)
		}
		if code, reason := c.waitClose(waitFrame); code != protocol.CloseAuth || reason != ReasonTokenRevoked {
			t.Errorf("revoked token on replica %d: close %d %q", i, code, reason)
		}
	}
	time.Sleep(1100 * time.Millisecond) // iat has a resolution of one second
	openFake(t, hs[0], "rex", 0)        // a token issued after the revocation
}

// TestClusterRedisDown: with Redis killed, sessions are still admitted under
// the per-replica caps (the degraded mode), a revocation this replica heard
// of before the outage is still enforced, and /readyz says so; once Redis is
// back the replica reports it healthy again.
func TestClusterRedisDown(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	_, up := fakeUpstream(t, 0, "", nil)
	hs := replicas(t, r.Addr, 1, Limits{SessionsPerUser: 2}, up)
	h := hs[0]
	revokedTok := h.token(claims("gone", "fake", "read"), 0)
	ctx := context.Background()
	if _, err := h.srv.cfg.Cluster.Revoke(ctx, cluster.Revocation{User: "gone"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFrame)
	for !h.srv.revs.match(&auth.Claims{Subject: "gone"}) {
		if time.Now().After(deadline) {
			t.Fatal("the revocation announcement never arrived")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Kill(t)
	openFake(t, h, "dana", 0)
	openFake(t, h, "dana", 0)
	c, _, err := h.dial(h.token(claims("dana", "fake", "read"), 0))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := c.waitClose(waitFrame); code != protocol.CloseSessionLimit {
		t.Errorf("third session with Redis away: close %d, want the per-replica cap", code)
	}
	c, _, err = h.dial(revokedTok)
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := c.waitClose(waitFrame); code != protocol.CloseAuth || reason != ReasonTokenRevoked {
		t.Errorf("revoked token with Redis away: close %d %q", code, reason)
	}
	if body := readyz(t, h); !strings.Contains(body, "cluster: degraded") {
		t.Errorf("/readyz with Redis away: %q", body)
	}
	r.Resume(t)
	for deadline := time.Now().Add(waitFrame); !strings.Contains(readyz(t, h), "cluster: ok"); {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never recovered: %q", readyz(t, h))
		}
		_, _ = h.srv.cfg.Cluster.Revoked(ctx, "", "probe", time.Now()) // a call that finds Redis back
		time.Sleep(100 * time.Millisecond)
	}
}

func readyz(t *testing.T, h *harness) string {
	t.Helper()
	resp, err := http.Get(h.hs.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestClusterRestartFreesPlace: a replica's restart close (1012) reaches
// the browser only once the session's IMAP connection is logged out and its
// places are released, so a reconnect to another replica at once (a retry
// hint of zero) is admitted even when the account's budget is full, rather
// than refused with 4429 until the old lease lapses.
func TestClusterRestartFreesPlace(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	// A server slow to log out (Dovecot under load): the old connection is
	// still open for a while after the close starts.
	_, up := fakeUpstream(t, 0, "", map[string]imaptest.HandlerFunc{"LOGOUT": func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Sleep(300 * time.Millisecond)
		c.Send("* BYE logging out")
		c.Tagged(cmd, "OK LOGOUT completed")
		c.Close()
	}})
	up.MaxConnectionsPerAccount = 2
	hs := replicas(t, r.Addr, 2, Limits{ReconnectJitterMax: time.Nanosecond}, up)
	old := []*wsClient{openFake(t, hs[0], "pat", 0), openFake(t, hs[0], "pat", 0)}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFrame)
		defer cancel()
		_ = hs[0].srv.Shutdown(ctx)
	}()
	for i, c := range old {
		if code, reason := c.waitClose(waitFrame); code != protocol.CloseRestart {
			t.Fatalf("session %d: close %d %q, want 1012", i, code, reason)
		}
		openFake(t, hs[1], "pat", 0).ok(map[string]any{"op": "noop"}) // fails on a 4429 instead of hello
	}
}

// TestClusterHandshakeRate: the handshake rate per client IP holds across
// replicas: with a burst of 2 (and no refill to speak of) two handshakes
// from one address on two replicas pass and a third on a fresh replica,
// whose own limiter would allow it, is refused 429 "(all replicas)" with a
// Retry-After.
func TestClusterHandshakeRate(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	_, up := fakeUpstream(t, 0, "", nil)
	hs := replicas(t, r.Addr, 3, Limits{HandshakesPerIP: 0.01, HandshakeBurst: 2}, up)
	for i, h := range hs[:2] {
		c, _, err := h.dial(h.token(claims("hal", "fake", "read"), 0))
		if err != nil {
			t.Fatalf("handshake %d: %v", i, err)
		}
		c.hello()
	}
	_, resp, err := hs[2].dial(hs[2].token(claims("hal", "fake", "read"), 0))
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third handshake from one IP: %v %v", resp, err)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
}

// TestClusterTransferTicket: a one-time download URL issued on one replica
// works through another (passed to the issuing replica, whose Redis entry is
// a hash of the ticket and an address, never the ticket or a password) —
// once: the second use is 410 from the issuing replica, through either. An
// unknown ticket is still 403, and a forwarded request is never passed on
// again. With Redis away the ticket works on its own replica only.
func TestClusterTransferTicket(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	ds, up := devUpstream(t)
	hs := replicas(t, r.Addr, 2, Limits{}, up)
	for _, h := range hs {
		h.srv.cfg.ClusterAddr = strings.TrimPrefix(h.hs.URL, "http://") // before any request
	}
	c := hs[0].openDev(ds, "read")
	sel := c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	ticket := func() string {
		res := c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uidValidity": sel["uidValidity"], "uid": 1})
		return res["url"].(string)
	}
	u := ticket()
	resp, body := hs[1].transfer(t, http.MethodGet, u, testOrigin, nil, 0)
	if resp == nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Subject:")) {
		t.Fatalf("download through the other replica: %v %.200q", resp, body)
	}
	for i, h := range hs {
		if resp, _ := h.transfer(t, http.MethodGet, u, testOrigin, nil, 0); resp == nil || resp.StatusCode != http.StatusGone {
			t.Errorf("second use through replica %d: %v", i, resp)
		}
	}
	if resp, _ := hs[1].transfer(t, http.MethodGet, TransferPath+"bm90LWEtdGlja2V0", testOrigin, nil, 0); resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("unknown ticket: %v", resp)
	}
	req, _ := http.NewRequest(http.MethodGet, hs[1].hs.URL+ticket(), nil)
	req.Header.Set(ForwardedTicketHeader, "1")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a request marked forwarded on a replica without the ticket: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	ctx := context.Background()
	keys, err := redisKeys(ctx, r.Addr, "imapbridge:ticket:*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, strings.TrimPrefix(u, TransferPath)) {
			t.Errorf("Redis key %q holds the ticket itself", k)
		}
	}
	if len(keys) == 0 {
		t.Error("no ticket announced in Redis")
	}
	r.Kill(t)
	u = ticket()
	if resp, _ := hs[1].transfer(t, http.MethodGet, u, testOrigin, nil, 0); resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("Redis away, through the other replica: %v, want 403", resp)
	}
	if resp, _ := hs[0].transfer(t, http.MethodGet, u, testOrigin, nil, 0); resp == nil || resp.StatusCode != http.StatusOK {
		t.Errorf("Redis away, on the issuing replica: %v", resp)
	}
}

// redisKeys lists the keys matching pattern (a raw RESP exchange).
func redisKeys(ctx context.Context, addr, pattern string) ([]string, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	return rdb.Keys(ctx, pattern).Result()
}
