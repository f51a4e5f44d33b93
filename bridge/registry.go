package bridge

import (
	"net/netip"
	"sync"

	"golang.org/x/time/rate"
)

// registry tracks live sessions: for graceful shutdown (http.Server.Shutdown
// does not wait for hijacked WebSocket connections), the global cap and the
// per-user cap.
type registry struct {
	mu       sync.Mutex
	sessions map[*session]struct{}
	perUser  map[string]int
	closing  bool
	wg       sync.WaitGroup
}

func newRegistry() *registry {
	return &registry{sessions: map[*session]struct{}{}, perUser: map[string]int{}}
}

// add registers s unless the bridge is closing or at its global cap.
func (r *registry) add(s *session, max int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing || len(r.sessions) >= max {
		return false
	}
	r.sessions[s] = struct{}{}
	r.wg.Add(1)
	return true
}

func (r *registry) remove(s *session) {
	r.mu.Lock()
	_, ok := r.sessions[s]
	delete(r.sessions, s)
	r.mu.Unlock()
	if ok {
		r.wg.Done()
	}
}

// acquireUser counts a session for user; false when the user is at max.
func (r *registry) acquireUser(user string, max int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perUser[user] >= max {
		return false
	}
	r.perUser[user]++
	return true
}

func (r *registry) releaseUser(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perUser[user] <= 1 {
		delete(r.perUser, user)
		return
	}
	r.perUser[user]--
}

// snapshot returns the live sessions.
func (r *registry) snapshot() []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*session, 0, len(r.sessions))
	for s := range r.sessions {
		out = append(out, s)
	}
	return out
}

func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

// startClosing refuses new sessions and returns the live ones.
func (r *registry) startClosing() []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closing = true
	out := make([]*session, 0, len(r.sessions))
	for s := range r.sessions {
		out = append(out, s)
	}
	return out
}

// ipLimiter rate-limits handshakes per client IP, keeping at most max
// entries (the oldest half is dropped when full, so memory stays bounded).
type ipLimiter struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	max   int
	m     map[netip.Addr]*rate.Limiter
}

func newIPLimiter(r float64, burst, max int) *ipLimiter {
	return &ipLimiter{rate: rate.Limit(r), burst: burst, max: max, m: map[netip.Addr]*rate.Limiter{}}
}

func (l *ipLimiter) allow(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[ip]
	if !ok {
		if len(l.m) >= l.max {
			n := 0
			for k := range l.m {
				delete(l.m, k)
				n++
				if n >= l.max/2 {
					break
				}
			}
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[ip] = lim
	}
	return lim.Allow()
}
