package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
)

// writeReport prints the tables of one server.
func writeReport(w io.Writer, label string, rt *bench.RoundTripResult, push *bench.PushResult, order, cmds []string) {
	fmt.Fprintf(w, "#### %s: round trip (bridge session in auto-IDLE on INBOX, direct client selected on INBOX)\n\n", label)
	fmt.Fprintln(w, "| command | client | samples | p50 | p99 | overhead p50 (bridge − direct) | × direct p50 | × direct (median of rounds) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	var verdicts []string
	for _, cmd := range cmds {
		d := bench.Summarize(rt.Samples[cmd][bench.ClientDirect])
		for _, name := range order {
			if len(rt.Samples[cmd][name]) == 0 {
				continue
			}
			s := bench.Summarize(rt.Samples[cmd][name])
			over, ratio, roundRatio := "", "", ""
			if name != bench.ClientDirect {
				over = fmtDur(s.P50 - d.P50)
				ratio = fmt.Sprintf("%.2f×", float64(s.P50)/float64(d.P50))
				roundRatio = fmt.Sprintf("%.2f×", medianRatio(rt.RoundP50[cmd][name], rt.RoundP50[cmd][bench.ClientDirect]))
				if name == bench.ClientBridge {
					verdicts = append(verdicts, fmt.Sprintf("- %s round trip overhead ≤ %v at p50: **%s** (%s)",
						cmd, fmtDur(targetOverhead), metMissed(s.P50-d.P50 <= targetOverhead), fmtDur(s.P50-d.P50)))
				}
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", cmd, name, s.N, fmtDur(s.P50), fmtDur(s.P99), over, ratio, roundRatio)
		}
	}
	b, d := bench.Summarize(push.Bridge), bench.Summarize(push.Direct)
	diffs := make([]time.Duration, len(push.Bridge))
	for i := range diffs {
		diffs[i] = push.Bridge[i] - push.Direct[i]
	}
	pd := bench.Summarize(diffs)
	fmt.Fprintf(w, "\n#### %s: push latency (APPEND sent on a third connection → EXISTS at the listener; both listen to the same append)\n\n", label)
	fmt.Fprintln(w, "| listener | appends | p50 | p99 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	fmt.Fprintf(w, "| direct IDLE client (IdleLoop + OnEvent) | %d | %s | %s |\n", d.N, fmtDur(d.P50), fmtDur(d.P99))
	fmt.Fprintf(w, "| bridge exists event (WebSocket) | %d | %s | %s |\n", b.N, fmtDur(b.P50), fmtDur(b.P99))
	fmt.Fprintf(w, "| difference per append (bridge − direct) | %d | %s | %s |\n\n", pd.N, fmtDur(pd.P50), fmtDur(pd.P99))
	verdicts = append(verdicts, fmt.Sprintf("- push within %v of a direct IDLE client (p50 of the per-append difference): **%s** (%s)",
		fmtDur(targetPush), metMissed(pd.P50 <= targetPush), fmtDur(pd.P50)))
	fmt.Fprintf(w, "Targets (%s):\n\n%s\n\n", label, strings.Join(verdicts, "\n"))
}

func metMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// medianRatio is the median over rounds of a[i]/b[i].
func medianRatio(a, b []time.Duration) float64 {
	n := min(len(a), len(b))
	rs := make([]float64, 0, n)
	for i := range n {
		if b[i] > 0 {
			rs = append(rs, float64(a[i])/float64(b[i]))
		}
	}
	return bench.Median(rs)
}

// fmtDur prints a duration in µs below 10 ms, else in ms.
func fmtDur(d time.Duration) string {
	if d < 10*time.Millisecond && d > -10*time.Millisecond {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// startProfile starts a CPU profile when path is set.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
