package bridge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// Tests of find, sort and thread (issue 16 items 1 and 2): against Dovecot,
// every criterion kind and every sort key compared with Dovecot's own answer
// to the same program sent raw through the imaplib relay on the same
// session; against the devserver (no SORT, no THREAD) the bridge's fallback.

// seedMsg is one message of the seeded mailbox.
type seedMsg struct {
	from, to, cc, bcc, subject, id, inReplyTo, refs, date, body string
	flags                                                       []string
	arrival                                                     string // RFC 3339
	pad                                                         int
}

func (m seedMsg) bytes() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", m.from, m.to)
	if m.cc != "" {
		fmt.Fprintf(&b, "Cc: %s\r\n", m.cc)
	}
	if m.bcc != "" {
		fmt.Fprintf(&b, "Bcc: %s\r\n", m.bcc)
	}
	fmt.Fprintf(&b, "Subject: %s\r\nMessage-ID: %s\r\nDate: %s\r\n", m.subject, m.id, m.date)
	if m.inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\n", m.inReplyTo)
	}
	if m.refs != "" {
		fmt.Fprintf(&b, "References: %s\r\n", m.refs)
	}
	b.WriteString("X-Tracker: t-" + m.id[1:3] + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(m.body + "\r\n" + strings.Repeat("x", m.pad) + "\r\n")
	return []byte(b.String())
}

// seedCorpus has a three-message thread (m1 ← m2 ← m4), a reply whose parent
// is missing (m6), distinct dates, sizes, flags and keywords, and a UTF-8
// body word.
var seedCorpus = []seedMsg{
	{from: "Alice <alice@example.org>", to: "Bob <bob@example.org>", subject: "Budget planning", id: "<m1@x>",
		date: "Fri, 01 Mar 2024 09:00:00 +0000", body: "The quarterly budget draft.", flags: []string{`\Seen`}, arrival: "2024-03-01T12:00:00Z"},
	{from: "Bob <bob@example.org>", to: "Alice <alice@example.org>", cc: "Carol <carol@example.org>", subject: "Re: Budget planning",
		id: "<m2@x>", inReplyTo: "<m1@x>", refs: "<m1@x>", date: "Sat, 02 Mar 2024 09:00:00 +0000",
		body: "Looks fine, see zebra numbers.", flags: []string{`\Seen`, `\Answered`}, arrival: "2024-03-02T12:00:00Z", pad: 2000},
	{from: "Carol <carol@example.org>", to: "Alice <alice@example.org>", bcc: "Dave <dave@example.org>", subject: "Lunch",
		id: "<m3@x>", date: "Sun, 03 Mar 2024 09:00:00 +0000", body: "Grüße aus Köln, Mittagessen?", flags: []string{"$Important"}, arrival: "2024-03-03T12:00:00Z"},
	{from: "Alice <alice@example.org>", to: "Bob <bob@example.org>", subject: "Re: Re: Budget planning", id: "<m4@x>",
		inReplyTo: "<m2@x>", refs: "<m1@x> <m2@x>", date: "Mon, 04 Mar 2024 09:00:00 +0000", body: "Agreed.",
		flags: []string{`\Flagged`, `\Seen`}, arrival: "2024-03-04T12:00:00Z", pad: 6000},
	{from: "Dave <dave@example.org>", to: "Carol <carol@example.org>", subject: "Zebra report", id: "<m5@x>",
		date: "Tue, 05 Mar 2024 09:00:00 +0000", body: "Attached figures.", flags: []string{`\Draft`, "$Important"}, arrival: "2024-03-05T12:00:00Z"},
	{from: "Erin <erin@example.org>", to: "Alice <alice@example.org>", subject: "Re: Offsite", id: "<m6@x>",
		inReplyTo: "<gone@x>", refs: "<gone@x>", date: "Wed, 06 Mar 2024 09:00:00 +0000", body: "Count me in.",
		flags: []string{`\Deleted`}, arrival: "2024-03-06T12:00:00Z"},
}

