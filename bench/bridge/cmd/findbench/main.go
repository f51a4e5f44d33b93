// Command findbench measures what the bridge adds to typed search and sort
// (issue 16): UID SEARCH TEXT <word> (ESEARCH) and UID SORT (REVERSE DATE) on
// the 10,000-message benchmark corpus (bench/cmd/gencorpus) in Dovecot,
// through an in-process bridge (find and sort requests from a Go WebSocket
// client, results decoded) against the engine alone (SearchMatching and
// SortUIDs on the same server). The clients alternate in rounds, each round's
// first command untimed. It prints a Markdown table with p50, p90 and the
// p50 overhead.
//
//	IMAPBENCH_ADDR=127.0.0.1:143 IMAPBENCH_USER=bench IMAPBENCH_PASSWORD=... findbench [-rounds 5] [-per-round 3]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// runTimeout bounds the whole program.
const runTimeout = 30 * time.Minute

// searchWord is a corpus last name (bench/cmd/gencorpus): in about one message in sixteen.
const searchWord = "Nakamura"

var errBench = errors.New("findbench")

func main() {
	rounds := flag.Int("rounds", 5, "timed rounds")
	perRound := flag.Int("per-round", 3, "commands per client, kind and round")
	flag.Parse()
	if err := run(*rounds, *perRound, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// op is one benchmarked operation on both clients.
type op struct {
	name           string
	direct, bridge func(ctx context.Context) (int, error) // the number of UIDs returned
}

func run(rounds, perRound int, w io.Writer) error {
	if rounds <= 0 || perRound <= 0 {
		return fmt.Errorf("%w: rounds and per-round must be positive", errBench)
	}
	up := bench.Upstream{Label: "dovecot", Addr: os.Getenv("IMAPBENCH_ADDR"), User: os.Getenv("IMAPBENCH_USER"), Password: os.Getenv("IMAPBENCH_PASSWORD")}
	if up.Addr == "" || up.User == "" {
		return fmt.Errorf("%w: set IMAPBENCH_ADDR, IMAPBENCH_USER and IMAPBENCH_PASSWORD (bench/bridge/find.sh does)", errBench)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	direct, err := bench.DialDirect(ctx, up, "", nil)
	if err != nil {
		return err
	}
	defer direct.Shutdown()
	sel, err := direct.SelectMailbox(ctx, "INBOX", nil)
	if err != nil {
		return err
	}
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	b, err := bench.StartBridge(up, secret)
	if err != nil {
		return err
	}
	defer b.Close()
	s, err := b.OpenSession(ctx, "INBOX")
	if err != nil {
		return err
	}
	defer s.Close()

	crit := &imap.SearchCriteria{Text: []string{searchWord}}
	keys := []imap.SortKey{{Field: imap.SortDate, Reverse: true}}
	findOp := func(name string, dc *imap.SearchCriteria, bc *protocol.Criteria) op {
		return op{name: name,
			direct: func(ctx context.Context) (int, error) {
				r, err := direct.SearchMatching(ctx, dc, &imapengine.SearchOptions{Min: true, Max: true, Count: true, All: true})
				if err != nil {
					return 0, err
				}
				return int(r.Count), nil
			},
			bridge: func(ctx context.Context) (int, error) {
				resp, err := s.Do(ctx, &protocol.FindRequest{Header: protocol.Header{Operation: protocol.OpFind}, Where: bc})
				if err != nil {
					return 0, err
				}
				var r protocol.FindResult
				if err := resp.DecodeResult(&r); err != nil {
					return 0, err
				}
				return int(r.Total), nil
			}}
	}
	ops := []op{
		// FROM reads Dovecot's header cache: the bridge's share shows; TEXT
		// scans every body (270 MB): the server's time dominates.
		findOp("SEARCH FROM "+searchWord, &imap.SearchCriteria{From: []string{searchWord}}, &protocol.Criteria{From: []string{searchWord}}),
		{name: "SEARCH TEXT " + searchWord,
			direct: func(ctx context.Context) (int, error) {
				r, err := direct.SearchMatching(ctx, crit, &imapengine.SearchOptions{Min: true, Max: true, Count: true, All: true})
				if err != nil {
					return 0, err
				}
				return int(r.Count), nil
			},
			bridge: func(ctx context.Context) (int, error) {
				resp, err := s.Do(ctx, &protocol.FindRequest{Header: protocol.Header{Operation: protocol.OpFind},
					Where: &protocol.Criteria{Text: []string{searchWord}}})
				if err != nil {
					return 0, err
				}
				var r protocol.FindResult
				if err := resp.DecodeResult(&r); err != nil {
					return 0, err
				}
				return int(r.Total), nil
			}},
		{name: "SORT (REVERSE DATE)",
			direct: func(ctx context.Context) (int, error) {
				u, err := direct.SortUIDs(ctx, keys, nil)
				return len(u), err
			},
			bridge: func(ctx context.Context) (int, error) {
				resp, err := s.Do(ctx, &protocol.SortRequest{Header: protocol.Header{Operation: protocol.OpSort},
					Keys: []protocol.SortKey{{Key: "date", Reverse: true}}})
				if err != nil {
					return 0, err
				}
				var r protocol.SortResult
				if err := resp.DecodeResult(&r); err != nil {
					return 0, err
				}
				if r.Fallback {
					return 0, fmt.Errorf("%w: the bridge sorted itself: the server should offer SORT", errBench)
				}
				return int(r.Total), nil
			}},
	}
	fmt.Fprintf(w, "findbench: %d messages in INBOX, %d rounds × %d per client and kind, %s/%s, GOMAXPROCS %d\n\n",
		sel.Exists, rounds, perRound, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintln(w, "| operation | client | n | p50 | p90 | results | p50 overhead |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, o := range ops {
		var ds, bs []time.Duration
		var dn, bn int
		for r := 0; r <= rounds; r++ {
			type side struct {
				direct bool
				f      func(context.Context) (int, error)
			}
			pair := []side{{true, o.direct}, {false, o.bridge}}
			if r%2 == 1 {
				pair[0], pair[1] = pair[1], pair[0]
			}
			for _, c := range pair {
				for i := 0; i < perRound; i++ {
					t0 := time.Now()
					n, err := c.f(ctx)
					d := time.Since(t0)
					if err != nil {
						return fmt.Errorf("%s: %w", o.name, err)
					}
					if r == 0 {
						continue // warm-up round
					}
					if c.direct {
						ds, dn = append(ds, d), n
					} else {
						bs, bn = append(bs, d), n
					}
				}
			}
		}
		if dn != bn {
			return fmt.Errorf("%w: %s: direct found %d, bridge %d", errBench, o.name, dn, bn)
		}
		sd, sb := bench.Summarize(ds), bench.Summarize(bs)
		p90d, p90b := p90(ds), p90(bs)
		over := sb.P50 - sd.P50
		fmt.Fprintf(w, "| %s | engine direct | %d | %s | %s | %d | |\n", o.name, sd.N, ms(sd.P50), ms(p90d), dn)
		fmt.Fprintf(w, "| %s | bridge (WebSocket) | %d | %s | %s | %d | %s (%+.1f%%) |\n", o.name, sb.N, ms(sb.P50), ms(p90b), bn,
			ms(over), 100*float64(over)/float64(max(sd.P50, 1)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The bridge's find answers a page of at most 5,000 UIDs (newest first) plus the totals; its sort answers the first 5,000 sorted UIDs plus the total (protocol.MaxPage), the engine returns all of them.")
	return nil
}

func p90(d []time.Duration) time.Duration {
	return bench.Percentile(slices.Sorted(slices.Values(d)), 90)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
