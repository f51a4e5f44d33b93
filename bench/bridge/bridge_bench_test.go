package bridgebench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/internal/devserver"
)

// testTimeout bounds every test here; nothing depends on speed.
const testTimeout = 60 * time.Second

// env is a devserver, a bridge in front of it, and both kinds of client.
type env struct {
	up      Upstream
	bridge  *Bridge
	clients map[string]Commander
}

func newEnv(tb testing.TB) (*env, context.Context) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	tb.Cleanup(cancel)
	srv, err := devserver.Start(ctx, devserver.Options{Deliver: -1, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	u, p := srv.User()
	up := Upstream{Label: "devserver", Addr: srv.Addr(), User: u, Password: p}
	secret, err := NewSecret()
	if err != nil {
		tb.Fatal(err)
	}
	br, err := StartBridge(up, secret)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { br.Close() })
	direct, err := DialDirect(ctx, up, "INBOX", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { direct.Shutdown() })
	uid, err := FirstUID(ctx, direct, "INBOX")
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := br.OpenSession(ctx, "INBOX")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sess.Close() })
	return &env{up: up, bridge: br, clients: map[string]Commander{
		ClientDirect: &DirectCommander{C: direct, UID: uid},
		ClientBridge: &BridgeCommander{S: sess, UID: uid},
	}}, ctx
}

func TestRoundTripAndPush(t *testing.T) {
	e, ctx := newEnv(t)
	order := []string{ClientDirect, ClientBridge}
	cmds := []string{CmdNoop, CmdFetch}
	rt, err := RoundTrip(ctx, e.clients, order, cmds, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		for _, name := range order {
			if got := len(rt.Samples[cmd][name]); got != 6 {
				t.Errorf("%s %s: %d samples, want 6", cmd, name, got)
			}
			if got := len(rt.RoundP50[cmd][name]); got != 2 {
				t.Errorf("%s %s: %d round medians, want 2", cmd, name, got)
			}
		}
	}
	push, err := Push(ctx, e.bridge, e.up, "INBOX", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(push.Bridge) != 3 || len(push.Direct) != 3 {
		t.Fatalf("push: %d bridge and %d direct samples, want 3 each", len(push.Bridge), len(push.Direct))
	}
}

func TestUnknownCommand(t *testing.T) {
	e, ctx := newEnv(t)
	for name, c := range e.clients {
		if err := c.Run(ctx, "delete-everything"); !errors.Is(err, ErrBench) {
			t.Errorf("%s: err = %v, want ErrBench", name, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name     string
		in       []time.Duration
		p50, p99 time.Duration
	}{
		{"empty", nil, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{"unsorted", ms(5, 1, 3, 2, 4), 3 * time.Millisecond, 5 * time.Millisecond},
		{"even", ms(1, 2, 3, 4), 2 * time.Millisecond, 4 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize(tt.in)
			if s.P50 != tt.p50 || s.P99 != tt.p99 || s.N != len(tt.in) {
				t.Errorf("Summarize = %+v, want p50 %v p99 %v", s, tt.p50, tt.p99)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{2}, 2},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2},
	}
	for _, tt := range tests {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSampleMemory(t *testing.T) {
	m := SampleMemory()
	if m.HeapInuse == 0 || m.Goroutines == 0 || m.Go() < m.HeapInuse {
		t.Fatalf("SampleMemory = %+v", m)
	}
	if _, err := RaiseFileLimit(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRoundTrip times one command per iteration on each client; the
// side-by-side report with percentiles is cmd/latency.
func BenchmarkRoundTrip(b *testing.B) {
	e, ctx := newEnv(b)
	for _, cmd := range []string{CmdNoop, CmdFetch} {
		for _, name := range []string{ClientDirect, ClientBridge} {
			b.Run(cmd+"/"+name, func(b *testing.B) {
				c := e.clients[name]
				for b.Loop() {
					if err := c.Run(ctx, cmd); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