// seed appends seedCorpus to mailbox (created unless INBOX) and selects it.
func seed(t *testing.T, c *wsClient, mailbox string) {
	t.Helper()
	if mailbox != "INBOX" {
		c.ok(map[string]any{"op": "create", "mailbox": mailbox})
	}
	for _, m := range seedCorpus {
		c.ok(map[string]any{"op": "append", "mailbox": mailbox, "flags": m.flags, "date": m.arrival, "message": b64(m.bytes())})
	}
	c.ok(map[string]any{"op": "select", "mailbox": mailbox, "condstore": true})
}

// rawUIDs sends "UID <cmd> <args>" through the imaplib relay and returns the
// numbers of its answer, in order.
func rawUIDs(t *testing.T, c *wsClient, cmd string, args ...any) []uint32 {
	t.Helper()
	f := c.call(map[string]any{"op": "imaplib", "cmd": "uid", "args": append([]any{cmd}, args...)})
	if f.str("typ") != "OK" {
		t.Fatalf("raw uid %s %v: %s", cmd, args, f)
	}
	data, _ := f.m["data"].([]any)
	var out []uint32
	for _, d := range data {
		s, _ := d.(string)
		if i := strings.Index(s, "(MODSEQ"); i >= 0 {
			s = s[:i]
		}
		for _, w := range strings.Fields(s) {
			n, err := strconv.ParseUint(w, 10, 32)
			if err != nil {
				t.Fatalf("raw answer %q", s)
			}
			out = append(out, uint32(n))
		}
	}
	return out
}

// setNums expands a compact UID set.
func setNums(t *testing.T, s string) []uint32 {
	t.Helper()
	if s == "" {
		return nil
	}
	set, err := imap.ParseUIDSet(s)
	if err != nil {
		t.Fatal(err)
	}
	uids, err := set.Expand(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, len(uids))
	for i, u := range uids {
		out[i] = uint32(u)
	}
	slices.Sort(out)
	return out
}

func numsOf(v any) []uint32 {
	var out []uint32
	for _, x := range list(v) {
		n, _ := x.(json.Number).Int64()
		out = append(out, uint32(n))
	}
	return out
}

// criteriaCases are every criterion kind with the raw program Dovecot gets.
var criteriaCases = []struct {
	name  string
	where map[string]any
	raw   string
}{
	{"from", map[string]any{"from": []string{"alice"}}, "FROM alice"},
	{"to", map[string]any{"to": []string{"carol"}}, "TO carol"},
	{"cc", map[string]any{"cc": []string{"carol"}}, "CC carol"},
	{"bcc", map[string]any{"bcc": []string{"dave"}}, "BCC dave"},
	{"subject", map[string]any{"subject": []string{"budget"}}, "SUBJECT budget"},
	{"body", map[string]any{"body": []string{"zebra"}}, "BODY zebra"},
	{"text", map[string]any{"text": []string{"zebra"}}, "TEXT zebra"},
	{"body-utf8", map[string]any{"body": []string{"Grüße"}}, "BODY Mittagessen"}, // the relay sends no 8-bit atom: the same message's ASCII word
	{"header", map[string]any{"header": []map[string]string{{"name": "X-Tracker", "value": "t-m3"}}}, "HEADER X-Tracker t-m3"},
	{"header-exists", map[string]any{"header": []map[string]string{{"name": "In-Reply-To", "value": ""}}}, `HEADER In-Reply-To ""`},
	{"since", map[string]any{"since": "2024-03-04"}, "SINCE 4-Mar-2024"},
	{"before", map[string]any{"before": "2024-03-03"}, "BEFORE 3-Mar-2024"},
	{"on", map[string]any{"on": "2024-03-02"}, "ON 2-Mar-2024"},
	{"sentSince", map[string]any{"sentSince": "2024-03-05"}, "SENTSINCE 5-Mar-2024"},
	{"sentBefore", map[string]any{"sentBefore": "2024-03-02"}, "SENTBEFORE 2-Mar-2024"},
	{"sentOn", map[string]any{"sentOn": "2024-03-03"}, "SENTON 3-Mar-2024"},
	{"larger", map[string]any{"larger": 1500}, "LARGER 1500"},
	{"smaller", map[string]any{"smaller": 1000}, "SMALLER 1000"},
	{"flags", map[string]any{"flags": []string{`\Seen`}}, "SEEN"},
	{"flags-answered", map[string]any{"flags": []string{`\Answered`, `\Seen`}}, "ANSWERED SEEN"},
	{"notFlags", map[string]any{"notFlags": []string{`\Seen`}}, "UNSEEN"},
	{"flagged-draft-deleted", map[string]any{"or": [][]map[string]any{{{"flags": []string{`\Flagged`}}, {"flags": []string{`\Draft`}}}}, "notFlags": []string{`\Deleted`}}, "OR FLAGGED DRAFT UNDELETED"},
	{"keyword", map[string]any{"flags": []string{"$Important"}}, "KEYWORD $Important"},
	{"unkeyword", map[string]any{"notFlags": []string{"$Important"}}, "UNKEYWORD $Important"},
	{"uids", map[string]any{"uids": "2:4"}, "UID 2:4"},
	{"modSeq", nil, ""}, // set from the mailbox's HIGHESTMODSEQ
	{"not", map[string]any{"not": []map[string]any{{"from": []string{"alice"}}}}, "NOT FROM alice"},
	{"or", map[string]any{"or": [][]map[string]any{{{"from": []string{"dave"}}, {"to": []string{"dave"}}}}}, "OR FROM dave TO dave"},
	{"and", map[string]any{"from": []string{"alice"}, "subject": []string{"re"}}, "FROM alice SUBJECT re"},
	{"nested", map[string]any{"not": []map[string]any{{"or": [][]map[string]any{{{"flags": []string{`\Seen`}}, {"larger": 1500}}}}}}, "NOT (OR SEEN LARGER 1500)"},
	{"all", map[string]any{}, "ALL"},
}

