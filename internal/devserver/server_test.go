package devserver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// testTimeout bounds each test's IMAP work.
const testTimeout = 10 * time.Second

// startTest starts a server without automatic delivery and closes it when
// the test ends.
func startTest(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Deliver == 0 {
		opts.Deliver = -1
	}
	s, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// dial logs in to s with imapengine and shuts the client down at the end.
func dial(t *testing.T, s *Server, opts *imapengine.Options) *imapengine.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if opts == nil {
		opts = &imapengine.Options{}
	}
	opts.AllowPlaintextAuth = true
	c, err := imapengine.Dial(ctx, s.Addr(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
	user, pass := s.User()
	if _, err := c.Login(ctx, user, pass); err != nil {
		t.Fatalf("Login: %v", err)
	}
	return c
}

func TestResolveOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		user     string
		interval time.Duration
		err      error
	}{
		{"zero value", Options{}, DefaultUser, DefaultDeliverInterval, nil},
		{"custom", Options{User: "ann@example.com", Password: "pw", Deliver: time.Second}, "ann@example.com", time.Second, nil},
		{"never", Options{Deliver: -1}, DefaultUser, -1, nil},
		{"raised to minimum", Options{Deliver: time.Nanosecond}, DefaultUser, MinDeliverInterval, nil},
		{"control character", Options{User: "a\r\nb"}, "", 0, ErrInvalidOptions},
		{"too long", Options{Password: strings.Repeat("x", MaxUserLength+1)}, "", 0, ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, _, interval, err := resolve(tt.opts)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && (user != tt.user || interval != tt.interval) {
				t.Fatalf("got %q %v, want %q %v", user, interval, tt.user, tt.interval)
			}
		})
	}
}

func TestStartRejectsInvalidOptions(t *testing.T) {
	if _, err := Start(t.Context(), Options{User: "bad\x00"}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("err = %v, want ErrInvalidOptions", err)
	}
}

