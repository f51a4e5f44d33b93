package bridge

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/submit"
)

// Compose: the submit and saveDraft ops (docs/protocol.md "submit,
// saveDraft"). The bridge builds the message (package submit), checks the
// sender against the user's identities before any SMTP traffic, sends it to
// the upstream's submission server with the session's own credentials, then
// stores the Sent copy, flags the original and removes the draft on a
// short-lived IMAP connection of its own (like a transfer), so the
// session's selected mailbox and its events are untouched.

// SMTP is an upstream's submission server (the "smtp" section of its
// configuration). Without one, submit and saveDraft are refused with
// not_configured.
type SMTP struct {
	// Addr is host:port: 587 with STARTTLS, 465 with implicit TLS (any
	// port with the upstream's AllowPrivate).
	Addr string
	// Security is submit.SecuritySTARTTLS (default) or submit.SecurityTLS.
	// There is no cleartext submission.
	Security submit.Security
	// TLSConfig, if set, verifies the server (e.g. a private CA); default
	// the upstream's TLSConfig, else the system roots. Always verified.
	TLSConfig *tls.Config
	// LocalName is the EHLO name (default "localhost").
	LocalName string
	// Identities are the addresses a user may send as (From and envelope
	// sender): "{user}" stands for the token's IMAP user name, e.g.
	// "{user}@example.com". Empty means the IMAP user name itself when it
	// is an address.
	Identities []string
	// SentMailbox and DraftsMailbox are used when the server marks no
	// mailbox \Sent or \Drafts (RFC 6154); defaults "Sent" and "Drafts".
	SentMailbox   string
	DraftsMailbox string
	// SavesSent says the upstream stores sent mail itself (Gmail does):
	// no Sent copy is appended.
	SavesSent bool
}

// Defaults of an SMTP section.
const (
	DefaultSentMailbox   = "Sent"
	DefaultDraftsMailbox = "Drafts"
	// IdentityUser in an identity is replaced by the token's IMAP user.
	IdentityUser = "{user}"
	// FlagForwarded is the keyword set on a forwarded original.
	FlagForwarded = "$Forwarded"
)

func (m *SMTP) validate(u *Upstream) error {
	host, ps, err := net.SplitHostPort(m.Addr)
	if err != nil || host == "" {
		return errors.New("smtp: address must be host:port")
	}
	if err := ValidateHost(host); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port <= 0 || port > 65535 {
		return errors.New("smtp: bad port")
	}
	sec := m.Security
	if sec == "" {
		sec = submit.SecuritySTARTTLS
	}
	switch sec {
	case submit.SecuritySTARTTLS, submit.SecurityTLS:
	default:
		return fmt.Errorf("smtp: unknown security %q (starttls or tls)", sec)
	}
	if !u.AllowPrivate && !(sec == submit.SecuritySTARTTLS && port == 587 || sec == submit.SecurityTLS && port == 465) {
		return fmt.Errorf("smtp: port %d not allowed for %s", port, sec)
	}
	if m.TLSConfig != nil && m.TLSConfig.InsecureSkipVerify {
		return errors.New("smtp: certificate verification cannot be disabled")
	}
	for _, id := range m.Identities {
		if !strings.Contains(id, "@") || protocol.ControlChar(id) >= 0 || strings.ContainsAny(id, " <>") {
			return fmt.Errorf("smtp: bad identity %q", id)
		}
	}
	return nil
}

// allowedFrom reports whether addr is an identity of the IMAP user.
func (m *SMTP) allowedFrom(imapUser, addr string) bool {
	ids := m.Identities
	if len(ids) == 0 && strings.Contains(imapUser, "@") {
		ids = []string{IdentityUser}
	}
	for _, id := range ids {
		if strings.EqualFold(strings.ReplaceAll(id, IdentityUser, imapUser), addr) {
			return true
		}
	}
	return false
}

// sendLimiter counts sends per user (Limits.SendsPerMinute).
type sendLimiter struct {
	mu    sync.Mutex
	perU  map[string]*rate.Limiter
	limit rate.Limit
	burst int
}

// maxSendLimiters bounds the users tracked; idle ones are dropped first.
const maxSendLimiters = 10000

func newSendLimiter(perMinute int) *sendLimiter {
	return &sendLimiter{perU: map[string]*rate.Limiter{}, limit: rate.Limit(float64(perMinute) / 60), burst: perMinute}
}

