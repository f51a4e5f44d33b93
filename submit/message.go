package submit

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// Limits of a built message's header fields.
const (
	// MaxSubjectLength bounds the subject in bytes (before encoding).
	MaxSubjectLength = 998
	// MaxNameLength bounds a display name or a filename in bytes.
	MaxNameLength = 256
	// MaxReferences bounds the References list.
	MaxReferences = 100
	// MaxMessageIDLength bounds one message identifier.
	MaxMessageIDLength = 250
)

// ErrBadHeader reports a header field value that contains CR, LF or NUL (or
// another control character), or is too long or malformed: header
// injection is refused, never escaped.
var ErrBadHeader = errors.New("submit: invalid header field")

// Address is a display name and a mail address.
type Address struct {
	Name  string
	Email string
}

// Attachment is one file of a message. With ContentID and Inline it is an
// inline part of the HTML body (referenced as "cid:ContentID"), otherwise
// an attachment.
type Attachment struct {
	// Filename is written with RFC 2231 encoding when not ASCII.
	Filename string
	// ContentType is the media type (default application/octet-stream).
	ContentType string
	// ContentID, without angle brackets, names an inline image.
	ContentID string
	// Inline marks a part shown in the body rather than as a file.
	Inline bool
	// Body is read once, during Build, and base64-encoded.
	Body io.Reader
}

// Message is a structured request for a message. Build turns it into
// RFC 5322 text; nothing of it is copied into a header unchecked.
type Message struct {
	From    Address
	ReplyTo []Address
	To      []Address
	Cc      []Address
	// Bcc recipients are in the Envelope only, never in the message
	// (unless KeepBcc).
	Bcc     []Address
	Subject string
	// Text and HTML are the bodies; with both the message is
	// multipart/alternative.
	Text        string
	HTML        string
	Attachments []Attachment
	// InReplyTo and References thread a reply (identifiers without angle
	// brackets).
	InReplyTo  string
	References []string
	// MessageID, without angle brackets, is generated when empty.
	MessageID string
	// Date is the time of the Date field (now when zero).
	Date time.Time
	// KeepBcc writes the Bcc field: for a draft stored in the user's own
	// mailbox, never for a message that is sent.
	KeepBcc bool
}

// checkHeader refuses control characters (CR, LF and NUL included) and
// over-long values.
func checkHeader(field, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrBadHeader, field, max)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character (%#x)", ErrBadHeader, field, r)
		}
	}
	return nil
}

func checkAddr(field string, a Address) error {
	if err := checkHeader(field, a.Name, MaxNameLength); err != nil {
		return err
	}
	if err := checkHeader(field, a.Email, MaxAddressLength); err != nil {
		return err
	}
	if err := CheckAddress(a.Email); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadHeader, field, err)
	}
	if p, err := netmail.ParseAddress("<" + a.Email + ">"); err != nil || p.Address != a.Email {
		return fmt.Errorf("%w: %s: malformed address %q", ErrBadHeader, field, a.Email)
	}
	return nil
}

func checkMsgID(field, id string) error {
	if err := checkHeader(field, id, MaxMessageIDLength); err != nil {
		return err
	}
	if id == "" || strings.ContainsAny(id, " \t<>()\",;\\[]") || strings.Count(id, "@") != 1 {
		return fmt.Errorf("%w: %s: malformed message id %q", ErrBadHeader, field, id)
	}
	return nil
}

// Validate checks every field that goes into a header, as Build does.
func (m *Message) Validate() error {
	if err := checkAddr("From", m.From); err != nil {
		return err
	}
	lists := []struct {
		name string
		l    []Address
	}{{"Reply-To", m.ReplyTo}, {"To", m.To}, {"Cc", m.Cc}, {"Bcc", m.Bcc}}
	for _, l := range lists {
		for _, a := range l.l {
			if err := checkAddr(l.name, a); err != nil {
				return err
			}
		}
	}
	if err := checkHeader("Subject", m.Subject, MaxSubjectLength); err != nil {
		return err
	}
	if m.InReplyTo != "" {
		if err := checkMsgID("In-Reply-To", m.InReplyTo); err != nil {
			return err
		}
	}
	if len(m.References) > MaxReferences {
		return fmt.Errorf("%w: more than %d References", ErrBadHeader, MaxReferences)
	}
	for _, r := range m.References {
		if err := checkMsgID("References", r); err != nil {
			return err
		}
	}
	if m.MessageID != "" {
		if err := checkMsgID("Message-ID", m.MessageID); err != nil {
			return err
		}
	}
	for i, a := range m.Attachments {
		f := fmt.Sprintf("attachment %d", i)
		if err := checkHeader(f+" filename", a.Filename, MaxNameLength); err != nil {
			return err
		}
		if a.ContentType != "" {
			if t, p, err := mime.ParseMediaType(a.ContentType); err != nil || len(p) != 0 || strings.HasPrefix(t, "multipart/") {
				return fmt.Errorf("%w: %s: bad content type %q", ErrBadHeader, f, a.ContentType)
			}
		}
		if a.ContentID != "" {
			if err := checkMsgID(f+" Content-ID", a.ContentID); err != nil {
				return err
			}
		}
		if a.Body == nil {
			return fmt.Errorf("%w: %s has no body", ErrConfig, f)
		}
	}
	return nil
}

