package imapengine

// Unit tests of the selected-mailbox state (the sequence-number → UID map)
// and of event routing to Options.OnEvent, against the scripted imaptest
// server.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// eventWait bounds how long a test waits for events to reach OnEvent.
const eventWait = 5 * time.Second

// eventLog collects the events delivered to Options.OnEvent.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func (l *eventLog) on(e Event) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
}

// all returns the events delivered so far.
func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

// strings returns the delivered events, described.
func (l *eventLog) strings() []string {
	var out []string
	for _, e := range l.all() {
		out = append(out, describeEvent(e))
	}
	return out
}

// waitFor polls until an event satisfying ok has arrived, or eventWait passes.
func (l *eventLog) waitFor(t *testing.T, what string, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		for _, e := range l.all() {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event; got %q", what, l.strings())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// describeEvent renders the fields of e that its kind uses.
func describeEvent(e Event) string {
	switch e.Kind {
	case EventExists, EventRecent:
		return fmt.Sprintf("%s %d", e.Kind, e.Count)
	case EventExpunge:
		return fmt.Sprintf("%s seq=%d uid=%d", e.Kind, e.Seq, e.UID)
	case EventFetch:
		return fmt.Sprintf("%s seq=%d uid=%d flags=%v", e.Kind, e.Seq, e.UID, e.Message.Flags)
	case EventVanished:
		return fmt.Sprintf("%s earlier=%v %s", e.Kind, e.Vanished.Earlier, e.Vanished.UIDs)
	}
	return fmt.Sprintf("%s %s", e.Kind, e.Text)
}

// replies is a fake-server handler whose untagged lines the test sets before
// each command; the command then completes with OK.
type replies struct {
	mu    sync.Mutex
	lines []string
}

// set queues the untagged lines the next command answers with.
func (r *replies) set(lines ...string) {
	r.mu.Lock()
	r.lines = lines
	r.mu.Unlock()
}

func (r *replies) handler() imaptest.HandlerFunc {
	return func(c *imaptest.Conn, cmd *imaptest.Command) {
		r.mu.Lock()
		lines := r.lines
		r.lines = nil
		r.mu.Unlock()
		for _, l := range lines {
			c.Send(l)
		}
		c.Tagged(cmd, "OK "+cmd.Name+" completed")
	}
}

// eventClient starts a fake server whose SELECT reports three messages, whose
// UID SEARCH ALL answers UIDs 10 20 30 and whose NOOP and FETCH answer what
// r holds; it returns a client with OnEvent logging to log, logged in and
// with INBOX selected.
func eventClient(t *testing.T, tr transport, r *replies) (*Client, *eventLog) {
	t.Helper()
	srv := tr.server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"SELECT": imaptest.SimpleHandler([]string{"* 3 EXISTS", "* 0 RECENT", "* OK [UIDVALIDITY 7] ok"}, "[READ-WRITE] SELECT completed"),
		"UID":    imaptest.SimpleHandler([]string{"* SEARCH 10 20 30"}, ""),
		"NOOP":   r.handler(),
		"FETCH":  r.handler(),
	}})
	log := &eventLog{}
	o := tr.options(srv)
	o.OnEvent = log.on
	c := tr.mustDial(t, srv, o)
	mustLogin(t, c)
	if _, err := c.SelectMailbox(context.Background(), "", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
	return c, log
}

// uidMap returns UIDOf for every sequence number of the selected mailbox.
func uidMap(c *Client) []imap.UID {
	out := make([]imap.UID, c.MailboxSize())
	for i := range out {
		out[i], _ = c.UIDOf(imap.SeqNum(i + 1))
	}
	return out
}