// TestDovecotFind: every criterion kind gives Dovecot's own UIDs, with
// ESEARCH totals, min and max, and pages newest first.
func TestDovecotFind(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, _ := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	seed(t, c, "Search")
	// One later change, for MODSEQ: only UID 5 has a mod-sequence above hms.
	hms := c.ok(map[string]any{"op": "status", "mailbox": "Search", "items": []string{"HIGHESTMODSEQ"}})["highestModSeq"].(json.Number).String()
	c.ok(map[string]any{"op": "store", "uids": "5", "mode": "add", "flags": []string{"$Marked"}, "silent": true})
	for _, tc := range criteriaCases {
		if tc.name == "modSeq" {
			n, _ := strconv.Atoi(hms)
			tc.where, tc.raw = map[string]any{"modSeq": n + 1}, "MODSEQ "+strconv.Itoa(n+1)
		}
		r := c.ok(map[string]any{"op": "find", "where": tc.where})
		got := setNums(t, r["uids"].(string))
		want := rawUIDs(t, c, "search", tc.raw)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: find %v, Dovecot %v", tc.name, got, want)
		}
		if tc.name != "all" && (len(want) == 0 || len(want) == len(seedCorpus)) {
			t.Errorf("%s: Dovecot matched %v: not a proper subset, the case tests nothing", tc.name, want)
		}
		if r["esearch"] != true {
			t.Errorf("%s: Dovecot offers ESEARCH but esearch = %v", tc.name, r["esearch"])
		}
		if n := r["total"].(json.Number).String(); n != strconv.Itoa(len(want)) {
			t.Errorf("%s: total %s, want %d", tc.name, n, len(want))
		}
		if len(want) > 0 && (r["min"] != jsonNum(int(want[0])) || r["max"] != jsonNum(int(want[len(want)-1]))) {
			t.Errorf("%s: min/max %v/%v, want %d/%d", tc.name, r["min"], r["max"], want[0], want[len(want)-1])
		}
	}
	// ESEARCH's own answer, raw, agrees with the totals.
	c.call(map[string]any{"op": "imaplib", "cmd": "uid", "args": []any{"search", "RETURN (MIN MAX COUNT)", "SUBJECT", "budget"}})
	f := c.call(map[string]any{"op": "imaplib", "cmd": "response", "args": []any{"ESEARCH"}})
	data, _ := f.m["data"].([]any)
	if len(data) != 1 || !strings.Contains(fmt.Sprint(data[0]), "MIN 1 MAX 4 COUNT 3") {
		t.Errorf("raw ESEARCH = %s", f)
	}
	// Pages count from the highest UID.
	r := c.ok(map[string]any{"op": "find", "limit": 2})
	if r["uids"] != "5:6" || r["total"] != jsonNum(6) {
		t.Errorf("page 1 = %v", r)
	}
	r = c.ok(map[string]any{"op": "find", "offset": 2, "limit": 3})
	if r["uids"] != "2:4" {
		t.Errorf("page 2 = %v", r)
	}
	r = c.ok(map[string]any{"op": "find", "offset": 10})
	if r["uids"] != "" || r["total"] != jsonNum(6) {
		t.Errorf("page past the end = %v", r)
	}
	// Refusals before any IMAP traffic.
	for _, where := range []map[string]any{
		{"since": "1 Mar 2024"}, {"flags": []string{"bad flag"}}, {"or": [][]map[string]any{{{"from": []string{"a"}}}}},
		{"from": []string{"a\r\nb"}}, {"uids": "x"}, {"header": []map[string]string{{"name": "", "value": "v"}}},
	} {
		c.fails(map[string]any{"op": "find", "where": where}, string(protocol.CodeBadRequest))
	}
}

