package imapservers

import (
	"fmt"
	"strings"
)

// Embedded is the profile of the embedded development server
// (internal/devserver, go-imap's memory server) for the compatibility matrix;
// bridge's TestDevserverProfile checks it against a running devserver.
var Embedded = Profile{
	Name:    "devserver",
	Product: "embedded devserver",
	Has: []string{"IMAP4REV1", "IDLE", "ENABLE", "UIDPLUS", "MOVE", "UNSELECT", "NAMESPACE", "ESEARCH", "SPECIAL-USE",
		"LIST-STATUS", "LIST-EXTENDED", "LITERAL+", "BINARY", "CHILDREN"},
	Lacks: []string{"CONDSTORE", "QRESYNC", "SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "QUOTA",
		"ACL", "METADATA", "NOTIFY", "ID", "COMPRESS=DEFLATE", "X-GM-EXT-1", "PREVIEW", "OBJECTID"},
	Separator: "/",
	Prefix:    "",
}

// Feature is one row of the compatibility matrix: what the engine and the
// bridge do with the deciding capability and without it.
type Feature struct {
	// Name is what a user of the bridge sees.
	Name string
	// Capability decides it.
	Capability string
	// Fallback is true when the feature still works without the capability
	// (by other means), false when it is refused.
	Fallback bool
	// Without says what happens without the capability.
	Without string
	// Asserted names the tests that exercise the feature without the
	// capability (and, for the native cells, with it).
	Asserted string
}

// Features are the rows of docs/compatibility.md.
var Features = []Feature{
	{"push of new mail (auto-IDLE)", "IDLE", true,
		"NOOP every IdleOptions.PollInterval (imapengine.IdleLoop)",
		"bridge TestServersEvents, TestEventsDevserver; without: imapengine TestIdleLoop_Poll (scripted server)"},
	{"move messages", "MOVE", true,
		"UID COPY + UID STORE +FLAGS.SILENT (\\Deleted) + UID EXPUNGE (MoveMessages); imaplib's move gets the server's NO",
		"imapengine TestServers_Messages/courier, bridge TestServersOps/courier"},
	{"expunge by UID", "UIDPLUS", false,
		"ExpungeUIDs fails with ErrNotSupported (bridge: unavailable)",
		"imapengine TestServers_Messages (UID EXPUNGE on all three)"},
	{"leave a mailbox without expunging", "UNSELECT", true,
		"imaplib's unselect gets the server's NO and the state is AUTH (as imaplib); the bridge's select needs UNSELECT only before a QRESYNC re-select",
		"imapengine TestServers_Messages/courier"},
	{"search results (ESEARCH)", "ESEARCH", true,
		"plain SEARCH, the UIDs counted by the client",
		"bridge TestServersOps/courier"},
	{"sort", "SORT", true,
		"client-side sort of the fetched envelopes (bridge find.go, imapengine/mailsort)",
		"bridge TestServersSortThread; without: TestFallbackSortThreadDevserver"},
	{"sort by display name", "SORT=DISPLAY", true,
		"client-side sort (bridge find.go)",
		"bridge TestServersSortThread/courier, TestFallbackSortThreadDevserver"},
	{"threads", "THREAD=REFERENCES", true,
		"client-side REFERENCES threading (imapengine/mailsort)",
		"imapengine TestServers_Messages, bridge TestServersSortThread; without: TestFallbackSortThreadDevserver"},
	{"modseq tracking, changedSince, unchangedSince", "CONDSTORE", false,
		"select without highestModSeq; changedSince/unchangedSince refused before sending (ErrNotSupported; bridge: unavailable)",
		"bridge TestServersCondstoreQresync/courier"},
	{"quick resync on select", "QRESYNC", true,
		"a plain select (no vanished/changed): the SDK resyncs from the UID list",
		"bridge TestServersCondstoreQresync/courier"},
	{"special-use folders (\\Sent, \\Trash ...)", "SPECIAL-USE", true,
		"LIST without RETURN (SPECIAL-USE): no attributes, folders by name only",
		"bridge TestServersSpecialUse, TestServersOps/courier"},
	{"folder list with counts", "LIST-STATUS", true,
		"one STATUS per listed mailbox (ListMailboxes)",
		"bridge TestServersOps/courier"},
	{"subscribed folders", "LIST-EXTENDED", true,
		"LSUB instead of LIST (SUBSCRIBED)",
		"bridge TestServersOps/courier"},
	{"ENABLE (CONDSTORE, QRESYNC, UTF8=ACCEPT)", "ENABLE", false,
		"Enable / EnableExtensions fail with ErrNotSupported before sending",
		"imapengine TestImaplib_test_enable_raises_error_if_no_capability (scripted server)"},
	{"mailbox annotations", "METADATA", false,
		"the server's refusal: GetMetadata returns its *StatusError (getmetadata relay: its NO/BAD)",
		"imapengine TestServers_TypedMetadata (all three), TestServers_Refusals/courier, TestDovecot_QuotaACLMetadata"},
	{"server-side notifications (NOTIFY)", "NOTIFY", false,
		"Notify fails with ErrNotSupported; the bridge watches the selected mailbox with IDLE",
		"imapengine TestServers_Refusals/cyrus, /courier"},
	{"non-synchronizing literals", "LITERAL+", true,
		"synchronizing literals (wait for the server's continuation)",
		"imapengine TestServers_Messages/courier (APPEND literals)"},
	{"Gmail labels, thread and message IDs", "X-GM-EXT-1", false,
		"the gmail* fetch items, label store and gmailRaw search are refused before sending (ErrNotSupported; bridge: unavailable)",
		"bridge TestServersGmailRefused, imapengine TestGmail_NeedsExtension; with it: TestGmail_* and bridge TestGmailOps (scripted Gmail)"},
}

