// Package cluster coordinates bridge replicas through Redis: connection
// budgets that hold across every replica (leases with a TTL, renewed while
// held, freed within the TTL when a replica dies), and token and session
// revocation (stored for the tokens' lifetime and announced over pub/sub so
// every replica closes the affected sessions at once).
//
// It is optional and knows nothing of the bridge: the bridge asks it for a
// lease before it opens an IMAP connection and asks whether a token is
// revoked before it accepts it. When Redis cannot be reached every call
// fails fast with ErrUnavailable and Status reports the outage, so the
// caller can fall back to what it enforces on its own (the bridge keeps its
// per-replica limits); calls succeed again as soon as Redis answers.
//
// All times that matter across replicas are Redis's own clock (TIME inside
// the scripts), so clock skew between replicas does not move a lease's end.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	// DefaultKeyPrefix starts every key and the pub/sub channel, so one Redis
	// can serve several deployments.
	DefaultKeyPrefix = "imapbridge:"
	// DefaultLeaseTTL is how long a lease outlives its last renewal: the time
	// a dead replica's connections keep counting against a budget.
	DefaultLeaseTTL = 15 * time.Second
	// DefaultOpTimeout bounds every Redis call, so an unreachable Redis costs
	// a handshake at most this much before the caller falls back.
	DefaultOpTimeout = 500 * time.Millisecond
	// ProbeInterval is how often a replica that lost Redis pings it, so it
	// notices the return within this long even when idle; on the return it
	// renews (re-takes) every lease at once, so the budgets count this
	// replica's sessions again before new admissions fill them (issue 18).
	ProbeInterval = time.Second
	// DefaultRevocationTTL keeps a revocation when Revocation.Until is zero:
	// it must outlive every token it covers (the verifier's maxLifetime).
	DefaultRevocationTTL = 24 * time.Hour
	// MaxKeyLength bounds a budget key (user names are bounded by the token).
	MaxKeyLength = 1024
)

// Errors. Every error of this package matches one of these with errors.Is.
var (
	// ErrOverBudget: the budget is taken; the error is a *BudgetError.
	ErrOverBudget = errors.New("cluster: over budget")
	// ErrUnavailable: Redis did not answer; the caller falls back.
	ErrUnavailable = errors.New("cluster: redis unavailable")
	// ErrRateLimited: a shared rate (Allow) is exceeded; the error is a *RateError.
	ErrRateLimited = errors.New("cluster: rate exceeded")
	// ErrClosed: the Coordinator was closed.
	ErrClosed = errors.New("cluster: closed")
	// ErrBadArgument: an empty or oversized key, a limit below 1, an empty revocation.
	ErrBadArgument = errors.New("cluster: bad argument")
)