// TestDovecotSortThread: typed SORT and THREAD give Dovecot's raw answers.
func TestDovecotSortThread(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, _ := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	seed(t, c, "INBOX")
	for _, tc := range []struct {
		keys []map[string]any
		raw  string
	}{
		{[]map[string]any{{"key": "arrival"}}, "(ARRIVAL)"},
		{[]map[string]any{{"key": "date", "reverse": true}}, "(REVERSE DATE)"},
		{[]map[string]any{{"key": "from"}, {"key": "date"}}, "(FROM DATE)"},
		{[]map[string]any{{"key": "subject"}, {"key": "arrival"}}, "(SUBJECT ARRIVAL)"},
		{[]map[string]any{{"key": "size", "reverse": true}}, "(REVERSE SIZE)"},
		{[]map[string]any{{"key": "to"}}, "(TO)"},
		{[]map[string]any{{"key": "cc"}}, "(CC)"},
		{[]map[string]any{{"key": "displayfrom"}}, "(DISPLAYFROM)"},
	} {
		r := c.ok(map[string]any{"op": "sort", "keys": tc.keys})
		want := rawUIDs(t, c, "sort", tc.raw, "UTF-8", "ALL")
		if got := numsOf(r["uids"]); !slices.Equal(got, want) || r["fallback"] != false {
			t.Errorf("sort %s: %v (fallback %v), Dovecot %v", tc.raw, got, r["fallback"], want)
		}
	}
	r := c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "date", "reverse": true}},
		"where": map[string]any{"subject": []string{"budget"}}, "offset": 1, "limit": 1})
	if got := numsOf(r["uids"]); !slices.Equal(got, []uint32{2}) || r["total"] != jsonNum(3) {
		t.Errorf("paged sort with criteria = %v", r)
	}
	for _, alg := range []string{"references", "orderedsubject"} {
		r := c.ok(map[string]any{"op": "thread", "algorithm": alg})
		f := c.call(map[string]any{"op": "imaplib", "cmd": "uid", "args": []any{"thread", strings.ToUpper(alg), "UTF-8", "ALL"}})
		data, _ := f.m["data"].([]any)
		if len(data) != 1 {
			t.Fatalf("raw thread: %s", f)
		}
		if got := formatThreadJSON(r["threads"]); got != data[0] {
			t.Errorf("thread %s: %s, Dovecot %s", alg, got, data[0])
		}
		if r["fallback"] != false || r["messages"] != jsonNum(len(seedCorpus)) {
			t.Errorf("thread %s: %v", alg, r)
		}
	}
	// Newest thread first, paged.
	r = c.ok(map[string]any{"op": "thread", "reverse": true, "limit": 1})
	all := c.ok(map[string]any{"op": "thread"})
	if th := list(r["threads"]); len(th) != 1 || fmt.Sprint(th[0]) != fmt.Sprint(list(all["threads"])[len(list(all["threads"]))-1]) {
		t.Errorf("reverse page = %v (all %v)", r, all)
	}
}