// TestEvents_Routing: each kind of unsolicited data received during a NOOP
// reaches OnEvent, with the state updated (after SyncUIDs, an expunge carries
// its UID and unsolicited FETCH its message's UID).
func TestEvents_Routing(t *testing.T) {
	tests := []struct {
		name     string
		sync     bool
		lines    []string
		want     []string
		wantUIDs []imap.UID
	}{
		{"exists", false, []string{"* 5 EXISTS"}, []string{"exists 5"}, []imap.UID{0, 0, 0, 0, 0}},
		{"recent", false, []string{"* 2 RECENT"}, []string{"recent 2"}, []imap.UID{0, 0, 0}},
		{"expunge unknown uid", false, []string{"* 2 EXPUNGE"}, []string{"expunge seq=2 uid=0"}, []imap.UID{0, 0}},
		{"expunge after sync", true, []string{"* 2 EXPUNGE"}, []string{"expunge seq=2 uid=20"}, []imap.UID{10, 30}},
		{"expunges renumber", true, []string{"* 1 EXPUNGE", "* 1 EXPUNGE"},
			[]string{"expunge seq=1 uid=10", "expunge seq=1 uid=20"}, []imap.UID{30}},
		{"fetch flags", true, []string{`* 3 FETCH (FLAGS (\Seen))`}, []string{`fetch seq=3 uid=30 flags=[\Seen]`}, []imap.UID{10, 20, 30}},
		{"fetch with uid", false, []string{`* 1 FETCH (UID 99 FLAGS ())`}, []string{"fetch seq=1 uid=99 flags=[]"}, []imap.UID{99, 0, 0}},
		{"vanished", true, []string{"* VANISHED 20:25"}, []string{"vanished earlier=false 20:25"}, []imap.UID{10, 30}},
		{"vanished earlier keeps map", true, []string{"* VANISHED (EARLIER) 10"}, []string{"vanished earlier=true 10"}, []imap.UID{10, 20, 30}},
		{"alert", false, []string{"* OK [ALERT] disk almost full"}, []string{"alert [ALERT] disk almost full"}, []imap.UID{0, 0, 0}},
		{"new message then uid", true, []string{"* 4 EXISTS", "* 4 FETCH (UID 31 FLAGS (\\Recent))"},
			[]string{"exists 4", `fetch seq=4 uid=31 flags=[\Recent]`}, []imap.UID{10, 20, 30, 31}},
	}
	forTransports(t, func(t *testing.T, tr transport) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := &replies{}
				c, log := eventClient(t, tr, r)
				ctx := context.Background()
				if tt.sync {
					if err := c.SyncUIDs(ctx); err != nil {
						t.Fatalf("SyncUIDs: %v", err)
					}
				}
				r.set(tt.lines...)
				if _, err := c.Noop(ctx); err != nil {
					t.Fatalf("noop: %v", err)
				}
				if got := uidMap(c); !slices.Equal(got, tt.wantUIDs) {
					t.Errorf("UID map = %v, want %v", got, tt.wantUIDs)
				}
				c.Shutdown() // delivers every queued event before returning
				got := slices.DeleteFunc(log.strings(), func(s string) bool {
					return s == "exists 3" || s == "recent 0" // from SELECT
				})
				if !slices.Equal(got, tt.want) {
					t.Errorf("events = %q, want %q", got, tt.want)
				}
			})
		}
	})
}

// TestEvents_Bye: an untagged BYE reaches OnEvent and fails the command.
func TestEvents_Bye(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transport) {
		r := &replies{}
		c, log := eventClient(t, tr, r)
		r.set("* BYE server shutting down")
		_, err := c.Noop(context.Background())
		if !errors.Is(err, ErrAbort) || !errors.Is(err, ErrServerBye) {
			t.Errorf("noop after BYE: %v, want ErrAbort and ErrServerBye", err)
		}
		log.waitFor(t, "bye", func(e Event) bool { return e.Kind == EventBye && e.Text == "server shutting down" })
	})
}

// TestEvents_HostileNumbers (security B10): out-of-range untagged numbers keep
// the mailbox state consistent, never panic, and the connection stays usable
// or ends with a protocol error.
func TestEvents_HostileNumbers(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []imap.UID // UID map afterwards, if the connection survives
	}{
		{"expunge beyond size", []string{"* 9 EXPUNGE"}, []imap.UID{10, 20, 30}},
		{"expunge zero", []string{"* 0 EXPUNGE"}, []imap.UID{10, 20, 30}},
		{"exists beyond uint32", []string{"* 4294967296 EXISTS"}, []imap.UID{10, 20, 30}},
		{"fetch beyond uint32", []string{"* 12345678901 FETCH (UID 1)"}, []imap.UID{10, 20, 30}},
		{"vanished earlier star", []string{"* VANISHED (EARLIER) 1:*"}, []imap.UID{10, 20, 30}},
		{"vanished star", []string{"* VANISHED 1:*"}, []imap.UID{}},
		{"fetch uid zero", []string{"* 2 FETCH (UID 0)"}, []imap.UID{10, 20, 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &replies{}
			c, _ := eventClient(t, transports[0], r)
			ctx := context.Background()
			if err := c.SyncUIDs(ctx); err != nil {
				t.Fatalf("SyncUIDs: %v", err)
			}
			r.set(tt.lines...)
			_, err := c.Noop(ctx)
			if err != nil {
				if !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrAbort) {
					t.Fatalf("noop: %v, want success or a protocol abort", err)
				}
				t.Logf("connection closed: %v", err)
				return
			}
			if got := uidMap(c); !slices.Equal(got, tt.want) {
				t.Errorf("UID map = %v, want %v", got, tt.want)
			}
			if _, err := c.Noop(ctx); err != nil {
				t.Errorf("next noop: %v", err)
			}
		})
	}
}

