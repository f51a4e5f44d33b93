// Command gencorpus fills a mailbox with the benchmark corpus: DefaultCount
// deterministic (seeded) messages appended to INBOX over raw IMAP with
// MULTIAPPEND and LITERAL+. It reuses what is there: a mailbox that already
// holds the whole corpus is left alone, and a partly filled one is completed
// from where it stopped (messages are generated independently, so message i
// is the same bytes whenever it is made).
//
//	IMAPBENCH_ADDR=127.0.0.1:143 IMAPBENCH_USER=bench IMAPBENCH_PASSWORD=... gencorpus [-n 10000] [-seed N]
//
// It prints the corpus size to standard error.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/bench/internal/benchop"
)

// Append batching: one APPEND command carries messages until either bound is
// reached.
const (
	batchMessages = 200
	batchBytes    = 16 << 20
	// ioTimeout bounds each exchange with the server.
	ioTimeout = 5 * time.Minute
	// maxLine bounds a response line read from the server.
	maxLine = 64 << 10
)

// errServer reports a NO or BAD answer or a malformed response.
var errServer = errors.New("gencorpus: server refused")

func main() {
	n := flag.Int("n", DefaultCount, "number of messages")
	seed := flag.Uint64("seed", DefaultSeed, "generator seed")
	flag.Parse()
	if err := run(*n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(n int, seed uint64) error {
	srv, err := benchop.ServerFromEnv()
	if err != nil {
		return err
	}
	nc, err := net.DialTimeout("tcp", srv.Addr, 30*time.Second)
	if err != nil {
		return fmt.Errorf("gencorpus: %w", err)
	}
	defer nc.Close()
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriterSize(nc, 1<<20)}
	if _, err := c.line(); err != nil { // greeting
		return err
	}
	if _, err := c.cmd("LOGIN " + quote(srv.User) + " " + quote(srv.Password)); err != nil {
		return err
	}
	have, err := c.exists()
	if err != nil {
		return err
	}
	switch {
	case have == n:
		fmt.Fprintf(os.Stderr, "gencorpus: %s already holds %d messages; reusing them\n", benchop.Mailbox, n)
		_, err = c.cmd("LOGOUT")
		return err
	case have > n:
		return fmt.Errorf("%w: %s holds %d messages, more than %d; use a fresh user", errServer, benchop.Mailbox, have, n)
	}
	start := time.Now()
	var total, attached int64
	for i := have; i < n; {
		var b strings.Builder
		var body [][]byte
		size := 0
		fmt.Fprintf(&b, "APPEND %s", benchop.Mailbox)
		for ; i < n && len(body) < batchMessages && size < batchBytes; i++ {
			m := Generate(seed, i)
			size += len(m.Body)
			total += int64(len(m.Body))
			if m.Attached {
				attached++
			}
			body = append(body, m.Body)
			fmt.Fprintf(&b, " (%s) %q {%d+}\r\n", m.Flags, m.Date.Format("02-Jan-2006 15:04:05 -0700"), len(m.Body))
		}
		if err := c.appendBatch(b.String(), body); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "\rgencorpus: %d/%d messages", i, n)
	}
	fmt.Fprintf(os.Stderr, "\ngencorpus: appended %d messages (%d with attachments), %.1f MB, in %.1fs\n",
		n-have, attached, float64(total)/1e6, time.Since(start).Seconds())
	_, err = c.cmd("LOGOUT")
	return err
}

// conn is a minimal IMAP connection: commands and tagged completions, no
// literals in responses (none of the commands used here receives one).
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	tag int
}

func (c *conn) line() (string, error) {
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	var sb strings.Builder
	for {
		frag, err := c.br.ReadSlice('\n')
		sb.Write(frag)
		if sb.Len() > maxLine {
			return "", fmt.Errorf("%w: response line over %d bytes", errServer, maxLine)
		}
		if err == nil {
			return strings.TrimRight(sb.String(), "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("gencorpus: read: %w", err)
		}
	}
}

// cmd sends one command and returns the untagged lines before its OK.
func (c *conn) cmd(text string) ([]string, error) {
	return c.send(func(w io.Writer) error { _, err := io.WriteString(w, text+"\r\n"); return err })
}

// appendBatch sends a MULTIAPPEND whose header holds a "{n+}\r\n" marker per
// literal in body.
func (c *conn) appendBatch(header string, body [][]byte) error {
	parts := strings.SplitAfter(header, "+}\r\n")
	_, err := c.send(func(w io.Writer) error {
		for k, lit := range body {
			if _, err := io.WriteString(w, parts[k]); err != nil {
				return err
			}
			if _, err := w.Write(lit); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "\r\n")
		return err
	})
	return err
}

func (c *conn) send(write func(io.Writer) error) ([]string, error) {
	c.tag++
	tag := "G" + strconv.Itoa(c.tag)
	c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.bw, tag+" "); err != nil {
		return nil, fmt.Errorf("gencorpus: write: %w", err)
	}
	if err := write(c.bw); err != nil {
		return nil, fmt.Errorf("gencorpus: write: %w", err)
	}
	if err := c.bw.Flush(); err != nil {
		return nil, fmt.Errorf("gencorpus: write: %w", err)
	}
	var untagged []string
	for {
		l, err := c.line()
		if err != nil {
			return nil, err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return nil, fmt.Errorf("%w: %s", errServer, l)
			}
			return untagged, nil
		}
		untagged = append(untagged, l)
	}
}

// exists examines the mailbox and returns its message count.
func (c *conn) exists() (int, error) {
	lines, err := c.cmd("EXAMINE " + benchop.Mailbox)
	if err != nil {
		return 0, err
	}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "*" && f[2] == "EXISTS" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("%w: no EXISTS in EXAMINE", errServer)
}

// quote renders s as an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