func TestLogin(t *testing.T) {
	s := startTest(t, Options{User: "ann", Password: "secret"})
	tests := []struct {
		user, pass string
		ok         bool
	}{
		{"ann", "secret", true},
		{"ann", "wrong", false},
		{"bob", "secret", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.pass, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			c, err := imapengine.Dial(ctx, s.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Shutdown()
			_, err = c.Login(ctx, tt.user, tt.pass)
			if (err == nil) != tt.ok {
				t.Fatalf("Login(%q, %q) err = %v, want ok=%v", tt.user, tt.pass, err, tt.ok)
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	s := startTest(t, Options{})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if _, err := c.Capability(ctx); err != nil {
		t.Fatal(err)
	}
	caps := c.Capabilities()
	t.Logf("capabilities after login: %s", strings.Join(caps, " "))
	for _, want := range []string{"IMAP4REV1", "IDLE", "MOVE", "UIDPLUS", "SPECIAL-USE", "LIST-STATUS", "NAMESPACE", "ENABLE", "UNSELECT", "CHILDREN"} {
		if !c.HasCapability(want) {
			t.Errorf("missing capability %s", want)
		}
	}
	for _, absent := range []string{"CONDSTORE", "QRESYNC", "STARTTLS"} {
		if c.HasCapability(absent) {
			t.Errorf("unexpected capability %s", absent)
		}
	}
}

func TestListFolders(t *testing.T) {
	s := startTest(t, Options{})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	boxes, err := c.ListMailboxes(ctx, "", "*", &imapengine.ListOptions{SpecialUse: true, Status: []string{"MESSAGES", "UNSEEN"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*imap.ListData{}
	for _, b := range boxes {
		got[b.Name] = b
	}
	tests := []struct {
		name, specialUse string
		messages         uint32
		children         bool
	}{
		{"INBOX", "", inboxSeedCount, false},
		{"Sent", `\Sent`, sentSeedCount, false},
		{"Drafts", `\Drafts`, draftsSeedCount, false},
		{"Archive", `\Archive`, archiveSeedCount, false},
		{"Trash", `\Trash`, trashSeedCount, false},
		{"Junk", `\Junk`, junkSeedCount, false},
		{"Projects", "", projectsSeedCount, true},
		{"Projects/Bridge", "", bridgeSeedCount, false},
	}
	if len(got) != len(tests) {
		t.Errorf("got %d mailboxes, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		b := got[tt.name]
		if b == nil {
			t.Errorf("%s missing", tt.name)
			continue
		}
		if su := b.SpecialUse(); !strings.EqualFold(su, tt.specialUse) {
			t.Errorf("%s special use = %q, want %q", tt.name, su, tt.specialUse)
		}
		if b.HasChildren() != tt.children {
			t.Errorf("%s HasChildren = %v", tt.name, b.HasChildren())
		}
		if b.Delim != "/" {
			t.Errorf("%s delimiter = %q", tt.name, b.Delim)
		}
		if b.Status == nil || b.Status.Messages != tt.messages {
			t.Errorf("%s status = %+v, want %d messages", tt.name, b.Status, tt.messages)
		}
	}
	if st := got["INBOX"].Status; st != nil && st.Unseen < unseenTail {
		t.Errorf("INBOX unseen = %d, want at least %d", st.Unseen, unseenTail)
	}
}

func TestInboxRefusals(t *testing.T) {
	s := startTest(t, Options{})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	tests := []struct {
		name string
		run  func() (imapengine.Result, error)
	}{
		{"delete", func() (imapengine.Result, error) { return c.Delete(ctx, "INBOX") }},
		{"rename", func() (imapengine.Result, error) { return c.Rename(ctx, "inbox", "Old") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run()
			if err == nil && res.Typ != "NO" {
				t.Fatalf("result %v, want NO", res)
			}
		})
	}
	if _, err := c.Select(ctx, "inbox", true); err != nil {
		t.Fatalf("select lower-case inbox: %v", err)
	}
}

func TestMailboxLifecycleKeepsList(t *testing.T) {
	s := startTest(t, Options{})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	steps := []func() (imapengine.Result, error){
		func() (imapengine.Result, error) { return c.Create(ctx, "Receipts") },
		func() (imapengine.Result, error) { return c.Rename(ctx, "Receipts", "Projects/Receipts") },
		func() (imapengine.Result, error) { return c.Delete(ctx, "Archive") },
	}
	for i, step := range steps {
		if _, err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	boxes, err := c.ListMailboxes(ctx, "", "Projects/%", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range boxes {
		names = append(names, b.Name)
	}
	if strings.Join(names, ",") != "Projects/Bridge,Projects/Receipts" {
		t.Fatalf("Projects/%% = %v", names)
	}
	all, err := c.ListMailboxes(ctx, "", "*", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if b.Name == "Archive" || b.Name == "Receipts" {
			t.Errorf("%s still listed", b.Name)
		}
	}
}

func TestFetchInbox(t *testing.T) {
	s := startTest(t, Options{Seed: 7})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	sel, err := c.SelectMailbox(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Exists != inboxSeedCount {
		t.Fatalf("EXISTS = %d, want %d", sel.Exists, inboxSeedCount)
	}
	msgs, err := c.FetchMessages(ctx, "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != inboxSeedCount {
		t.Fatalf("fetched %d messages", len(msgs))
	}
	var prev time.Time
	var seen, attachments int
	for _, m := range msgs {
		if m.Err != nil {
			t.Errorf("message %d: %v", m.Seq, m.Err)
		}
		if m.Envelope == nil || m.Envelope.Subject == "" || len(m.Envelope.From) != 1 {
			t.Errorf("message %d envelope = %+v", m.Seq, m.Envelope)
		}
		if m.InternalDate.Before(prev) || time.Since(m.InternalDate) > seedSpan+time.Hour {
			t.Errorf("message %d internal date %v out of order or range", m.Seq, m.InternalDate)
		}
		prev = m.InternalDate
		for _, f := range m.Flags {
			if strings.EqualFold(string(f), `\Seen`) {
				seen++
			}
		}
		if m.BodyStructure != nil && strings.EqualFold(m.BodyStructure.Subtype, "mixed") {
			attachments++
		}
	}
	if seen == 0 || seen > inboxSeedCount-unseenTail {
		t.Errorf("%d seen messages", seen)
	}
	if attachments == 0 {
		t.Error("no message with attachments")
	}
	body, err := c.FetchMessages(ctx, "1", "(BODY.PEEK[TEXT])", nil)
	if err != nil || len(body) != 1 || len(body[0].Sections) != 1 || len(body[0].Sections[0].Data) == 0 {
		t.Fatalf("BODY.PEEK[TEXT]: %v %+v", err, body)
	}
}

func TestAutomaticDelivery(t *testing.T) {
	s := startTest(t, Options{Deliver: MinDeliverInterval})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st, err := c.MailboxStatus(ctx, "INBOX", "MESSAGES")
		if err != nil {
			t.Fatal(err)
		}
		if st.Messages >= inboxSeedCount+2 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no automatic delivery")
}

// TestDeliverMax: automatic delivery stops after Options.DeliverMax
// messages; Deliver itself still works.
func TestDeliverMax(t *testing.T) {
	const limit = 2
	s := startTest(t, Options{Deliver: MinDeliverInterval, DeliverMax: limit})
	c := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	count := func() uint32 {
		st, err := c.MailboxStatus(ctx, "INBOX", "MESSAGES")
		if err != nil {
			t.Fatal(err)
		}
		return st.Messages
	}
	for deadline := time.Now().Add(testTimeout); count() < inboxSeedCount+limit; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("INBOX has %d messages, want %d", count(), inboxSeedCount+limit)
		}
	}
	// Ten more intervals: nothing more arrives (this can only miss a bug, never fail a correct server).
	time.Sleep(10 * MinDeliverInterval)
	if n := count(); n != inboxSeedCount+limit {
		t.Fatalf("INBOX has %d messages after the cap of %d deliveries", n, limit)
	}
	if err := s.Deliver(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != inboxSeedCount+limit+1 {
		t.Fatalf("Deliver after the cap: %d messages", n)
	}
	for _, tt := range []struct{ in, want int }{{0, DefaultDeliverMax}, {-1, -1}, {-7, -1}, {3, 3}} {
		if got := deliverMax(tt.in); got != tt.want {
			t.Errorf("deliverMax(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestTrimInbox(t *testing.T) {
	s := startTest(t, Options{})
	tests := []struct{ keep, want uint32 }{
		{inboxSeedCount + 5, inboxSeedCount},
		{inboxSeedCount, inboxSeedCount},
		{10, 10},
		{0, 0},
	}
	for _, tt := range tests {
		if err := trimInbox(s.user, tt.keep); err != nil {
			t.Fatal(err)
		}
		st, err := s.user.Status("INBOX", &goimap.StatusOptions{NumMessages: true})
		if err != nil {
			t.Fatal(err)
		}
		if *st.NumMessages != tt.want {
			t.Fatalf("keep %d: %d messages, want %d", tt.keep, *st.NumMessages, tt.want)
		}
	}
	if err := s.Deliver(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseAndContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, Options{Deliver: MinDeliverInterval})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s, nil)
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for !errors.Is(s.Deliver(), ErrClosed) {
		if time.Now().After(deadline) {
			t.Fatal("server still running after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client connection not closed by Close")
	}
}

func TestStartWithEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Start(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
