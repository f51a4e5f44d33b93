package protocol

import "time"

// SelectResult answers select.
type SelectResult struct {
	// Mailbox is the selected mailbox's name.
	Mailbox string `json:"mailbox"`
	// Exists and Recent are the message counts.
	Exists uint32 `json:"exists"`
	Recent uint32 `json:"recent"`
	// UIDValidity and UIDNext identify the UID space.
	UIDValidity uint32 `json:"uidValidity"`
	UIDNext     uint32 `json:"uidNext"`
	// HighestModSeq is HIGHESTMODSEQ, absent (0) without CONDSTORE.
	HighestModSeq uint64 `json:"highestModSeq,omitempty"`
	// Flags and PermanentFlags are the mailbox's flags.
	Flags          []string `json:"flags"`
	PermanentFlags []string `json:"permanentFlags"`
	// ReadOnly is set for EXAMINE or a read-only mailbox.
	ReadOnly bool `json:"readOnly"`
	// Vanished are the VANISHED (EARLIER) sets of a QRESYNC select.
	Vanished []string `json:"vanished,omitzero"`
	// Changed are the messages changed since the QRESYNC mod-sequence.
	Changed []MessageInfo `json:"changed,omitzero"`
}

// ResultOp implements Result.
func (SelectResult) ResultOp() string { return OpSelect }

// ListResult answers list.
type ListResult struct {
	// Mailboxes are the listed mailboxes in server order.
	Mailboxes []MailboxInfo `json:"mailboxes"`
}

// ResultOp implements Result.
func (ListResult) ResultOp() string { return OpList }

// MailboxInfo is one listed mailbox.
type MailboxInfo struct {
	// Name is the decoded name (UTF-8).
	Name string `json:"name"`
	// Delimiter is the hierarchy delimiter, "" for a flat namespace.
	Delimiter string `json:"delimiter"`
	// Attributes are the name attributes as sent (`\HasNoChildren`, ...).
	Attributes []string `json:"attributes"`
	// SpecialUse is the RFC 6154 attribute (`\Sent`, ...), absent if none.
	SpecialUse string `json:"specialUse,omitempty"`
	// Status is the mailbox's status when requested.
	Status *StatusResult `json:"status,omitempty"`
}

// StatusResult answers status. Items the server did not send are absent.
type StatusResult struct {
	Mailbox       string  `json:"mailbox"`
	Messages      *uint32 `json:"messages,omitempty"`
	Recent        *uint32 `json:"recent,omitempty"`
	UIDNext       *uint32 `json:"uidNext,omitempty"`
	UIDValidity   *uint32 `json:"uidValidity,omitempty"`
	Unseen        *uint32 `json:"unseen,omitempty"`
	HighestModSeq *uint64 `json:"highestModSeq,omitempty"`
}

// ResultOp implements Result.
func (StatusResult) ResultOp() string { return OpStatus }

// FetchResult answers fetch.
type FetchResult struct {
	// Messages are in the order the server sent them.
	Messages []MessageInfo `json:"messages"`
}

// ResultOp implements Result.
func (FetchResult) ResultOp() string { return OpFetch }

// MessageInfo is one fetched message. Members not fetched are absent.
type MessageInfo struct {
	Seq           uint32        `json:"seq"`
	UID           uint32        `json:"uid,omitempty"`
	Flags         []string      `json:"flags,omitzero"`
	InternalDate  time.Time     `json:"internalDate,omitzero"`
	Size          *uint32       `json:"size,omitempty"`
	ModSeq        uint64        `json:"modseq,omitempty"`
	Envelope      *EnvelopeInfo `json:"envelope,omitempty"`
	BodyStructure *PartInfo     `json:"bodyStructure,omitempty"`
	Body          []BodyPart    `json:"body,omitzero"`
	// GmailMsgID and GmailThreadID are Gmail's X-GM-MSGID and X-GM-THRID
	// (items "gmailMsgId", "gmailThreadId"), in decimal: 64-bit values
	// exceed a JavaScript number's exact range.
	GmailMsgID    string `json:"gmailMsgId,omitempty"`
	GmailThreadID string `json:"gmailThreadId,omitempty"`
	// GmailLabels is X-GM-LABELS (item "gmailLabels"): system labels as
	// `\Inbox`, `\Important`; user labels as Gmail sends them.
	GmailLabels []string `json:"gmailLabels,omitzero"`
	// Error describes the first malformed item; members before it are
	// kept.
	Error string `json:"error,omitempty"`
}

