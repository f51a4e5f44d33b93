package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/imapbridge/imapbridge/bench/internal/benchop"
)

// Client names, in display order. floorName is the one ratios are taken to.
const (
	floorName   = "raw socket floor"
	floorKeep   = "raw socket, bytes kept"
	engineLib   = "engine, imaplib view"
	engineTyped = "engine, typed view"
	pyImaplib   = "Python imaplib"
	// The peers of issue 17: go-imap v2 keeping every response (Collect)
	// or streaming each body to nothing (Next), and ImapFlow keeping each
	// message's source.
	goimapKeep   = "go-imap v2, bodies kept"
	goimapStream = "go-imap v2, streaming"
	imapFlow     = "ImapFlow"
)

// The clients a standing compares: the engine's two views, and the peers
// that keep the results (as the imaplib view does) or drop them after use
// (as the typed view does). The raw floors are not clients.
var (
	keepPeers = []string{pyImaplib, goimapKeep, imapFlow}
	dropPeers = []string{goimapStream}
)

// run is one client's run of one operation in one round.
type run struct {
	Round  int            `json:"round"`
	Client string         `json:"client"`
	Op     benchop.Op     `json:"op"`
	Result benchop.Result `json:"result"`
	RSSKB  int64          `json:"rss_kb"` // peak resident set of the child, from ru_maxrss
}

// row is the summary of one client and operation over all rounds.
type row struct {
	Client   string
	Op       benchop.Op
	Seconds  float64 // median over rounds
	PerSec   float64 // items per second at the median
	MBPerSec float64 // the floor's wire bytes per second at the median
	RSSKB    int64   // the largest peak RSS of any round
	Ratio    float64 // median over rounds of seconds / the floor's seconds in that round
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// summarize turns runs into rows, one per client and op, in the order of
// clients and benchop.Ops, for a corpus of n messages. Ratios pair each run with the floor's run of the
// same round and operation.
func summarize(runs []run, clients []string, n int) []row {
	type key struct {
		client string
		op     benchop.Op
	}
	by := map[key][]run{}
	floor := map[benchop.Op]map[int]run{}
	for _, r := range runs {
		k := key{r.Client, r.Op}
		by[k] = append(by[k], r)
		if r.Client == floorName {
			if floor[r.Op] == nil {
				floor[r.Op] = map[int]run{}
			}
			floor[r.Op][r.Round] = r
		}
	}
	var rows []row
	for _, op := range benchop.Ops {
		for _, c := range clients {
			rs := by[key{c, op}]
			if len(rs) == 0 {
				continue
			}
			var secs, ratios, wire []float64
			out := row{Client: c, Op: op}
			for _, r := range rs {
				secs = append(secs, r.Result.Seconds)
				out.RSSKB = max(out.RSSKB, r.RSSKB)
				if f, ok := floor[op][r.Round]; ok && f.Result.Seconds > 0 {
					ratios = append(ratios, r.Result.Seconds/f.Result.Seconds)
					wire = append(wire, float64(f.Result.Bytes))
				}
			}
			out.Seconds = median(secs)
			out.Ratio = median(ratios)
			if out.Seconds > 0 {
				out.PerSec = float64(benchop.Expected(op, n)) / out.Seconds
				out.MBPerSec = median(wire) / 1e6 / out.Seconds
			}
			rows = append(rows, out)
		}
	}
	return rows
}

// table renders rows as a Markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| operation | client | seconds (median) | items/s | MB/s | peak RSS | × floor (median) |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %.4f | %s | %.1f | %.1f MiB | %.2f× |\n",
			r.Op, r.Client, r.Seconds, humanRate(r.PerSec), r.MBPerSec, float64(r.RSSKB)/1024, r.Ratio)
	}
	return b.String()
}