// formatThreadJSON renders thread nodes in RFC 5256 syntax.
func formatThreadJSON(v any) string {
	var b strings.Builder
	var node func(n map[string]any, top bool)
	node = func(n map[string]any, top bool) {
		uid := n["uid"].(json.Number).String()
		kids := list(n["children"])
		if uid != "0" {
			if !top {
				b.WriteByte(' ')
			}
			b.WriteString(uid)
		}
		if len(kids) == 1 {
			node(kids[0].(map[string]any), uid == "0" && top)
			return
		}
		for i, k := range kids {
			if i == 0 && uid != "0" {
				b.WriteByte(' ')
			}
			b.WriteByte('(')
			node(k.(map[string]any), true)
			b.WriteByte(')')
		}
	}
	for _, t := range list(v) {
		b.WriteByte('(')
		node(t.(map[string]any), true)
		b.WriteByte(')')
	}
	return b.String()
}

// TestFallbackSortThreadDevserver: the devserver offers neither SORT nor
// THREAD; the bridge sorts and threads from envelopes fetched once, and
// refuses a mailbox above SortFallbackMessages.
func TestFallbackSortThreadDevserver(t *testing.T) {
	t.Parallel()
	ds, ups := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{ups}, Limits: Limits{SortFallbackMessages: 50}})
	c := h.openDev(ds, "write delete")
	if caps := fmt.Sprint(c.ok(map[string]any{"op": "imaplib", "cmd": "capability"})); strings.Contains(caps, "SORT") || strings.Contains(caps, "THREAD") {
		t.Skipf("the devserver offers SORT or THREAD now: %s", caps)
	}
	seed(t, c, "Fallback")
	r := c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "size", "reverse": true}}})
	if got := numsOf(r["uids"]); r["fallback"] != true || len(got) != 6 || got[0] != 4 || got[1] != 2 {
		t.Errorf("fallback sort by size = %v", r)
	}
	r = c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "date", "reverse": true}}, "where": map[string]any{"subject": []string{"budget"}}})
	if got := numsOf(r["uids"]); !slices.Equal(got, []uint32{4, 2, 1}) {
		t.Errorf("fallback sort with criteria = %v", r)
	}
	r = c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "subject"}, {"key": "arrival"}}})
	if got := numsOf(r["uids"]); !slices.Equal(got, []uint32{1, 2, 4, 3, 6, 5}) {
		t.Errorf("fallback sort by base subject = %v", r)
	}
	r = c.ok(map[string]any{"op": "thread", "algorithm": "references"})
	if got := formatThreadJSON(r["threads"]); r["fallback"] != true || got != "(1 2 4)(3)(5)(6)" {
		t.Errorf("fallback thread = %s (%v)", got, r)
	}
	// Over the limit: a typed limit error, not a silent partial sort.
	for i := range 45 {
		c.ok(map[string]any{"op": "append", "mailbox": "Fallback", "message": b64(testMessage("bulk "+strconv.Itoa(i), "x"))})
	}
	c.ok(map[string]any{"op": "noop"})
	c.fails(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "date"}}}, string(protocol.CodeLimit))
	c.fails(map[string]any{"op": "thread"}, string(protocol.CodeLimit))
	// With criteria under the limit it works again, from the cached envelopes.
	r = c.ok(map[string]any{"op": "sort", "keys": []map[string]any{{"key": "date"}}, "where": map[string]any{"subject": []string{"bulk 1"}}})
	if r["total"] != jsonNum(11) {
		t.Errorf("sort of bulk 1* = %v", r)
	}
}