// BudgetError is returned by Acquire when a budget is full.
type BudgetError struct {
	Key   string
	Limit int
	// RetryAfter is when the earliest lease of the budget ends unless it is
	// renewed: a lower bound on when retrying can help.
	RetryAfter time.Duration
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("cluster: budget %q full (%d held), retry in %v", e.Key, e.Limit, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrOverBudget) true.
func (e *BudgetError) Is(target error) bool { return target == ErrOverBudget }

// Options configure a Coordinator.
type Options struct {
	// Addr is Redis's host:port. Username/Password authenticate (ACL or
	// requirepass); TLSConfig turns on TLS.
	Addr               string
	Username, Password string
	DB                 int
	TLSConfig          *tls.Config
	KeyPrefix          string        // default DefaultKeyPrefix
	LeaseTTL           time.Duration // default DefaultLeaseTTL; renewed every third of it
	OpTimeout          time.Duration // default DefaultOpTimeout
	// OnRevoke is called (from one goroutine, in order) for every revocation
	// any replica announces, this one's included.
	OnRevoke func(Revocation)
	// OnResubscribe is called when the revocation subscription is (re)made
	// after an interruption: announcements may have been missed, so the
	// caller checks what it holds with Revoked.
	OnResubscribe func()
	Logger        *slog.Logger
}

// Revocation revokes one token (JTI) or every token of a user issued before
// At (User); sessions holding such a token are closed by every replica.
type Revocation struct {
	JTI  string    `json:"jti,omitempty"`
	User string    `json:"user,omitempty"`
	At   time.Time `json:"at"` // set by Revoke (Redis's clock)
	// Until is how long the revocation is kept (zero: DefaultRevocationTTL).
	Until time.Time `json:"until,omitzero"`
}

// Matches reports whether a token with this id, subject and issue time is revoked by r.
func (r Revocation) Matches(jti, user string, issuedAt time.Time) bool {
	if r.JTI != "" && r.JTI == jti {
		return true
	}
	return r.User != "" && r.User == user && (issuedAt.IsZero() || !issuedAt.After(r.At))
}

// Status is the coordinator's view of Redis.
type Status struct {
	Healthy bool
	Since   time.Time // of the current state
	Err     string    // the last error while unhealthy
	Leases  int       // held by this replica
}

// Coordinator is one replica's connection to the shared state. Its methods
// are safe for concurrent use.
type Coordinator struct {
	rdb    *redis.Client
	opts   Options
	log    *slog.Logger
	node   string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	leases map[*Lease]struct{}
	status Status
	// renewNow asks the renewal loop for an immediate round (Redis is back).
	renewNow chan struct{}
}

// Lease is one unit of a budget held by this replica until Release.
type Lease struct {
	c     *Coordinator
	key   string // full Redis key
	id    string
	limit int
	once  sync.Once
}

// New connects to Redis (lazily: New itself does no network round trip) and
// starts the lease renewal and revocation subscription, which run until Close.
func New(opts Options) (*Coordinator, error) {
	if opts.Addr == "" {
		return nil, fmt.Errorf("%w: no Redis address", ErrBadArgument)
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = DefaultKeyPrefix
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = DefaultOpTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	quietRedis.Do(func() { redis.SetLogger(discard{}) })
	rdb := redis.NewClient(&redis.Options{
		Addr: opts.Addr, Username: opts.Username, Password: opts.Password, DB: opts.DB, TLSConfig: opts.TLSConfig,
		DialTimeout: opts.OpTimeout, ReadTimeout: opts.OpTimeout, WriteTimeout: opts.OpTimeout,
		MaxRetries: -1, DisableIdentity: true, Protocol: 2,
		ContextTimeoutEnabled: true,
	})
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{rdb: rdb, opts: opts, log: log, node: randomID(), ctx: ctx, cancel: cancel,
		leases: map[*Lease]struct{}{}, status: Status{Healthy: true, Since: time.Now()}, renewNow: make(chan struct{}, 1)}
	c.wg.Add(2)
	go c.renewLoop()
	go c.subscribeLoop()
	return c, nil
}

// Close releases every lease this replica holds (best effort), stops the
// background work and closes the Redis connections.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	held := make([]*Lease, 0, len(c.leases))
	for l := range c.leases {
		held = append(held, l)
	}
	c.mu.Unlock()
	for _, l := range held {
		l.Release()
	}
	c.cancel()
	c.wg.Wait()
	return c.rdb.Close()
}

// Status reports whether Redis answered the last call and how many leases
// this replica holds.
func (c *Coordinator) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.status
	st.Leases = len(c.leases)
	return st
}

// observe records the outcome of a Redis call and returns err mapped to
// ErrUnavailable when it is Redis's unavailability.
func (c *Coordinator) observe(err error) error {
	if err != nil && errors.Is(err, redis.Nil) {
		err = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil && !c.status.Healthy:
		c.status = Status{Healthy: true, Since: time.Now()}
		select { // re-take this replica's places now, not at the next tick
		case c.renewNow <- struct{}{}:
		default:
		}
		c.log.Info("cluster: redis reachable again")
	case err != nil && c.ctx.Err() != nil:
		return ErrClosed
	case err != nil:
		if c.status.Healthy {
			c.log.Warn("cluster: redis unavailable, falling back", "err", err.Error())
			c.status = Status{Since: time.Now()}
		}
		c.status.Err = err.Error()
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

func (c *Coordinator) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.OpTimeout)
}