// humanRate formats a rate with a thousands separator and no decimals.
func humanRate(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// target is one Done-when target of the issue, checked against the rows.
type target struct {
	Text string
	Met  bool
	Got  string
}

// rssTargetKB is the streaming view's peak-RSS target for the whole corpus.
const rssTargetKB = 32 << 10

// Ratio targets of the issue.
const (
	bulkFetchTarget     = 1.10 // the imaplib view's bulk fetch, times the floor
	envelopeFetchTarget = 1.30 // the typed view's envelope fetch, times the floor
)

// targets checks the targets.
func targets(rows []row) []target {
	get := func(c string, op benchop.Op) (row, bool) {
		for _, r := range rows {
			if r.Client == c && r.Op == op {
				return r, true
			}
		}
		return row{}, false
	}
	var ts []target
	ahead, got := true, []string{}
	for _, op := range benchop.Ops {
		e, ok1 := get(engineLib, op)
		p, ok2 := get(pyImaplib, op)
		if !ok1 || !ok2 {
			continue
		}
		got = append(got, fmt.Sprintf("%s %.2f× vs %.2f×", op, e.Ratio, p.Ratio))
		if e.Ratio >= p.Ratio {
			ahead = false
		}
	}
	ts = append(ts, target{"imaplib view ahead of Python imaplib on every operation", ahead, strings.Join(got, "; ")})
	if r, ok := get(engineLib, benchop.FetchAll); ok {
		got := fmt.Sprintf("%.2f×", r.Ratio)
		if k, ok := get(floorKeep, benchop.FetchAll); ok {
			got += fmt.Sprintf("; a raw socket keeping the bytes: %.2f×", k.Ratio)
		}
		ts = append(ts, target{fmt.Sprintf("imaplib view within %.1f× the floor on the bulk fetch", bulkFetchTarget),
			r.Ratio <= bulkFetchTarget, got})
	}
	if r, ok := get(engineTyped, benchop.FetchEnvelope); ok {
		ts = append(ts, target{fmt.Sprintf("typed view within %.1f× the floor on the envelope fetch", envelopeFetchTarget),
			r.Ratio <= envelopeFetchTarget, fmt.Sprintf("%.2f×", r.Ratio)})
	}
	if r, ok := get(engineTyped, benchop.FetchAll); ok {
		ts = append(ts, target{"streaming view peak RSS under 32 MiB for the whole corpus",
			r.RSSKB < rssTargetKB, fmt.Sprintf("%.1f MiB", float64(r.RSSKB)/1024)})
	}
	return ts
}

// targetList renders targets as a Markdown list.
func targetList(ts []target) string {
	var b strings.Builder
	for _, t := range ts {
		mark := "met"
		if !t.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(&b, "- %s: **%s** (%s)\n", t.Text, mark, t.Got)
	}
	return b.String()
}

// standing is where the engine stands on one operation against the peers,
// for one purpose: keeping the results (imaplib view against the peers that
// keep them) or processing and dropping them (the engine's better view
// against every peer).
type standing struct {
	Op      benchop.Op
	Purpose string
	Engine  row // the engine view compared
	Best    row // the best peer
	Lead    bool
}

// standings compares, for each operation, the imaplib view with the peers
// that keep the results, and the engine's better view with every peer.
func standings(rows []row) []standing {
	get := func(c string, op benchop.Op) (row, bool) {
		for _, r := range rows {
			if r.Client == c && r.Op == op {
				return r, true
			}
		}
		return row{}, false
	}
	best := func(op benchop.Op, peers []string) (row, bool) {
		var b row
		found := false
		for _, p := range peers {
			if r, ok := get(p, op); ok && (!found || r.Ratio < b.Ratio) {
				b, found = r, true
			}
		}
		return b, found
	}
	var out []standing
	for _, op := range benchop.Ops {
		lib, ok1 := get(engineLib, op)
		typed, ok2 := get(engineTyped, op)
		if !ok1 || !ok2 {
			continue
		}
		if p, ok := best(op, keepPeers); ok {
			out = append(out, standing{op, "keep the results", lib, p, lib.Ratio < p.Ratio})
		}
		eng := lib
		if typed.Ratio < lib.Ratio {
			eng = typed
		}
		if p, ok := best(op, append(slices.Clone(keepPeers), dropPeers...)); ok {
			out = append(out, standing{op, "any client", eng, p, eng.Ratio < p.Ratio})
		}
	}
	return out
}

// levelRatio is the difference of ratios below which a standing reads
// "level": the table prints two decimals.
const levelRatio = 0.005

// standingList renders standings as a Markdown list.
func standingList(ss []standing) string {
	var b strings.Builder
	for _, s := range ss {
		d := s.Best.Ratio - s.Engine.Ratio
		verdict := fmt.Sprintf("**leads** by %.2f", d)
		switch {
		case d > -levelRatio && d < levelRatio:
			verdict = "**level** (within 0.005)"
		case !s.Lead:
			verdict = fmt.Sprintf("**behind** by %.2f", -d)
		}
		fmt.Fprintf(&b, "- %s, %s: %s %.2f× vs %s %.2f×: %s\n",
			s.Op, s.Purpose, s.Engine.Client, s.Engine.Ratio, s.Best.Client, s.Best.Ratio, verdict)
	}
	return b.String()
}
