package imapengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// sectionServer answers UID FETCH with body as BODY[1] of UID 5 (cut after
// cut bytes and the connection closed when cut >= 0; after a pause on
// hold), and NOOP normally.
func sectionServer(t *testing.T, body []byte, cut int, hold chan struct{}) *imaptest.Server {
	t.Helper()
	return transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"SELECT": imaptest.SimpleHandler([]string{"* 1 EXISTS", "* OK [UIDVALIDITY 7] ok"}, "[READ-WRITE] SELECT completed"),
		"NOOP":   imaptest.SimpleHandler(nil, "NOOP completed"),
		"UID": func(c *imaptest.Conn, cmd *imaptest.Command) {
			if !strings.Contains(string(cmd.Line), "BODY.PEEK[1]") {
				c.Send("* 1 FETCH (UID 5 BODY[1] NIL)")
				c.Tagged(cmd, "OK done")
				return
			}
			c.SendRaw([]byte(fmt.Sprintf("* 1 FETCH (UID 5 BODY[1] {%d}\r\n", len(body))))
			if cut >= 0 {
				c.SendRaw(body[:cut])
				if hold != nil {
					<-hold
				}
				c.Close()
				return
			}
			c.SendRaw(body)
			c.Send(")")
			c.Tagged(cmd, "OK done")
		},
	}})
}

func TestFetchSection(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 KB: several chunks
	tests := []struct {
		name    string
		section string
		read    func(r io.Reader) ([]byte, error)
		want    []byte
		wantErr error
	}{
		{"whole, one byte at a time", "1", func(r io.Reader) ([]byte, error) { return io.ReadAll(iotest.OneByteReader(r)) }, body, nil},
		{"whole, half reads", "1", func(r io.Reader) ([]byte, error) { return io.ReadAll(iotest.HalfReader(r)) }, body, nil},
		{"partial read, then return", "1", func(r io.Reader) ([]byte, error) {
			b := make([]byte, 10)
			_, err := io.ReadFull(r, b)
			return b, err
		}, body[:10], nil},
		{"no such section", "2", nil, nil, ErrNoSection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sectionServer(t, body, -1, nil)
			c := transports[0].mustDial(t, srv, nil)
			mustLoginSelect(t, c)
			var got []byte
			var gotSize int64
			err := c.FetchSection(context.Background(), 5, tt.section, func(r io.Reader, size int64) error {
				gotSize = size
				var err error
				got, err = tt.read(r)
				return err
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (!bytes.Equal(got, tt.want) || gotSize != int64(len(body))) {
				t.Fatalf("got %d bytes (size %d), want %d", len(got), gotSize, len(tt.want))
			}
			// The connection stays framed and usable.
			if _, err := c.Noop(context.Background()); err != nil {
				t.Fatalf("noop after: %v", err)
			}
		})
	}
}

// TestFetchSection_ServerDropsMidLiteral: the reader sees an unexpected EOF,
// never a clean end.
func TestFetchSection_ServerDropsMidLiteral(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 200000)
	srv := sectionServer(t, body, 100000, nil)
	c := transports[0].mustDial(t, srv, nil)
	mustLoginSelect(t, c)
	var readErr error
	var n int
	err := c.FetchSection(context.Background(), 5, "1", func(r io.Reader, _ int64) error {
		b, err := io.ReadAll(r)
		n, readErr = len(b), err
		return err
	})
	if !errors.Is(readErr, io.ErrUnexpectedEOF) || err == nil {
		t.Fatalf("read err %v, call err %v, want io.ErrUnexpectedEOF", readErr, err)
	}
	if n != 100000 {
		t.Fatalf("read %d bytes before the cut, want 100000", n)
	}
}

