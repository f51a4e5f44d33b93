// Command bridge serves the imapbridge WebSocket bridge. With no
// configuration it runs the embedded default: an in-process IMAP server with
// sample mail and new mail every few seconds, a development signing key, a
// development token endpoint and the demo page.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) { // -h, -help: the usage was printed
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// run is main with its dependencies injected, for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.healthOnly {
		return healthcheck(ctx, cfg)
	}
	return serve(ctx, cfg, stdout, stderr)
}