// Columns are the matrix's servers: Table, then the embedded server.
func Columns() []Profile {
	return append(append([]Profile(nil), Table...), Embedded)
}

// Cell is the matrix entry of a feature on a profile: "native",
// "fallback" or "unsupported".
func (f Feature) Cell(p Profile) string {
	switch {
	case p.Offers(f.Capability):
		return "native"
	case f.Fallback:
		return "fallback"
	}
	return "unsupported"
}

// MatrixBegin and MatrixEnd delimit the generated part of docs/compatibility.md.
const (
	MatrixBegin = "<!-- BEGIN GENERATED by internal/imapservers.Matrix; update: IMAPBRIDGE_UPDATE_COMPAT=1 go test ./bridge -run TestCompatibilityDoc -->"
	MatrixEnd   = "<!-- END GENERATED -->"
)

// Matrix renders the generated part of docs/compatibility.md (markers
// included): server × feature, the namespace facts, and what happens
// without each capability.
func Matrix() string {
	cols := Columns()
	var b strings.Builder
	b.WriteString(MatrixBegin + "\n\n")
	b.WriteString("| feature | deciding capability |")
	for _, p := range cols {
		b.WriteString(" " + p.Product + " |")
	}
	b.WriteString("\n|---|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, f := range Features {
		fmt.Fprintf(&b, "| %s | `%s` |", f.Name, f.Capability)
		for _, p := range cols {
			b.WriteString(" " + f.Cell(p) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("| hierarchy separator | `NAMESPACE` |")
	for _, p := range cols {
		fmt.Fprintf(&b, " `%s` |", p.Separator)
	}
	b.WriteString("\n| personal folders below | `NAMESPACE` |")
	for _, p := range cols {
		if p.Prefix == "" {
			b.WriteString(" top level |")
		} else {
			fmt.Fprintf(&b, " `%s` |", p.Prefix)
		}
	}
	b.WriteString("\n\nWithout the capability (the fallback, or the refusal), and the tests that assert it:\n\n")
	b.WriteString("| capability | without it | asserted by |\n|---|---|---|\n")
	for _, f := range Features {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Capability, strings.ReplaceAll(f.Without, "|", "\\|"), f.Asserted)
	}
	b.WriteString("\n" + MatrixEnd + "\n")
	return b.String()
}
