package protocol

import "time"

// Request is a decoded request frame. Every request type embeds Header,
// which implements it.
type Request interface {
	// RequestID returns the client-chosen id, echoed in the answer.
	RequestID() string
	// Op returns the operation, one of the Op constants.
	Op() string
}

// Header holds the members every request carries.
type Header struct {
	// ID is chosen by the client, 1 to MaxIDLength characters, and echoed
	// in the response or error frame answering the request.
	ID string `json:"id"`
	// Operation is the "op" member, one of the Op constants.
	Operation string `json:"op"`
}

// RequestID implements Request.
func (h Header) RequestID() string { return h.ID }

// Op implements Request.
func (h Header) Op() string { return h.Operation }

// AuthRequest presents the token when it did not come as a subprotocol
// value. It must be the first frame.
type AuthRequest struct {
	Header
	// Token is the JWT, at most MaxTokenBytes bytes.
	Token string `json:"token"`
}

// LoginRequest gives the IMAP password in credential mode "password"; the
// IMAP user name comes from the token.
type LoginRequest struct {
	Header
	// Password is sent to the IMAP server and never logged.
	Password string `json:"password"`
}

// ImaplibRequest relays one imaplib method call: exactly one IMAP command
// of an allow-listed name (ImaplibCommands), each argument validated and
// encoded by the engine.
type ImaplibRequest struct {
	Header
	// Cmd is the imaplib method name, lower case.
	Cmd string `json:"cmd"`
	// Args are the positional arguments: strings or null; append's
	// message argument may be {"base64": "..."}, and a boolean or an
	// integer is allowed where ImaplibScalarArgs says so.
	Args []Arg `json:"args,omitzero"`
}

// QResync holds the QRESYNC parameters of a select request (RFC 7162).
type QResync struct {
	// UIDValidity is the UIDVALIDITY the client's cache belongs to.
	UIDValidity uint32 `json:"uidValidity"`
	// ModSeq is the last HIGHESTMODSEQ the client applied.
	ModSeq uint64 `json:"modSeq"`
	// KnownUIDs is the UID set the client knows, "" for none.
	KnownUIDs string `json:"knownUids,omitempty"`
}

// SelectRequest selects (or, with ReadOnly, examines) a mailbox.
type SelectRequest struct {
	Header
	// Mailbox is the mailbox name (UTF-8; the engine encodes it).
	Mailbox string `json:"mailbox"`
	// ReadOnly selects with EXAMINE.
	ReadOnly bool `json:"readOnly,omitempty"`
	// CondStore asks for CONDSTORE (mod-sequences).
	CondStore bool `json:"condstore,omitempty"`
	// QResync, when set, resynchronises with QRESYNC; implies CondStore.
	QResync *QResync `json:"qresync,omitempty"`
}

// ListRequest lists mailboxes.
type ListRequest struct {
	Header
	// Ref is the reference name, "" by default.
	Ref string `json:"ref,omitempty"`
	// Pattern is the mailbox pattern; "" means "*".
	Pattern string `json:"pattern,omitempty"`
	// SpecialUse asks for RFC 6154 special-use attributes.
	SpecialUse bool `json:"specialUse,omitempty"`
	// Status lists STATUS items to return with each mailbox.
	Status []string `json:"status,omitzero"`
	// Subscribed lists subscribed mailboxes only (LSUB semantics).
	Subscribed bool `json:"subscribed,omitempty"`
}

// StatusRequest asks for the status of a mailbox.
type StatusRequest struct {
	Header
	// Mailbox is the mailbox name.
	Mailbox string `json:"mailbox"`
	// Items are STATUS items (Status constants); empty means
	// DefaultStatusItems.
	Items []string `json:"items,omitzero"`
}

// Partial is a byte range of a body section.
type Partial struct {
	// Offset is the first byte.
	Offset uint32 `json:"offset"`
	// Length is the most bytes returned; it must not be 0.
	Length uint32 `json:"length"`
}

// BodyRequest asks for one body section of each fetched message.
type BodyRequest struct {
	// Section is the IMAP section spec: "" (whole message), "HEADER",
	// "TEXT", "1.2", "HEADER.FIELDS (DATE FROM)", ...
	Section string `json:"section"`
	// Peek leaves \Seen unchanged (BODY.PEEK).
	Peek bool `json:"peek,omitempty"`
	// Partial limits the bytes returned.
	Partial *Partial `json:"partial,omitempty"`
}

