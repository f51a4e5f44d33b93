package bridgebench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
)

// MemSample is the memory of this process at one moment, after a full GC.
type MemSample struct {
	// HeapInuse and StackInuse are from runtime.MemStats.
	HeapInuse, StackInuse uint64
	// RSS is VmRSS from /proc/self/status (0 where unavailable).
	RSS uint64
	// Goroutines is runtime.NumGoroutine.
	Goroutines int
}

// Go is HeapInuse + StackInuse: the memory the Go runtime holds for live
// data and goroutine stacks.
func (m MemSample) Go() uint64 { return m.HeapInuse + m.StackInuse }

// SampleMemory collects garbage twice (returning freed memory to the OS, so
// RSS follows) and reads the process's memory.
func SampleMemory() MemSample {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return MemSample{HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, RSS: readRSS(), Goroutines: runtime.NumGoroutine()}
}

// RSS returns the process's VmRSS in bytes now (no GC first), or 0 where
// /proc is missing: what a sampler reads while work runs.
func RSS() uint64 { return readRSS() }

// readRSS returns VmRSS in bytes, or 0.
func readRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			fields := bytes.Fields(v)
			if len(fields) >= 1 {
				kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// WantFiles is the RLIMIT_NOFILE the benchmarks ask for: 10,000 sessions
// hold 2 descriptors each in the bridge. Only the benchmark raises it; the
// product's defaults are untouched.
const WantFiles = 65536

// RaiseFileLimit raises RLIMIT_NOFILE's soft limit to its hard limit (and,
// where the process may, both to WantFiles first) and returns the new soft
// limit.
func RaiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("bridgebench: getrlimit: %w", err)
	}
	if lim.Max < WantFiles {
		// Root may raise the hard limit (up to fs.nr_open); others keep theirs.
		up := syscall.Rlimit{Cur: WantFiles, Max: WantFiles}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			lim = up
		}
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("bridgebench: setrlimit: %w", err)
		}
	}
	return lim.Cur, nil
}
