// Command faultproxy runs Toxiproxy proxies (github.com/Shopify/toxiproxy/v2,
// in process) that add latency with jitter to every connection, for the
// browser end-to-end tests' latency variant (e2e/lib/faultproxy.mjs, issue 19
// item 1): one proxy between the browser and the bridge, one between the
// bridge and Dovecot.
//
// Each line read from standard input, "NAME LISTEN UPSTREAM" (LISTEN may be
// 127.0.0.1:0 for a free port), starts a proxy and is answered on standard
// output with "NAME ADDR", ADDR being the proxy's listen address, or
// "NAME error: ..." . The program exits when standard input closes (its parent
// is gone) or on SIGINT/SIGTERM, closing every proxied connection.
//
//	faultproxy -latency 200ms -jitter 50ms -streams both
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

// Defaults of the flags: the "200 ms ± 50 ms on every connection".
const (
	DefaultLatency = 200 * time.Millisecond
	DefaultJitter  = 50 * time.Millisecond
)

func main() {
	latency := flag.Duration("latency", DefaultLatency, "delay added to every chunk of data")
	jitter := flag.Duration("jitter", DefaultJitter, "uniform random variation of the delay (±)")
	streams := flag.String("streams", "both", "directions delayed: downstream (server → client), upstream, or both")
	flag.Parse()
	var dirs []string
	switch *streams {
	case "both":
		dirs = []string{"downstream", "upstream"}
	case "downstream", "upstream":
		dirs = []string{*streams}
	default:
		fmt.Fprintf(os.Stderr, "faultproxy: -streams must be downstream, upstream or both\n")
		os.Exit(2)
	}
	zlog.Logger = zerolog.Nop()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	var proxies []*toxiproxy.Proxy
	defer func() {
		for _, p := range proxies {
			p.Toxics.ResetToxics(context.Background())
			p.Stop()
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	out := bufio.NewWriter(os.Stdout)
	for {
		select {
		case <-sig:
			return
		case line, ok := <-lines:
			if !ok {
				return
			}
			f := strings.Fields(line)
			if len(f) != 3 {
				fmt.Fprintf(out, "? error: want NAME LISTEN UPSTREAM\n")
				_ = out.Flush()
				continue
			}
			p, err := start(srv, f[0], f[1], f[2], *latency, *jitter, dirs)
			if err != nil {
				fmt.Fprintf(out, "%s error: %v\n", f[0], err)
			} else {
				proxies = append(proxies, p)
				fmt.Fprintf(out, "%s %s\n", f[0], p.Listen)
			}
			_ = out.Flush()
		}
	}
}

// start runs one proxy from listen to upstream with a latency toxic on each
// of dirs.
func start(srv *toxiproxy.ApiServer, name, listen, upstream string, latency, jitter time.Duration, dirs []string) (*toxiproxy.Proxy, error) {
	if _, port, err := net.SplitHostPort(listen); err == nil && port == "0" {
		// Toxiproxy reports the address it was given: pick the port here.
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, err
		}
		listen = ln.Addr().String()
		_ = ln.Close()
	}
	p := toxiproxy.NewProxy(srv, name, listen, upstream)
	if err := p.Start(); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		body, _ := json.Marshal(map[string]any{"name": "latency-" + d, "type": "latency", "stream": d, "toxicity": 1.0,
			"attributes": map[string]any{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()}})
		if _, err := p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return p, nil
}
