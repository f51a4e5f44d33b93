package protocol

// Compose operations (docs/protocol.md "submit, saveDraft"): the bridge
// builds the message from these members, sends it by SMTP submission
// (submit) or stores it in Drafts (saveDraft).

// Limits of a compose request, checked when it is decoded.
const (
	// MaxComposeRecipients bounds to + cc + bcc members of one request;
	// the bridge's configurable limit (Limits.MaxRecipients, default 100)
	// applies after it.
	MaxComposeRecipients = 1000
	// MaxComposeAttachments bounds the attachments of one request.
	MaxComposeAttachments = 100
)

// ComposeAddress is a display name and an address.
type ComposeAddress struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// ComposeAttachment is a file of the new message, taken from a part of a
// stored message: an uploaded file (the upload op's message), an attachment
// of the draft being replaced, or one of a forwarded message.
type ComposeAttachment struct {
	// Mailbox, UIDValidity (optional) and UID name the stored message.
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidValidity,omitempty"`
	UID         uint32 `json:"uid"`
	// Part is its BODYSTRUCTURE part number ("1" for a single-part message).
	Part string `json:"part"`
	// Filename and ContentType default to the part's own.
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	// ContentID (without angle brackets) and Inline make it an inline image
	// of the HTML body ("cid:" URL).
	ContentID string `json:"contentId,omitempty"`
	Inline    bool   `json:"inline,omitempty"`
}

// MessageRef names a stored message.
type MessageRef struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidValidity,omitempty"`
	UID         uint32 `json:"uid"`
}

// Original actions: the flag set on the original after a send.
const (
	ActionReply   = "reply"   // \Answered
	ActionForward = "forward" // $Forwarded
)

// OriginalRef is the message a reply or forward answers.
type OriginalRef struct {
	MessageRef
	// Action is ActionReply or ActionForward.
	Action string `json:"action"`
}

// ComposeRequest is submit and saveDraft.
type ComposeRequest struct {
	Header
	// From must be an identity of the token's user (else forbidden, with
	// no SMTP traffic); it is also the envelope sender.
	From    ComposeAddress   `json:"from"`
	To      []ComposeAddress `json:"to,omitzero"`
	Cc      []ComposeAddress `json:"cc,omitzero"`
	Bcc     []ComposeAddress `json:"bcc,omitzero"`
	ReplyTo []ComposeAddress `json:"replyTo,omitzero"`
	Subject string           `json:"subject,omitempty"`
	// Text and HTML are the bodies (one or both).
	Text        string              `json:"text,omitempty"`
	HTML        string              `json:"html,omitempty"`
	Attachments []ComposeAttachment `json:"attachments,omitzero"`
	// InReplyTo and References thread a reply (message ids, with or without
	// angle brackets).
	InReplyTo  string   `json:"inReplyTo,omitempty"`
	References []string `json:"references,omitzero"`
	// Original gets \Answered or $Forwarded once the message is sent.
	Original *OriginalRef `json:"original,omitempty"`
	// Draft is the stored draft this request replaces (saveDraft) or sends
	// (submit): removed once the new one is stored or sent.
	Draft *MessageRef `json:"draft,omitempty"`
}

func checkRef(member string, r MessageRef) *ProtocolError {
	if perr := checkMailbox(member+".mailbox", r.Mailbox); perr != nil {
		return perr
	}
	if r.UID == 0 {
		return invalid("%q must be a UID (1 or more)", member+".uid")
	}
	return nil
}

func (r *ComposeRequest) check() *ProtocolError {
	if r.From.Email == "" {
		return invalid("\"from.email\" is required")
	}
	n := len(r.To) + len(r.Cc) + len(r.Bcc)
	if r.Op() == OpSubmit && n == 0 {
		return invalid("a message to send needs a recipient (to, cc or bcc)")
	}
	if n > MaxComposeRecipients || len(r.ReplyTo) > MaxItems {
		return invalid("more than %d recipients", MaxComposeRecipients)
	}
	if len(r.Attachments) > MaxComposeAttachments {
		return invalid("more than %d attachments", MaxComposeAttachments)
	}
	for _, a := range r.Attachments {
		if perr := checkRef("attachments[]", MessageRef{Mailbox: a.Mailbox, UID: a.UID}); perr != nil {
			return perr
		}
		if a.Part == "" || len(a.Part) > 256 || trimDigitsDots(a.Part) != "" {
			return invalid("\"attachments[].part\" must be a part number like \"1\" or \"2.1\"")
		}
	}
	if perr := checkStrings("references", r.References); perr != nil {
		return perr
	}
	if o := r.Original; o != nil {
		if perr := checkRef("original", o.MessageRef); perr != nil {
			return perr
		}
		if o.Action != ActionReply && o.Action != ActionForward {
			return invalid("\"original.action\" must be \"reply\" or \"forward\"")
		}
	}
	if r.Draft != nil {
		if perr := checkRef("draft", *r.Draft); perr != nil {
			return perr
		}
	}
	return nil
}

func trimDigitsDots(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// RefusedRecipient is one recipient the SMTP server refused.
type RefusedRecipient struct {
	Email string `json:"email"`
	// Code is the SMTP reply code (550), Enhanced its RFC 3463 status
	// ("5.1.1") when given, Message the server's text.
	Code     int    `json:"code"`
	Enhanced string `json:"enhanced,omitempty"`
	Message  string `json:"message"`
}

// StoredRef is where a message was stored; UIDValidity and UID are absent
// when the server sent no APPENDUID.
type StoredRef struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidValidity,omitempty"`
	UID         uint32 `json:"uid,omitempty"`
}

// SubmitResult answers submit: the message was accepted for Accepted.
type SubmitResult struct {
	// MessageID is the new message's Message-ID, with angle brackets.
	MessageID string             `json:"messageId"`
	Accepted  []string           `json:"accepted"`
	Refused   []RefusedRecipient `json:"refused"`
	// Sent is the copy appended to the Sent mailbox; absent when the
	// upstream saves sent mail itself, or SentError says why it failed.
	Sent      *StoredRef `json:"sent,omitempty"`
	SentError string     `json:"sentError,omitempty"`
	// DraftRemoved reports that the request's draft was removed.
	DraftRemoved bool `json:"draftRemoved,omitempty"`
}

// ResultOp implements Result.
func (SubmitResult) ResultOp() string { return OpSubmit }

// DraftResult answers saveDraft.
type DraftResult struct {
	MessageID string    `json:"messageId"`
	Draft     StoredRef `json:"draft"`
	// Replaced reports that the request's previous draft was removed.
	Replaced bool `json:"replaced,omitempty"`
}

// ResultOp implements Result.
func (DraftResult) ResultOp() string { return OpSaveDraft }

// SMTPError is the SMTP server's refusal behind an error frame with code
// CodeSMTP.
type SMTPError struct {
	// Command is the refused command: "AUTH", "MAIL", "RCPT", "DATA".
	Command  string `json:"command"`
	Code     int    `json:"code"`
	Enhanced string `json:"enhanced,omitempty"`
	Message  string `json:"message"`
	// Refused lists every refused recipient when none was accepted.
	Refused []RefusedRecipient `json:"refused,omitzero"`
}