// TestEvents_ExpungeInsideFetch (security E9): "* 2 EXPUNGE" between the items
// of a FETCH (UID FLAGS) renumbers the map, so later items land on the right
// messages, and the expunge is reported with its UID; solicited FETCH data is
// no event.
func TestEvents_ExpungeInsideFetch(t *testing.T) {
	lines := []string{
		"* 1 FETCH (UID 10 FLAGS ())",
		"* 2 FETCH (UID 20 FLAGS ())",
		"* 2 EXPUNGE",
		`* 2 FETCH (UID 30 FLAGS (\Seen))`,
	}
	for _, view := range []string{"imaplib", "typed"} {
		t.Run(view, func(t *testing.T) {
			r := &replies{}
			c, log := eventClient(t, transports[0], r)
			ctx := context.Background()
			r.set(lines...)
			if view == "imaplib" {
				if _, err := c.Fetch(ctx, "1:3", "(UID FLAGS)"); err != nil {
					t.Fatalf("fetch: %v", err)
				}
			} else {
				msgs, err := c.FetchMessages(ctx, "1:3", "(UID FLAGS)", nil)
				if err != nil || len(msgs) != 3 {
					t.Fatalf("FetchMessages = %d messages, %v", len(msgs), err)
				}
			}
			if got, want := uidMap(c), []imap.UID{10, 30}; !slices.Equal(got, want) {
				t.Errorf("UID map = %v, want %v", got, want)
			}
			c.Shutdown()
			got := log.strings()
			if !slices.Contains(got, "expunge seq=2 uid=20") || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "fetch") }) {
				t.Errorf("events = %q, want the expunge of UID 20 and no fetch event", got)
			}
		})
	}
}

// TestEvents_SlowHandler: a handler slower than the queue makes the reader
// wait, and every event still arrives, in order.
func TestEvents_SlowHandler(t *testing.T) {
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"NOOP": func(c *imaptest.Conn, cmd *imaptest.Command) {
			for i := 1; i <= 20; i++ {
				c.Send(fmt.Sprintf("* %d EXISTS", i))
			}
			c.Tagged(cmd, "OK NOOP completed")
		},
	}})
	var mu sync.Mutex
	var counts []uint32
	o := transports[0].options(srv)
	o.EventQueue = 2
	o.OnEvent = func(e Event) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		counts = append(counts, e.Count)
		mu.Unlock()
	}
	c := transports[0].mustDial(t, srv, o)
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Shutdown()
	mu.Lock()
	defer mu.Unlock()
	if len(counts) != 20 || !slices.IsSorted(counts) {
		t.Errorf("counts = %v, want 1..20 in order", counts)
	}
}

// TestEvents_UnsolicitedFetchKeepsBytes: an unsolicited FETCH reaches both
// OnEvent (a parsed message, whose data may alias the response) and
// imaplib's untagged FETCH data; neither is changed by the other.
func TestEvents_UnsolicitedFetchKeepsBytes(t *testing.T) {
	r := &replies{}
	c, log := eventClient(t, transports[0], r)
	r.set(`* 2 FETCH (UID 20 BODY[TEXT] "hello there")`)
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := log.waitFor(t, "fetch", func(e Event) bool { return e.Kind == EventFetch })
	if sec := e.Message.Section("TEXT"); e.UID != 20 || sec == nil || string(sec.Data) != "hello there" {
		t.Errorf("event message = %+v", e.Message)
	}
	got := c.Response("FETCH")
	if len(got.Data) != 1 || string(got.Data[0].Bytes()) != `2 (UID 20 BODY[TEXT] "hello there")` {
		t.Errorf("untagged FETCH data = %v", got)
	}
}

// TestEvents_WaitEvents: after a command returns, WaitEvents returns only
// once OnEvent has seen every event from the untagged data before the
// command's tagged line, however slow the handler; data after it is not
// waited for. Without OnEvent it returns at once.
func TestEvents_WaitEvents(t *testing.T) {
	release := make(chan struct{})
	srv := transports[0].server(t, imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"NOOP": func(c *imaptest.Conn, cmd *imaptest.Command) {
			for i := 1; i <= 5; i++ {
				c.Send(fmt.Sprintf("* %d EXISTS", i))
			}
			c.Tagged(cmd, "OK NOOP completed")
			<-release
			c.Send("* 6 EXISTS") // after the tagged line
		},
	}})
	var mu sync.Mutex
	var counts []uint32
	block := make(chan struct{})
	o := transports[0].options(srv)
	o.OnEvent = func(e Event) {
		if e.Count == 6 {
			<-block
		}
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		counts = append(counts, e.Count)
		mu.Unlock()
	}
	c := transports[0].mustDial(t, srv, o)
	defer c.Shutdown()
	defer close(block)
	if _, err := c.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := c.WaitEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := slices.Clone(counts)
	mu.Unlock()
	if !slices.Equal(got, []uint32{1, 2, 3, 4, 5}) {
		t.Errorf("delivered before WaitEvents returned: %v, want 1..5", got)
	}
	// A cancelled context ends the wait when the handler is stuck.
	c.mu.Lock()
	c.evMark = c.evQueued + 1
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.WaitEvents(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitEvents with a stuck handler = %v, want the context's error", err)
	}
	c.mu.Lock()
	c.evMark = 0
	c.mu.Unlock()

	plain := transports[0].mustDial(t, srv, transports[0].options(srv))
	defer plain.Shutdown()
	if _, err := plain.Noop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plain.WaitEvents(context.Background()); err != nil {
		t.Errorf("WaitEvents without OnEvent = %v", err)
	}
}
