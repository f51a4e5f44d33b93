package bridge

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// idleSessionGoroutines is what an idle session (a mailbox selected, in
// IDLE) may hold: the executor in IdleLoop, the WebSocket frame reader and
// the engine's reader. The writer, the event dispatcher, the pinger and the
// closer run only while they have work (bench/bridge measures the memory).
const idleSessionGoroutines = 3

// bridgeGoroutines counts the goroutines running session or engine code.
func bridgeGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("imapbridge/bridge.(*session)")) || bytes.Contains(g, []byte("imapbridge/imapengine.(*Client)")) {
			count++
		}
	}
	return count
}

// TestIdleSessionGoroutines: idle sessions hold idleSessionGoroutines each,
// and a session that works (commands, pushed events) goes back to that.
func TestIdleSessionGoroutines(t *testing.T) {
	ds, up := devUpstream(t)
	const n = 8
	h := newHarness(t, Config{Upstreams: []Upstream{up}, DefaultUpstream: "dev", Limits: Limits{SessionsPerUser: n}})
	user, pw := ds.User()
	p := peer(t, ds.Addr(), user, pw) // before counting: its reader is engine code too
	defer p.Shutdown()
	before := bridgeGoroutines()
	clients := make([]*wsClient, n)
	for i := range clients {
		c := h.openDev(ds, "write")
		c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
		c.mustEvent("state", 10*time.Second) // idle
		clients[i] = c
	}
	settled := func(want int) int {
		deadline := time.Now().Add(10 * time.Second)
		got := bridgeGoroutines() - before
		for got != want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			got = bridgeGoroutines() - before
		}
		return got
	}
	if got := settled(n * idleSessionGoroutines); got != n*idleSessionGoroutines {
		t.Fatalf("%d idle sessions hold %d goroutines, want %d", n, got, n*idleSessionGoroutines)
	}
	// Work on one: a command, then mail pushed by another connection.
	clients[0].ok(map[string]any{"op": "noop"})
	if _, err := p.Append(ctx5(t), "INBOX", "", time.Time{}, testMessage("idle cost", "x")); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.mustEvent("exists", 10*time.Second)
	}
	if got := settled(n * idleSessionGoroutines); got != n*idleSessionGoroutines {
		t.Fatalf("after work, %d idle sessions hold %d goroutines, want %d", n, got, n*idleSessionGoroutines)
	}
	for _, c := range clients {
		c.close()
	}
	if got := settled(0); got != 0 {
		t.Fatalf("%d session goroutines left after the clients closed", got)
	}
}
