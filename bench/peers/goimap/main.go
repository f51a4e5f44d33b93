// Command goimapbench runs one comparison-benchmark operation with
// github.com/emersion/go-imap/v2 (imapclient), the Go IMAP client a user
// would pick instead of the engine (issue 17 item 1). It is a module of its
// own so the main module's dependencies stay as they are; bench/run.sh builds
// it.
//
// Like bench/cmd/enginebench it reads IMAPBENCH_ADDR, IMAPBENCH_USER and
// IMAPBENCH_PASSWORD, logs in, examines INBOX, times the operation alone and
// prints one JSON line {"seconds": ..., "items": ..., "bytes": ...}.
//
//	goimapbench -mode keep -op fetch-all     # FetchCommand.Collect: every body kept, as imaplib keeps them
//	goimapbench -mode stream -op fetch-all   # FetchCommand.Next: each body read and dropped
//
// go-imap v2 has no RFC822 fetch item, so the body fetches ask for BODY[]
// (the same bytes; the mailbox is examined read-only, so nothing is marked
// \Seen).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// loopCount is benchop.LoopCount: the commands of fetch-loop and noop.
const loopCount = 1000

// The two modes.
const (
	modeKeep   = "keep"   // every response collected and kept to the end
	modeStream = "stream" // each message's body read and dropped
)

// errUsage reports a missing setting or an unknown operation or mode.
var errUsage = errors.New("goimapbench: usage")

// errBadData reports a response lacking what the operation asked for.
var errBadData = errors.New("goimapbench: unexpected data")

// result is benchop.Result.
type result struct {
	Seconds float64 `json:"seconds"`
	Items   int     `json:"items"`
	Bytes   int64   `json:"bytes"`
}

func main() {
	mode := flag.String("mode", modeKeep, "keep (Collect) or stream (Next, bodies dropped)")
	op := flag.String("op", "", "operation: fetch-all, fetch-envelope, fetch-loop, noop, uid-search")
	flag.Parse()
	res, err := run(*mode, *op)
	if err == nil {
		var b []byte
		b, err = json.Marshal(res)
		if err == nil {
			_, err = os.Stdout.Write(append(b, '\n'))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(mode, op string) (result, error) {
	if mode != modeKeep && mode != modeStream {
		return result{}, fmt.Errorf("%w: unknown mode %q", errUsage, mode)
	}
	addr, user, pass := os.Getenv("IMAPBENCH_ADDR"), os.Getenv("IMAPBENCH_USER"), os.Getenv("IMAPBENCH_PASSWORD")
	if addr == "" || user == "" || pass == "" {
		return result{}, fmt.Errorf("%w: set IMAPBENCH_ADDR, IMAPBENCH_USER and IMAPBENCH_PASSWORD", errUsage)
	}
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		return result{}, err
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return result{}, err
	}
	var do func(*imapclient.Client) (int, int64, error)
	switch op {
	case "fetch-all":
		do = func(c *imapclient.Client) (int, int64, error) {
			return fetch(c, mode, allMessages(), bodyOptions())
		}
	case "fetch-envelope":
		do = func(c *imapclient.Client) (int, int64, error) {
			k, _, err := fetch(c, mode, allMessages(), &imap.FetchOptions{Flags: true, UID: true, RFC822Size: true, Envelope: true})
			return k, 0, err
		}
	case "fetch-loop":
		do = func(c *imapclient.Client) (int, int64, error) {
			items, total := 0, int64(0)
			for i := uint32(1); i <= loopCount; i++ {
				k, n, err := fetch(c, mode, imap.SeqSetNum(i), bodyOptions())
				if err != nil {
					return items, total, err
				}
				items += k
				total += n
			}
			return items, total, nil
		}
	case "noop":
		do = func(c *imapclient.Client) (int, int64, error) {
			for i := range loopCount {
				if err := c.Noop().Wait(); err != nil {
					return i, 0, err
				}
			}
			return loopCount, 0, nil
		}
	case "uid-search":
		do = func(c *imapclient.Client) (int, int64, error) {
			data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
			if err != nil {
				return 0, 0, err
			}
			return len(data.AllUIDs()), 0, nil
		}
	default:
		return result{}, fmt.Errorf("%w: unknown operation %q", errUsage, op)
	}
	start := time.Now()
	items, n, err := do(c)
	res := result{Seconds: time.Since(start).Seconds(), Items: items, Bytes: n}
	if err != nil {
		return res, err
	}
	return res, c.Logout().Wait()
}

// allMessages is the sequence set 1:*.
func allMessages() imap.SeqSet {
	var s imap.SeqSet
	s.AddRange(1, 0) // 0 is *
	return s
}

// bodyOptions asks for BODY[], the whole message (RFC822's bytes).
func bodyOptions() *imap.FetchOptions {
	return &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}
}

// fetch runs one FETCH and counts the messages and body bytes. In keep mode
// every message is collected and the whole result held until the count is
// made; in stream mode each item is handled as it arrives and bodies are
// read into a reused buffer and dropped.
func fetch(c *imapclient.Client, mode string, set imap.NumSet, opts *imap.FetchOptions) (int, int64, error) {
	cmd := c.Fetch(set, opts)
	if mode == modeKeep {
		msgs, err := cmd.Collect()
		if err != nil {
			return 0, 0, err
		}
		n := int64(0)
		for _, m := range msgs {
			if opts.Envelope && m.Envelope == nil {
				return 0, 0, fmt.Errorf("%w: message %d has no envelope", errBadData, m.SeqNum)
			}
			for _, s := range m.BodySection {
				n += int64(len(s.Bytes))
			}
		}
		return len(msgs), n, nil
	}
	items, n := 0, int64(0)
	buf := make([]byte, 64<<10)
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		items++
		envelope := false
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch item := item.(type) {
			case imapclient.FetchItemDataBodySection:
				if item.Literal != nil {
					k, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{item.Literal}, buf)
					if err != nil {
						cmd.Close()
						return items, n, err
					}
					n += k
				}
			case imapclient.FetchItemDataEnvelope:
				envelope = item.Envelope != nil
			}
		}
		if opts.Envelope && !envelope {
			cmd.Close()
			return items, n, fmt.Errorf("%w: message %d has no envelope", errBadData, msg.SeqNum)
		}
	}
	return items, n, cmd.Close()
}
