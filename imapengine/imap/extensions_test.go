package imap

import (
	"errors"
	"runtime"
	"slices"
	"testing"
)

func TestCopyUID(t *testing.T) {
	tests := []struct {
		arg     string
		max     int
		want    map[UID]UID
		wantErr error
	}{
		{"38505 304,319:320 3956:3958", 10, map[UID]UID{304: 3956, 319: 3957, 320: 3958}, nil},
		{"1 5:3 10:12", 10, map[UID]UID{3: 10, 4: 11, 5: 12}, nil},
		{"1 1:5 100:*", 10, nil, ErrNoMapping},                     // B11
		{"1 1:4294967295 1:4294967295", 1000, nil, ErrSetTooLarge}, // B11
		{"1 1:3 1:2", 10, nil, ErrNoMapping},
		{"1 1:3 4:6", 2, nil, ErrSetTooLarge},
	}
	for _, tt := range tests {
		c, err := ParseCopyUID(tt.arg)
		if err != nil {
			t.Errorf("%q: %v", tt.arg, err)
			continue
		}
		m, err := c.Mapping(tt.max)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%q: Mapping err %v, want %v", tt.arg, err, tt.wantErr)
		}
		if len(m) != len(tt.want) {
			t.Errorf("%q: %v", tt.arg, m)
		}
		for k, v := range tt.want {
			if m[k] != v {
				t.Errorf("%q: %d -> %d, want %d", tt.arg, k, m[k], v)
			}
		}
	}
	for _, bad := range []string{"", "1", "1 2", "x 1 2", "1 0 2", "1 1 2 3", "99999999999 1 2"} {
		if _, err := ParseCopyUID(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestCopyUIDRangeBombMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := ParseCopyUID("1 1:4294967295 1:4294967295")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mapping(1 << 20); !errors.Is(err, ErrSetTooLarge) {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grow := int64(after.TotalAlloc - before.TotalAlloc); grow > 1<<20 {
		t.Errorf("allocated %d bytes", grow)
	}
}

func TestAppendUID(t *testing.T) {
	a, err := ParseAppendUID("38505 3955")
	if err != nil || a.UIDValidity != 38505 || a.UID != 3955 || a.UIDs.String() != "3955" {
		t.Errorf("%v %+v", err, a)
	}
	a, err = ParseAppendUID("38505 3955:3957,3960")
	if err != nil || a.UID != 0 || a.UIDs.String() != "3955:3957,3960" {
		t.Errorf("%v %+v", err, a)
	}
	if u, err := a.UIDs.Expand(10); err != nil || !slices.Equal(u, []UID{3955, 3956, 3957, 3960}) {
		t.Errorf("%v %v", err, u)
	}
	for _, bad := range []string{"1 *", "1", "1 2 3", ""} {
		if _, err := ParseAppendUID(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestQuota(t *testing.T) {
	q, err := ParseQuota(resp(t, "* QUOTA \"\" (STORAGE 10 512 MESSAGE 3 100)\r\n"), testLimits)
	if err != nil || q.Root != "" || len(q.Resources) != 2 || q.Resources[0] != (QuotaResource{"STORAGE", 10, 512}) || q.Resources[1].Limit != 100 {
		t.Errorf("%v %+v", err, q)
	}
	q, err = ParseQuota(resp(t, "* QUOTA user.fred (STORAGE 9000000000000 18000000000000)\r\n"), testLimits)
	if err != nil || q.Root != "user.fred" || q.Resources[0].Usage != 9000000000000 {
		t.Errorf("%v %+v", err, q)
	}
	qr, err := ParseQuotaRoot(resp(t, "* QUOTAROOT INBOX \"\" user.fred\r\n"), testLimits)
	if err != nil || qr.Mailbox != "INBOX" || !slices.Equal(qr.Roots, []string{"", "user.fred"}) {
		t.Errorf("%v %+v", err, qr)
	}
	qr, err = ParseQuotaRoot(resp(t, "* QUOTAROOT comp.mail.mime\r\n"), testLimits)
	if err != nil || len(qr.Roots) != 0 {
		t.Errorf("%v %+v", err, qr)
	}
	for _, raw := range []string{"* QUOTA \"\" (STORAGE 10)\r\n", "* QUOTA \"\" (STORAGE x 1)\r\n", "* QUOTAROOT\r\n"} {
		if _, err := ParseQuota(resp(t, raw), testLimits); err == nil {
			t.Errorf("%q: no error", raw)
		}
	}
}

func TestACL(t *testing.T) {
	a, err := ParseACL(resp(t, "* ACL INBOX Fred rwipslxetad \"-Bob\" lr\r\n"), testLimits)
	if err != nil || a.Mailbox != "INBOX" || !slices.Equal(a.Entries, []ACLEntry{{"Fred", "rwipslxetad"}, {"-Bob", "lr"}}) {
		t.Errorf("%v %+v", err, a)
	}
	m, err := ParseMyRights(resp(t, "* MYRIGHTS INBOX rwiptsldaex\r\n"), testLimits)
	if err != nil || m.Mailbox != "INBOX" || m.Rights != "rwiptsldaex" {
		t.Errorf("%v %+v", err, m)
	}
	if _, err := ParseACL(resp(t, "* ACL INBOX Fred\r\n"), testLimits); !errors.Is(err, ErrMalformed) {
		t.Errorf("odd ACL: %v", err)
	}
	if _, err := ParseMyRights(resp(t, "* ACL INBOX Fred r\r\n"), testLimits); !errors.Is(err, ErrUnexpectedResponse) {
		t.Errorf("wrong kind: %v", err)
	}
}

func TestNamespace(t *testing.T) {
	tests := []struct {
		raw                     string
		personal, other, shared []NamespaceDescr
	}{
		{"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", []NamespaceDescr{{"", "/"}}, nil, nil},
		{"* NAMESPACE NIL NIL ((\"\" \".\"))\r\n", nil, nil, []NamespaceDescr{{"", "."}}},
		{"* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\")(\"#ftp/\" \"/\")(\"#news.\" \".\"))\r\n",
			[]NamespaceDescr{{"", "/"}}, []NamespaceDescr{{"~", "/"}}, []NamespaceDescr{{"#shared/", "/"}, {"#public/", "/"}, {"#ftp/", "/"}, {"#news.", "."}}},
		{"* NAMESPACE ((\"INBOX.\" \".\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL\r\n", []NamespaceDescr{{"INBOX.", "."}}, nil, nil},
		{"* NAMESPACE ((\"\" NIL)) NIL NIL\r\n", []NamespaceDescr{{"", ""}}, nil, nil},
	}
	for _, tt := range tests {
		ns, err := ParseNamespace(resp(t, tt.raw), testLimits)
		if err != nil || !slices.Equal(ns.Personal, tt.personal) || !slices.Equal(ns.Other, tt.other) || !slices.Equal(ns.Shared, tt.shared) {
			t.Errorf("%q: %v %+v", tt.raw, err, ns)
		}
		if err == nil && (tt.other == nil) != (ns.Other == nil) {
			t.Errorf("%q: NIL vs empty", tt.raw)
		}
	}
	if _, err := ParseNamespace(resp(t, "* NAMESPACE ((\"\" \"/\"))\r\n"), testLimits); !errors.Is(err, ErrMalformed) {
		t.Errorf("short: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	md, err := ParseMetadata(resp(t, "* METADATA INBOX (/private/comment \"My comment\" /shared/comment NIL)\r\n"), testLimits)
	if err != nil || md.Mailbox != "INBOX" || string(md.Entries["/private/comment"]) != "My comment" || md.Entries["/shared/comment"] != nil {
		t.Fatalf("%v %+v", err, md)
	}
	if _, ok := md.Entries["/shared/comment"]; !ok {
		t.Errorf("NIL entry missing")
	}
	md, err = ParseMetadata(resp(t, "* METADATA \"\" (/shared/comment {6}\r\nab\r\ncd)\r\n"), testLimits)
	if err != nil || md.Mailbox != "" || string(md.Entries["/shared/comment"]) != "ab\r\ncd" {
		t.Errorf("%v %+v", err, md)
	}
	md, err = ParseMetadata(resp(t, "* METADATA INBOX /shared/comment /private/comment\r\n"), testLimits)
	if err != nil || !slices.Equal(md.Changed, []string{"/shared/comment", "/private/comment"}) {
		t.Errorf("%v %+v", err, md)
	}
}

func TestID(t *testing.T) {
	id, err := ParseID(resp(t, "* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n"), testLimits)
	if err != nil || *id["name"] != "Dovecot" || id["version"] != nil || len(id) != 2 {
		t.Errorf("%v %v", err, id)
	}
	id, err = ParseID(resp(t, "* ID NIL\r\n"), testLimits)
	if err != nil || id != nil {
		t.Errorf("%v %v", err, id)
	}
	// security.md B10 pre-auth ID with a literal.
	id, err = ParseID(resp(t, "* ID (\"name\" NIL \"x\" {3}\r\nabc)\r\n"), testLimits)
	if err != nil || id["name"] != nil || *id["x"] != "abc" {
		t.Errorf("%v %v", err, id)
	}
	raw := "* ID ("
	for i := range 100 {
		raw += "\"k" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + "\" \"v\" "
	}
	id, err = ParseID(resp(t, raw[:len(raw)-1]+")\r\n"), testLimits)
	if err != nil || len(id) != MaxIDFields {
		t.Errorf("%v: %d fields", err, len(id))
	}
}

func TestVanishedAndEnabled(t *testing.T) {
	v, err := ParseVanished(resp(t, "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n"), testLimits)
	if err != nil || !v.Earlier || len(v.UIDs) != 5 || !v.UIDs.Contains(100) || v.UIDs.Contains(42) {
		t.Errorf("%v %+v", err, v)
	}
	v, err = ParseVanished(resp(t, "* VANISHED 1:4294967295\r\n"), testLimits) // B11
	if err != nil || v.Earlier || len(v.UIDs) != 1 {
		t.Errorf("%v %+v", err, v)
	}
	v, err = ParseVanished(resp(t, "* VANISHED (EARLIER) 1:*\r\n"), testLimits)
	if err != nil || !v.UIDs.HasWildcard() {
		t.Errorf("%v %+v", err, v)
	}
	if _, err := v.UIDs.Expand(10); !errors.Is(err, ErrWildcard) {
		t.Errorf("Expand: %v", err)
	}
	e, err := ParseEnabled(resp(t, "* ENABLED CONDSTORE qresync\r\n"), testLimits)
	if err != nil || !e.Has("QRESYNC") || !e.Has("condstore") || e.Has("UTF8=ACCEPT") {
		t.Errorf("%v %v", err, e)
	}
}

func TestParseNumbered(t *testing.T) {
	tests := []struct {
		raw string
		n   uint32
		typ string
		ok  bool
	}{
		{"* 23 EXISTS\r\n", 23, "EXISTS", true},
		{"* 0 EXISTS\r\n", 0, "EXISTS", true},
		{"* 5 recent\r\n", 5, "RECENT", true},
		{"* 44 EXPUNGE\r\n", 44, "EXPUNGE", true},
		{"* 12 FETCH (FLAGS (\\Seen))\r\n", 12, "FETCH", true},
		{"* 4294967295 EXISTS\r\n", 4294967295, "EXISTS", true},
		{"* 4294967296 EXISTS\r\n", 0, "", false},
		{"* 12345678901 FETCH (UID 1)\r\n", 0, "", false},
		{"* 0 EXPUNGE\r\n", 0, "EXPUNGE", false},
		{"* OK hi\r\n", 0, "", false},
		{"A1 OK 3 EXISTS\r\n", 0, "", false},
		{"* 3\r\n", 0, "", false},
	}
	for _, tt := range tests {
		n, typ, ok := ParseNumbered(resp(t, tt.raw))
		if n != tt.n || typ != tt.typ || ok != tt.ok {
			t.Errorf("%q: %d %q %v", tt.raw, n, typ, ok)
		}
	}
	if _, _, ok := ParseNumbered(nil); ok {
		t.Error("nil response")
	}
}

func TestParseResponseCode(t *testing.T) {
	tests := []struct {
		text, name, arg string
		ok              bool
	}{
		{"[UIDNEXT 4392] Predicted", "UIDNEXT", "4392", true},
		{"[READ-ONLY] done", "READ-ONLY", "", true},
		{"[PERMANENTFLAGS (\\Deleted \\*)] x", "PERMANENTFLAGS", "(\\Deleted \\*)", true},
		{"[copyuid 1 2 3] done", "COPYUID", "1 2 3", true},
		{"[BADCHARSET (\"a]b\")] x", "BADCHARSET", "(\"a]b\")", true},
		{"no code", "", "", false},
		{"[unterminated", "", "", false},
		{"[] x", "", "", false},
	}
	for _, tt := range tests {
		name, arg, ok := ParseResponseCode([]byte(tt.text))
		if name != tt.name || arg != tt.arg || ok != tt.ok {
			t.Errorf("%q: %q %q %v", tt.text, name, arg, ok)
		}
	}
	st, ok := ParseStatusResponse(resp(t, "A3 OK [COPYUID 1 1:5 100:*] done\r\n"))
	if !ok || st.Tag != "A3" || st.Status != "OK" || st.Code != "COPYUID" || st.CodeArg != "1 1:5 100:*" || st.Text != "done" {
		t.Errorf("%+v", st)
	}
	if _, ok := ParseStatusResponse(resp(t, "* 3 EXISTS\r\n")); ok {
		t.Error("EXISTS is not a status response")
	}
}

func TestNumSets(t *testing.T) {
	s, err := ParseSeqSet("1:3,7,9:*")
	if err != nil || s.String() != "1:3,7,9:*" || !s.Contains(2) || s.Contains(5) || !s.Contains(4000000000) {
		t.Errorf("%v %v", err, s)
	}
	if _, ok := s.Count(); ok {
		t.Error("Count with *")
	}
	u, err := ParseUIDSet("5:3")
	if err != nil || !u.Contains(4) || u.HasWildcard() {
		t.Errorf("%v %v", err, u)
	}
	if got, err := u.Expand(3); err != nil || !slices.Equal(got, []UID{3, 4, 5}) {
		t.Errorf("%v %v", err, got)
	}
	if _, err := u.Expand(2); !errors.Is(err, ErrSetTooLarge) {
		t.Errorf("%v", err)
	}
	for _, bad := range []string{"", "0", "1:", "a", "1,,2", "4294967296"} {
		if _, err := ParseUIDSet(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
