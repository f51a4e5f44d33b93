package main

import (
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/bench/internal/benchop"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func res(sec float64, items int, bytes int64) benchop.Result {
	return benchop.Result{Seconds: sec, Items: items, Bytes: bytes}
}

func TestSummarizeRatiosPerRound(t *testing.T) {
	// The floor drifts from 1s to 2s; the client is always 1.2× it. Ratios
	// per round stay 1.2 although the median seconds do not divide to it.
	runs := []run{
		{Round: 0, Client: floorName, Op: benchop.FetchAll, Result: res(1, 1, 2e6), RSSKB: 100},
		{Round: 0, Client: engineLib, Op: benchop.FetchAll, Result: res(1.2, 10, 0), RSSKB: 300},
		{Round: 1, Client: floorName, Op: benchop.FetchAll, Result: res(2, 1, 2e6), RSSKB: 100},
		{Round: 1, Client: engineLib, Op: benchop.FetchAll, Result: res(2.4, 10, 0), RSSKB: 500},
		{Round: 2, Client: floorName, Op: benchop.FetchAll, Result: res(1.5, 1, 2e6), RSSKB: 100},
		{Round: 2, Client: engineLib, Op: benchop.FetchAll, Result: res(1.8, 10, 0), RSSKB: 400},
	}
	rows := summarize(runs, []string{floorName, engineLib}, 10)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	tests := []struct {
		row                    row
		secs, ratio, rate, mbs float64
		rss                    int64
	}{
		{rows[0], 1.5, 1, 10 / 1.5, 2 / 1.5, 100},
		{rows[1], 1.8, 1.2, 10 / 1.8, 2 / 1.8, 500},
	}
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	for _, tt := range tests {
		r := tt.row
		if !near(r.Seconds, tt.secs) || !near(r.Ratio, tt.ratio) || !near(r.PerSec, tt.rate) || !near(r.MBPerSec, tt.mbs) || r.RSSKB != tt.rss {
			t.Errorf("%s: got %+v, want secs %v ratio %v rate %v MB/s %v rss %v", r.Client, r, tt.secs, tt.ratio, tt.rate, tt.mbs, tt.rss)
		}
	}
}

func TestTargets(t *testing.T) {
	rows := []row{
		{Client: engineLib, Op: benchop.FetchAll, Ratio: 1.05},
		{Client: pyImaplib, Op: benchop.FetchAll, Ratio: 1.24},
		{Client: engineLib, Op: benchop.Noop, Ratio: 1.2},
		{Client: pyImaplib, Op: benchop.Noop, Ratio: 1.1},
		{Client: engineTyped, Op: benchop.FetchEnvelope, Ratio: 1.29},
		{Client: engineTyped, Op: benchop.FetchAll, RSSKB: 40 << 10},
	}
	want := []bool{false, true, true, false}
	ts := targets(rows)
	if len(ts) != len(want) {
		t.Fatalf("got %d targets, want %d", len(ts), len(want))
	}
	for i, tt := range ts {
		if tt.Met != want[i] {
			t.Errorf("%s: met=%v, want %v (%s)", tt.Text, tt.Met, want[i], tt.Got)
		}
	}
	if s := targetList(ts); !strings.Contains(s, "MISSED") || !strings.Contains(s, "met") {
		t.Errorf("targetList = %q", s)
	}
}

func TestReplaceSection(t *testing.T) {
	tests := []struct {
		name, doc, want string
		fail            bool
	}{
		{"append", "# B\n", "# B\n\n" + beginMarker + "\nX\n" + endMarker + "\n", false},
		{"replace", "a\n" + beginMarker + "\nold\n" + endMarker + "\nz\n", "a\n" + beginMarker + "\nX\n" + endMarker + "\nz\n", false},
		{"misplaced", "a\n" + endMarker + "\n" + beginMarker + "\n", "", true},
		{"begin only", beginMarker + "\n", "", true},
	}
	for _, tt := range tests {
		got, err := replaceSection(tt.doc, "X\n")
		if (err != nil) != tt.fail || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q, fail=%v", tt.name, got, err, tt.want, tt.fail)
		}
	}
}

func TestHumanRate(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567.4, "1,234,567"}}
	for _, tt := range tests {
		if got := humanRate(tt.in); got != tt.want {
			t.Errorf("humanRate(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStandings(t *testing.T) {
	rows := []row{
		{Client: engineLib, Op: benchop.FetchAll, Ratio: 1.30},
		{Client: engineTyped, Op: benchop.FetchAll, Ratio: 1.10},
		{Client: pyImaplib, Op: benchop.FetchAll, Ratio: 1.20},
		{Client: goimapKeep, Op: benchop.FetchAll, Ratio: 1.40},
		{Client: goimapStream, Op: benchop.FetchAll, Ratio: 1.15},
	}
	ss := standings(rows)
	if len(ss) != 2 {
		t.Fatalf("got %d standings, want 2", len(ss))
	}
	if ss[0].Engine.Client != engineLib || ss[0].Best.Client != pyImaplib || ss[0].Lead {
		t.Errorf("keep: got %+v", ss[0])
	}
	if ss[1].Engine.Client != engineTyped || ss[1].Best.Client != goimapStream || !ss[1].Lead {
		t.Errorf("any: got %+v", ss[1])
	}
	text := standingList(ss)
	if !strings.Contains(text, "**behind** by 0.10") || !strings.Contains(text, "**leads** by 0.05") {
		t.Errorf("standingList:\n%s", text)
	}
}
