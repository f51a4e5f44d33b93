// Command rawfloor is the benchmark's floor: the least work a client can do
// for an operation. It writes the command bytes to a socket and reads until
// the tagged completion line, parsing nothing else (no literals, no
// untagged data). Whatever a real client does beyond this is its overhead.
//
//	IMAPBENCH_ADDR=... IMAPBENCH_USER=... IMAPBENCH_PASSWORD=... rawfloor -op fetch-all
//
// It prints one benchop.Result line; Bytes counts every byte read during the
// operation and Items the commands completed. With -keep every read lands in
// fresh memory kept until the end: the floor of a client that keeps what it
// reads (as imaplib and the engine's imaplib view do), page faults included.
package main

import (
	"bytes"
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

// Socket buffer sizes and deadlines.
const (
	// readChunk is the size of each read from the socket.
	readChunk = 256 << 10
	// opTimeout bounds one whole operation.
	opTimeout = 10 * time.Minute
	// tagPrefix starts every tag; numbers follow.
	tagPrefix = "F"
)

// errNotOK reports a command that did not complete with OK.
var errNotOK = errors.New("rawfloor: command failed")

func main() {
	opName := flag.String("op", "", "operation: "+opNames())
	keep := flag.Bool("keep", false, "read into fresh memory and keep every byte until the end (the floor of a client that keeps responses)")
	flag.Parse()
	res, err := run(*opName, *keep)
	if err == nil {
		err = res.Write(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func opNames() string {
	var s []string
	for _, op := range benchop.Ops {
		s = append(s, string(op))
	}
	return strings.Join(s, ", ")
}

// floor is a socket, a read buffer and a tag counter.
type floor struct {
	nc    net.Conn
	buf   []byte
	tag   int
	bytes int64
	// keep makes every read land in fresh memory that is kept until the end,
	// as a client that keeps the responses must: the floor of such a client,
	// first-touch page faults included.
	keep bool
	slab []byte   // fresh memory not yet read into
	kept [][]byte // every slab read into
}

// slabSize is the fresh memory the keeping floor takes at a time.
const slabSize = 64 << 20

// readBuf returns the buffer for the next read: the one reused buffer, or
// with keep the next readChunk bytes of fresh memory.
func (f *floor) readBuf() []byte {
	if !f.keep {
		return f.buf
	}
	if len(f.slab) < readChunk {
		f.slab = make([]byte, slabSize)
		f.kept = append(f.kept, f.slab)
	}
	return f.slab[:readChunk]
}

func run(opName string, keep bool) (benchop.Result, error) {
	op, err := benchop.ParseOp(opName)
	if err != nil {
		return benchop.Result{}, err
	}
	srv, err := benchop.ServerFromEnv()
	if err != nil {
		return benchop.Result{}, err
	}
	nc, err := net.DialTimeout("tcp", srv.Addr, 30*time.Second)
	if err != nil {
		return benchop.Result{}, fmt.Errorf("rawfloor: %w", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(opTimeout))
	f := &floor{nc: nc, buf: make([]byte, readChunk)}
	if err := f.greeting(); err != nil {
		return benchop.Result{}, err
	}
	if err := f.do("LOGIN " + quote(srv.User) + " " + quote(srv.Password)); err != nil {
		return benchop.Result{}, err
	}
	if err := f.do("EXAMINE " + benchop.Mailbox); err != nil {
		return benchop.Result{}, err
	}
	f.bytes = 0
	f.keep = keep
	var cmds []string
	switch op {
	case benchop.FetchAll:
		cmds = []string{"FETCH 1:* " + benchop.FetchAllItems}
	case benchop.FetchEnvelope:
		cmds = []string{"FETCH 1:* " + benchop.FetchEnvelopeItems}
	case benchop.FetchLoop:
		for n := 1; n <= benchop.LoopCount; n++ {
			cmds = append(cmds, "FETCH "+strconv.Itoa(n)+" "+benchop.FetchAllItems)
		}
	case benchop.Noop:
		for range benchop.LoopCount {
			cmds = append(cmds, "NOOP")
		}
	case benchop.UIDSearch:
		cmds = []string{"UID SEARCH ALL"}
	}
	start := time.Now()
	for _, c := range cmds {
		if err := f.do(c); err != nil {
			return benchop.Result{}, err
		}
	}
	res := benchop.Result{Seconds: time.Since(start).Seconds(), Items: len(cmds), Bytes: f.bytes}
	f.do("LOGOUT")
	return res, nil
}

// greeting reads the server's first line.
func (f *floor) greeting() error {
	n, err := f.nc.Read(f.buf)
	if err != nil {
		return fmt.Errorf("rawfloor: greeting: %w", err)
	}
	if !bytes.HasPrefix(f.buf[:n], []byte("* OK")) {
		return fmt.Errorf("%w: greeting %q", errNotOK, f.buf[:n])
	}
	return nil
}

// do sends one command and reads until its tagged completion, which must be OK.
func (f *floor) do(cmd string) error {
	f.tag++
	tag := tagPrefix + strconv.Itoa(f.tag)
	if _, err := io.WriteString(f.nc, tag+" "+cmd+"\r\n"); err != nil {
		return fmt.Errorf("rawfloor: write: %w", err)
	}
	fd := newFinder(tag)
	for {
		buf := f.readBuf()
		n, err := f.nc.Read(buf)
		f.bytes += int64(n)
		if f.keep {
			f.slab = f.slab[n:]
		}
		if n > 0 && fd.feed(buf[:n]) {
			break
		}
		if err != nil {
			if cmd == "LOGOUT" && err == io.EOF {
				return nil
			}
			return fmt.Errorf("rawfloor: read: %w", err)
		}
	}
	if !bytes.HasPrefix(fd.line, []byte(tag+" OK")) {
		return fmt.Errorf("%w: %q", errNotOK, fd.line)
	}
	return nil
}

// quote renders s as an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
