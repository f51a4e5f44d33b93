package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// transferFake is secFake that records the user of every LOGIN and answers
// SELECT with NO (so a download that gets that far ends in 404); a SELECT of
// "Slow" waits for release first.
func transferFake(mu *sync.Mutex, logins *[]string, release <-chan struct{}) imaptest.Config {
	cfg := secFake()
	login := cfg.Handlers["LOGIN"]
	cfg.Handlers["LOGIN"] = func(c *imaptest.Conn, cmd *imaptest.Command) {
		if len(cmd.Args) > 0 {
			mu.Lock()
			*logins = append(*logins, strings.Trim(cmd.Args[0], `"`))
			mu.Unlock()
		}
		login(c, cmd)
	}
	cfg.Handlers["SELECT"] = func(c *imaptest.Conn, cmd *imaptest.Command) {
		if len(cmd.Args) > 0 && strings.Trim(cmd.Args[0], `"`) == "Slow" {
			select { // holds the transfer until the test releases it
			case <-release:
			case <-c.Done():
			}
		}
		c.Tagged(cmd, "NO no such mailbox")
	}
	cfg.Handlers["EXAMINE"] = cfg.Handlers["SELECT"]
	cfg.Handlers["LOGOUT"] = func(c *imaptest.Conn, cmd *imaptest.Command) {
		c.Send("* BYE")
		c.Tagged(cmd, "OK LOGOUT completed")
		c.Close()
	}
	return cfg
}

// ticketURL asks session c for a transfer ticket with the request JSON req.
func ticketURL(t *testing.T, c *secClient, id, req string) string {
	t.Helper()
	c.send(req)
	r, ok := c.await(id).(*protocol.Response)
	if !ok {
		t.Fatalf("%s: no ticket", req)
	}
	var tr protocol.TicketResult
	if err := json.Unmarshal(r.Result, &tr); err != nil || !strings.HasPrefix(tr.URL, TransferPath) {
		t.Fatalf("%s: %s", req, r.Result)
	}
	return tr.URL
}

