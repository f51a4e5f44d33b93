package imap

// SeqNum is a message sequence number (RFC 3501 §2.3.1.2). It is a type of
// its own so that it cannot be mixed up with a UID.
type SeqNum uint32

// UID is a message unique identifier (RFC 3501 §2.3.1.1), valid together
// with its mailbox's UIDVALIDITY.
type UID uint32

// Flag is a message flag or keyword as sent by the server, e.g. `\Seen` or
// `$Forwarded`. System flags compare case-insensitively on the wire; the
// constants below use the RFC spelling.
type Flag string

// System flags of RFC 3501 §2.3.2 and the PERMANENTFLAGS wildcard.
const (
	// FlagSeen marks a message as read.
	FlagSeen Flag = `\Seen`
	// FlagAnswered marks a message as answered.
	FlagAnswered Flag = `\Answered`
	// FlagFlagged marks a message for urgent or special attention.
	FlagFlagged Flag = `\Flagged`
	// FlagDeleted marks a message for removal by EXPUNGE.
	FlagDeleted Flag = `\Deleted`
	// FlagDraft marks a message as a draft.
	FlagDraft Flag = `\Draft`
	// FlagRecent marks a message new in this session (read-only, IMAP4rev1).
	FlagRecent Flag = `\Recent`
	// FlagWildcard in PERMANENTFLAGS means new keywords may be created.
	FlagWildcard Flag = `\*`
)

// Enabled lists the capabilities the server reports as enabled in an
// ENABLED response (RFC 5161), upper-cased.
type Enabled []string