// The lease scripts keep one sorted set per budget: member = lease id,
// score = end of the lease in Redis milliseconds. Expired members are removed
// before counting, so a dead replica's leases stop counting at their end.
var (
	acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) - now}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, 0}`)
	// renew extends a held lease, or takes it again if it lapsed (Redis was
	// away longer than the TTL) and the budget has room; 0 = lost.
	renewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`)
)

// Acquire takes one unit of the budget key (at most limit held across every
// replica) and holds it, renewed, until Release. A full budget is a
// *BudgetError (ErrOverBudget); Redis away is ErrUnavailable.
func (c *Coordinator) Acquire(ctx context.Context, key string, limit int) (*Lease, error) {
	if key == "" || len(key) > MaxKeyLength || limit < 1 {
		return nil, fmt.Errorf("%w: budget key %d bytes, limit %d", ErrBadArgument, len(key), limit)
	}
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	l := &Lease{c: c, key: c.opts.KeyPrefix + "lease:" + key, id: c.node + ":" + randomID(), limit: limit}
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	res, err := acquireScript.Run(octx, c.rdb, []string{l.key}, l.id, limit, c.opts.LeaseTTL.Milliseconds()).Int64Slice()
	if err = c.observe(err); err != nil {
		return nil, err
	}
	if len(res) != 2 {
		return nil, c.observe(fmt.Errorf("acquire script answered %v", res))
	}
	if res[0] != 1 {
		return nil, &BudgetError{Key: key, Limit: limit, RetryAfter: time.Duration(max(res[1], 0)) * time.Millisecond}
	}
	c.mu.Lock()
	c.leases[l] = struct{}{}
	c.mu.Unlock()
	return l, nil
}

// Release gives the unit back; later calls do nothing. If Redis is away the
// lease simply ends at its TTL.
func (l *Lease) Release() {
	l.once.Do(func() {
		c := l.c
		c.mu.Lock()
		delete(c.leases, l)
		c.mu.Unlock()
		ctx, cancel := c.opCtx(context.Background())
		defer cancel()
		_ = c.observe(c.rdb.ZRem(ctx, l.key, l.id).Err())
	})
}

func (c *Coordinator) renewLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.LeaseTTL / 3)
	defer t.Stop()
	probe := time.NewTicker(ProbeInterval)
	defer probe.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.renewAll()
		case <-c.renewNow:
			c.renewAll()
		case <-probe.C:
			if !c.Status().Healthy {
				ctx, cancel := c.opCtx(c.ctx)
				_ = c.observe(c.rdb.Ping(ctx).Err()) // on success observe asks for renewNow
				cancel()
			}
		}
	}
}

// renewAll renews every held lease in one pipeline.
func (c *Coordinator) renewAll() {
	c.mu.Lock()
	held := make([]*Lease, 0, len(c.leases))
	for l := range c.leases {
		held = append(held, l)
	}
	c.mu.Unlock()
	if len(held) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.LeaseTTL/3)
	defer cancel()
	// Load the script once so the pipeline can use EVALSHA throughout.
	if err := c.observe(renewScript.Load(ctx, c.rdb).Err()); err != nil {
		return
	}
	cmds := make([]*redis.Cmd, len(held))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range held {
			cmds[i] = renewScript.EvalSha(ctx, p, []string{l.key}, l.id, l.limit, c.opts.LeaseTTL.Milliseconds())
		}
		return nil
	})
	if c.observe(err) != nil {
		return
	}
	for i, cmd := range cmds {
		if n, _ := cmd.Int64(); n == 0 {
			c.log.Warn("cluster: a lease lapsed while redis was away and its budget is now full", "budget", held[i].key)
		}
	}
}

