package cluster_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/cluster"
	"github.com/imapbridge/imapbridge/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testTimeout = 10 * time.Second

func newCoord(t *testing.T, addr string, opts cluster.Options) *cluster.Coordinator {
	t.Helper()
	opts.Addr = addr
	c, err := cluster.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestBudgetAcrossReplicas: three coordinators (three replicas) race for a
// budget of 5 from 60 goroutines; exactly 5 win, the others get a
// *BudgetError with a retry hint; a release makes room for exactly one.
func TestBudgetAcrossReplicas(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	nodes := []*cluster.Coordinator{newCoord(t, r.Addr, cluster.Options{}), newCoord(t, r.Addr, cluster.Options{}), newCoord(t, r.Addr, cluster.Options{})}
	var (
		mu     sync.Mutex
		leases []*cluster.Lease
		over   atomic.Int32
		wg     sync.WaitGroup
	)
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := nodes[i%3].Acquire(ctx, "imap:corp:alice", 5)
			var be *cluster.BudgetError
			switch {
			case err == nil:
				mu.Lock()
				leases = append(leases, l)
				mu.Unlock()
			case errors.As(err, &be) && errors.Is(err, cluster.ErrOverBudget):
				if be.Limit != 5 || be.RetryAfter <= 0 || be.RetryAfter > cluster.DefaultLeaseTTL {
					t.Errorf("budget error %+v", be)
				}
				over.Add(1)
			default:
				t.Errorf("acquire: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(leases) != 5 || over.Load() != 55 {
		t.Fatalf("%d leases, %d refused; want 5 and 55", len(leases), over.Load())
	}
	leases[0].Release()
	leases[0].Release() // twice is harmless
	if _, err := nodes[2].Acquire(ctx, "imap:corp:alice", 5); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := nodes[1].Acquire(ctx, "imap:corp:alice", 5); !errors.Is(err, cluster.ErrOverBudget) {
		t.Fatalf("sixth: %v", err)
	}
	if _, err := nodes[1].Acquire(ctx, "imap:corp:bob", 5); err != nil {
		t.Fatalf("another key: %v", err)
	}
	for _, bad := range []struct {
		key   string
		limit int
	}{{"", 1}, {"k", 0}, {string(make([]byte, cluster.MaxKeyLength+1)), 1}} {
		if _, err := nodes[0].Acquire(ctx, bad.key, bad.limit); !errors.Is(err, cluster.ErrBadArgument) {
			t.Errorf("Acquire(%d bytes, %d): %v", len(bad.key), bad.limit, err)
		}
	}
}

// TestDeadReplicaLeasesExpire: a replica that dies without releasing (here:
// its Redis connection closed under it, so it can neither renew nor
// release) stops counting after the lease TTL, while a live replica's
// leases are renewed past it.
func TestDeadReplicaLeasesExpire(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	ttl := 900 * time.Millisecond
	live := newCoord(t, r.Addr, cluster.Options{LeaseTTL: ttl})
	dead, err := cluster.New(cluster.Options{Addr: r.Addr, LeaseTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Acquire(ctx, "k", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Acquire(ctx, "k", 2); err != nil {
		t.Fatal(err)
	}
	dead.Abandon() // dies: no release, no renewal
	if _, err := live.Acquire(ctx, "k", 2); !errors.Is(err, cluster.ErrOverBudget) {
		t.Fatalf("while the dead lease is fresh: %v", err)
	}
	deadline := time.Now().Add(testTimeout)
	for {
		_, err := live.Acquire(ctx, "k", 2)
		if err == nil {
			break
		}
		if !errors.Is(err, cluster.ErrOverBudget) || time.Now().After(deadline) {
			t.Fatalf("the dead replica's lease never expired: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The live replica's two leases survive several TTLs of renewal.
	time.Sleep(3 * ttl)
	if _, err := newCoord(t, r.Addr, cluster.Options{LeaseTTL: ttl}).Acquire(ctx, "k", 2); !errors.Is(err, cluster.ErrOverBudget) {
		t.Fatalf("renewed leases lapsed: %v", err)
	}
	if n := live.Status().Leases; n != 2 {
		t.Fatalf("live holds %d leases", n)
	}
}

// TestRevocationReachesEveryReplica: a revocation made on one replica is
// announced to all within 1 s and answered by Revoked on every replica.
func TestRevocationReachesEveryReplica(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	got := make([]chan cluster.Revocation, 3)
	nodes := make([]*cluster.Coordinator, 3)
	for i := range nodes {
		ch := make(chan cluster.Revocation, 4)
		got[i] = ch
		nodes[i] = newCoord(t, r.Addr, cluster.Options{OnRevoke: func(r cluster.Revocation) { ch <- r }})
	}
	// A subscription is live once an announcement arrives; wait for that
	// with a throwaway jti, so the measured one does not race the subscribe.
	waitSubscribed(t, nodes, got)

	before := time.Now().Add(-time.Minute)
	start := time.Now()
	rev, err := nodes[0].Revoke(ctx, cluster.Revocation{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for i, ch := range got {
		select {
		case m := <-ch:
			for m.JTI == "warm-up" { // a late warm-up announcement
				m = <-ch
			}
			if m.User != "alice" || !m.At.Equal(rev.At) {
				t.Errorf("node %d got %+v", i, m)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("node %d heard of it after %v", i, d)
			}
		case <-time.After(testTimeout):
			t.Fatalf("node %d never heard of the revocation", i)
		}
	}
	for i, n := range nodes {
		if ok, err := n.Revoked(ctx, "", "alice", before); err != nil || !ok {
			t.Errorf("node %d: a token issued before: revoked=%v err=%v", i, ok, err)
		}
		if ok, _ := n.Revoked(ctx, "", "alice", rev.At.Add(time.Second)); ok {
			t.Errorf("node %d: a token issued after the revocation is refused", i)
		}
		if ok, _ := n.Revoked(ctx, "", "bob", before); ok {
			t.Errorf("node %d: bob revoked", i)
		}
	}
	if _, err := nodes[1].Revoke(ctx, cluster.Revocation{JTI: "tok-7", Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := nodes[2].Revoked(ctx, "tok-7", "carol", time.Now()); !ok {
		t.Error("jti not revoked")
	}
	for _, bad := range []cluster.Revocation{{}, {JTI: "a", User: "b"}, {JTI: "x", Until: time.Now().Add(-time.Hour)}} {
		if _, err := nodes[0].Revoke(ctx, bad); !errors.Is(err, cluster.ErrBadArgument) {
			t.Errorf("Revoke(%+v): %v", bad, err)
		}
	}
}

func waitSubscribed(t *testing.T, nodes []*cluster.Coordinator, got []chan cluster.Revocation) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for i := range nodes {
		for heard := false; !heard; {
			if _, err := nodes[0].Revoke(context.Background(), cluster.Revocation{JTI: "warm-up", Until: time.Now().Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-got[i]:
				heard = true
			case <-time.After(100 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("node %d never subscribed", i)
				}
			}
		}
	}
	for _, ch := range got { // drain warm-ups
		for len(ch) > 0 {
			<-ch
		}
	}
}

// TestRedisOutage: Redis killed → every call fails fast with ErrUnavailable
// and Status says so; Redis back (empty) → calls succeed, the held leases are
// taken again by renewal, and the subscription is made again
// (OnResubscribe), so announcements flow again.
func TestRedisOutage(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	ttl := 900 * time.Millisecond
	resub := make(chan struct{}, 4)
	revs := make(chan cluster.Revocation, 16)
	c := newCoord(t, r.Addr, cluster.Options{LeaseTTL: ttl, OpTimeout: 200 * time.Millisecond,
		OnResubscribe: func() { resub <- struct{}{} }, OnRevoke: func(r cluster.Revocation) { revs <- r }})
	waitSubscribed(t, []*cluster.Coordinator{c}, []chan cluster.Revocation{revs})
	if _, err := c.Acquire(ctx, "k", 1); err != nil {
		t.Fatal(err)
	}
	r.Kill(t)
	t0 := time.Now()
	_, err := c.Acquire(ctx, "other", 1)
	if !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("acquire with Redis dead: %v", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("the failing call took %v", d)
	}
	if _, err := c.Revoked(ctx, "j", "u", time.Now()); !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("revoked with Redis dead: %v", err)
	}
	if st := c.Status(); st.Healthy || st.Err == "" {
		t.Fatalf("status while dead: %+v", st)
	}
	r.Resume(t)
	deadline := time.Now().Add(testTimeout)
	for !c.Status().Healthy || !heldAgain(ctx, r.Addr) {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %+v", c.Status())
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-resub:
	case <-time.After(testTimeout):
		t.Fatal("no resubscription after the outage")
	}
	waitSubscribed(t, []*cluster.Coordinator{c}, []chan cluster.Revocation{revs})
}

// heldAgain: the lease of TestRedisOutage is back in the (restarted, empty)
// Redis, so a new replica finds the budget of 1 full.
func heldAgain(ctx context.Context, addr string) bool {
	o, err := cluster.New(cluster.Options{Addr: addr})
	if err != nil {
		return false
	}
	defer o.Close()
	l, err := o.Acquire(ctx, "k", 1)
	if err == nil {
		l.Release()
	}
	return errors.Is(err, cluster.ErrOverBudget)
}