func (l *sendLimiter) allow(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.perU[user]
	if lim == nil {
		if len(l.perU) >= maxSendLimiters {
			for u, v := range l.perU {
				if v.Tokens() >= float64(l.burst) {
					delete(l.perU, u)
				}
			}
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.perU[user] = lim
	}
	return lim.Allow()
}

// smtpFailure is an SMTP refusal sent as an error frame with code smtp.
type smtpFailure struct {
	msg  string
	info *protocol.SMTPError
}

func (e *smtpFailure) Error() string { return "bridge: smtp: " + e.msg }

func enhanced(e [3]int) string {
	if e == [3]int{} {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", e[0], e[1], e[2])
}

func refusedList(l []*submit.RecipientError) []protocol.RefusedRecipient {
	out := make([]protocol.RefusedRecipient, 0, len(l))
	for _, r := range l {
		out = append(out, protocol.RefusedRecipient{Email: r.Address, Code: r.Code, Enhanced: enhanced(r.Enhanced), Message: r.Message})
	}
	return out
}

// submitError maps a submit error to the error the client sees. Nothing was
// sent in every case.
func submitError(err error, res *submit.Result) error {
	var se *submit.ServerError
	switch {
	case errors.Is(err, submit.ErrBadAddress), errors.Is(err, submit.ErrBadHeader):
		return fail(protocol.CodeBadRequest, "invalid address or header field")
	case errors.Is(err, submit.ErrTooLarge):
		return fail(protocol.CodeLimit, "message larger than the SMTP server accepts")
	case errors.Is(err, submit.ErrTooManyRecipients):
		return fail(protocol.CodeLimit, "too many recipients")
	case errors.Is(err, submit.ErrNoRecipients) && res != nil && len(res.Refused) > 0:
		r := res.Refused[0]
		return &smtpFailure{msg: "the SMTP server refused every recipient", info: &protocol.SMTPError{Command: "RCPT",
			Code: r.Code, Enhanced: enhanced(r.Enhanced), Message: r.Message, Refused: refusedList(res.Refused)}}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, submit.ErrTimeout):
		return fail(protocol.CodeTimeout, "the SMTP server did not answer in time; nothing was sent")
	case errors.Is(err, context.Canceled):
		return fail(protocol.CodeUnavailable, "session ended; nothing was sent")
	case errors.Is(err, submit.ErrUnavailable) && !errors.As(err, &se):
		return fail(protocol.CodeUnavailable, "the SMTP server is unavailable or dropped the connection; nothing was sent")
	case errors.As(err, &se):
		return &smtpFailure{msg: "the SMTP server refused the message", info: &protocol.SMTPError{Command: se.Command,
			Code: se.Code, Enhanced: enhanced(se.Enhanced), Message: se.Message}}
	case errors.Is(err, submit.ErrAuthUnsupported):
		return fail(protocol.CodeUnavailable, "the SMTP server offers no usable authentication")
	case errors.Is(err, submit.ErrUTF8Unsupported):
		return fail(protocol.CodeBadRequest, "non-ASCII addresses need SMTPUTF8, which the SMTP server lacks")
	default: // TLS, protocol errors
		return fail(protocol.CodeUnavailable, "SMTP submission failed; nothing was sent")
	}
}

func trimAngle(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
}

func addrs(l []protocol.ComposeAddress) []submit.Address {
	out := make([]submit.Address, len(l))
	for i, a := range l {
		out[i] = submit.Address{Name: a.Name, Email: a.Email}
	}
	return out
}

// composeMessage turns the request into a message; attachments get their
// bodies later.
func composeMessage(r *protocol.ComposeRequest) *submit.Message {
	m := &submit.Message{From: submit.Address{Name: r.From.Name, Email: r.From.Email}, To: addrs(r.To), Cc: addrs(r.Cc),
		Bcc: addrs(r.Bcc), ReplyTo: addrs(r.ReplyTo), Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		InReplyTo: trimAngle(r.InReplyTo)}
	for _, ref := range r.References {
		m.References = append(m.References, trimAngle(ref))
	}
	for _, a := range r.Attachments {
		m.Attachments = append(m.Attachments, submit.Attachment{Filename: a.Filename, ContentType: a.ContentType,
			ContentID: trimAngle(a.ContentID), Inline: a.Inline, Body: bytes.NewReader(nil)})
	}
	return m
}

// compose runs submit and saveDraft.
func (s *session) compose(ctx context.Context, r *protocol.ComposeRequest) (protocol.Result, error) {
	cfg := s.ups.SMTP
	if cfg == nil {
		return nil, fail(protocol.CodeNotConfigured, "no SMTP submission server is configured for this upstream")
	}
	if s.claims.Scopes.ReadOnly {
		return nil, fail(protocol.CodeForbidden, "this session is read-only")
	}
	// The sender first: a From that is not the user's is refused before
	// anything else happens, SMTP traffic included.
	if !cfg.allowedFrom(s.claims.IMAPUser, r.From.Email) {
		return nil, fail(protocol.CodeForbidden, "the From address is not an identity of this user")
	}
	msg := composeMessage(r)
	if err := msg.Validate(); err != nil {
		return nil, fail(protocol.CodeBadRequest, "invalid header field: CR, LF, NUL and malformed addresses are refused")
	}
	submitting := r.Op() == protocol.OpSubmit
	env := msg.Envelope()
	if submitting && len(env.To) > s.srv.lim.MaxRecipients {
		return nil, fail(protocol.CodeLimit, fmt.Sprintf("more than %d recipients", s.srv.lim.MaxRecipients))
	}
	for _, a := range r.Attachments {
		if err := s.checkMailbox(a.Mailbox, false); err != nil {
			return nil, err
		}
	}
	if r.Original != nil {
		if err := s.checkMailbox(r.Original.Mailbox, true); err != nil {
			return nil, err
		}
	}
	if r.Draft != nil {
		if err := s.checkMailbox(r.Draft.Mailbox, true); err != nil {
			return nil, err
		}
	}
	var creds submit.Credentials
	if submitting {
		var err error
		if creds, err = s.smtpCredentials(); err != nil {
			return nil, err
		}
		if !s.srv.sends.allow(s.claims.Subject) {
			return nil, fail(protocol.CodeLimit, fmt.Sprintf("more than %d sends per minute", s.srv.lim.SendsPerMinute))
		}
	}

	// The auxiliary IMAP connection, counted like a transfer.
	user := s.claims.Subject
	if !s.srv.reg.acquireUser(user, s.srv.lim.SessionsPerUser) {
		return nil, fail(protocol.CodeLimit, "too many connections for this user")
	}
	defer s.srv.reg.releaseUser(user)
	c, err := s.srv.dialTransfer(ctx, s.newTicket(ticketUpload))
	if err != nil {
		return nil, fail(protocol.CodeUnavailable, "IMAP server unavailable")
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = c.Logout(lctx)
		cancel()
		_ = c.Shutdown()
	}()
	limit := int64(s.srv.lim.MaxAppendBytes)
	var total int64
	for i, a := range r.Attachments {
		body, bs, err := fetchPart(ctx, c, a, limit-total)
		if err != nil {
			return nil, err
		}
		total += int64(len(body))
		att := &msg.Attachments[i]
		att.Body = bytes.NewReader(body)
		if att.Filename == "" {
			att.Filename = bs.Filename()
		}
		if att.ContentType == "" {
			att.ContentType = bs.MediaType()
		}
	}
	var buf bytes.Buffer
	if !submitting {
		msg.KeepBcc = true // the draft keeps its Bcc for the next edit; a sent message never has one
	}
	id, err := submit.Build(&buf, msg)
	if err != nil {
		return nil, fail(protocol.CodeBadRequest, "invalid header field")
	}
	if int64(buf.Len()) > limit {
		return nil, fail(protocol.CodeLimit, fmt.Sprintf("message larger than %d bytes", limit))
	}
	if !submitting {
		return s.saveDraft(ctx, c, cfg, r, id, buf.Bytes())
	}

	sctx, cancel := context.WithTimeout(ctx, s.srv.lim.SubmitTimeout)
	defer cancel()
	tcfg := cfg.TLSConfig
	if tcfg == nil {
		tcfg = s.ups.TLSConfig
	}
	d := &Dialer{Resolver: s.srv.cfg.Resolver, AllowPrivate: s.ups.AllowPrivate, Dial: s.srv.cfg.Dial}
	scfg := submit.Config{Addr: cfg.Addr, Security: cfg.Security, TLSConfig: tcfg, LocalName: cfg.LocalName,
		MaxMessageSize: s.srv.lim.MaxSubmitBytes, MaxRecipients: s.srv.lim.MaxRecipients, Dial: d.DialContext}
	res, err := submit.Send(sctx, scfg, creds, env, bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		s.log.Info("submit failed", "err", errSummary(err))
		return nil, submitError(err, res)
	}
	out := protocol.SubmitResult{MessageID: "<" + id + ">", Accepted: res.Accepted, Refused: refusedList(res.Refused)}
	// Sent: the message is out; a failure below is reported, not raised.
	if !cfg.SavesSent {
		box, err := s.specialMailbox(ctx, c, `\Sent`, cfg.SentMailbox, DefaultSentMailbox)
		if err == nil {
			var au *imap.AppendUID
			au, err = appendCreating(ctx, c, box, []imap.Flag{imap.FlagSeen}, buf.Bytes())
			if err == nil {
				out.Sent = &protocol.StoredRef{Mailbox: box}
				if au != nil {
					out.Sent.UIDValidity, out.Sent.UID = au.UIDValidity, uint32(au.UID)
				}
			}
		}
		if err != nil {
			out.SentError = "the message was sent but its copy could not be stored in Sent"
		}
	}
	if o := r.Original; o != nil {
		flag := imap.FlagAnswered
		if o.Action == protocol.ActionForward {
			flag = FlagForwarded
		}
		if err := flagMessage(ctx, c, o.MessageRef, flag); err != nil {
			s.log.Info("flagging the original failed", "err", errSummary(err))
		}
	}
	if r.Draft != nil {
		out.DraftRemoved = s.removeMessage(ctx, c, *r.Draft)
	}
	return out, nil
}

// smtpCredentials are the session's own credentials for SMTP AUTH.
func (s *session) smtpCredentials() (submit.Credentials, error) {
	switch s.claims.Credential {
	case auth.CredentialMaster:
		return submit.Credentials{Mechanism: "PLAIN", Username: s.ups.MasterUser, Password: s.ups.MasterPassword, AuthzID: s.claims.IMAPUser}, nil
	case auth.CredentialOAuth:
		mech := "XOAUTH2"
		if s.ups.OAuthMechanism == "OAUTHBEARER" {
			mech = "OAUTHBEARER"
		}
		return submit.Credentials{Mechanism: mech, Username: s.claims.IMAPUser, Token: s.claims.OAuthToken}, nil
	}
	if s.password == "" {
		return submit.Credentials{}, fail(protocol.CodeNotConfigured, "SMTP needs the IMAP password (login) or a master or OAuth credential")
	}
	return submit.Credentials{Username: s.claims.IMAPUser, Password: s.password}, nil
}

// specialMailbox finds the mailbox with the special-use attribute, else the
// configured name, else def; it must be allowed by the token's scopes.
func (s *session) specialMailbox(ctx context.Context, c *imapengine.Client, attr, configured, def string) (string, error) {
	name := configured
	if name == "" {
		name = def
	}
	if lds, err := c.ListMailboxes(ctx, "", "*", &imapengine.ListOptions{SpecialUse: true}); err == nil {
		for _, ld := range lds {
			for _, a := range ld.Attrs {
				if strings.EqualFold(a, attr) {
					name = ld.Name
				}
			}
		}
	}
	if err := s.checkMailbox(name, true); err != nil {
		return "", err
	}
	return name, nil
}

// appendCreating appends msg to box, creating box once when the server
// answers NO [TRYCREATE] (a new account's Sent or Drafts may not exist yet).
func appendCreating(ctx context.Context, c *imapengine.Client, box string, flags []imap.Flag, msg []byte) (*imap.AppendUID, error) {
	au, err := c.AppendMessage(ctx, box, flags, time.Time{}, msg)
	var se *imapengine.StatusError
	if errors.As(err, &se) && se.Code == "TRYCREATE" {
		if _, cerr := collectNO(c.Create(ctx, box)); cerr != nil {
			return nil, err
		}
		au, err = c.AppendMessage(ctx, box, flags, time.Time{}, msg)
	}
	return au, err
}

// selectRef selects the mailbox of ref and checks its UIDVALIDITY.
func selectRef(ctx context.Context, c *imapengine.Client, ref protocol.MessageRef, readOnly bool) error {
	// The untagged responses of earlier commands are of no use here.
	c.ClearUntagged()
	sel, err := c.SelectMailbox(ctx, ref.Mailbox, &imapengine.SelectOptions{ReadOnly: readOnly})
	if err != nil {
		return fail(protocol.CodeNotFound, "mailbox not found")
	}
	if ref.UIDValidity != 0 && sel.UIDValidity != ref.UIDValidity {
		return fail(protocol.CodeNotFound, "UIDVALIDITY changed")
	}
	return nil
}

// fetchPart reads one attachment's decoded bytes (at most max).
func fetchPart(ctx context.Context, c *imapengine.Client, a protocol.ComposeAttachment, max int64) ([]byte, *imap.BodyStructure, error) {
	if err := selectRef(ctx, c, protocol.MessageRef{Mailbox: a.Mailbox, UIDValidity: a.UIDValidity, UID: a.UID}, true); err != nil {
		return nil, nil, err
	}
	uid := strconv.FormatUint(uint64(a.UID), 10)
	msgs, err := c.FetchMessages(ctx, uid, "(UID BODYSTRUCTURE)", &imapengine.FetchOptions{UID: true})
	if err != nil || len(msgs) == 0 || msgs[0].BodyStructure == nil {
		return nil, nil, fail(protocol.CodeNotFound, "attachment's message not found")
	}
	bs := msgs[0].BodyStructure.Find(a.Part)
	if bs == nil || bs.Type == "multipart" {
		return nil, nil, fail(protocol.CodeNotFound, "attachment part not found")
	}
	var out []byte
	err = c.FetchSection(ctx, a.UID, bs.PartNumber, func(r io.Reader, _ int64) error {
		dec, err := imap.DecodeTransfer(bs.Encoding, r)
		if err != nil {
			dec = r
		}
		out, err = io.ReadAll(io.LimitReader(dec, max+1))
		return err
	})
	if err != nil {
		return nil, nil, fail(protocol.CodeNotFound, "attachment part not readable")
	}
	if int64(len(out)) > max {
		return nil, nil, fail(protocol.CodeLimit, "attachments too large")
	}
	return out, bs, nil
}

// flagMessage adds flag to the referenced message.
func flagMessage(ctx context.Context, c *imapengine.Client, ref protocol.MessageRef, flag imap.Flag) error {
	if err := selectRef(ctx, c, ref, false); err != nil {
		return err
	}
	_, err := c.StoreFlags(ctx, strconv.FormatUint(uint64(ref.UID), 10), "+FLAGS.SILENT", []imap.Flag{flag}, 0)
	return err
}

// removeMessage deletes the referenced message (a replaced or sent draft):
// \Deleted, then UID EXPUNGE of that UID alone when UIDPLUS is offered
// (without it the message stays flagged \Deleted: a plain EXPUNGE could
// remove other messages). It needs the may-delete scope.
func (s *session) removeMessage(ctx context.Context, c *imapengine.Client, ref protocol.MessageRef) bool {
	if !s.claims.Scopes.MayDelete {
		return false
	}
	if err := flagMessage(ctx, c, ref, imap.FlagDeleted); err != nil {
		return false
	}
	if !c.HasCapability("UIDPLUS") {
		return false
	}
	return c.ExpungeUIDs(ctx, strconv.FormatUint(uint64(ref.UID), 10)) == nil
}

func (s *session) saveDraft(ctx context.Context, c *imapengine.Client, cfg *SMTP, r *protocol.ComposeRequest, id string, msg []byte) (protocol.Result, error) {
	box, err := s.specialMailbox(ctx, c, `\Drafts`, cfg.DraftsMailbox, DefaultDraftsMailbox)
	if err != nil {
		return nil, err
	}
	au, err := appendCreating(ctx, c, box, []imap.Flag{imap.FlagDraft, imap.FlagSeen}, msg)
	if err != nil {
		return nil, err
	}
	out := protocol.DraftResult{MessageID: "<" + id + ">", Draft: protocol.StoredRef{Mailbox: box}}
	if au != nil {
		out.Draft.UIDValidity, out.Draft.UID = au.UIDValidity, uint32(au.UID)
	}
	if r.Draft != nil {
		out.Replaced = s.removeMessage(ctx, c, *r.Draft)
	}
	return out, nil
}
