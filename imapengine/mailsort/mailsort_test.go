package mailsort

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBaseSubject(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hello", "HELLO"},
		{"Re: Hello", "HELLO"},
		{"RE:   re: Fwd: Hello  ", "HELLO"},
		{"Re[2]: Hello", "HELLO"},
		{"[list] Re: Hello (fwd)", "HELLO"},
		{"[Fwd: Re: Hello]", "HELLO"},
		{"[only]", "[ONLY]"},
		{"Reply needed", "REPLY NEEDED"},
		{"", ""},
	} {
		if got := BaseSubject(tc.in); got != tc.want {
			t.Errorf("BaseSubject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func day(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }

var msgs = []Message{
	{UID: 1, Date: day(1), Arrival: day(1), Size: 10, From: "alice", Subject: "Plan", MessageID: "<a>"},
	{UID: 2, Date: day(3), Arrival: day(2), Size: 30, From: "bob", Subject: "Re: Plan", MessageID: "<b>", References: []string{"<a>"}},
	{UID: 3, Date: day(2), Arrival: day(3), Size: 20, From: "Carol", Subject: "Other", MessageID: "<c>"},
	{UID: 4, Date: day(4), Arrival: day(4), Size: 5, From: "alice", Subject: "Re: Plan", MessageID: "<d>", InReplyTo: "<a>"},
	{UID: 5, Date: day(5), Arrival: day(5), Size: 1, From: "dave", Subject: "Re: lost", MessageID: "<e>", References: []string{"<gone>"}},
	{UID: 6, Date: day(6), Arrival: day(6), Size: 1, From: "erin", Subject: "Re: lost", MessageID: "<f>", References: []string{"<gone>"}},
}

func TestSort(t *testing.T) {
	for _, tc := range []struct {
		keys []imap.SortKey
		want []imap.UID
	}{
		{[]imap.SortKey{{Field: imap.SortDate}}, []imap.UID{1, 3, 2, 4, 5, 6}},
		{[]imap.SortKey{{Field: imap.SortArrival, Reverse: true}}, []imap.UID{6, 5, 4, 3, 2, 1}},
		{[]imap.SortKey{{Field: imap.SortSize}}, []imap.UID{5, 6, 4, 1, 3, 2}},
		{[]imap.SortKey{{Field: imap.SortFrom}, {Field: imap.SortDate, Reverse: true}}, []imap.UID{4, 1, 2, 3, 5, 6}},
		{[]imap.SortKey{{Field: imap.SortSubject}}, []imap.UID{5, 6, 3, 1, 2, 4}},
	} {
		if got := Sort(msgs, tc.keys); !slices.Equal(got, tc.want) {
			t.Errorf("Sort %v = %v, want %v", tc.keys, got, tc.want)
		}
	}
}

func render(ns []*imap.ThreadNode) string {
	s := ""
	for _, n := range ns {
		s += fmt.Sprintf("(%d", n.UID)
		if len(n.Children) > 0 {
			s += " " + render(n.Children)
		}
		s += ")"
	}
	return s
}

func TestThread(t *testing.T) {
	if got, want := render(Thread(msgs, imap.ThreadReferences)), "(1 (2)(4))(3)(0 (5)(6))"; got != want {
		t.Errorf("REFERENCES = %s, want %s", got, want)
	}
	if got, want := render(Thread(msgs, imap.ThreadOrderedSubject)), "(1 (2)(4))(3)(5 (6))"; got != want {
		t.Errorf("ORDEREDSUBJECT = %s, want %s", got, want)
	}
	// A reference loop does not hang or lose messages.
	loop := []Message{
		{UID: 1, MessageID: "<a>", References: []string{"<b>"}},
		{UID: 2, MessageID: "<b>", References: []string{"<a>"}},
	}
	n := 0
	for _, r := range Thread(loop, imap.ThreadReferences) {
		n += r.Count()
	}
	if n != 2 {
		t.Errorf("loop threads hold %d messages, want 2", n)
	}
}

func ExampleSort() {
	uids := Sort([]Message{
		{UID: 7, Subject: "Re: b"},
		{UID: 8, Subject: "a"},
	}, []imap.SortKey{{Field: imap.SortSubject}})
	fmt.Println(uids)
	// Output: [8 7]
}
