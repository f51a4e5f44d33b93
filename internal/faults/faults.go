// Package faults injects network faults between a client under test and a
// real server: a Toxiproxy proxy (github.com/Shopify/toxiproxy/v2) run in the
// test process, on a loopback port of its own, with typed helpers for the
// toxics the security spec names (E3 half-open, E4 reset mid-literal, E5
// crash and restart, E10 throttled bandwidth). It is test support only.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
	"go.uber.org/goleak"
)

// Toxiproxy's bandwidth toxic logs through zerolog's global logger (to
// stdout); tests need none of it.
func init() { zlog.Logger = zerolog.Nop() }

// LeakOptions are the goleak options a package using this one passes to
// goleak.VerifyTestMain or VerifyNone. Toxiproxy v2.5.0's own link goroutines
// are the one exception to "no goroutine outlives its connection": after a
// toxic closes or resets a link (limit_data, reset_peer), the link's other
// stages stay blocked on their channels for the life of the process (a
// Toxiproxy limitation, not the code under test); Start's cleanup frees the
// rest.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2.(*ToxicLink).read"),
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2.(*ToxicLink).write"),
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2/toxics.(*ToxicStub).Run"),
	}
}

// Stream names the direction a toxic acts on.
type Stream string

const (
	// Downstream is server → client.
	Downstream Stream = "downstream"
	// Upstream is client → server.
	Upstream Stream = "upstream"
)

// Proxy is one running Toxiproxy proxy. Clients dial Addr instead of the
// server's address.
type Proxy struct {
	// Addr is the proxy's loopback listen address.
	Addr string
	p    *toxiproxy.Proxy
}

// Start runs a proxy from a free loopback port to upstream and stops it
// (closing every proxied connection) when tb's test ends.
func Start(tb testing.TB, upstream string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faults: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, tb.Name(), addr, upstream)
	if err := p.Start(); err != nil {
		tb.Fatalf("faults: start proxy: %v", err)
	}
	tb.Cleanup(func() {
		// Toxics first: a link blocked in a toxic (timeout, bandwidth) ends
		// only when its toxic is removed, then Stop closes the connections.
		p.Toxics.ResetToxics(context.Background())
		p.Stop()
	})
	return &Proxy{Addr: p.Listen, p: p}
}

// Toxic adds a toxic of the given type (timeout, limit_data, reset_peer,
// bandwidth, latency, slicer, slow_close) with its attributes to every
// connection through the proxy, present and future. name must be unique
// within the proxy.
func (p *Proxy) Toxic(tb testing.TB, name, typ string, stream Stream, attrs map[string]any) {
	tb.Helper()
	body, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": string(stream), "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		tb.Fatalf("faults: %v", err)
	}
	if _, err := p.p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		tb.Fatalf("faults: add toxic %s: %v", name, err)
	}
}

// Remove removes the toxic called name.
func (p *Proxy) Remove(tb testing.TB, name string) {
	tb.Helper()
	if err := p.p.Toxics.RemoveToxic(tb.Context(), name); err != nil {
		tb.Fatalf("faults: remove toxic %s: %v", name, err)
	}
}

// HalfOpen makes the link a black hole in both directions: data is dropped,
// sockets stay open (E3; toxic "timeout" with timeout 0).
func (p *Proxy) HalfOpen(tb testing.TB) {
	tb.Helper()
	p.Toxic(tb, "halfopen-down", "timeout", Downstream, map[string]any{"timeout": 0})
	p.Toxic(tb, "halfopen-up", "timeout", Upstream, map[string]any{"timeout": 0})
}

// CutAfter lets n more bytes through from the server on each connection,
// then closes it (E4; toxic "limit_data").
func (p *Proxy) CutAfter(tb testing.TB, n int64) {
	tb.Helper()
	p.Toxic(tb, "cut", "limit_data", Downstream, map[string]any{"bytes": n})
}

// ResetAfter resets (TCP RST) every connection ms milliseconds after data
// arrives from the server (E4; toxic "reset_peer").
func (p *Proxy) ResetAfter(tb testing.TB, ms int) {
	tb.Helper()
	p.Toxic(tb, "reset", "reset_peer", Downstream, map[string]any{"timeout": ms})
}

// Bandwidth limits the server → client direction to kbps KB/s (E10).
func (p *Proxy) Bandwidth(tb testing.TB, kbps int64) {
	tb.Helper()
	p.Toxic(tb, "bandwidth", "bandwidth", Downstream, map[string]any{"rate": kbps})
}

// Down stops the proxy: every proxied connection is closed and the port
// refuses new ones, as when the server process dies (E5).
func (p *Proxy) Down() { p.p.Stop() }

// Up starts the proxy again on the same port, as a restarted server.
func (p *Proxy) Up(tb testing.TB) {
	tb.Helper()
	if err := p.p.Start(); err != nil {
		tb.Fatalf("faults: restart proxy: %v", fmt.Errorf("%w", err))
	}
}
