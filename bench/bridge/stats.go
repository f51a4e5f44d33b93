package bridgebench

import (
	"slices"
	"time"
)

// Stats summarises one series of latencies.
type Stats struct {
	N        int
	P50, P99 time.Duration
	Min, Max time.Duration
}

// Summarize sorts a copy of d and returns its percentiles (nearest rank).
// An empty series gives the zero Stats.
func Summarize(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return Stats{N: len(s), P50: Percentile(s, 50), P99: Percentile(s, 99), Min: s[0], Max: s[len(s)-1]}
}

// Percentile returns the p-th percentile (0 < p ≤ 100, nearest rank) of the
// sorted series s, or 0 for an empty one.
func Percentile(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(s))+0.999999999) - 1
	rank = max(0, min(rank, len(s)-1))
	return s[rank]
}

// Median returns the median of xs (the lower middle for an even count), or 0.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