// EnvelopeInfo is a message's envelope with text decoded to UTF-8.
type EnvelopeInfo struct {
	// Date is the Date header as RFC 3339, absent if it cannot be parsed.
	Date      string        `json:"date,omitempty"`
	Subject   string        `json:"subject"`
	From      []AddressInfo `json:"from"`
	Sender    []AddressInfo `json:"sender"`
	ReplyTo   []AddressInfo `json:"replyTo"`
	To        []AddressInfo `json:"to"`
	Cc        []AddressInfo `json:"cc"`
	Bcc       []AddressInfo `json:"bcc"`
	InReplyTo string        `json:"inReplyTo,omitempty"`
	MessageID string        `json:"messageId,omitempty"`
}

// AddressInfo is one address; group markers are dropped and members of a
// group carry its name.
type AddressInfo struct {
	Name  string `json:"name,omitempty"`
	Addr  string `json:"addr"`
	Group string `json:"group,omitempty"`
}

// PartInfo is one MIME part of a body structure.
type PartInfo struct {
	// Part is the section number to fetch the part with ("" for the root
	// multipart).
	Part              string            `json:"part"`
	Type              string            `json:"type"`
	Subtype           string            `json:"subtype"`
	Params            map[string]string `json:"params,omitempty"`
	ID                string            `json:"id,omitempty"`
	Description       string            `json:"description,omitempty"`
	Encoding          string            `json:"encoding,omitempty"`
	Size              uint32            `json:"size,omitempty"`
	Lines             uint32            `json:"lines,omitempty"`
	Disposition       string            `json:"disposition,omitempty"`
	DispositionParams map[string]string `json:"dispositionParams,omitempty"`
	// Filename is the decoded file name; sanitize before use as a path.
	Filename string     `json:"filename,omitempty"`
	Parts    []PartInfo `json:"parts,omitempty"`
	// Envelope and Message describe an enclosed message/rfc822.
	Envelope *EnvelopeInfo `json:"envelope,omitempty"`
	Message  *PartInfo     `json:"message,omitempty"`
}

// BodyPart is one fetched body section. Exactly one of Text (the bytes
// are valid UTF-8) and Base64 is present, neither when the server sent
// NIL.
type BodyPart struct {
	// Section is the section spec as requested ("" for the whole message).
	Section string `json:"section"`
	// Offset is the origin of a partial fetch, absent otherwise.
	Offset *uint32 `json:"offset,omitempty"`
	Text   *string `json:"text,omitempty"`
	Base64 *string `json:"base64,omitempty"`
}

// SearchResult answers search.
type SearchResult struct {
	// UIDs is the compact UID set ("1:3,7"), "" when nothing matched.
	UIDs string `json:"uids"`
	// Count is the number of matching messages.
	Count uint64 `json:"count"`
}

// ResultOp implements Result.
func (SearchResult) ResultOp() string { return OpSearch }

// StoreResult answers store.
type StoreResult struct {
	// Messages are the FETCH answers (empty when silent).
	Messages []MessageInfo `json:"messages"`
	// Modified is the MODIFIED set of a conditional store, absent if none.
	Modified string `json:"modified,omitempty"`
}

// ResultOp implements Result.
func (StoreResult) ResultOp() string { return OpStore }

// CopyResult answers copy and move; all members are absent when the
// server sent no COPYUID.
type CopyResult struct {
	UIDValidity uint32 `json:"uidValidity,omitempty"`
	SourceUIDs  string `json:"sourceUids,omitempty"`
	DestUIDs    string `json:"destUids,omitempty"`
}

// ResultOp implements Result.
func (CopyResult) ResultOp() string { return OpCopy }

// AppendResult answers append; members are absent when the server sent
// no APPENDUID.
type AppendResult struct {
	UIDValidity uint32 `json:"uidValidity,omitempty"`
	UID         uint32 `json:"uid,omitempty"`
}

// ResultOp implements Result.
func (AppendResult) ResultOp() string { return OpAppend }

// TicketResult answers download and upload: a one-time URL, valid once and
// until ExpiresAt, bound to the session's user and Origin.
type TicketResult struct {
	// URL is the path of the transfer ("/transfer/<ticket>"), relative to
	// the bridge's origin.
	URL string `json:"url"`
	// ExpiresAt is the ticket's end of validity.
	ExpiresAt time.Time `json:"expiresAt"`
	// Size is the decoded size when known in advance (downloads of
	// identity-encoded parts and whole messages), else 0.
	Size int64 `json:"size,omitempty"`
	// Type and Filename describe a download, from BODYSTRUCTURE.
	Type     string `json:"type,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// ResultOp implements Result.
func (TicketResult) ResultOp() string { return OpDownload }

// EmptyResult answers operations without a result (expunge, create,
// delete, rename, subscribe, unsubscribe, login, noop, logout): {}.
type EmptyResult struct{}

// ResultOp implements Result.
func (EmptyResult) ResultOp() string { return OpCreate }
