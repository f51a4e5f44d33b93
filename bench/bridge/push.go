package bridgebench

import (
	"context"
	"fmt"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
)

// PushTimeout bounds the wait for one pushed event.
const PushTimeout = 10 * time.Second

// PushPause is the pause between two appends, so both listeners are back in
// IDLE before the next one.
const PushPause = 30 * time.Millisecond

// PushMessage is the message appended in each push round.
var PushMessage = []byte("From: bench <bench@example.org>\r\nTo: demo@example.org\r\nSubject: push\r\n" +
	"Message-ID: <push@bench.example.org>\r\n\r\nnew mail\r\n")

// PushResult holds, per round, the time from the start of another
// connection's APPEND to the event at each listener.
type PushResult struct {
	Bridge, Direct []time.Duration
}

// Push measures push latency: a bridge session and a direct engine client
// (IdleLoop + OnEvent) both idle on mailbox of up; each round a third
// connection APPENDs one message, and both listeners time the EXISTS it
// causes from the moment the APPEND is sent. Both listen to the same
// append, so each round is a paired comparison.
func Push(ctx context.Context, b *Bridge, up Upstream, mailbox string, rounds int) (*PushResult, error) {
	direct := make(chan time.Time, 64)
	dc, err := DialDirect(ctx, up, mailbox, func(ev imapengine.Event) {
		if ev.Kind == imapengine.EventExists {
			select {
			case direct <- time.Now():
			default:
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bridgebench: direct listener: %w", err)
	}
	defer dc.Shutdown()
	ictx, stopIdle := context.WithCancel(ctx)
	idleDone := make(chan error, 1)
	go func() { idleDone <- dc.IdleLoop(ictx, nil) }()
	defer func() { stopIdle(); <-idleDone }()

	bs, err := b.OpenSession(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("bridgebench: bridge listener: %w", err)
	}
	defer bs.Close()

	app, err := DialDirect(ctx, up, "", nil)
	if err != nil {
		return nil, fmt.Errorf("bridgebench: appender: %w", err)
	}
	defer app.Shutdown()

	res := &PushResult{}
	for r := -1; r < rounds; r++ {
		time.Sleep(PushPause)
		for len(direct) > 0 {
			<-direct
		}
		wctx, cancel := context.WithTimeout(ctx, PushTimeout)
		bridgeAt := make(chan time.Time, 1)
		bridgeErr := make(chan error, 1)
		go func() {
			_, err := bs.WaitEvent(wctx, func(e *protocol.Event) bool { return e.Event == protocol.EventExists })
			if err != nil {
				bridgeErr <- err
				return
			}
			bridgeAt <- time.Now()
		}()
		t0 := time.Now()
		if _, err := app.Append(wctx, mailbox, "", time.Time{}, PushMessage); err != nil {
			cancel()
			return nil, fmt.Errorf("bridgebench: append: %w", err)
		}
		var tb, td time.Time
		for tb.IsZero() || td.IsZero() {
			select {
			case tb = <-bridgeAt:
			case err := <-bridgeErr:
				cancel()
				return nil, fmt.Errorf("bridgebench: bridge push: %w", err)
			case at := <-direct:
				if td.IsZero() {
					td = at
				}
			case <-wctx.Done():
				cancel()
				return nil, fmt.Errorf("%w: no EXISTS within %v (bridge %v, direct %v)", ErrBench, PushTimeout, !tb.IsZero(), !td.IsZero())
			}
		}
		cancel()
		if r >= 0 {
			res.Bridge = append(res.Bridge, tb.Sub(t0))
			res.Direct = append(res.Direct, td.Sub(t0))
		}
	}
	return res, nil
}