// TestFetchSection_Cancel: ctx ending while the server stalls mid-literal
// ends the consumer's read and the call with ctx's error.
func TestFetchSection_Cancel(t *testing.T) {
	body := bytes.Repeat([]byte("y"), 100000)
	hold := make(chan struct{})
	defer close(hold)
	srv := sectionServer(t, body, 5000, hold)
	c := transports[0].mustDial(t, srv, nil)
	mustLoginSelect(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	var readErr error
	err := c.FetchSection(ctx, 5, "1", func(r io.Reader, _ int64) error {
		b := make([]byte, 5000)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		time.AfterFunc(20*time.Millisecond, cancel)
		_, readErr = r.Read(b)
		return readErr
	})
	if !errors.Is(readErr, context.Canceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("read err %v, call err %v; want context.Canceled", readErr, err)
	}
}

// TestFetchSection_Limits: a literal above MaxLiteralSize is refused before
// any byte reaches the consumer.
func TestFetchSection_Limits(t *testing.T) {
	srv := sectionServer(t, bytes.Repeat([]byte("z"), 5000), -1, nil)
	o := transports[0].options(srv)
	o.Limits.MaxLiteralSize = 1000
	c := transports[0].mustDial(t, srv, o)
	mustLoginSelect(t, c)
	called := false
	err := c.FetchSection(context.Background(), 5, "1", func(io.Reader, int64) error { called = true; return nil })
	if !errors.Is(err, ErrLiteralTooLarge) || called {
		t.Fatalf("err %v, called %v; want ErrLiteralTooLarge before fn", err, called)
	}
}

func TestFetchSection_BadSection(t *testing.T) {
	c := &Client{}
	for _, s := range []string{"1]", "1 2", "BODY", "0", "1..2", "TEXT)", "HEADER.FIELDS (A)"} {
		if err := c.FetchSection(context.Background(), 1, s, nil); !errors.Is(err, ErrBadSection) {
			t.Errorf("%q: %v, want ErrBadSection", s, err)
		}
	}
}

// appendServer records the literal of an APPEND.
func appendServer(t *testing.T, caps string, got *[]byte, lines *[]string) *imaptest.Server {
	return transports[0].server(t, imaptest.Config{Capabilities: caps, Handlers: map[string]imaptest.HandlerFunc{
		"APPEND": func(c *imaptest.Conn, cmd *imaptest.Command) {
			*lines = append(*lines, string(cmd.Line))
			data, _, err := c.ReadLiteral(cmd)
			if err != nil {
				return
			}
			*got = data
			c.Tagged(cmd, "OK [APPENDUID 7 42] done")
		},
	}})
}

func TestAppendStream(t *testing.T) {
	msg := bytes.Repeat([]byte("Subject: x\r\n\r\nline\r\n"), 10000)
	for _, tt := range []struct {
		name, caps, marker string
	}{
		{"synchronizing", "", fmt.Sprintf("{%d}", len(msg))},
		{"LITERAL+", "LITERAL+", fmt.Sprintf("{%d+}", len(msg))},
		{"LITERAL- over 4 KiB", "LITERAL-", fmt.Sprintf("{%d}", len(msg))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			var lines []string
			srv := appendServer(t, tt.caps, &got, &lines)
			c := transports[0].mustDial(t, srv, nil)
			mustLogin(t, c)
			au, err := c.AppendStream(context.Background(), "Drafts", nil, time.Time{}, iotest.HalfReader(bytes.NewReader(msg)), int64(len(msg)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) || au == nil || au.UIDs.String() != "42" {
				t.Fatalf("server got %d bytes, au %+v", len(got), au)
			}
			if len(lines) != 1 || !strings.HasSuffix(lines[0], tt.marker) {
				t.Fatalf("command line %q, want marker %s", lines, tt.marker)
			}
		})
	}
}

// TestAppendStream_ShortSource: a source that ends early, or fails, closes
// the connection with ErrShortSource; the server stores nothing.
func TestAppendStream_ShortSource(t *testing.T) {
	for _, src := range []io.Reader{
		strings.NewReader("only ten b"),
		io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errors.New("browser went away"))),
	} {
		var got []byte
		var lines []string
		srv := appendServer(t, "LITERAL+", &got, &lines)
		c := transports[0].mustDial(t, srv, nil)
		mustLogin(t, c)
		_, err := c.AppendStream(context.Background(), "", nil, time.Time{}, src, 100)
		if !errors.Is(err, ErrShortSource) || !errors.Is(err, ErrAbort) {
			t.Fatalf("err %v, want ErrShortSource (abort)", err)
		}
		<-c.Done()
		if got != nil {
			t.Fatalf("server stored %q", got)
		}
	}
}

func mustLoginSelect(t *testing.T, c *Client) {
	t.Helper()
	mustLogin(t, c)
	if _, err := c.SelectMailbox(context.Background(), "", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
}
