package bridgebench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// Command names of the round-trip benchmark.
const (
	CmdNoop  = "noop"
	CmdFetch = "fetch" // UID FETCH <one uid> (UID FLAGS ENVELOPE)
)

// Client names of the round-trip benchmark.
const (
	ClientDirect = "engine direct"
	ClientBridge = "bridge (WebSocket)"
	// ClientBridgeNoIdle is a bridge session with no mailbox selected, so
	// no auto-IDLE to leave and re-enter: the relay's own cost (NOOP only).
	ClientBridgeNoIdle = "bridge, no mailbox (no auto-IDLE)"
)

// FetchItems is the small FETCH both clients send for one message.
const FetchItems = "(UID FLAGS ENVELOPE)"

// DialDirect connects the engine to up, logs in and selects mailbox.
// onEvent, if set, receives the connection's unsolicited data.
func DialDirect(ctx context.Context, up Upstream, mailbox string, onEvent func(imapengine.Event)) (*imapengine.Client, error) {
	c, err := imapengine.Dial(ctx, up.Addr, &imapengine.Options{AllowPlaintextAuth: true, OnEvent: onEvent})
	if err != nil {
		return nil, err
	}
	if _, err := c.Login(ctx, up.User, up.Password); err != nil {
		c.Shutdown()
		return nil, err
	}
	if mailbox != "" {
		if _, err := c.Select(ctx, mailbox, false); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	return c, nil
}

// Commander runs the benchmarked commands on one client.
type Commander interface {
	// Run sends one command (CmdNoop or CmdFetch) and waits for its result.
	Run(ctx context.Context, cmd string) error
}

// Limited is implemented by a Commander that runs only some commands;
// RoundTrip skips the others for it.
type Limited interface {
	Supports(cmd string) bool
}

// NoopOnly wraps a Commander that may run only CmdNoop.
type NoopOnly struct{ Commander }

// Supports implements Limited.
func (NoopOnly) Supports(cmd string) bool { return cmd == CmdNoop }

// DirectCommander runs commands with the engine alone.
type DirectCommander struct {
	C   *imapengine.Client
	UID imap.UID // the message CmdFetch fetches
}

// Run implements Commander.
func (d *DirectCommander) Run(ctx context.Context, cmd string) error {
	switch cmd {
	case CmdNoop:
		_, err := d.C.Noop(ctx)
		return err
	case CmdFetch:
		n := 0
		err := d.C.FetchEach(ctx, strconv.FormatUint(uint64(d.UID), 10), FetchItems, &imapengine.FetchOptions{UID: true},
			func(m *imap.Message) error {
				if m.Envelope != nil {
					n++
				}
				return nil
			})
		if err == nil && n != 1 {
			err = fmt.Errorf("%w: direct fetch returned %d envelopes", ErrBench, n)
		}
		return err
	}
	return fmt.Errorf("%w: unknown command %q", ErrBench, cmd)
}

// BridgeCommander runs commands through a bridge session.
type BridgeCommander struct {
	S   *Session
	UID imap.UID
}

// Run implements Commander. The fetch result is decoded, as a client would.
func (b *BridgeCommander) Run(ctx context.Context, cmd string) error {
	switch cmd {
	case CmdNoop:
		_, err := b.S.Do(ctx, &protocol.NoopRequest{Header: protocol.Header{Operation: protocol.OpNoop}})
		return err
	case CmdFetch:
		resp, err := b.S.Do(ctx, &protocol.FetchRequest{Header: protocol.Header{Operation: protocol.OpFetch},
			UIDs: strconv.FormatUint(uint64(b.UID), 10), Items: []string{protocol.ItemUID, protocol.ItemFlags, protocol.ItemEnvelope}})
		if err != nil {
			return err
		}
		var res protocol.FetchResult
		if err := resp.DecodeResult(&res); err != nil {
			return err
		}
		if len(res.Messages) != 1 || res.Messages[0].Envelope == nil {
			return fmt.Errorf("%w: bridge fetch returned %d messages", ErrBench, len(res.Messages))
		}
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", ErrBench, cmd)
}

// RoundTripResult holds every timed command of a round-trip run:
// Samples[cmd][client] in run order, and per round the p50 of each.
type RoundTripResult struct {
	Samples map[string]map[string][]time.Duration
	// RoundP50 is [cmd][client] → the p50 of each round, for per-round ratios.
	RoundP50 map[string]map[string][]time.Duration
}

// RoundTrip runs rounds of perRound commands of each kind on each client,
// alternating which client goes first each round, after one untimed warm-up
// round. clients maps a client name to its Commander.
func RoundTrip(ctx context.Context, clients map[string]Commander, order []string, cmds []string, rounds, perRound int) (*RoundTripResult, error) {
	res := &RoundTripResult{Samples: map[string]map[string][]time.Duration{}, RoundP50: map[string]map[string][]time.Duration{}}
	for _, cmd := range cmds {
		res.Samples[cmd] = map[string][]time.Duration{}
		res.RoundP50[cmd] = map[string][]time.Duration{}
	}
	for r := -1; r < rounds; r++ {
		for _, cmd := range cmds {
			for i := range order {
				name := order[(i+max(r, 0))%len(order)]
				c := clients[name]
				if l, ok := c.(Limited); ok && !l.Supports(cmd) {
					continue
				}
				round := make([]time.Duration, 0, perRound)
				for range perRound {
					t0 := time.Now()
					if err := c.Run(ctx, cmd); err != nil {
						return nil, fmt.Errorf("%s %s: %w", name, cmd, err)
					}
					round = append(round, time.Since(t0))
				}
				if r < 0 {
					continue // warm-up
				}
				res.Samples[cmd][name] = append(res.Samples[cmd][name], round...)
				res.RoundP50[cmd][name] = append(res.RoundP50[cmd][name], Summarize(round).P50)
			}
		}
	}
	return res, nil
}

// FirstUID returns the UID of message 1 of c's selected mailbox, appending
// PushMessage first when the mailbox is empty.
func FirstUID(ctx context.Context, c *imapengine.Client, mailbox string) (imap.UID, error) {
	var uid imap.UID
	fetch := func() error {
		return c.FetchEach(ctx, "1:*", "(UID)", nil, func(m *imap.Message) error {
			if uid == 0 {
				uid = m.UID
			}
			return nil
		})
	}
	if err := fetch(); err != nil || uid == 0 {
		if _, err := c.Append(ctx, mailbox, "", time.Time{}, PushMessage); err != nil {
			return 0, err
		}
		if _, err := c.Noop(ctx); err != nil {
			return 0, err
		}
		if err := fetch(); err != nil {
			return 0, err
		}
	}
	if uid == 0 {
		return 0, fmt.Errorf("%w: no message in %s", ErrBench, mailbox)
	}
	return uid, nil
}
