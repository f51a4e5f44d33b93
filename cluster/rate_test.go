package cluster_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/internal/redistest"
)

// TestRateAcrossReplicas: a shared rate (GCRA in Redis) admits exactly the
// burst across three coordinators racing from 30 goroutines; the refused get
// a *RateError whose hint is at most one interval; keys are independent;
// after the hint the key admits again; bad arguments are refused; Redis
// away is ErrUnavailable (the caller's fallback).
func TestRateAcrossReplicas(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	nodes := []*cluster.Coordinator{newCoord(t, r.Addr, cluster.Options{}), newCoord(t, r.Addr, cluster.Options{}), newCoord(t, r.Addr, cluster.Options{})}
	const burst, perSecond = 5, 2.0 // one more every 500 ms
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	var hintErr atomic.Value
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := nodes[i%len(nodes)].Allow(ctx, "ip:192.0.2.1", perSecond, burst)
			var re *cluster.RateError
			switch {
			case err == nil:
				allowed.Add(1)
			case errors.As(err, &re) && errors.Is(err, cluster.ErrRateLimited):
				refused.Add(1)
				if re.RetryAfter <= 0 || re.RetryAfter > time.Second/perSecond {
					hintErr.Store(re.RetryAfter)
				}
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// The racers take some milliseconds: at most one interval's refill.
	if n := allowed.Load(); n < burst || n > burst+1 {
		t.Errorf("%d allowed across three replicas, want the burst (%d)", n, burst)
	}
	if h := hintErr.Load(); h != nil {
		t.Errorf("retry hint %v, want within one interval (%v)", h, time.Second/perSecond)
	}
	if err := nodes[0].Allow(ctx, "ip:192.0.2.2", perSecond, burst); err != nil {
		t.Errorf("another key: %v", err)
	}
	// After the hint the key admits again.
	err := nodes[1].Allow(ctx, "ip:192.0.2.1", perSecond, burst)
	var re *cluster.RateError
	if !errors.As(err, &re) {
		t.Fatalf("still over the rate: %v", err)
	}
	time.Sleep(re.RetryAfter + 20*time.Millisecond)
	if err := nodes[2].Allow(ctx, "ip:192.0.2.1", perSecond, burst); err != nil {
		t.Errorf("after the hint %v: %v", re.RetryAfter, err)
	}
	for _, bad := range []struct {
		key   string
		rate  float64
		burst int
	}{{"", 1, 1}, {"k", 0, 1}, {"k", -1, 1}, {"k", 1, 0}} {
		if err := nodes[0].Allow(ctx, bad.key, bad.rate, bad.burst); !errors.Is(err, cluster.ErrBadArgument) {
			t.Errorf("Allow(%q, %v, %d): %v", bad.key, bad.rate, bad.burst, err)
		}
	}
	r.Kill(t)
	if err := nodes[0].Allow(ctx, "ip:192.0.2.3", perSecond, burst); !errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("Redis away: %v", err)
	}
}
