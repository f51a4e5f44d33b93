package imapengine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// This file holds the hostile-server bounds of issue 20: work and memory a
// server can make the client spend, each asserted as a count or a ratio.

// countingDialer dials TCP and counts the bytes the client reads.
type countingDialer struct{ read atomic.Int64 }

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &d.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// hostileClient dials srv through a counting dialer, logs in and selects.
func hostileClient(t *testing.T, srv *imaptest.Server, l Limits) (*Client, *countingDialer) {
	t.Helper()
	d := &countingDialer{}
	c, err := Dial(context.Background(), srv.Addr(), &Options{AllowPlaintextAuth: true, CommandTimeout: 10 * time.Second, Limits: l, Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown() })
	mustLogin(t, c)
	if _, err := c.Select(context.Background(), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	return c, d
}

// TestHostileManyLiterals is issue 20 item 3: one FETCH of many "BODY[n]
// {1}" items is refused with ErrTooManyItems the moment the literal count
// crosses Limits.MaxLiterals, in both views: the client reads at most the
// items up to the limit plus one read buffer, not the whole response.
func TestHostileManyLiterals(t *testing.T) {
	const items = 200_000 // 4.6 MB on the wire
	item := func(i int) string { return fmt.Sprintf(" BODY[%d] {1}\r\nx", 100000+i) }
	payload := fetchShape(items, item)
	itemLen := int64(len(item(0)))
	tests := []struct {
		name  string
		limit int // Limits.MaxLiterals; 0 is the default
		max   int // literals accepted
	}{
		{"default", 0, DefaultMaxLiterals},
		{"configured", 500, 500},
	}
	views := map[string]func(c *Client) error{
		"imaplib": func(c *Client) error { _, err := c.Fetch(context.Background(), "1", "(BODY[])"); return err },
		"typed": func(c *Client) error {
			return c.FetchEach(context.Background(), "1", "(BODY[])", nil, func(*imap.Message) error { return nil })
		},
	}
	for _, tt := range tests {
		for view, run := range views {
			t.Run(tt.name+"/"+view, func(t *testing.T) {
				srv := fetchServer(t, payload)
				c, d := hostileClient(t, srv, Limits{MaxLiterals: tt.limit})
				before := d.read.Load()
				err := run(c)
				if !errors.Is(err, ErrTooManyItems) || !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("err = %v, want ErrTooManyItems and ErrResponseTooLarge", err)
				}
				<-c.Done()
				read := d.read.Load() - before
				// The limit's items, plus what one read of the buffer and the
				// kernel's coalescing may bring in past it.
				bound := int64(tt.max+1)*itemLen + 2*testReadBuffer
				if read > bound {
					t.Errorf("read %d bytes before refusing, want <= %d (%d items of %d bytes); response is %d bytes",
						read, bound, tt.max, itemLen, len(payload))
				}
				if read >= int64(len(payload))/2 {
					t.Errorf("read %d of %d bytes: refused only near the end", read, len(payload))
				}
			})
		}
	}
}

// TestHostileManyItemsTyped: the typed view refuses a response with more
// values than Limits.MaxItems (a list of many tiny atoms) instead of
// decoding it; the imaplib view, which does not decode, still returns it.
func TestHostileManyItemsTyped(t *testing.T) {
	payload := []byte("* 1 FETCH (UID 1 FLAGS (" + strings.TrimSpace(strings.Repeat(`\a `, 3000)) + "))\r\n")
	srv := fetchServer(t, payload)
	c, _ := hostileClient(t, srv, Limits{MaxItems: 1000})
	err := c.FetchEach(context.Background(), "1", "(FLAGS)", nil, func(*imap.Message) error {
		t.Error("a refused message was delivered")
		return nil
	})
	if !errors.Is(err, ErrTooManyItems) {
		t.Fatalf("typed: err = %v, want ErrTooManyItems", err)
	}
	res, err := c.Fetch(context.Background(), "1", "(FLAGS)")
	if err != nil || len(res.Data) != 1 {
		t.Fatalf("imaplib: %d items, err %v", len(res.Data), err)
	}
}

// testReadBuffer is the reader's default buffer, for bounds on bytes read.
const testReadBuffer = 64 << 10

// TestHostileContinuationStorm is issue 20 item 5: after APPEND's literal,
// a server that sends "+" every 20 ms and never completes does not extend
// CommandTimeout. The client gives up with ErrTimeout (not the context's
// deadline, ten times longer) after at most CommandTimeout/interval + 3
// continuations.
func TestHostileContinuationStorm(t *testing.T) {
	const (
		timeout  = 300 * time.Millisecond
		interval = 20 * time.Millisecond
	)
	var sent atomic.Int64
	srv := imaptest.NewServer(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if _, _, err := c.ReadLiteral(cmd); err != nil {
				return
			}
			for c.Sleep(interval) {
				c.Send("+ go on")
				sent.Add(1)
			}
		},
	}})
	c, err := Dial(context.Background(), srv.Addr(), &Options{AllowPlaintextAuth: true, CommandTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	mustLogin(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*timeout)
	defer cancel()
	_, err = c.Append(ctx, "INBOX", "", time.Time{}, []byte("Subject: x\r\n\r\nbody\r\n"))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the context expired first: the continuations extended the command")
	}
	if n, max := sent.Load(), int64(timeout/interval)+3; n > max {
		t.Errorf("%d continuations sent before the timeout, want <= %d", n, max)
	}
}
