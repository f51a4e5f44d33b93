package protocol

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden fixtures under testdata/")

// canonical indents compact JSON the way the fixtures are stored.
func canonical(t *testing.T, compact []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, compact, "", "  "); err != nil {
		t.Fatalf("indent: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its fixture\n got: %s\nwant: %s", name, got, want)
	}
}

func TestGoldenRequests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "request_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no request fixtures: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, err := DecodeRequest(data, 0)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			seen[req.Op()] = true
			op := strings.TrimSuffix(strings.TrimPrefix(name, "request_"), ".json")
			if base, _, _ := strings.Cut(op, "_"); base != req.Op() {
				t.Errorf("fixture %s holds op %q", name, req.Op())
			}
			out, err := Encode(req)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			golden(t, name, canonical(t, out))
		})
	}
	for _, op := range Ops {
		if !seen[op] {
			t.Errorf("no request fixture for op %q", op)
		}
	}
}

func u32(v uint32) *uint32 { return &v }
func u64(v uint64) *uint64 { return &v }
func str(s string) *string { return &s }

// serverFrames are the Go values behind the server-frame fixtures.
func serverFrames(t *testing.T) map[string]any {
	t.Helper()
	resp := func(id string, r Result) *Response {
		rf, err := NewResponse(id, r)
		if err != nil {
			t.Fatal(err)
		}
		return rf
	}
	msg := MessageInfo{
		Seq: 1, UID: 7, Flags: []string{`\Seen`}, InternalDate: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Size: u32(1234), ModSeq: 42,
		Envelope: &EnvelopeInfo{
			Date: "2026-11-22T10:00:00+01:00", Subject: "Quarterly report <draft> & notes",
			From:    []AddressInfo{{Name: "Alice", Addr: "alice@example.com"}},
			Sender:  []AddressInfo{{Name: "Alice", Addr: "alice@example.com"}},
			ReplyTo: []AddressInfo{{Name: "Alice", Addr: "alice@example.com"}},
			To:      []AddressInfo{{Addr: "bob@example.com"}, {Name: "Carol", Addr: "carol@example.com", Group: "Team"}},
			Cc:      []AddressInfo{}, Bcc: []AddressInfo{},
			MessageID: "<r1@example.com>",
		},
		BodyStructure: &PartInfo{
			Part: "", Type: "multipart", Subtype: "mixed", Params: map[string]string{"boundary": "b1"},
			Parts: []PartInfo{
				{Part: "1", Type: "text", Subtype: "plain", Params: map[string]string{"charset": "utf-8"}, Encoding: "7bit", Size: 120, Lines: 4},
				{Part: "2", Type: "application", Subtype: "pdf", Encoding: "base64", Size: 900, Disposition: "attachment",
					DispositionParams: map[string]string{"filename": "report.pdf"}, Filename: "report.pdf"},
			},
		},
		Body: []BodyPart{
			{Section: "1", Offset: u32(0), Text: str("Hello Bob,\r\nsee attached.\r\n")},
			{Section: "2", Base64: str("JVBERi0xLjcK/w==")},
		},
	}
	frames := map[string]any{
		"hello.json": Hello{Protocol: Subprotocol, Session: "s-3f9a2c", User: "alice",
			Capabilities: []string{"IMAP4REV1", "IDLE", "CONDSTORE", "QRESYNC", "UIDPLUS", "MOVE", "SPECIAL-USE", "LIST-STATUS"},
			Limits:       DefaultLimits()},
		"response_select.json": resp("s1", SelectResult{Mailbox: "INBOX", Exists: 42, Recent: 1, UIDValidity: 1, UIDNext: 43,
			HighestModSeq: 90, Flags: []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`},
			PermanentFlags: []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`, `\*`},
			Vanished:       []string{"3:5"}, Changed: []MessageInfo{{Seq: 2, UID: 8, Flags: []string{}, ModSeq: 88}}}),
		"response_list.json": resp("s2", ListResult{Mailboxes: []MailboxInfo{
			{Name: "INBOX", Delimiter: "/", Attributes: []string{`\HasNoChildren`},
				Status: &StatusResult{Mailbox: "INBOX", Messages: u32(42), Unseen: u32(3)}},
			{Name: "Sent", Delimiter: "/", Attributes: []string{`\HasNoChildren`, `\Sent`}, SpecialUse: `\Sent`},
			{Name: "Entwürfe", Delimiter: "/", Attributes: []string{`\Drafts`}, SpecialUse: `\Drafts`},
		}}),
		"response_status.json": resp("s3", StatusResult{Mailbox: "INBOX", Messages: u32(42), Recent: u32(1), UIDNext: u32(43),
			UIDValidity: u32(1), Unseen: u32(3), HighestModSeq: u64(90)}),
		"response_fetch.json":          resp("f1", FetchResult{Messages: []MessageInfo{msg, {Seq: 2, UID: 9, Error: "imap: malformed response: FETCH ENVELOPE"}}}),
		"response_search.json":         resp("q1", FromUIDs([]uint32{7, 1, 2, 3})),
		"response_store.json":          resp("t1", StoreResult{Messages: []MessageInfo{{Seq: 5, UID: 5, Flags: []string{`\Seen`}, ModSeq: 91}}, Modified: "6"}),
		"response_copy.json":           resp("c1", CopyResult{UIDValidity: 1700000000, SourceUIDs: "5:7", DestUIDs: "101:103"}),
		"response_copy_nouidplus.json": resp("c2", CopyResult{}),
		"response_append.json":         resp("p1", AppendResult{UIDValidity: 1700000000, UID: 44}),
		"response_empty.json":          resp("b1", EmptyResult{}),
		"response_submit.json": resp("m1", SubmitResult{MessageID: "<8f2c1a@example.com>", Accepted: []string{"bob@example.com"},
			Refused: []RefusedRecipient{{Email: "nobody@example.com", Code: 550, Enhanced: "5.1.1", Message: "User unknown"}},
			Sent:    &StoredRef{Mailbox: "Sent", UIDValidity: 1700000000, UID: 12}, DraftRemoved: true}),
		"response_saveDraft.json": resp("d1", DraftResult{MessageID: "<3b9e77@example.com>",
			Draft: StoredRef{Mailbox: "Drafts", UIDValidity: 1700000001, UID: 8}, Replaced: true}),
		"response_imaplib.json": ImaplibResponse{ID: "r1", Typ: "OK", Data: []Datum{
			PairDatum([]byte("1 (UID 7 BODY[] {5}"), []byte("hello")),
			BytesDatum([]byte(")")),
			PairDatum([]byte("2 (BODY[] {3}"), []byte{0xff, 0x00, 0xfe}),
			BytesDatum([]byte(")")),
		}},
		"response_imaplib_none.json": ImaplibResponse{ID: "r2", Typ: "OK", Data: []Datum{NullDatum()}},
		"response_imaplib_no.json":   ImaplibResponse{ID: "r3", Typ: "NO", Data: []Datum{BytesDatum([]byte("[TRYCREATE] Mailbox doesn't exist: Nope"))}},
		"event_exists.json":          Event{Seq: 1, Event: EventExists, Mailbox: "INBOX", Count: 42},
		"event_expunge.json":         Event{Seq: 2, Event: EventExpunge, Mailbox: "INBOX", UID: 17, SeqNum: 3},
		"event_flags.json":           Event{Seq: 3, Event: EventFlags, Mailbox: "INBOX", UID: 18, SeqNum: 3, Flags: []string{`\Seen`, `$Important`}, ModSeq: 93},
		"event_vanished.json":        Event{Seq: 4, Event: EventVanished, Mailbox: "INBOX", UIDs: "20:22,25"},
		"event_recent.json":          Event{Seq: 5, Event: EventRecent, Mailbox: "INBOX", Count: 1},
		"event_mailbox_reset.json":   Event{Seq: 6, Event: EventMailboxReset, Mailbox: "INBOX", UIDValidity: 1700000123},
		"event_alert.json":           Event{Seq: 7, Event: EventAlert, Text: "Mailbox is at 95% of quota"},
		"event_bye.json":             Event{Seq: 8, Event: EventBye, Text: "Server shutting down"},
		"event_state.json":           Event{Seq: 9, Event: EventState, State: StateIdle},
		"event_status.json": Event{Seq: 10, Event: EventStatus, Mailbox: "Archive",
			Status: &StatusValues{Messages: u32(12), Unseen: u32(3), UIDNext: u32(40), HighestModSeq: u64(77)}},
		"response_find.json": resp("q2", FindResult{UIDs: "40:42,45", Total: 9, Min: 3, Max: 45, ESEARCH: true}),
		"response_sort.json": resp("o1", SortResult{UIDs: []uint32{45, 41, 42, 3}, Total: 4}),
		"response_thread.json": resp("h1", ThreadResult{Threads: []ThreadNode{
			{UID: 6, Children: []ThreadNode{{UID: 9}, {UID: 11, Children: []ThreadNode{{UID: 12}}}}},
			{UID: 0, Children: []ThreadNode{{UID: 3}, {UID: 5}}}, {UID: 2}}, Total: 3, Messages: 7, Fallback: true}),
		"response_watch.json": resp("w1", WatchResult{Mode: WatchPoll, IntervalMs: 30000, Mailboxes: []StatusResult{
			{Mailbox: "INBOX", Messages: u32(42), Unseen: u32(3), UIDNext: u32(43), HighestModSeq: u64(90)},
			{Mailbox: "Archive", Messages: u32(12), Unseen: u32(0), UIDNext: u32(40), HighestModSeq: u64(77)}}}),
	}
	errs := map[ErrorCode]ErrorFrame{
		CodeAuth:        {Error: ErrorInfo{Code: CodeAuth, Message: "authenticate first"}},
		CodeForbidden:   {ID: "r9", Error: ErrorInfo{Code: CodeForbidden, Message: "imaplib command xatom is not relayed"}},
		CodeNotFound:    {ID: "s1", Error: ErrorInfo{Code: CodeNotFound, Message: "no such mailbox", IMAP: &IMAPError{Type: "NO", Code: "NONEXISTENT", Text: "Mailbox doesn't exist: Nope"}}},
		CodeBadRequest:  {ID: "x1", Error: ErrorInfo{Code: CodeBadRequest, Message: "duplicate key \"op\""}},
		CodeIMAPNo:      {ID: "m1", Error: NewIMAPError("NO", "TRYCREATE", "Mailbox doesn't exist: Archive", "move failed")},
		CodeIMAPBad:     {ID: "q1", Error: NewIMAPError("BAD", "", "Error in IMAP command SEARCH: Unknown argument", "search failed")},
		CodeAbort:       {ID: "f1", Error: ErrorInfo{Code: CodeAbort, Message: "IMAP connection lost"}},
		CodeTimeout:     {ID: "f2", Error: ErrorInfo{Code: CodeTimeout, Message: "command timed out after 60s"}},
		CodeLimit:       {ID: "n9", Error: ErrorInfo{Code: CodeLimit, Message: "more than 8 requests in flight"}},
		CodeUnavailable: {ID: "l1", Error: ErrorInfo{Code: CodeUnavailable, Message: "upstream unavailable"}},
		CodeSMTP: {ID: "m2", Error: ErrorInfo{Code: CodeSMTP, Message: "the SMTP server refused every recipient",
			SMTP: &SMTPError{Command: "RCPT", Code: 550, Enhanced: "5.1.1", Message: "User unknown",
				Refused: []RefusedRecipient{{Email: "nobody@example.com", Code: 550, Enhanced: "5.1.1", Message: "User unknown"}}}}},
		CodeNotConfigured: {ID: "m3", Error: ErrorInfo{Code: CodeNotConfigured, Message: "no SMTP submission server is configured for this upstream"}},
		// imaplib's IMAP4.error for a tagged BAD.
		CodeImaplib: {ID: "r4", Error: ErrorInfo{Code: CodeImaplib, Message: "imaplib raised IMAP4.error",
			IMAP: &IMAPError{Type: "BAD", Text: "Error in IMAP command FETCH: Invalid messageset (0.001 + 0.000 secs)."},
			Imaplib: &ImaplibException{Exception: ExceptionError,
				Message: "FETCH command error: BAD [b'Error in IMAP command FETCH: Invalid messageset (0.001 + 0.000 secs).']"}}},
	}
	for c, f := range errs {
		frames["error_"+string(c)+".json"] = f
	}
	imaplibErr := func(id, exc, msg string) ErrorFrame {
		return ErrorFrame{ID: id, Error: ErrorInfo{Code: CodeImaplib, Message: "imaplib raised IMAP4." + exc,
			Imaplib: &ImaplibException{Exception: exc, Message: msg}}}
	}
	frames["error_imaplib_state.json"] = imaplibErr("r5", ExceptionError, "command FETCH illegal in state AUTH, only allowed in states SELECTED")
	frames["error_imaplib_uid.json"] = imaplibErr("r6", ExceptionError, "Unknown IMAP4 UID command: BOGUS")
	frames["error_imaplib_abort.json"] = imaplibErr("r7", ExceptionAbort, "command: NOOP => socket error: EOF")
	frames["error_imaplib_readonly.json"] = imaplibErr("r8", ExceptionReadOnly, "Shared is not writable")
	frames["error_bad_request_mailbox.json"] = ErrorFrame{ID: "r9", Error: ErrorInfo{Code: CodeBadRequest,
		Message: "args[0]: mailbox names may not hold control characters (U+000D at byte 5)"}}
	return frames
}

func TestGoldenServerFrames(t *testing.T) {
	frames := serverFrames(t)
	for _, e := range Events {
		if _, ok := frames["event_"+e+".json"]; !ok {
			t.Errorf("no fixture for event %q", e)
		}
	}
	for _, c := range ErrorCodes {
		if _, ok := frames["error_"+string(c)+".json"]; !ok {
			t.Errorf("no fixture for error code %q", c)
		}
	}
	names := make([]string, 0, len(frames))
	for n := range frames {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			out, err := Encode(frames[name])
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			golden(t, name, canonical(t, out))
			// A Go client reads the fixture back to an equal frame.
			f, err := DecodeFrame(out)
			if err != nil {
				t.Fatalf("DecodeFrame: %v", err)
			}
			again, err := Encode(f)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Errorf("round trip differs\n got: %s\nwant: %s", again, out)
			}
		})
	}
}
