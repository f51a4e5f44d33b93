package protocol

import (
	"errors"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

func TestCompactSet(t *testing.T) {
	tests := []struct {
		in    []uint32
		want  string
		count uint64
	}{
		{nil, "", 0},
		{[]uint32{5}, "5", 1},
		{[]uint32{3, 1, 2, 7}, "1:3,7", 4},
		{[]uint32{1, 1, 2, 2}, "1:2", 2},
		{[]uint32{0, 4, 6, 5, 9, 10}, "4:6,9:10", 5},
		{[]uint32{4294967295, 4294967294}, "4294967294:4294967295", 2},
	}
	for _, tt := range tests {
		if got := CompactSet(tt.in); got != tt.want {
			t.Errorf("CompactSet(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if r := FromUIDs(tt.in); r.UIDs != tt.want || r.Count != tt.count {
			t.Errorf("FromUIDs(%v) = %+v", tt.in, r)
		}
	}
}

func TestFromMessage(t *testing.T) {
	when := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	m := &imap.Message{
		Seq: 3, UID: 30, HasFlags: true, Flags: nil, HasSize: true, Size: 0, ModSeq: 9,
		InternalDate: when,
		Envelope: &imap.Envelope{Time: when, Subject: "Hi", From: []imap.Address{
			{Name: "A", Mailbox: "a", Host: "x.test"},
			{Mailbox: "team", GroupStart: true, Group: "team"},
			{Mailbox: "b", Host: "x.test", Group: "team"},
			{GroupEnd: true, Group: "team"},
		}},
		BodyStructure: &imap.BodyStructure{PartNumber: "1", Type: "message", Subtype: "rfc822",
			Envelope: &imap.Envelope{Subject: "inner"},
			Message:  &imap.BodyStructure{PartNumber: "1.1", Type: "text", Subtype: "plain"}},
		Sections: []imap.BodySection{
			{Item: "BODY[TEXT]", Data: []byte("héllo")},
			{Item: "BODY[1]<10>", Partial: true, Origin: 10, Data: []byte{0xff}},
			{Item: "BODY[2]", NIL: true},
		},
		Err: errors.New("imap: malformed response"),
	}
	mi := FromMessage(m)
	if mi.Seq != 3 || mi.UID != 30 || mi.ModSeq != 9 || !mi.InternalDate.Equal(when) {
		t.Errorf("numbers: %+v", mi)
	}
	if mi.Flags == nil || len(mi.Flags) != 0 {
		t.Errorf("fetched empty flags must be [] not absent: %#v", mi.Flags)
	}
	if mi.Size == nil || *mi.Size != 0 {
		t.Errorf("size: %v", mi.Size)
	}
	if e := mi.Envelope; e == nil || e.Date != "2026-02-01T09:30:00Z" || len(e.From) != 2 || e.From[1].Group != "team" || e.From[1].Addr != "b@x.test" || e.To == nil {
		t.Errorf("envelope: %+v", mi.Envelope)
	}
	if p := mi.BodyStructure; p == nil || p.Message == nil || p.Message.Part != "1.1" || p.Envelope == nil || p.Envelope.Subject != "inner" || p.Envelope.Date != "" {
		t.Errorf("body structure: %+v", mi.BodyStructure)
	}
	if b := mi.Body; len(b) != 3 ||
		b[0].Text == nil || *b[0].Text != "héllo" || b[0].Offset != nil ||
		b[1].Base64 == nil || *b[1].Base64 != "/w==" || b[1].Offset == nil || *b[1].Offset != 10 ||
		b[2].Text != nil || b[2].Base64 != nil {
		t.Errorf("body: %+v", mi.Body)
	}
	if mi.Error == "" {
		t.Error("error not carried")
	}
	if got := FromMessage(nil); got.Seq != 0 {
		t.Errorf("nil: %+v", got)
	}
	unfetched := FromMessage(&imap.Message{Seq: 1})
	if out, _ := Encode(unfetched); string(out) != `{"seq":1}` {
		t.Errorf("unfetched members not omitted: %s", out)
	}
}

func TestFromBodyStructureDepth(t *testing.T) {
	root := &imap.BodyStructure{Type: "multipart", Subtype: "mixed"}
	cur := root
	for range MaxPartDepth + 10 {
		c := &imap.BodyStructure{Type: "multipart", Subtype: "mixed"}
		cur.Parts = []*imap.BodyStructure{c, nil}
		cur = c
	}
	p := FromBodyStructure(root)
	depth := 0
	for p != nil && len(p.Parts) > 0 {
		depth++
		if len(p.Parts) != 1 {
			t.Fatal("nil child kept")
		}
		p = &p.Parts[0]
	}
	if depth != MaxPartDepth {
		t.Errorf("depth %d, want %d", depth, MaxPartDepth)
	}
}

func TestFromMailboxData(t *testing.T) {
	sel := FromSelectData("INBOX", &imap.SelectData{Exists: 4, Recent: 1, UIDValidity: 7, UIDNext: 10, HighestModSeq: 3,
		Flags: []imap.Flag{imap.FlagSeen}, ReadOnly: true})
	if sel.Exists != 4 || sel.UIDNext != 10 || !sel.ReadOnly || len(sel.Flags) != 1 || sel.PermanentFlags == nil {
		t.Errorf("select: %+v", sel)
	}
	if FromSelectData("X", nil).Flags == nil {
		t.Error("nil select data: flags must be []")
	}
	st := &imap.StatusData{Mailbox: "INBOX", Messages: 5, Unseen: 0, HighestModSeq: 8,
		Has: map[string]bool{"MESSAGES": true, "UNSEEN": true, "HIGHESTMODSEQ": true}}
	sr := FromStatusData(st)
	if sr.Messages == nil || *sr.Messages != 5 || sr.Unseen == nil || *sr.Unseen != 0 || sr.Recent != nil || sr.HighestModSeq == nil {
		t.Errorf("status: %+v", sr)
	}
	li := FromListData(&imap.ListData{Name: "Sent", Delim: "/", Attrs: []string{`\Sent`}, Status: st})
	if li.SpecialUse != `\Sent` || li.Status == nil || li.Delimiter != "/" {
		t.Errorf("list: %+v", li)
	}
	if FromListData(&imap.ListData{Name: "x"}).Attributes == nil {
		t.Error("attributes must be []")
	}
	cu, err := imap.ParseCopyUID("9 1:3 11:13")
	if err != nil {
		t.Fatal(err)
	}
	if c := FromCopyUID(cu); c.UIDValidity != 9 || c.SourceUIDs != "1:3" || c.DestUIDs != "11:13" {
		t.Errorf("copy: %+v", c)
	}
	if (FromCopyUID(nil) != CopyResult{}) || (FromAppendUID(nil) != AppendResult{}) {
		t.Error("nil codes must give empty results")
	}
	if a := FromAppendUID(&imap.AppendUID{UIDValidity: 9, UID: 44}); a.UID != 44 {
		t.Errorf("append: %+v", a)
	}
	es := FromSearchData(&imap.SearchData{ESEARCH: true, UID: true, AllSet: []imap.NumRange{{Start: 1, Stop: 3}, {Start: 7, Stop: 7}}})
	if es.UIDs != "1:3,7" || es.Count != 4 {
		t.Errorf("esearch: %+v", es)
	}
	if s := FromSearchData(&imap.SearchData{All: []uint32{2, 1}}); s.UIDs != "1:2" || s.Count != 2 {
		t.Errorf("search: %+v", s)
	}
	v := FromVanished("INBOX", &imap.Vanished{Earlier: true, UIDs: imap.UIDSet{{Start: 4, Stop: 6}}})
	if v.Event != EventVanished || v.UIDs != "4:6" || !v.Earlier {
		t.Errorf("vanished: %+v", v)
	}
	if e := NewIMAPError("no", "TRYCREATE", "t", "m"); e.Code != CodeIMAPNo || e.IMAP.Type != "NO" {
		t.Errorf("imap error: %+v", e)
	}
}
