package imapengine

// Gmail's IMAP extensions (X-GM-EXT-1), as Google documents them in "IMAP
// Extensions" (developers.google.com/gmail/imap/imap-extensions): the
// X-GM-MSGID, X-GM-THRID and X-GM-LABELS fetch items (parsed into
// imap.Message), STORE of X-GM-LABELS, and SEARCH X-GM-RAW. The [Gmail]
// special-use folders (\All, \Important, \Flagged ...) need nothing of their
// own: LIST attributes are reported as sent (imap.ListData.SpecialUse).

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// CapGmail is the capability of Gmail's extensions.
const CapGmail = "X-GM-EXT-1"

// ErrTooManyConnections reports a login the server refused because the
// account has too many connections open (Gmail: "[ALERT] Too many
// simultaneous connections", RFC 5530's [LIMIT]). Retrying at once cannot
// help: close other connections first.
var ErrTooManyConnections = errors.New("imapengine: too many simultaneous connections for this account")

// systemLabel is a Gmail system label sent as a flag-like atom (\Inbox,
// \Important, \Starred ...); other labels are astrings.
var systemLabel = regexp.MustCompile(`^\\[A-Za-z]+$`)

// loginRefusal wraps the status error of a refused LOGIN or AUTHENTICATE,
// adding ErrTooManyConnections when the server says the account's
// connection limit is reached.
func loginRefusal(command, typ string, text []byte) error {
	se := newStatusError(command, typ, text)
	t := strings.ToLower(string(text))
	if strings.HasPrefix(t, "[limit]") || strings.Contains(t, "too many simultaneous connections") {
		return errors.Join(ErrTooManyConnections, se)
	}
	return se
}

// needGmail fails with ErrNotSupported unless the server offers X-GM-EXT-1.
func (c *Client) needGmail(what string) error {
	if !c.HasCapability(CapGmail) {
		return &Error{Kind: KindError, Command: what, Msg: what + " needs " + CapGmail + " (Gmail)", Err: ErrNotSupported}
	}
	return nil
}

// StoreGmailLabels adds ("+X-GM-LABELS"), removes ("-X-GM-LABELS") or sets
// ("X-GM-LABELS") Gmail labels of the messages with the given UIDs; op may
// end in ".SILENT". System labels are written `\Inbox`, `\Important`; others
// as sent by FETCH X-GM-LABELS. The result holds the FETCH responses (the
// labels after the change). It needs X-GM-EXT-1 (ErrNotSupported otherwise).
func (c *Client) StoreGmailLabels(ctx context.Context, uidSet, op string, labels []string) (*StoreResult, error) {
	if err := c.needGmail("STORE X-GM-LABELS"); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(strings.ToUpper(op), ".SILENT")
	if base != "+X-GM-LABELS" && base != "-X-GM-LABELS" && base != "X-GM-LABELS" {
		return nil, &Error{Kind: KindError, Command: "STORE", Msg: "label store operation must be [+-]X-GM-LABELS[.SILENT]", Err: ErrBadArgument}
	}
	if c.State() == StateSelected && c.IsReadOnly() {
		return nil, &Error{Kind: KindReadOnly, Command: "STORE", Msg: "mailbox selected read-only (EXAMINE)", Err: ErrReadOnly}
	}
	types := []string{"FETCH"}
	if strings.HasSuffix(strings.ToUpper(op), ".SILENT") {
		types = nil
	}
	res := &StoreResult{}
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("STORE").SP().Raw(uidSet).SP().Raw(op).SP().Bytes([]byte("("))
		for i, l := range labels {
			if i > 0 {
				e.SP()
			}
			if systemLabel.MatchString(l) {
				e.Raw(l)
			} else {
				e.AString(l)
			}
		}
		e.Bytes([]byte(")"))
	}}, types, func(_ string, resp *imapwire.Response) {
		if m, err := imap.ParseFetch(resp, c.limits.wire()); err == nil {
			res.Messages = append(res.Messages, m)
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// SearchGmailRaw runs UID SEARCH X-GM-RAW query: query is Gmail's web search
// syntax ("has:attachment in:unread"), sent as one quoted string (or a
// literal). It needs X-GM-EXT-1 (ErrNotSupported otherwise).
func (c *Client) SearchGmailRaw(ctx context.Context, query string) (*imap.SearchData, error) {
	if err := c.needGmail("SEARCH X-GM-RAW"); err != nil {
		return nil, err
	}
	var sd *imap.SearchData
	_, err := c.collect(ctx, &cmd{name: "UID", args: func(e *encoder) {
		e.SP().Raw("SEARCH").SP().Raw("X-GM-RAW").SP().Quoted(query)
	}}, []string{"SEARCH", "ESEARCH"}, func(_ string, resp *imapwire.Response) {
		if s, err := imap.ParseSearch(resp, c.limits.wire()); err == nil {
			sd = s
		}
	})
	if err != nil {
		return nil, err
	}
	if sd == nil {
		sd = &imap.SearchData{UID: true}
	}
	return sd, nil
}
