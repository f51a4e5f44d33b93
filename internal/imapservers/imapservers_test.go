package imapservers

import (
	"errors"
	"slices"
	"testing"
)

func TestMailbox(t *testing.T) {
	cy, err := Lookup(Cyrus)
	if err != nil {
		t.Fatal(err)
	}
	dv, _ := Lookup(Dovecot)
	for _, tt := range []struct {
		p          Profile
		path, want string
	}{
		{cy, "Work/Sub", "INBOX.Work.Sub"}, {cy, "INBOX", "INBOX"}, {cy, "", ""},
		{dv, "Work/Sub", "Work/Sub"}, {dv, "inbox", "inbox"},
	} {
		if got := tt.p.Mailbox(tt.path); got != tt.want {
			t.Errorf("%s Mailbox(%q) = %q, want %q", tt.p.Name, tt.path, got, tt.want)
		}
	}
	if _, err := Lookup("exchange"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup(exchange) = %v, want ErrUnknown", err)
	}
}

// TestTableDecides: every capability any profile (the embedded server's
// too) names is decided, offered or lacking, by every profile, so Offers
// never panics and the matrix has no undecided cell; every feature's
// capability is decided too.
func TestTableDecides(t *testing.T) {
	var all []string
	for _, p := range Columns() {
		all = append(all, p.Has...)
		all = append(all, p.Lacks...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	for _, p := range Columns() {
		for _, c := range all {
			if slices.Contains(p.Has, c) == slices.Contains(p.Lacks, c) {
				t.Errorf("%s: capability %s is listed in neither or both of Has and Lacks", p.Name, c)
			}
		}
	}
	for _, f := range Features {
		if !slices.Contains(all, f.Capability) {
			t.Errorf("feature %q: capability %s is in no profile", f.Name, f.Capability)
		}
	}
}
