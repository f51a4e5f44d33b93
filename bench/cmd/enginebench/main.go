// Command enginebench runs one benchmark operation with the imapengine
// client, in one of its two views:
//
//   - imaplib: the imaplib-compatible (typ, data) methods (Client.Fetch,
//     Client.Noop, Client.UID), which keep every response in memory as
//     imaplib does; the one-by-one fetch loop hands each counted result back
//     with Client.Release, as CPython frees each one when it is dropped;
//
//   - typed: the streaming, typed methods (Client.FetchEach with every item
//     parsed into an imap.Message, envelopes included, and FetchOptions.Reuse
//     so body memory is reused; Client.SearchUIDs), which hold one message
//     at a time.
//
//     IMAPBENCH_ADDR=... IMAPBENCH_USER=... IMAPBENCH_PASSWORD=... enginebench -view typed -op fetch-all
//
// It prints one benchop.Result line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/imapbridge/imapbridge/bench/internal/benchop"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// The two views of the engine.
const (
	viewImaplib = "imaplib"
	viewTyped   = "typed"
)

// opTimeout bounds one whole run.
const opTimeout = 10 * time.Minute

// errBadData reports a response that lacks what the operation asked for.
var errBadData = errors.New("enginebench: unexpected data")

func main() {
	view := flag.String("view", viewImaplib, "engine view: imaplib or typed")
	opName := flag.String("op", "", "operation")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the operation to this file")
	flag.Parse()
	res, err := run(*view, *opName, *cpuProfile)
	if err == nil {
		err = res.Write(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(view, opName, cpuProfile string) (benchop.Result, error) {
	op, err := benchop.ParseOp(opName)
	if err != nil {
		return benchop.Result{}, err
	}
	var do func(context.Context, *imapengine.Client, benchop.Op) (items int, bytes int64, err error)
	switch view {
	case viewImaplib:
		do = imaplibView
	case viewTyped:
		do = typedView
	default:
		return benchop.Result{}, fmt.Errorf("%w: unknown view %q", benchop.ErrUsage, view)
	}
	srv, err := benchop.ServerFromEnv()
	if err != nil {
		return benchop.Result{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c, err := imapengine.Dial(ctx, srv.Addr, &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		return benchop.Result{}, err
	}
	defer c.Shutdown()
	if _, err := c.Login(ctx, srv.User, srv.Password); err != nil {
		return benchop.Result{}, err
	}
	if _, err := c.Select(ctx, benchop.Mailbox, true); err != nil {
		return benchop.Result{}, err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return benchop.Result{}, fmt.Errorf("enginebench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return benchop.Result{}, fmt.Errorf("enginebench: %w", err)
		}
	}
	start := time.Now()
	items, n, err := do(ctx, c, op)
	res := benchop.Result{Seconds: time.Since(start).Seconds(), Items: items, Bytes: n}
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, err
	}
	_, err = c.Logout(ctx)
	return res, err
}

// imaplibView runs op with the (typ, data) methods. Items counts FETCH
// responses (data pairs), NOOP completions or UIDs.
func imaplibView(ctx context.Context, c *imapengine.Client, op benchop.Op) (int, int64, error) {
	count := func(r imapengine.Result) (int, int64) {
		n := int64(0)
		for _, d := range r.Data {
			n += int64(len(d.Literal()))
		}
		return fetchResponses(r), n
	}
	switch op {
	case benchop.FetchAll, benchop.FetchEnvelope:
		items := benchop.FetchAllItems
		if op == benchop.FetchEnvelope {
			items = benchop.FetchEnvelopeItems
		}
		r, err := c.Fetch(ctx, "1:*", items)
		if err != nil {
			return 0, 0, err
		}
		k, n := count(r)
		return k, n, nil
	case benchop.FetchLoop:
		items, total := 0, int64(0)
		for i := 1; i <= benchop.LoopCount; i++ {
			r, err := c.Fetch(ctx, strconv.Itoa(i), benchop.FetchAllItems)
			if err != nil {
				return items, total, err
			}
			k, n := count(r)
			items += k
			total += n
			c.Release(r) // counted and dropped: its memory serves the next message
		}
		return items, total, nil
	case benchop.Noop:
		return noops(ctx, c)
	case benchop.UIDSearch:
		r, err := c.UID(ctx, "SEARCH", "ALL")
		if err != nil {
			return 0, 0, err
		}
		items := 0
		for _, d := range r.Data {
			items += countFields(d.Bytes())
		}
		return items, 0, nil
	}
	return 0, 0, fmt.Errorf("%w: operation %q", benchop.ErrUsage, op)
}

// noops runs benchop.LoopCount NOOPs, the same in both views.
func noops(ctx context.Context, c *imapengine.Client) (int, int64, error) {
	for i := range benchop.LoopCount {
		if _, err := c.Noop(ctx); err != nil {
			return i, 0, err
		}
	}
	return benchop.LoopCount, 0, nil
}

// fetchResponses counts the FETCH responses in imaplib's data: each one is a
// run of pairs ended by a byte string, or a lone byte string.
func fetchResponses(r imapengine.Result) int {
	n := 0
	for _, d := range r.Data {
		if !d.IsPair() {
			n++
		}
	}
	return n
}

// countFields counts space-separated numbers.
func countFields(b []byte) int {
	n, in := 0, false
	for _, c := range b {
		if c == ' ' {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// typedView runs op with the streaming, typed methods. Every FETCH response
// is parsed into an imap.Message (envelopes decoded); none is kept.
func typedView(ctx context.Context, c *imapengine.Client, op benchop.Op) (int, int64, error) {
	items, total := 0, int64(0)
	each := func(m *imap.Message) error {
		if m.Err != nil {
			return m.Err
		}
		items++
		for _, s := range m.Sections {
			total += int64(len(s.Data))
		}
		return nil
	}
	// Nothing is kept past the callback, so body memory is reused.
	reuse := &imapengine.FetchOptions{Reuse: true}
	switch op {
	case benchop.FetchAll:
		err := c.FetchEach(ctx, "1:*", benchop.FetchAllItems, reuse, each)
		return items, total, err
	case benchop.FetchEnvelope:
		err := c.FetchEach(ctx, "1:*", benchop.FetchEnvelopeItems, nil, func(m *imap.Message) error {
			if m.Envelope == nil || m.UID == 0 || !m.HasSize || !m.HasFlags {
				return fmt.Errorf("%w: message %d lacks an item", errBadData, m.Seq)
			}
			return each(m)
		})
		return items, 0, err
	case benchop.FetchLoop:
		for i := 1; i <= benchop.LoopCount; i++ {
			if err := c.FetchEach(ctx, strconv.Itoa(i), benchop.FetchAllItems, reuse, each); err != nil {
				return items, total, err
			}
		}
		return items, total, nil
	case benchop.Noop:
		return noops(ctx, c)
	case benchop.UIDSearch:
		sd, err := c.SearchUIDs(ctx, "ALL")
		if err != nil {
			return 0, 0, err
		}
		if sd.ESEARCH {
			n, _ := sd.AllUIDs().Count()
			return int(n), 0, nil
		}
		return len(sd.All), 0, nil
	}
	return 0, 0, fmt.Errorf("%w: operation %q", benchop.ErrUsage, op)
}
