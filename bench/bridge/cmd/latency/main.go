// Command latency measures, side by side in one run, what the bridge adds to
// a command's round trip and to the push of new mail (issue 4 item 6):
//
//   - round trip of NOOP and of a small UID FETCH (UID FLAGS ENVELOPE of one
//     message) from a Go WebSocket client through an in-process bridge to
//     the IMAP server, against the engine talking to the same server
//     directly; the two clients alternate in rounds;
//   - push latency from another connection's APPEND to the bridge's exists
//     event, against a direct engine client in IdleLoop with OnEvent; both
//     listen to the same append.
//
// The servers are the embedded devserver (in process) and, when
// IMAPBRIDGE_DOVECOT_PLAIN and BRIDGEBENCH_DOVECOT_USER/PASSWORD are set, the
// e2e Dovecot. It prints a Markdown report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/internal/devserver"
)

// Environment of the Dovecot run.
const (
	envDovecotAddr     = "IMAPBRIDGE_DOVECOT_PLAIN"
	envDovecotUser     = "BRIDGEBENCH_DOVECOT_USER"
	envDovecotPassword = "BRIDGEBENCH_DOVECOT_PASSWORD"
)

// runTimeout bounds the whole program.
const runTimeout = 20 * time.Minute

// mailbox is where every client works.
const mailbox = "INBOX"

// Targets of issue 4.
const (
	targetOverhead = 100 * time.Microsecond
	targetPush     = 2 * time.Millisecond
)

var errUsage = errors.New("latency: usage")

type config struct {
	servers          string
	rounds, perRound int
	pushRounds       int
	cpuProfile       string
}

func main() {
	var c config
	flag.StringVar(&c.servers, "servers", "devserver,dovecot", "servers to run against: devserver, dovecot or both (comma-separated)")
	flag.IntVar(&c.rounds, "rounds", 20, "timed rounds of the round-trip benchmark")
	flag.IntVar(&c.perRound, "per-round", 50, "commands per client, kind and round")
	flag.IntVar(&c.pushRounds, "push", 100, "appends of the push benchmark")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(c config, w io.Writer) error {
	if c.rounds <= 0 || c.perRound <= 0 || c.pushRounds <= 0 {
		return fmt.Errorf("%w: rounds, per-round and push must be positive", errUsage)
	}
	stop, err := startProfile(c.cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	fmt.Fprintf(w, "Run of %s on %d CPUs (GOMAXPROCS %d), %s %s/%s; %d rounds × %d commands per client and kind, %d appends.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, c.rounds, c.perRound, c.pushRounds)
	for _, name := range splitList(c.servers) {
		up, closeUp, err := upstream(ctx, name)
		if err != nil {
			return err
		}
		err = measure(ctx, c, up, w)
		closeUp()
		if err != nil {
			return fmt.Errorf("latency: %s: %w", name, err)
		}
	}
	return nil
}

// upstream starts or finds the named server.
func upstream(ctx context.Context, name string) (bench.Upstream, func(), error) {
	switch name {
	case "devserver":
		srv, err := devserver.Start(ctx, devserver.Options{Deliver: -1, Seed: 1})
		if err != nil {
			return bench.Upstream{}, nil, err
		}
		u, p := srv.User()
		return bench.Upstream{Label: "devserver", Addr: srv.Addr(), User: u, Password: p}, func() { srv.Close() }, nil
	case "dovecot":
		up := bench.Upstream{Label: "Dovecot", Addr: os.Getenv(envDovecotAddr),
			User: os.Getenv(envDovecotUser), Password: os.Getenv(envDovecotPassword)}
		if up.Addr == "" || up.User == "" || up.Password == "" {
			return up, nil, fmt.Errorf("%w: dovecot needs %s, %s and %s (see bench/bridge/run.sh)", errUsage,
				envDovecotAddr, envDovecotUser, envDovecotPassword)
		}
		return up, func() {}, nil
	}
	return bench.Upstream{}, nil, fmt.Errorf("%w: unknown server %q", errUsage, name)
}

// measure runs both benchmarks against up and writes its report section.
func measure(ctx context.Context, c config, up bench.Upstream, w io.Writer) error {
	secret, err := bench.NewSecret()
	if err != nil {
		return err
	}
	br, err := bench.StartBridge(up, secret)
	if err != nil {
		return err
	}
	defer br.Close()

	direct, err := bench.DialDirect(ctx, up, mailbox, nil)
	if err != nil {
		return fmt.Errorf("direct client: %w", err)
	}
	defer direct.Shutdown()
	uid, err := bench.FirstUID(ctx, direct, mailbox)
	if err != nil {
		return err
	}
	sess, err := br.OpenSession(ctx, mailbox)
	if err != nil {
		return fmt.Errorf("bridge session: %w", err)
	}
	defer sess.Close()

	tok, err := br.Token()
	if err != nil {
		return err
	}
	unselected, err := bench.Dial(ctx, br.URL(), tok)
	if err != nil {
		return fmt.Errorf("bridge session: %w", err)
	}
	defer unselected.Close()
	if _, err := unselected.Do(ctx, &protocol.LoginRequest{Header: protocol.Header{Operation: protocol.OpLogin}, Password: up.Password}); err != nil {
		return fmt.Errorf("bridge login: %w", err)
	}
	clients := map[string]bench.Commander{
		bench.ClientDirect:       &bench.DirectCommander{C: direct, UID: uid},
		bench.ClientBridge:       &bench.BridgeCommander{S: sess, UID: uid},
		bench.ClientBridgeNoIdle: bench.NoopOnly{Commander: &bench.BridgeCommander{S: unselected}},
	}
	order := []string{bench.ClientDirect, bench.ClientBridge, bench.ClientBridgeNoIdle}
	cmds := []string{bench.CmdNoop, bench.CmdFetch}
	rt, err := bench.RoundTrip(ctx, clients, order, cmds, c.rounds, c.perRound)
	if err != nil {
		return err
	}
	push, err := bench.Push(ctx, br, up, mailbox, c.pushRounds)
	if err != nil {
		return err
	}
	writeReport(w, up.Label, rt, push, order, cmds)
	return nil
}