// FetchRequest fetches message data. Exactly one of UIDs and Seqs is set.
type FetchRequest struct {
	Header
	// UIDs is a UID set ("1:*"), sent as UID FETCH.
	UIDs string `json:"uids,omitempty"`
	// Seqs is a sequence set, sent as FETCH.
	Seqs string `json:"seqs,omitempty"`
	// Items are Item constants.
	Items []string `json:"items,omitzero"`
	// Body lists body sections to fetch.
	Body []BodyRequest `json:"body,omitzero"`
	// ChangedSince, when not 0, adds CHANGEDSINCE (RFC 7162).
	ChangedSince uint64 `json:"changedSince,omitempty"`
	// Vanished adds VANISHED (QRESYNC; UIDs and ChangedSince required).
	Vanished bool `json:"vanished,omitempty"`
}

// SearchRequest runs UID SEARCH.
type SearchRequest struct {
	Header
	// Criteria are IMAP search keys, each passed through the engine's
	// encoder; empty means ALL.
	Criteria []string `json:"criteria,omitzero"`
	// GmailRaw, when set (and Criteria empty), is a Gmail search in the
	// web interface's syntax, sent as UID SEARCH X-GM-RAW (X-GM-EXT-1).
	GmailRaw string `json:"gmailRaw,omitempty"`
}

// StoreRequest changes flags with UID STORE.
type StoreRequest struct {
	Header
	// UIDs is the UID set.
	UIDs string `json:"uids"`
	// Mode is StoreAdd, StoreRemove or StoreSet.
	Mode string `json:"mode"`
	// Flags are the flags or keywords.
	Flags []string `json:"flags"`
	// Labels, when set (and Flags empty), are Gmail labels to add, remove
	// or set instead (STORE X-GM-LABELS; the server must offer X-GM-EXT-1).
	Labels []string `json:"labels,omitzero"`
	// Silent suppresses the FETCH answers (.SILENT).
	Silent bool `json:"silent,omitempty"`
	// UnchangedSince, when not 0, adds UNCHANGEDSINCE (RFC 7162).
	UnchangedSince uint64 `json:"unchangedSince,omitempty"`
}

// CopyRequest copies (op "copy") or moves (op "move") messages by UID.
type CopyRequest struct {
	Header
	// UIDs is the UID set.
	UIDs string `json:"uids"`
	// To is the destination mailbox.
	To string `json:"to"`
}

// ExpungeRequest runs UID EXPUNGE (requires the may-delete scope).
type ExpungeRequest struct {
	Header
	// UIDs is the UID set to expunge.
	UIDs string `json:"uids"`
}

// AppendRequest appends a message.
type AppendRequest struct {
	Header
	// Mailbox is the destination mailbox.
	Mailbox string `json:"mailbox"`
	// Flags are set on the new message.
	Flags []string `json:"flags,omitzero"`
	// Date is the internal date (RFC 3339); nil lets the server choose.
	Date *time.Time `json:"date,omitempty"`
	// Message is the RFC 5322 message.
	Message Bytes `json:"message"`
}

// DownloadRequest asks for a one-time URL that streams one body part (or the
// whole message as .eml) of a message over HTTP GET.
type DownloadRequest struct {
	Header
	// Mailbox, UIDValidity and UID name the message; a UIDValidity other
	// than the mailbox's fails the download with 410.
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidValidity,omitempty"`
	UID         uint32 `json:"uid"`
	// Part is the BODYSTRUCTURE part number ("2", "1.3"); empty means the
	// whole raw message (message/rfc822, "<uid>.eml").
	Part string `json:"part,omitempty"`
	// CID names the part by Content-ID instead (a "cid:" URL of an HTML
	// body, without "cid:").
	CID string `json:"cid,omitempty"`
	// Disposition is "attachment" (default) or "inline" (previews).
	Disposition string `json:"disposition,omitempty"`
}

// UploadRequest asks for a one-time URL to which the browser PUTs a message
// of exactly Size bytes, appended to Mailbox.
type UploadRequest struct {
	Header
	// Mailbox is the destination mailbox.
	Mailbox string `json:"mailbox"`
	// Flags are set on the new message.
	Flags []string `json:"flags,omitzero"`
	// Date is the internal date (RFC 3339); nil lets the server choose.
	Date *time.Time `json:"date,omitempty"`
	// Size is the message's size in bytes: the PUT's Content-Length.
	Size int64 `json:"size"`
}

