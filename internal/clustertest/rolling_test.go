package clustertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/internal/dovecottest"
	"github.com/imapbridge/imapbridge/internal/redistest"
)

// The scenario's size (issue 18 Done-when).
const (
	replicaCount    = 3
	userCount       = 100
	sessionsPerUser = 3 // 300 sessions
	// accountCap is maxConnectionsPerAccount: every user's three sessions
	// fill it exactly, so a drained session's place must be free before its
	// reconnect is admitted anywhere.
	accountCap     = 3
	deliverEvery   = 40 * time.Millisecond  // one message to the next user
	flagEvery      = 100 * time.Millisecond // one flag change through a random session
	sampleEvery    = 200 * time.Millisecond // Dovecot's per-user connection count
	sampleClients  = 30                     // sessions whose cache is compared with the server
	transferChecks = 6                      // download URLs fetched through nginx
	liveTimeout    = 120 * time.Second      // all sessions live (first connect, after each restart)
	convergeWait   = 60 * time.Second       // caches reach the server's state
	revokeDeadline = time.Second            // the bound for closing revoked sessions
	testOrigin     = "http://clustertest.invalid"
	tokenIssuer    = "clustertest"
	tokenAudience  = "imapbridge"
	tokenTTL       = 10 * time.Minute // within the verifier's default maxLifetime (15 min)
)

