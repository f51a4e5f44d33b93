package main

import (
	"context"
	"fmt"
	"io"

	"github.com/imapbridge/imapbridge/internal/devserver"
)

// runUpstream runs the devserver (no automatic delivery), prints
// "addr user password" and serves until stdin closes.
func runUpstream(stdin io.Reader, stdout io.Writer) error {
	srv, err := devserver.Start(context.Background(), devserver.Options{Deliver: -1, Seed: 1})
	if err != nil {
		return err
	}
	defer srv.Close()
	u, p := srv.User()
	fmt.Fprintln(stdout, srv.Addr(), u, p)
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}