// Envelope is the SMTP envelope of m: From's address, and To, Cc and Bcc
// addresses without duplicates, in that order.
func (m *Message) Envelope() Envelope {
	env := Envelope{From: m.From.Email}
	seen := make(map[string]bool)
	for _, l := range [][]Address{m.To, m.Cc, m.Bcc} {
		for _, a := range l {
			k := strings.ToLower(a.Email)
			if !seen[k] {
				seen[k] = true
				env.To = append(env.To, a.Email)
			}
		}
	}
	return env
}

// NewMessageID returns a fresh message identifier (without angle brackets)
// in the domain of the address from.
func NewMessageID(from string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return hex.EncodeToString(b) + "@" + domain
}

func addrList(l []Address) []*mail.Address {
	out := make([]*mail.Address, len(l))
	for i, a := range l {
		out[i] = &mail.Address{Name: a.Name, Address: a.Email}
	}
	return out
}

// part is one node of the MIME tree.
type part struct {
	header   message.Header
	body     func(io.Writer) error
	children []*part
}

func textPart(mediaType, text string) *part {
	p := &part{body: func(w io.Writer) error {
		// CRLF line endings, whatever the request used.
		t := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
		_, err := io.WriteString(w, t)
		return err
	}}
	p.header.SetContentType(mediaType, map[string]string{"charset": "utf-8"})
	p.header.Set("Content-Transfer-Encoding", "quoted-printable")
	return p
}

func multipart(subtype string, children ...*part) *part {
	p := &part{children: children}
	p.header.SetContentType("multipart/"+subtype, nil)
	return p
}

func filePart(a Attachment) (*part, error) {
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	p := &part{body: func(w io.Writer) error {
		_, err := io.Copy(w, a.Body)
		return err
	}}
	disp := "attachment"
	if a.Inline {
		disp = "inline"
	}
	ctv, cdv := ct, disp
	if a.Filename != "" {
		// mime.FormatMediaType writes RFC 2231 (filename*=utf-8''...) for
		// non-ASCII names.
		ctv = mime.FormatMediaType(ct, map[string]string{"name": a.Filename})
		cdv = mime.FormatMediaType(disp, map[string]string{"filename": a.Filename})
		if ctv == "" || cdv == "" {
			return nil, fmt.Errorf("%w: filename %q", ErrBadHeader, a.Filename)
		}
	}
	p.header.Set("Content-Type", ctv)
	p.header.Set("Content-Disposition", cdv)
	p.header.Set("Content-Transfer-Encoding", "base64")
	if a.ContentID != "" {
		p.header.Set("Content-Id", "<"+a.ContentID+">")
	}
	return p, nil
}

// tree arranges the bodies and attachments: text and HTML in
// multipart/alternative, the HTML and its inline images in
// multipart/related, files in multipart/mixed.
func (m *Message) tree() (*part, error) {
	var inline, files []*part
	for _, a := range m.Attachments {
		p, err := filePart(a)
		if err != nil {
			return nil, err
		}
		if a.Inline && a.ContentID != "" && m.HTML != "" {
			inline = append(inline, p)
		} else {
			files = append(files, p)
		}
	}
	var body *part
	var html *part
	if m.HTML != "" {
		html = textPart("text/html", m.HTML)
		if len(inline) > 0 {
			html = multipart("related", append([]*part{html}, inline...)...)
		}
	}
	switch {
	case html != nil && m.Text != "":
		body = multipart("alternative", textPart("text/plain", m.Text), html)
	case html != nil:
		body = html
	default:
		body = textPart("text/plain", m.Text)
	}
	if len(files) > 0 {
		body = multipart("mixed", append([]*part{body}, files...)...)
	}
	return body, nil
}

// Build writes m as an RFC 5322 message with CRLF line endings and returns
// its Message-ID (without angle brackets). Every header value is checked
// first (Validate): CR, LF and NUL are refused, so no field can start
// another; non-ASCII text is RFC 2047-encoded, non-ASCII filenames
// RFC 2231-encoded. Bcc is not written.
func Build(w io.Writer, m *Message) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	root, err := m.tree()
	if err != nil {
		return "", err
	}
	id := m.MessageID
	if id == "" {
		id = NewMessageID(m.From.Email)
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	var h mail.Header
	h.SetDate(date)
	h.SetAddressList("From", addrList([]Address{m.From}))
	h.SetAddressList("Reply-To", addrList(m.ReplyTo))
	h.SetAddressList("To", addrList(m.To))
	h.SetAddressList("Cc", addrList(m.Cc))
	if m.KeepBcc {
		h.SetAddressList("Bcc", addrList(m.Bcc))
	}
	h.SetSubject(m.Subject)
	h.SetMessageID(id)
	if m.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{m.InReplyTo})
	}
	h.SetMsgIDList("References", m.References)
	for f := root.header.Fields(); f.Next(); {
		h.Set(f.Key(), f.Value())
	}
	mw, err := message.CreateWriter(w, h.Header)
	if err != nil {
		return "", err
	}
	if err := writePart(mw, root); err != nil {
		return "", err
	}
	return id, mw.Close()
}

func writePart(w *message.Writer, p *part) error {
	if p.body != nil {
		return p.body(w)
	}
	for _, c := range p.children {
		cw, err := w.CreatePart(c.header)
		if err != nil {
			return err
		}
		if err := writePart(cw, c); err != nil {
			return err
		}
		if err := cw.Close(); err != nil {
			return err
		}
	}
	return nil
}
