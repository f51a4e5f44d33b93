package bridge

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// dialRecorder is a Config.Dial that timestamps every upstream connection.
type dialRecorder struct {
	mu    sync.Mutex
	times []time.Time
}

func (r *dialRecorder) dial(ctx context.Context, network, address string) (net.Conn, error) {
	r.mu.Lock()
	r.times = append(r.times, time.Now())
	r.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (r *dialRecorder) snapshot() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times...)
}

// TestUpstreamLoginRate (security J7): sessions opened as fast as possible
// reach the IMAP server no faster than the upstream's LoginsPerSecond after
// its LoginBurst; a session whose turn is further away than LoginWait is
// refused with close 1013 and a "limit" error, and the server never sees it.
func TestUpstreamLoginRate(t *testing.T) {
	ds, up := devUpstream(t)
	const (
		rate  = 20
		burst = 3
		n     = 12
	)
	up.LoginsPerSecond, up.LoginBurst, up.LoginWait = rate, burst, time.Minute
	rec := &dialRecorder{}
	h := newHarness(t, Config{Upstreams: []Upstream{up}, DefaultUpstream: "dev", Dial: rec.dial,
		Limits: Limits{SessionsPerUser: 2 * n}})
	start := time.Now()
	for range n {
		c := h.openDev(ds, "read")
		defer c.close()
	}
	times := rec.snapshot()
	if len(times) != n {
		t.Fatalf("%d upstream connections for %d sessions", len(times), n)
	}
	// The limiter's lower bound on the span: the connections after the
	// burst come one per 1/rate at the earliest (load only stretches it).
	minSpan := time.Duration(n-burst) * time.Second / rate
	if span := times[n-1].Sub(start); span < minSpan-5*time.Millisecond {
		t.Errorf("%d connections in %v, want at least %v at %d/s after a burst of %d", n, span, minSpan, rate, burst)
	}
	// No window of 1/rate·k holds more than burst+k+1 connections.
	for i := range times {
		for j := i + 1; j < len(times); j++ {
			k := int(times[j].Sub(times[i]) * rate / time.Second)
			if j-i+1 > burst+k+1 {
				t.Fatalf("connections %d..%d in %v: %d, more than the burst %d + %d", i, j, times[j].Sub(times[i]), j-i+1, burst, k)
			}
		}
	}
}

// TestUpstreamLoginRateRefusal: with the turn further away than LoginWait,
// the session is closed with 1013 after a "limit" error, and no connection
// is made.
func TestUpstreamLoginRateRefusal(t *testing.T) {
	ds, up := devUpstream(t)
	up.LoginsPerSecond, up.LoginBurst, up.LoginWait = 0.01, 1, time.Millisecond
	rec := &dialRecorder{}
	h := newHarness(t, Config{Upstreams: []Upstream{up}, DefaultUpstream: "dev", Dial: rec.dial})
	first := h.openDev(ds, "read")
	defer first.close()
	user, _ := ds.User()
	c, _, err := h.dial(h.token(claims(user, "dev", "read"), 0))
	if err != nil {
		t.Fatal(err)
	}
	f, ok := c.next(waitFrame)
	if !ok || f.errCode() != string(protocol.CodeLimit) {
		t.Fatalf("want a limit error frame, got %s (%v)", f, ok)
	}
	if code, reason := c.waitClose(waitFrame); code != protocol.CloseTryLater {
		t.Fatalf("close %d %q, want 1013", code, reason)
	}
	if got := len(rec.snapshot()); got != 1 {
		t.Errorf("%d upstream connections, want 1 (the refused session made none)", got)
	}
}

// TestLoginTurn: the error is typed, carries the refused wait, and a
// cancelled wait gives its turn back.
func TestLoginTurn(t *testing.T) {
	u := &Upstream{Name: "x", LoginsPerSecond: 1, LoginBurst: 1, LoginWait: time.Millisecond}
	u.initLogins()
	if err := u.loginTurn(context.Background()); err != nil {
		t.Fatalf("first turn: %v", err)
	}
	err := u.loginTurn(context.Background())
	var lre *LoginRateError
	if !errors.Is(err, ErrLoginRate) || !errors.As(err, &lre) || lre.Wait <= u.LoginWait || lre.Upstream != "x" {
		t.Fatalf("second turn: %v", err)
	}
	u.LoginWait = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := u.loginTurn(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled turn: %v", err)
	}
	d := &Upstream{Name: "d"}
	d.initLogins()
	if d.LoginsPerSecond != DefaultUpstreamLoginsPerSecond || d.LoginBurst != DefaultUpstreamLoginBurst || d.LoginWait != DefaultUpstreamLoginWait {
		t.Errorf("defaults not applied: %+v", d)
	}
}
