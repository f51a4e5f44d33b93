// Command benchrun is the driver of the comparison benchmark (issue 3 item
// 7): it runs every client on every operation as a separate process, in
// alternating rounds (each client once per operation per round, in a random
// order drawn per operation and round), reads each child's peak RSS from the kernel
// (ru_maxrss), and prints a table of medians and ratios to the raw-socket
// floor. With -readme it also rewrites the results section of that file.
//
// bench/run.sh builds the clients, starts Dovecot, makes the corpus and
// calls benchrun; see bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/imapbridge/imapbridge/bench/internal/benchop"
)

// Markers around the generated section of the README.
const (
	beginMarker = "<!-- benchrun:begin -->"
	endMarker   = "<!-- benchrun:end -->"
)

// errCheck reports a client whose result does not match the corpus.
var errCheck = errors.New("benchrun: wrong result")

// client is one benchmarked program.
type client struct {
	name string
	argv []string // the operation name is appended after "-op"
	// raw marks a floor: it counts commands, not messages, so its item
	// count is not checked against the corpus.
	raw bool
}

func main() {
	rounds := flag.Int("rounds", 3, "rounds; each client runs each operation once per round")
	bin := flag.String("bin", "bench/out/bin", "directory holding the rawfloor and enginebench binaries")
	python := flag.String("python", "python3", "Python interpreter for imaplib_bench.py")
	script := flag.String("script", "bench/imaplib_bench.py", "the imaplib client script")
	node := flag.String("node", "node", "Node.js for the ImapFlow client")
	flow := flag.String("imapflow", "bench/peers/imapflow/bench.mjs", "the ImapFlow client script (empty: leave ImapFlow out)")
	goimap := flag.Bool("goimap", true, "run go-imap v2 (the goimapbench binary in -bin)")
	n := flag.Int("n", 10_000, "messages in the corpus (checked against each client's result)")
	readme := flag.String("readme", "", "rewrite the results section of this Markdown file")
	jsonOut := flag.String("json", "", "write every run as a JSON line to this file")
	notes := flag.String("notes", "", "extra text for the README's environment line (e.g. the Dovecot version)")
	flag.Parse()
	clients := []client{
		{name: floorName, argv: []string{filepath.Join(*bin, "rawfloor")}, raw: true},
		{name: floorKeep, argv: []string{filepath.Join(*bin, "rawfloor"), "-keep"}, raw: true},
		{name: engineLib, argv: []string{filepath.Join(*bin, "enginebench"), "-view", "imaplib"}},
		{name: engineTyped, argv: []string{filepath.Join(*bin, "enginebench"), "-view", "typed"}},
		{name: pyImaplib, argv: []string{*python, *script}},
	}
	if *goimap {
		gi := filepath.Join(*bin, "goimapbench")
		clients = append(clients,
			client{name: goimapKeep, argv: []string{gi, "-mode", "keep"}},
			client{name: goimapStream, argv: []string{gi, "-mode", "stream"}})
	}
	if *flow != "" {
		clients = append(clients, client{name: imapFlow, argv: []string{*node, *flow}})
	}
	if err := drive(clients, *rounds, *n, *readme, *jsonOut, *notes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func drive(clients []client, rounds, n int, readme, jsonOut, notes string) error {
	if _, err := benchop.ServerFromEnv(); err != nil {
		return err
	}
	// Warm Dovecot's caches and the page cache once, untimed.
	fmt.Fprintln(os.Stderr, "benchrun: warm-up (floor, every operation)")
	for _, op := range benchop.Ops {
		if _, err := runOne(clients[0], op); err != nil {
			return err
		}
	}
	var runs []run
	// Each operation of each round runs the clients in a fresh random order
	// (fixed seed, so a run can be repeated): a client's time depends on
	// which one ran just before it (the memory it freed, Dovecot's state),
	// and a rotation would keep every client's predecessor the same.
	order := rand.New(rand.NewPCG(1, 2))
	for r := range rounds {
		for _, op := range benchop.Ops {
			for _, k := range order.Perm(len(clients)) {
				c := clients[k]
				one, err := runOne(c, op)
				if err != nil {
					return err
				}
				one.Round = r
				if !c.raw && one.Result.Items != benchop.Expected(op, n) {
					return fmt.Errorf("%w: %s, %s: %d items, want %d", errCheck, c.name, op, one.Result.Items, benchop.Expected(op, n))
				}
				fmt.Fprintf(os.Stderr, "benchrun: round %d %-14s %-22s %8.3fs %7.1f MiB\n",
					r+1, op, c.name, one.Result.Seconds, float64(one.RSSKB)/1024)
				runs = append(runs, one)
			}
		}
	}
	if jsonOut != "" {
		if err := writeRuns(jsonOut, runs); err != nil {
			return err
		}
	}
	var names []string
	for _, c := range clients {
		names = append(names, c.name)
	}
	rows := summarize(runs, names, n)
	ts := targets(rows)
	report := fmt.Sprintf("Run of %s on %s, %d rounds.\n\n%s\nTargets:\n\n%s\nStandings (lower ratio leads; floors excluded):\n\n%s",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine(notes), rounds, table(rows), targetList(ts), standingList(standings(rows)))
	fmt.Println(report)
	if readme != "" {
		return rewriteSection(readme, report)
	}
	return nil
}

// runOne runs one client on one operation and reads its result and peak RSS.
func runOne(c client, op benchop.Op) (run, error) {
	argv := append(append([]string{}, c.argv...), "-op", string(op))
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return run{}, fmt.Errorf("benchrun: %s %s: %w: %s", c.name, op, err, strings.TrimSpace(errb.String()))
	}
	var res benchop.Result
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &res); err != nil {
		return run{}, fmt.Errorf("benchrun: %s %s: bad output %q: %w", c.name, op, out.String(), err)
	}
	r := run{Client: c.name, Op: op, Result: res}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.RSSKB = int64(ru.Maxrss) // kilobytes on Linux
	}
	return r, nil
}

func writeRuns(path string, runs []run) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("benchrun: %w", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range runs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("benchrun: %w", err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("benchrun: %w", err)
	}
	return nil
}

// machine describes where the run happened: CPUs, CPU model, Go version.
func machine(notes string) string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	s := fmt.Sprintf("%d × %s (nproc %d), %s %s/%s", runtime.NumCPU(), model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if notes != "" {
		s += ", " + notes
	}
	return s
}

// rewriteSection replaces the text between the markers in path with body,
// appending a marked section when the markers are absent.
func rewriteSection(path, body string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("benchrun: %w", err)
	}
	updated, err := replaceSection(string(old), body)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
		return fmt.Errorf("benchrun: %w", err)
	}
	return nil
}

// replaceSection returns doc with the text between the markers replaced by
// body, or with a marked section appended when doc has no markers.
func replaceSection(doc, body string) (string, error) {
	section := beginMarker + "\n" + body + endMarker
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	switch {
	case i < 0 && j < 0:
		return strings.TrimRight(doc, "\n") + "\n\n" + section + "\n", nil
	case i < 0 || j < i:
		return "", fmt.Errorf("%w: misplaced %s / %s markers", errCheck, beginMarker, endMarker)
	}
	return doc[:i] + section + doc[j+len(endMarker):], nil
}
