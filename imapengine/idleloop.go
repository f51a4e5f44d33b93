package imapengine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Keep-alive defaults for IdleLoop.
const (
	// DefaultIdleRefresh re-issues IDLE before servers' 30-minute timeout (RFC 2177 says 29).
	DefaultIdleRefresh = 28 * time.Minute
	// DefaultIdleWatchdog: with no response from the server for this long during
	// IDLE, the client sends DONE and a NOOP to check the connection.
	DefaultIdleWatchdog = 5 * time.Minute
	// DefaultNoopTimeout bounds the watchdog's NOOP.
	DefaultNoopTimeout = 10 * time.Second
	// DefaultPollInterval is the NOOP interval when the server lacks IDLE.
	DefaultPollInterval = 2 * time.Minute
)

// IdleOptions configures IdleLoop; zero fields take the defaults above.
type IdleOptions struct {
	Refresh      time.Duration
	Watchdog     time.Duration
	NoopTimeout  time.Duration
	PollInterval time.Duration
}

func (o *IdleOptions) withDefaults() IdleOptions {
	var r IdleOptions
	if o != nil {
		r = *o
	}
	orDefault(&r.Refresh, DefaultIdleRefresh)
	orDefault(&r.Watchdog, DefaultIdleWatchdog)
	orDefault(&r.NoopTimeout, DefaultNoopTimeout)
	orDefault(&r.PollInterval, DefaultPollInterval)
	return r
}

// IdleLoop keeps the connection listening for new data until ctx ends, the way
// a long-lived mail view needs: it IDLEs (re-issuing IDLE every Refresh), runs
// a watchdog that notices a silent dead connection (no response for Watchdog →
// DONE and a NOOP bounded by NoopTimeout; if that fails the connection is
// closed with ErrTimeout), and falls back to a NOOP every PollInterval when
// the server lacks IDLE. Untagged data reaches Options.OnEvent as it arrives;
// IdleLoop itself keeps none of it. When ctx ends, IdleLoop leaves IDLE
// cleanly (DONE, tagged OK) and returns nil, so the caller can run a command
// and call IdleLoop again. Any other return is an error of the connection.
func (c *Client) IdleLoop(ctx context.Context, opts *IdleOptions) error {
	o := opts.withDefaults()
	for {
		if ctx.Err() != nil {
			return nil
		}
		if !c.HasCapability("IDLE") {
			if err := c.pollOnce(ctx, o); err != nil || ctx.Err() != nil {
				return err
			}
			continue
		}
		dead, err := c.idleOnce(ctx, o)
		if err != nil {
			return err
		}
		if dead {
			if err := c.checkAlive(o); err != nil {
				return err
			}
		}
	}
}

// pollOnce waits one PollInterval, then sends NOOP.
func (c *Client) pollOnce(ctx context.Context, o IdleOptions) error {
	t := time.NewTimer(o.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-c.readerDone:
		return c.connError(c.Err())
	case <-t.C:
	}
	return c.checkAlive(o)
}

// checkAlive sends a NOOP with a deadline; on failure the connection is closed.
func (c *Client) checkAlive(o IdleOptions) error {
	nctx, cancel := context.WithTimeout(context.Background(), o.NoopTimeout)
	defer cancel()
	if _, err := c.Noop(nctx); err != nil {
		c.closeWith(fmt.Errorf("%w: keep-alive NOOP: %v", ErrTimeout, err))
		return c.connError(c.Err())
	}
	return nil
}

// idleOnce runs one IDLE until ctx ends, Refresh elapses or the watchdog
// fires (dead = true), and leaves it with DONE.
func (c *Client) idleOnce(ctx context.Context, o IdleOptions) (dead bool, err error) {
	idler, err := c.Idle(0)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.opts.commandTimeout())
	err = idler.Start(sctx)
	cancel()
	if err != nil {
		return false, err
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	refresh := time.AfterFunc(o.Refresh, stop)
	defer refresh.Stop()
	// The watchdog is a self-rearming timer, not a goroutine: an idle
	// connection costs no stack while it waits.
	var fired atomic.Bool
	var mu sync.Mutex
	var watch *time.Timer
	check := o.Watchdog / 4
	tick := func() {
		if time.Since(time.Unix(0, c.lastResponse.Load())) >= o.Watchdog {
			fired.Store(true)
			stop()
			return
		}
		mu.Lock()
		if wctx.Err() == nil {
			watch.Reset(check)
		}
		mu.Unlock()
	}
	mu.Lock()
	watch = time.AfterFunc(check, tick)
	mu.Unlock()
	for {
		_, ok, err := idler.Next(wctx)
		if err != nil || !ok {
			break
		}
	}
	stop()
	mu.Lock()
	watch.Stop()
	mu.Unlock()
	dead = fired.Load()
	dctx, cancel2 := context.WithTimeout(context.Background(), o.NoopTimeout)
	defer cancel2()
	if err := idler.Done(dctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			// DONE unanswered within NoopTimeout: the connection is dead
			// or its state unknown, so it is closed, as for the NOOP.
			c.closeWith(fmt.Errorf("%w: IDLE DONE unanswered: %v", ErrTimeout, err))
			return false, c.connError(c.Err())
		}
		return false, err
	}
	return dead, nil
}
