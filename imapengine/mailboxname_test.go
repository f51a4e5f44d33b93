package imapengine

import "testing"

// TestMailboxName: the name a mailbox argument stands for on the server.
func TestMailboxName(t *testing.T) {
	tests := []struct{ arg, ascii, utf8 string }{
		{"", "", ""},
		{"INBOX", "INBOX", "INBOX"},
		{"inbox", "INBOX", "INBOX"},
		{`"INBOX"`, "INBOX", "INBOX"},
		{`"Oracle Renamed"`, "Oracle Renamed", "Oracle Renamed"},
		{"Oracle Renamed", "Oracle Renamed", "Oracle Renamed"},
		{`"a\"b\\c"`, `a"b\c`, `a"b\c`},
		{"INBOX/&AOk-t&AOk-", "INBOX/été", "INBOX/&AOk-t&AOk-"},
		{"INBOX/été", "INBOX/été", "INBOX/été"},
		{`"&AOk-t&AOk- 2026"`, "été 2026", "&AOk-t&AOk- 2026"},
		{"A&B", "A&B", "A&B"},
		{"Entwürfe", "Entwürfe", "Entwürfe"},
		{`"unterminated`, `"unterminated`, `"unterminated`},
	}
	for _, tc := range tests {
		c := &Client{}
		if got := c.MailboxName(tc.arg); got != tc.ascii {
			t.Errorf("MailboxName(%q) = %q, want %q", tc.arg, got, tc.ascii)
		}
		c.utf8 = true
		if got := c.MailboxName(tc.arg); got != tc.utf8 {
			t.Errorf("UTF-8 mode: MailboxName(%q) = %q, want %q", tc.arg, got, tc.utf8)
		}
	}
}