// TestRollingRestart is issue 18's Done-when: three bridge processes
// behind nginx, coordinated through Redis, in front of Dovecot; 300
// sessions; a rolling restart of all three while mail arrives and flags
// change; then every session is live, a sample of caches equals the
// server, every message was announced exactly once per session, and
// Dovecot never saw more than accountCap connections of one user.
// Afterwards: a revocation through one replica closes the user's sessions
// on the others within 1 s; Redis killed → every replica says "cluster:
// degraded" and keeps its sessions; Redis back → "cluster: ok" and the
// cluster-wide cap holds again.
func TestRollingRestart(t *testing.T) {
	dv := dovecottest.Start(t)
	rd := redistest.Start(t)
	dir := t.TempDir()
	bin := buildBridge(t, dir)

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	secretFile := filepath.Join(dir, "hmac")
	adminToken := hex.EncodeToString(secret[:16])
	adminFile := filepath.Join(dir, "admin-token")
	for f, b := range map[string][]byte{secretFile: []byte(hex.EncodeToString(secret)), adminFile: []byte(adminToken)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := auth.NewHMACSigner([]byte(hex.EncodeToString(secret)))
	if err != nil {
		t.Fatal(err)
	}
	signer.Issuer, signer.Audience = tokenIssuer, tokenAudience
	readScope, _ := auth.ParseScopes("write")

	reps := make([]*replica, replicaCount)
	var backends []string
	for i := range reps {
		r := &replica{idx: i, bin: bin, addr: freeAddr(t), adminAddr: freeAddr(t),
			config: filepath.Join(dir, fmt.Sprintf("bridge%d.json", i)), logPath: filepath.Join(dir, fmt.Sprintf("bridge%d.log", i))}
		cfg, err := bridgeConfig(r.addr, r.adminAddr, dv.PlainAddr, rd.Addr, secretFile, adminFile, accountCap)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.config, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		reps[i] = r
		backends = append(backends, r.addr)
	}
	for _, r := range reps {
		r.start(t)
		t.Cleanup(func() {
			_ = r.stop(t)
			if t.Failed() {
				t.Logf("replica %d log (end):\n%s", r.idx, r.logTail())
			}
		})
	}
	lb := startNginx(t, backends)
	url := "ws://" + lb.addr + "/ws"

	newAccount := func() *account {
		name, pw := dv.NewUser(t)
		tok, err := signer.Sign(auth.Claims{Subject: name, Upstream: "dovecot", IMAPUser: name,
			Credential: auth.CredentialPassword, Scopes: readScope}, tokenTTL)
		if err != nil {
			t.Fatal(err)
		}
		return &account{name: name, password: pw, token: tok}
	}
	accts := make([]*account, userCount)
	for i := range accts {
		accts[i] = newAccount()
	}
	byUser := map[string][]*client{}
	clients := make([]*client, 0, userCount*sessionsPerUser)
	for i := 0; i < userCount*sessionsPerUser; i++ {
		a := accts[i%userCount]
		c := newClient(i, a, url, testOrigin)
		clients = append(clients, c)
		byUser[a.name] = append(byUser[a.name], c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	// Dovecot's view, sampled through the whole run.
	var sampleMu sync.Mutex
	maxPerUser := map[string]int{}
	samples, maxTotal := 0, 0
	var sampleErr atomic.Value
	sctx, stopSampling := context.WithCancel(ctx)
	var swg sync.WaitGroup
	swg.Add(1)
	go func() {
		defer swg.Done()
		for sctx.Err() == nil {
			counts, err := who(dv.ConfPath)
			if err != nil {
				sampleErr.Store(err)
			} else {
				sampleMu.Lock()
				samples++
				total := 0
				for _, a := range accts {
					n := counts[a.name]
					total += n
					maxPerUser[a.name] = max(maxPerUser[a.name], n)
				}
				maxTotal = max(maxTotal, total)
				sampleMu.Unlock()
			}
			select {
			case <-sctx.Done():
			case <-time.After(sampleEvery):
			}
		}
	}()

	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.run(ctx) }()
	}
	waitLive(t, clients, len(clients), liveTimeout, "first connect")
	t.Logf("%d sessions live through nginx in %v (%s)", len(clients), time.Since(start).Round(time.Millisecond), spread(clients))

	// Mail and flag changes during the rolling restart.
	var dmu sync.Mutex
	delivered := map[string][]string{}
	lmtp := filepath.Join(dv.Dir, "run", "lmtp")
	var deliverErrs atomic.Int64
	actx, stopActivity := context.WithCancel(ctx)
	var awg sync.WaitGroup
	awg.Add(2)
	go func() {
		defer awg.Done()
		for n := 0; actx.Err() == nil; n++ {
			a := accts[n%userCount]
			subj := fmt.Sprintf("cluster %d for %s", n, a.name)
			msg := "From: sender@example.test\r\nTo: " + a.name + "@example.test\r\nSubject: " + subj +
				"\r\nMessage-ID: <" + strconv.Itoa(n) + "." + a.name + "@clustertest>\r\n\r\nbody " + strconv.Itoa(n) + "\r\n"
			if err := lmtpDeliver(lmtp, a.name, []byte(msg)); err != nil {
				deliverErrs.Add(1)
				t.Logf("lmtp: %v", err)
			} else {
				dmu.Lock()
				delivered[a.name] = append(delivered[a.name], subj)
				dmu.Unlock()
			}
			select {
			case <-actx.Done():
			case <-time.After(deliverEvery):
			}
		}
	}()
	var flagOps, flagErrs atomic.Int64
	go func() {
		defer awg.Done()
		for actx.Err() == nil {
			select {
			case <-actx.Done():
				return
			case <-time.After(flagEvery):
			}
			c := clients[mrand.IntN(len(clients))]
			_, flags, _ := c.snapshot()
			if len(flags) == 0 || !c.isLive() {
				continue
			}
			uids := make([]uint32, 0, len(flags))
			for u := range flags {
				uids = append(uids, u)
			}
			u := uids[mrand.IntN(len(uids))]
			mode := protocol.StoreAdd
			if slices.Contains(flags[u], `\Flagged`) {
				mode = protocol.StoreRemove
			}
			rctx, rcancel := context.WithTimeout(actx, 10*time.Second)
			err := c.send(rctx, &protocol.StoreRequest{Header: protocol.Header{Operation: protocol.OpStore},
				UIDs: strconv.FormatUint(uint64(u), 10), Mode: mode, Flags: []string{`\Flagged`}})
			rcancel()
			flagOps.Add(1)
			if err != nil {
				flagErrs.Add(1) // a session closed under the request: the resync picks the truth up
			}
		}
	}()
	time.Sleep(time.Second) // some mail before the first restart

	// The rolling restart: one replica at a time, back on the same port.
	rollStart := time.Now()
	for _, r := range reps {
		t0 := time.Now()
		if err := r.stop(t); err != nil {
			t.Errorf("replica %d exit after SIGTERM: %v\n%s", r.idx, err, r.logTail())
		}
		stopped := time.Since(t0)
		r.start(t)
		restarted := time.Since(t0)
		waitLive(t, clients, len(clients), liveTimeout, fmt.Sprintf("restart of replica %d", r.idx))
		t.Logf("replica %d: exited %v after SIGTERM, ready again at %v, all sessions live at %v (%s)", r.idx,
			stopped.Round(time.Millisecond), restarted.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond), spread(clients))
	}
	rollEnd := time.Now()
	time.Sleep(500 * time.Millisecond) // mail after the last restart too
	stopActivity()
	awg.Wait()
	phase := time.Now()

	// Every message announced exactly once in every session of its user.
	dmu.Lock()
	totalDelivered := 0
	for _, s := range delivered {
		totalDelivered += len(s)
	}
	dmu.Unlock()
	if totalDelivered == 0 {
		t.Fatal("no mail delivered")
	}
	deadline := time.Now().Add(convergeWait)
	for {
		missing, dup := announceCheck(clients, delivered)
		if dup != "" {
			t.Errorf("duplicate announcement: %s", dup)
			break
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after %v: %s", convergeWait, missing)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Every session live: a noop round trip on each.
	var noopFail atomic.Int64
	var nwg sync.WaitGroup
	for _, c := range clients {
		nwg.Add(1)
		go func() {
			defer nwg.Done()
			rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
			defer rcancel()
			if err := c.send(rctx, &protocol.NoopRequest{Header: protocol.Header{Operation: protocol.OpNoop}}); err != nil {
				noopFail.Add(1)
				t.Logf("session %d noop: %v", c.id, err)
			}
		}()
	}
	nwg.Wait()
	if n := noopFail.Load(); n > 0 {
		t.Errorf("%d of %d sessions failed a noop after the rolling restart", n, len(clients))
	}
	stopSampling()
	swg.Wait()

	// The sampled caches equal the server (UIDs and flags over raw IMAP).
	for i := 0; i < sampleClients; i++ {
		c := clients[(i*len(clients))/sampleClients+i%sessionsPerUser]
		var server map[uint32][]string
		var uv uint32
		var cache map[uint32][]string
		var cuv uint32
		for deadline := time.Now().Add(convergeWait); ; {
			server, uv, err = serverFlags(dv, c.acct.name)
			if err != nil {
				t.Fatalf("raw IMAP for %s: %v", c.acct.name, err)
			}
			cuv, cache, _ = c.snapshot()
			if cuv == uv && flagsEqual(cache, server) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("session %d (%s): cache uidvalidity %d, %d messages %v; server %d, %d messages %v", c.id, c.acct.name,
					cuv, len(cache), cache, uv, len(server), server)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// Dovecot's count of each user's connections never exceeded the budget.
	sampleMu.Lock()
	over := 0
	worst := 0
	for u, n := range maxPerUser {
		worst = max(worst, n)
		if n > accountCap {
			over++
			t.Errorf("Dovecot counted %d IMAP connections of %s (budget %d)", n, u, accountCap)
		}
	}
	t.Logf("Dovecot sampled %d times (doveadm who every %v): at most %d connections per user (budget %d), at most %d in all",
		samples, sampleEvery, worst, accountCap, maxTotal)
	if samples < 10 || maxTotal < len(clients)*9/10 {
		t.Errorf("the sampler saw too little: %d samples, at most %d connections (err %v)", samples, maxTotal, sampleErr.Load())
	}
	sampleMu.Unlock()

	t.Logf("checks after the restart took %v", time.Since(phase).Round(time.Millisecond))

	// Figures: reconnect times, logins per second during the restart.
	var totals, afterHint []time.Duration
	var other []string
	for _, c := range clients {
		c.mu.Lock()
		for _, rc := range c.reconnects {
			if rc.code == protocol.CloseRestart {
				totals = append(totals, rc.total)
				afterHint = append(afterHint, rc.total-rc.hint)
			} else {
				other = append(other, strconv.Itoa(int(rc.code)))
			}
		}
		c.mu.Unlock()
	}
	logins := 0
	perSecond := map[int64]int{}
	for _, c := range clients {
		c.mu.Lock()
		for _, at := range c.logins {
			if !at.Before(rollStart) && !at.After(rollEnd) {
				logins++
				perSecond[at.Unix()]++
			}
		}
		c.mu.Unlock()
	}
	peak := 0
	for _, n := range perSecond {
		peak = max(peak, n)
	}
	roll := rollEnd.Sub(rollStart)
	t.Logf("rolling restart of %d replicas: %v; %d messages delivered (%d LMTP errors), %d flag changes (%d interrupted)",
		replicaCount, roll.Round(time.Millisecond), totalDelivered, deliverErrs.Load(), flagOps.Load(), flagErrs.Load())
	t.Logf("reconnects after 1012: %d; time to live again p50 %v p90 %v max %v; of it after the server's hint p50 %v p90 %v max %v",
		len(totals), pct(totals, 50), pct(totals, 90), pct(totals, 100), pct(afterHint, 50), pct(afterHint, 90), pct(afterHint, 100))
	codes := map[string]int{}
	for _, c := range clients {
		c.mu.Lock()
		for _, cl := range c.closes {
			codes[strconv.Itoa(int(cl.code))]++
			if cl.code == -1 {
				t.Logf("session %d: connection ended without a close frame: %s", c.id, cl.reason)
			}
		}
		c.mu.Unlock()
	}
	t.Logf("recoveries after other closes: %v; every close seen during the restarts by code: %v", other, codes)
	t.Logf("logins during the rolling restart: %d, %.1f/s on average, peak %d in one second", logins, float64(logins)/roll.Seconds(), peak)
	if len(totals) < len(clients) {
		t.Errorf("only %d reconnects after 1012 for %d sessions on 3 restarted replicas", len(totals), len(clients))
	}

	// One-time download URLs through nginx land on any replica; those issued
	// by another are passed to it (cluster.advertiseAddr).
	// (A user of its own: the three sessions of the others fill their
	// account's budget, which transfers count too.)
	tacct := newAccount()
	if err := lmtpDeliver(lmtp, tacct.name, []byte("From: a@example.test\r\nSubject: cluster transfer\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	tc := newClient(-2, tacct, url, testOrigin)
	wg.Add(1)
	go func() { defer wg.Done(); tc.run(ctx) }()
	waitLive(t, []*client{tc}, 1, liveTimeout, "the transfer session")
	forwarded := 0
	for i := 0; i < transferChecks; i++ {
		c := tc
		uv, flags, _ := c.snapshot()
		var uid uint32
		for u := range flags {
			uid = max(uid, u)
		}
		raw, err := c.call(ctx, &protocol.DownloadRequest{Header: protocol.Header{Operation: protocol.OpDownload},
			Mailbox: "INBOX", UIDValidity: uv, UID: uid})
		if err != nil {
			t.Fatalf("download ticket: %v", err)
		}
		var tr protocol.TicketResult
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+lb.addr+tr.URL, nil)
		req.Header.Set("Origin", testOrigin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		served := resp.Header.Get(upstreamHeader)
		if i := strings.LastIndex(served, ", "); i >= 0 {
			served = served[i+2:]
		}
		if served != c.replicaAddr() {
			forwarded++
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Subject: cluster ") {
			t.Errorf("download %d through nginx (ticket of %s, request on %s): %s %.100q", i, c.replicaAddr(), served, resp.Status, body)
		}
	}
	t.Logf("%d downloads through nginx, %d of them landed on another replica than the ticket's and were passed to it", transferChecks, forwarded)

	// Revocation through one replica; the user's sessions elsewhere close within 1 s.
	// The victim: a user with sessions on two replicas, revoked through the third.
	victim, admin := accts[0], reps[0]
	on := map[string]bool{}
	for _, a := range accts {
		set := map[string]bool{}
		for _, c := range byUser[a.name] {
			set[c.replicaAddr()] = true
		}
		for _, r := range reps {
			if !set[r.addr] && len(set) >= len(on) {
				victim, admin, on = a, r, set
			}
		}
		if len(on) >= replicaCount-1 {
			break
		}
	}
	t.Logf("revoking %s through replica %d; its sessions are on %v", victim.name, admin.idx, keys(on))
	t0 := time.Now()
	if err := revoke(admin.adminAddr, adminToken, victim.name); err != nil {
		t.Fatal(err)
	}
	for _, c := range byUser[victim.name] {
		select {
		case <-c.stopped:
		case <-time.After(30 * time.Second):
			t.Fatalf("session %d of %s still running after the revocation", c.id, victim.name)
		}
		c.mu.Lock()
		last := c.closes[len(c.closes)-1]
		revoked := c.revoked
		c.mu.Unlock()
		if !revoked {
			t.Errorf("session %d of %s: close %d %q, want 4401 token revoked", c.id, victim.name, last.code, last.reason)
		}
		if d := last.at.Sub(t0); d > revokeDeadline {
			t.Errorf("session %d of %s (replica %s) closed %v after the revocation", c.id, victim.name, c.replicaAddr(), d)
		} else {
			t.Logf("session %d of %s on %s closed %v after the revocation", c.id, victim.name, c.replicaAddr(), d.Round(time.Millisecond))
		}
	}
	phase = time.Now()
	rest := clients[0:0:0]
	for _, c := range clients {
		if c.acct != victim {
			rest = append(rest, c)
		}
	}

	// Redis killed: every replica degrades, sessions stay, new ones are admitted.
	closesBefore := make([]int, len(rest))
	for i, c := range rest {
		c.mu.Lock()
		closesBefore[i] = len(c.closes)
		c.mu.Unlock()
	}
	rd.Kill(t)
	for _, r := range reps {
		waitReadyz(t, r, "cluster: degraded", 30*time.Second)
	}
	fresh := newClient(len(clients), newAccount(), url, testOrigin)
	wg.Add(1)
	go func() { defer wg.Done(); fresh.run(ctx) }()
	waitLive(t, []*client{fresh}, 1, liveTimeout, "a new session with Redis down")
	waitLive(t, rest, len(rest), liveTimeout, "with Redis down")
	// Redis back: healthy again, and the cluster-wide account cap holds.
	rd.Resume(t)
	for _, r := range reps {
		waitReadyz(t, r, "cluster: ok", 60*time.Second)
	}
	time.Sleep(cluster.ProbeInterval) // the renewal a recovery triggers at once
	for i, c := range rest {
		c.mu.Lock()
		n := len(c.closes) - closesBefore[i]
		c.mu.Unlock()
		if n != 0 {
			t.Errorf("session %d closed %d times while Redis was down or coming back", c.id, n)
		}
	}
	// Redis came back empty: the replicas still refuse the revoked token.
	if code, reason := refusedDial(t, url, victim.token, victim.password); code != protocol.CloseAuth || reason != "token revoked" {
		t.Errorf("the revoked token after Redis lost its data: close %d %q, want 4401 token revoked", code, reason)
	}
	probe := accts[1]
	if probe == victim {
		probe = accts[2]
	}
	var target *replica
	for _, r := range reps {
		n := 0
		for _, c := range byUser[probe.name] {
			if c.replicaAddr() == r.addr {
				n++
			}
		}
		if n < accountCap {
			target = r
			break
		}
	}
	if target != nil {
		code, reason := refusedDial(t, "ws://"+target.addr+"/ws", probe.token, probe.password)
		if code != protocol.CloseSessionLimit || !strings.Contains(reason, "all replicas") {
			t.Errorf("a fourth session of %s on replica %d after Redis came back: close %d %q, want 4429 (all replicas)",
				probe.name, target.idx, code, reason)
		}
	}
	t.Logf("revocation and the Redis outage took %v", time.Since(phase).Round(time.Millisecond))
	for _, r := range reps {
		n, err := r.metric("imapbridge_cluster_fallbacks_total")
		t.Logf("replica %d: imapbridge_cluster_fallbacks_total %v %v", r.idx, n, err)
	}
}

func (c *client) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

func (c *client) replicaAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.replica
	if i := strings.LastIndex(r, ", "); i >= 0 {
		r = r[i+2:]
	}
	return r
}

// waitLive waits until want of cs are live.
func waitLive(t *testing.T, cs []*client, want int, timeout time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := 0
		var sample error
		for _, c := range cs {
			c.mu.Lock()
			if c.live {
				n++
			} else if c.lastErr != nil {
				sample = c.lastErr
			}
			c.mu.Unlock()
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d sessions live after %v (a last error: %v)", what, n, want, timeout, sample)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitReadyz(t *testing.T, r *replica, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body, err := r.readyz()
		if err == nil && code == 200 && strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d /readyz: %d %q %v, want 200 with %q", r.idx, code, body, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// spread counts the live sessions per replica.
func spread(cs []*client) string {
	m := map[string]int{}
	for _, c := range cs {
		m[c.replicaAddr()]++
	}
	var parts []string
	for _, k := range keys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// announceCheck reports the first missing or duplicated announcement.
func announceCheck(cs []*client, delivered map[string][]string) (missing, dup string) {
	for _, c := range cs {
		_, _, ann := c.snapshot()
		for subj, n := range ann {
			if n > 1 {
				return "", fmt.Sprintf("session %d announced %q %d times", c.id, subj, n)
			}
		}
		for _, subj := range delivered[c.acct.name] {
			if ann[subj] != 1 && missing == "" {
				missing = fmt.Sprintf("session %d (%s) never announced %q", c.id, c.acct.name, subj)
			}
		}
		if len(ann) != len(delivered[c.acct.name]) && missing == "" {
			missing = fmt.Sprintf("session %d announced %d messages, %d delivered", c.id, len(ann), len(delivered[c.acct.name]))
		}
	}
	return missing, ""
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(float64(p)/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))].Round(time.Millisecond)
}

func flagsEqual(a, b map[uint32][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

var (
	fetchUID   = regexp.MustCompile(`UID (\d+)`)
	fetchFlags = regexp.MustCompile(`FLAGS \(([^)]*)\)`)
	uidValRe   = regexp.MustCompile(`UIDVALIDITY (\d+)`)
)

// serverFlags reads user's INBOX UIDs and flags over raw IMAP (a master
// login, EXAMINE: nothing changes).
func serverFlags(dv *dovecottest.Server, user string) (map[uint32][]string, uint32, error) {
	conn, err := net.DialTimeout("tcp", dv.PlainAddr, 10*time.Second)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	var uv uint32
	out := map[uint32][]string{}
	run := func(tag, cmd string) error {
		if _, err := fmt.Fprintf(conn, "%s %s\r\n", tag, cmd); err != nil {
			return err
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if m := uidValRe.FindStringSubmatch(line); m != nil {
				v, _ := strconv.ParseUint(m[1], 10, 32)
				uv = uint32(v)
			}
			if strings.HasPrefix(line, "* ") && strings.Contains(line, " FETCH ") {
				mu, mf := fetchUID.FindStringSubmatch(line), fetchFlags.FindStringSubmatch(line)
				if mu != nil && mf != nil {
					u, _ := strconv.ParseUint(mu[1], 10, 32)
					out[uint32(u)] = cleanFlags(strings.Fields(mf[1]))
				}
			}
			if strings.HasPrefix(line, tag+" ") {
				if !strings.HasPrefix(line, tag+" OK") {
					return fmt.Errorf("%s: %s", cmd, strings.TrimSpace(line))
				}
				return nil
			}
		}
	}
	if _, err := r.ReadString('\n'); err != nil {
		return nil, 0, err
	}
	name, pw := dv.MasterLogin(user)
	if err := run("a", fmt.Sprintf("LOGIN %q %q", name, pw)); err != nil {
		return nil, 0, err
	}
	if err := run("b", "EXAMINE INBOX"); err != nil {
		return nil, 0, err
	}
	if err := run("c", "UID FETCH 1:* (UID FLAGS)"); err != nil {
		return nil, 0, err
	}
	_ = run("d", "LOGOUT")
	return out, uv, nil
}

// refusedDial opens one session directly on a replica and returns its close.
func refusedDial(t *testing.T, url, token, password string) (websocket.StatusCode, string) {
	t.Helper()
	c := newClient(-1, &account{token: token, password: password}, url, testOrigin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.session(ctx)
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	t.Errorf("a session over the budget: %v", err)
	return -1, ""
}