// do sends one transfer request with origin ("" for none) and an optional
// Authorization header, returning the status.
func (e *secEnv) do(t *testing.T, method, path, origin, authz string, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, e.hs.URL+path, strings.NewReader(body))
	if body == "" {
		req.Body = http.NoBody
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if authz != "" {
		req.Header.Set("Authorization", "Bearer "+authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTransferTicketRefusals (issue 13 item 7, security G8): a reused,
// expired, forged, other-Origin or wrong-kind ticket is refused with 403 or
// 410 before any IMAP traffic (no dial); a ticket is the credential of the
// user whose session asked for it, whoever presents it (another user's JWT on
// the request changes nothing); the per-user ticket and concurrent-transfer
// caps hold.
func TestTransferTicketRefusals(t *testing.T) {
	var mu sync.Mutex
	var logins []string
	const ttl = 300 * time.Millisecond
	release := make(chan struct{})
	e := newSecEnv(t, transferFake(&mu, &logins, release), func(c *Config) {
		c.Limits.TicketTTL = ttl
		c.Limits.TicketsPerUser = 3
		c.Limits.TransfersPerUser = 2
	})
	alice := e.session()
	bobTok := e.token(func(c *auth.Claims) { c.Subject, c.IMAPUser = "bob", "bob" })
	bob := e.mustDial(bobTok)
	bob.hello()
	bob.send(fmt.Sprintf(`{"id":"login","op":"login","password":%q}`, secPassword))
	bob.await("login")
	dl := func(c *secClient, id string) string {
		return ticketURL(t, c, id, `{"id":"`+id+`","op":"download","mailbox":"INBOX","uid":1,"part":"1"}`)
	}
	noDial := func(what string, method, path, origin, authz string, want int) {
		t.Helper()
		before := e.dials.Load()
		if got := e.do(t, method, path, origin, authz, ""); got != want {
			t.Fatalf("%s: %d, want %d", what, got, want)
		}
		if n := e.dials.Load() - before; n != 0 {
			t.Fatalf("%s: %d IMAP dials, want none", what, n)
		}
	}

	// Forged, other Origin (the ticket survives that attempt), wrong kind, wrong method.
	noDial("forged ticket", http.MethodGet, TransferPath+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", secOrigin, "", http.StatusForbidden)
	u := dl(alice, "d1")
	noDial("other Origin", http.MethodGet, u, "https://evil.example", "", http.StatusForbidden)
	noDial("download ticket used for PUT", http.MethodPut, u, secOrigin, "", http.StatusForbidden)
	noDial("POST", http.MethodPost, u, secOrigin, "", http.StatusMethodNotAllowed)
	up := ticketURL(t, alice, "u1", `{"id":"u1","op":"upload","mailbox":"Drafts","size":10}`)
	noDial("upload ticket used for GET", http.MethodGet, up, secOrigin, "", http.StatusForbidden)

	// The ticket is alice's, presented with bob's JWT: the transfer logs in
	// as alice (the fake's SELECT refusal makes it 404), never as bob.
	mu.Lock()
	logins = nil
	mu.Unlock()
	before := e.dials.Load()
	if got := e.do(t, http.MethodGet, u, secOrigin, bobTok, ""); got != http.StatusNotFound {
		t.Fatalf("first use: %d, want 404 from the fake's SELECT", got)
	}
	if e.dials.Load()-before != 1 {
		t.Fatalf("first use: %d dials, want 1", e.dials.Load()-before)
	}
	mu.Lock()
	got := append([]string(nil), logins...)
	mu.Unlock()
	if len(got) != 1 || got[0] != secUser {
		t.Fatalf("transfer logins %q, want [%s]", got, secUser)
	}
	noDial("reused ticket", http.MethodGet, u, secOrigin, "", http.StatusGone)
	// Bob's own ticket runs as bob.
	mu.Lock()
	logins = nil
	mu.Unlock()
	if got := e.do(t, http.MethodGet, dl(bob, "b1"), secOrigin, "", ""); got != http.StatusNotFound {
		t.Fatalf("bob's ticket: %d", got)
	}
	mu.Lock()
	if len(logins) != 1 || logins[0] != "bob" {
		t.Fatalf("bob's transfer logged in as %q", logins)
	}
	mu.Unlock()

	// Expired: 410 (kept past expiry so a late use is told why).
	exp := dl(alice, "d2")
	deadline := time.Now().Add(ttl + 100*time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	noDial("expired ticket", http.MethodGet, exp, secOrigin, "", http.StatusGone)

	// TicketsPerUser (3) unused tickets per user: the fourth is refused, bob
	// unaffected. (Expired tickets count until a lifetime past expiry.)
	deadline = time.Now().Add(2*ttl + 100*time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 3 {
		dl(alice, fmt.Sprintf("cap%d", i))
	}
	alice.send(`{"id":"cap3","op":"download","mailbox":"INBOX","uid":1}`)
	if f, ok := alice.await("cap3").(*protocol.ErrorFrame); !ok || f.Error.Code != protocol.CodeLimit {
		t.Fatalf("fourth unused ticket: %#v, want a limit error", f)
	}
	dl(bob, "b2")
	// TransfersPerUser: with the budget (2) held by two stalled downloads a
	// third is refused 429 before dialing; when they end it is free again.
	slow := func(id string) string {
		return ticketURL(t, bob, id, `{"id":"`+id+`","op":"download","mailbox":"Slow","uid":1}`)
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for _, id := range []string{"s1", "s2"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.hs.URL+slow(id), nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	waitUntil(t, "two transfers running", func() bool {
		e.srv.tickets.mu.Lock()
		defer e.srv.tickets.mu.Unlock()
		return e.srv.tickets.running["bob"] == 2
	})
	noDial("third concurrent transfer", http.MethodGet, slow("s3"), secOrigin, "", http.StatusTooManyRequests)
	close(release)
	wg.Wait()
	cancel()
	waitUntil(t, "transfers released", func() bool {
		e.srv.tickets.mu.Lock()
		defer e.srv.tickets.mu.Unlock()
		return e.srv.tickets.running["bob"] == 0
	})
	if got := e.do(t, http.MethodGet, dl(bob, "b3"), secOrigin, "", ""); got != http.StatusNotFound {
		t.Fatalf("transfer after the stalled ones ended: %d, want 404 from the fake", got)
	}
	// The sessions are unharmed.
	alice.send(`{"id":"n","op":"noop"}`)
	if _, ok := alice.await("n").(*protocol.Response); !ok {
		t.Fatal("noop after the refusals failed")
	}
}

// waitUntil polls cond every 10 ms for up to secWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(secWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDovecotUploadAbandoned (issue 13 item 3, security K1): an upload that
// sends part of its body and then nothing for UploadIdleTimeout ends with
// 400, stores nothing, frees its transfer slot and connection, and leaves the
// session serving requests.
func TestDovecotUploadAbandoned(t *testing.T) {
	t.Parallel()
	dv := dovecottest.Start(t)
	const idle = 300 * time.Millisecond
	h := newHarness(t, Config{
		Upstreams: []Upstream{{Name: "plain", Addr: dv.PlainAddr, Security: SecurityPlain, AllowPrivate: true, AllowPlaintext: true}},
		Limits:    Limits{UploadIdleTimeout: idle},
	})
	c, user := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	c.ok(map[string]any{"op": "create", "mailbox": "Drafts"})
	const size = 1 << 20
	r := c.ok(map[string]any{"op": "upload", "mailbox": "Drafts", "size": size})
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("x"), size/2)) // then silence
	}()
	start := time.Now()
	resp, body := h.transfer(t, http.MethodPut, r["url"].(string), testOrigin, pr, size)
	if resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("abandoned upload: %v %s", resp, body)
	}
	t.Logf("abandoned upload refused after %v (idle limit %v)", time.Since(start).Round(time.Millisecond), idle)
	waitUntil(t, "the transfer slot released", func() bool {
		h.srv.tickets.mu.Lock()
		defer h.srv.tickets.mu.Unlock()
		return h.srv.tickets.running[user] == 0
	})
	pass, _ := dv.Password(user)
	p := peer(t, dv.PlainAddr, user, pass)
	st, err := p.Status(ctx5(t), "Drafts", "(MESSAGES)")
	if err != nil || !strings.Contains(string(st.Data[0].Bytes()), "MESSAGES 0") {
		t.Fatalf("Drafts after the abandoned upload: %v %v", st, err)
	}
	c.ok(map[string]any{"op": "noop"})
}
