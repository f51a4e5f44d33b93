package main

import (
	"io"

	bench "github.com/imapbridge/imapbridge/bench/bridge"
)

// runUpstream runs the devserver child (bench.ServeDevserver).
func runUpstream(stdin io.Reader, stdout io.Writer) error { return bench.ServeDevserver(stdin, stdout) }