func (c *Coordinator) channel() string { return c.opts.KeyPrefix + "revocations" }

// Revoke stores r (until r.Until, else DefaultRevocationTTL from now) and
// announces it to every replica. User revocations revoke every token of the
// user issued up to now; a token issued later is accepted again.
func (c *Coordinator) Revoke(ctx context.Context, r Revocation) (Revocation, error) {
	if (r.JTI == "") == (r.User == "") || len(r.JTI) > MaxKeyLength || len(r.User) > MaxKeyLength {
		return r, fmt.Errorf("%w: a revocation names exactly one of jti and user", ErrBadArgument)
	}
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	now, err := c.rdb.Time(octx).Result()
	if err = c.observe(err); err != nil {
		return r, err
	}
	r.At = now.UTC()
	ttl := DefaultRevocationTTL
	if !r.Until.IsZero() {
		ttl = r.Until.Sub(now)
		if ttl <= 0 {
			return r, fmt.Errorf("%w: revocation ends in the past", ErrBadArgument)
		}
	}
	msg, _ := json.Marshal(r)
	_, err = c.rdb.TxPipelined(octx, func(p redis.Pipeliner) error {
		if r.JTI != "" {
			p.Set(octx, c.opts.KeyPrefix+"revoked:jti:"+r.JTI, "1", ttl)
		} else {
			p.Set(octx, c.opts.KeyPrefix+"revoked:user:"+r.User, strconv.FormatInt(r.At.UnixMilli(), 10), ttl)
		}
		p.Publish(octx, c.channel(), msg)
		return nil
	})
	return r, c.observe(err)
}

// Revoked reports whether a token with this id (jti, possibly empty),
// subject and issue time (zero if the token has none) has been revoked.
func (c *Coordinator) Revoked(ctx context.Context, jti, user string, issuedAt time.Time) (bool, error) {
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	var jtiCmd *redis.IntCmd
	var userCmd *redis.StringCmd
	_, err := c.rdb.Pipelined(octx, func(p redis.Pipeliner) error {
		if jti != "" {
			jtiCmd = p.Exists(octx, c.opts.KeyPrefix+"revoked:jti:"+jti)
		}
		userCmd = p.Get(octx, c.opts.KeyPrefix+"revoked:user:"+user)
		return nil
	})
	if err = c.observe(err); err != nil {
		return false, err
	}
	if jtiCmd != nil && jtiCmd.Val() > 0 {
		return true, nil
	}
	if ms, err := strconv.ParseInt(userCmd.Val(), 10, 64); err == nil {
		r := Revocation{User: user, At: time.UnixMilli(ms)}
		return r.Matches("", user, issuedAt), nil
	}
	return false, nil
}

// subscribeLoop delivers revocation announcements to OnRevoke; go-redis
// re-subscribes by itself after a lost connection, and every (re)subscription
// after the first is reported to OnResubscribe.
func (c *Coordinator) subscribeLoop() {
	defer c.wg.Done()
	ps := c.rdb.Subscribe(c.ctx, c.channel())
	defer ps.Close()
	first := true
	ch := ps.ChannelWithSubscriptions(redis.WithChannelSize(256))
	for {
		select {
		case <-c.ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind != "subscribe" {
					continue
				}
				if !first && c.opts.OnResubscribe != nil {
					c.opts.OnResubscribe()
				}
				first = false
			case *redis.Message:
				var r Revocation
				if err := json.Unmarshal([]byte(m.Payload), &r); err != nil || (r.JTI == "" && r.User == "") {
					c.log.Warn("cluster: ignoring a malformed revocation announcement")
					continue
				}
				if c.opts.OnRevoke != nil {
					c.opts.OnRevoke(r)
				}
			}
		}
	}
}

// go-redis prints dial failures to stderr through a package-wide logger, once
// per attempt; the coordinator reports an outage once, through its own
// logger and Status, so New silences that one (the only package-level state
// here, and go-redis's design, not ours).
var quietRedis sync.Once

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