// MailboxRequest is create, delete, subscribe or unsubscribe.
type MailboxRequest struct {
	Header
	// Mailbox is the mailbox name.
	Mailbox string `json:"mailbox"`
}

// RenameRequest renames a mailbox.
type RenameRequest struct {
	Header
	// Mailbox is the current name.
	Mailbox string `json:"mailbox"`
	// To is the new name.
	To string `json:"to"`
}

// NoopRequest sends NOOP (and so collects pending events).
type NoopRequest struct {
	Header
}

// LogoutRequest ends the session: LOGOUT, then close 1000.
type LogoutRequest struct {
	Header
}

// DefaultStatusItems are the status items of a status request that
// names none.
var DefaultStatusItems = []string{StatusMessages, StatusUIDNext, StatusUIDValidity, StatusUnseen}

// ImaplibCommands is the allow-list of the imaplib relay.
var ImaplibCommands = []string{
	"select", "examine", "fetch", "search", "store", "copy", "move",
	"expunge", "list", "lsub", "status", "create", "delete", "rename",
	"subscribe", "unsubscribe", "append", "uid", "noop", "check", "close",
	"unselect", "namespace", "capability", "getquota", "getquotaroot",
	"getacl", "myrights", "sort", "thread", "id", "enable", "recent",
	"response", "partial",
}

// Kinds of non-string imaplib arguments (ImaplibScalarArgs).
const (
	// ArgBool takes a JSON boolean or integer with Python's truth value.
	ArgBool = "bool"
	// ArgInt takes a JSON integer.
	ArgInt = "int"
)

// ImaplibScalarArgs lists, per relayed imaplib command, the positions of
// args where the imaplib method takes a bool or an int, and which kind.
// Everywhere else a boolean or an integer is refused (Python raises
// TypeError there). A string or null stays allowed in these positions.
//
//	select, examine  args[1] readonly: a bool (or int) with Python's truth value
//	partial          args[0] message number, args[2] start, args[3] length: integers ≥ 0
//	append           args[2] date_time: seconds since the Unix epoch (Time2Internaldate)
var ImaplibScalarArgs = map[string]map[int]string{
	"select":  {1: ArgBool},
	"examine": {1: ArgBool},
	"partial": {0: ArgInt, 2: ArgInt, 3: ArgInt},
	"append":  {2: ArgInt},
}

// MaxEpochSeconds is the largest append date_time in seconds accepted
// (9999-12-31T23:59:59Z, the last IMAP date-time with a four-digit year).
const MaxEpochSeconds = 253402300799

// ForbiddenImaplibCommands are imaplib methods that are never relayed:
// authentication and session control are typed operations or the
// bridge's own business, and xatom would be a raw-command channel.
var ForbiddenImaplibCommands = []string{
	"login", "login_cram_md5", "authenticate", "starttls", "proxyauth",
	"xatom", "logout", "idle", "socket", "shutdown", "open", "send",
	"readline", "setacl", "deleteacl", "setquota", "setannotation",
}

// ImaplibKnownCommands are the names in CPython 3.11 imaplib's Commands
// table. imaplib's uid() raises IMAP4.error("Unknown IMAP4 UID command:
// NAME") for any other name; the relay does the same, and refuses a known
// name outside UIDCommands as forbidden.
var ImaplibKnownCommands = []string{
	"APPEND", "AUTHENTICATE", "CAPABILITY", "CHECK", "CLOSE", "COPY", "CREATE",
	"DELETE", "DELETEACL", "ENABLE", "EXAMINE", "EXPUNGE", "FETCH", "GETACL",
	"GETANNOTATION", "GETQUOTA", "GETQUOTAROOT", "LIST", "LOGIN", "LOGOUT",
	"LSUB", "MOVE", "MYRIGHTS", "NAMESPACE", "NOOP", "PARTIAL", "PROXYAUTH",
	"RENAME", "SEARCH", "SELECT", "SETACL", "SETANNOTATION", "SETQUOTA",
	"SORT", "STARTTLS", "STATUS", "STORE", "SUBSCRIBE", "THREAD", "UID",
	"UNSELECT", "UNSUBSCRIBE",
}

// UIDCommands are the commands the imaplib "uid" method may run (its
// first argument).
var UIDCommands = []string{"copy", "fetch", "search", "store", "move", "expunge", "sort", "thread"}
