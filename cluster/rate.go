package cluster

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// rateScript is a GCRA (generic cell rate algorithm) limiter: the key holds
// the theoretical arrival time (TAT) in Redis microseconds; an event is
// allowed when it is not earlier than TAT - (burst-1) * interval, and then
// moves TAT on by one interval. The key expires once TAT has passed (it
// then says nothing a fresh key would not). Answers {1, 0} (allowed) or
// {0, retry-after in microseconds}.
var rateScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
if now < allow_at then
  return {0, allow_at - now}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return {1, 0}`)

// RateError is returned by Allow when the key's rate is exceeded.
type RateError struct {
	Key string
	// RetryAfter is when the next event will be allowed.
	RetryAfter time.Duration
}

func (e *RateError) Error() string {
	return fmt.Sprintf("cluster: rate of %q exceeded; retry after %v", e.Key, e.RetryAfter)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateError) Is(target error) bool { return target == ErrRateLimited }

// Allow counts one event of key against perSecond events a second with
// burst, shared by every replica (e.g. handshakes per client IP). Over the
// rate it is a *RateError (ErrRateLimited); Redis away is ErrUnavailable
// (the caller falls back to its own, per-replica limiter).
func (c *Coordinator) Allow(ctx context.Context, key string, perSecond float64, burst int) error {
	if key == "" || len(key) > MaxKeyLength || !(perSecond > 0) || math.IsInf(perSecond, 0) || burst < 1 {
		return fmt.Errorf("%w: rate key %d bytes, rate %v, burst %d", ErrBadArgument, len(key), perSecond, burst)
	}
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	interval := int64(math.Max(1, math.Round(1e6/perSecond))) // microseconds per event
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	res, err := rateScript.Run(octx, c.rdb, []string{c.opts.KeyPrefix + "rate:" + key}, interval, burst).Int64Slice()
	if err = c.observe(err); err != nil {
		return err
	}
	if len(res) != 2 {
		return c.observe(fmt.Errorf("rate script answered %v", res))
	}
	if res[0] != 1 {
		return &RateError{Key: key, RetryAfter: time.Duration(res[1]) * time.Microsecond}
	}
	return nil
}
