package protocol

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// MaxPartDepth bounds the body-structure nesting FromBodyStructure
// converts; deeper parts are dropped. The engine's parser already bounds
// nesting, so this only guards hand-built trees.
const MaxPartDepth = 64

// FromMessage converts one parsed FETCH response. Body sections become
// "text" when they are valid UTF-8 and "base64" otherwise.
func FromMessage(m *imap.Message) MessageInfo {
	if m == nil {
		return MessageInfo{}
	}
	mi := MessageInfo{Seq: uint32(m.Seq), UID: uint32(m.UID), ModSeq: m.ModSeq, InternalDate: m.InternalDate}
	if m.HasFlags {
		mi.Flags = flagStrings(m.Flags)
	}
	if m.HasSize {
		size := m.Size
		mi.Size = &size
	}
	if m.GmailMsgID != 0 {
		mi.GmailMsgID = strconv.FormatUint(m.GmailMsgID, 10)
	}
	if m.GmailThreadID != 0 {
		mi.GmailThreadID = strconv.FormatUint(m.GmailThreadID, 10)
	}
	if m.HasGmailLabels {
		mi.GmailLabels = append([]string{}, m.GmailLabels...)
	}
	mi.Envelope = FromEnvelope(m.Envelope)
	mi.BodyStructure = FromBodyStructure(m.BodyStructure)
	for _, s := range m.Sections {
		mi.Body = append(mi.Body, FromBodySection(s))
	}
	if m.Err != nil {
		mi.Error = m.Err.Error()
	}
	return mi
}

// FromBodySection converts one fetched body section.
func FromBodySection(s imap.BodySection) BodyPart {
	bp := BodyPart{Section: s.Spec()}
	if s.Partial {
		off := s.Origin
		bp.Offset = &off
	}
	if s.NIL {
		return bp
	}
	if utf8.Valid(s.Data) {
		t := string(s.Data)
		bp.Text = &t
	} else {
		b := base64.StdEncoding.EncodeToString(s.Data)
		bp.Base64 = &b
	}
	return bp
}

// FromEnvelope converts an envelope; nil gives nil.
func FromEnvelope(e *imap.Envelope) *EnvelopeInfo {
	if e == nil {
		return nil
	}
	ei := &EnvelopeInfo{
		Subject:   e.Subject,
		From:      fromAddresses(e.From),
		Sender:    fromAddresses(e.Sender),
		ReplyTo:   fromAddresses(e.ReplyTo),
		To:        fromAddresses(e.To),
		Cc:        fromAddresses(e.Cc),
		Bcc:       fromAddresses(e.Bcc),
		InReplyTo: e.InReplyTo,
		MessageID: e.MessageID,
	}
	if !e.Time.IsZero() {
		ei.Date = e.Time.Format(time.RFC3339)
	}
	return ei
}

// fromAddresses drops group markers; the list is never nil.
func fromAddresses(list []imap.Address) []AddressInfo {
	out := make([]AddressInfo, 0, len(list))
	for _, a := range list {
		if a.IsGroupMarker() {
			continue
		}
		out = append(out, AddressInfo{Name: a.Name, Addr: a.Addr(), Group: a.Group})
	}
	return out
}

// FromBodyStructure converts a body structure; nil gives nil.
func FromBodyStructure(b *imap.BodyStructure) *PartInfo {
	if b == nil {
		return nil
	}
	p := fromPart(b, 0)
	return &p
}

func fromPart(b *imap.BodyStructure, depth int) PartInfo {
	p := PartInfo{
		Part: b.PartNumber, Type: b.Type, Subtype: b.Subtype,
		Params: b.Params, ID: b.ID, Description: b.Description,
		Encoding: b.Encoding, Size: b.Size, Lines: b.Lines,
		Disposition: b.Disposition, DispositionParams: b.DispositionParams,
		Filename: b.Filename(),
	}
	if depth >= MaxPartDepth {
		return p
	}
	for _, c := range b.Parts {
		if c != nil {
			p.Parts = append(p.Parts, fromPart(c, depth+1))
		}
	}
	p.Envelope = FromEnvelope(b.Envelope)
	if b.Message != nil {
		m := fromPart(b.Message, depth+1)
		p.Message = &m
	}
	return p
}

// FromSelectData converts the state of a selected mailbox.
func FromSelectData(mailbox string, s *imap.SelectData) SelectResult {
	r := SelectResult{Mailbox: mailbox, Flags: []string{}, PermanentFlags: []string{}}
	if s == nil {
		return r
	}
	r.Exists, r.Recent = s.Exists, s.Recent
	r.UIDValidity, r.UIDNext = s.UIDValidity, uint32(s.UIDNext)
	r.HighestModSeq, r.ReadOnly = s.HighestModSeq, s.ReadOnly
	r.Flags = flagStrings(s.Flags)
	r.PermanentFlags = flagStrings(s.PermanentFlags)
	return r
}

// FromListData converts one LIST response (with its STATUS attached, if
// any).
func FromListData(l *imap.ListData) MailboxInfo {
	if l == nil {
		return MailboxInfo{Attributes: []string{}}
	}
	mi := MailboxInfo{Name: l.Name, Delimiter: l.Delim, Attributes: slices.Clone(l.Attrs), SpecialUse: l.SpecialUse()}
	if mi.Attributes == nil {
		mi.Attributes = []string{}
	}
	if l.Status != nil {
		st := FromStatusData(l.Status)
		mi.Status = &st
	}
	return mi
}

// FromStatusData converts a STATUS response; items the server did not
// send stay absent.
func FromStatusData(s *imap.StatusData) StatusResult {
	if s == nil {
		return StatusResult{}
	}
	r := StatusResult{Mailbox: s.Mailbox}
	u32 := func(item string, v uint32) *uint32 {
		if !s.Has[item] {
			return nil
		}
		return &v
	}
	r.Messages = u32(StatusMessages, s.Messages)
	r.Recent = u32(StatusRecent, s.Recent)
	r.UIDNext = u32(StatusUIDNext, s.UIDNext)
	r.UIDValidity = u32(StatusUIDValidity, s.UIDValidity)
	r.Unseen = u32(StatusUnseen, s.Unseen)
	if s.Has[StatusHighestModSeq] {
		v := s.HighestModSeq
		r.HighestModSeq = &v
	}
	return r
}

// FromCopyUID converts a COPYUID code; nil gives the empty result.
func FromCopyUID(c *imap.CopyUID) CopyResult {
	if c == nil {
		return CopyResult{}
	}
	return CopyResult{UIDValidity: c.UIDValidity, SourceUIDs: c.Source.String(), DestUIDs: c.Dest.String()}
}

// FromAppendUID converts an APPENDUID code; nil gives the empty result.
func FromAppendUID(a *imap.AppendUID) AppendResult {
	if a == nil {
		return AppendResult{}
	}
	return AppendResult{UIDValidity: a.UIDValidity, UID: uint32(a.UID)}
}

// FromSearchData converts a SEARCH or ESEARCH response to UIDs.
func FromSearchData(d *imap.SearchData) SearchResult {
	if d == nil {
		return SearchResult{}
	}
	if d.ESEARCH {
		set := imap.UIDSet(d.AllSet)
		r := SearchResult{UIDs: set.String()}
		if d.HasCount {
			r.Count = uint64(d.Count)
		} else if n, ok := set.Count(); ok {
			r.Count = n
		}
		return r
	}
	return FromUIDs(d.All)
}

// FromUIDs returns the search result for a list of UIDs: the set is
// sorted, deduplicated and compacted into ranges ("1:3,7"); 0 is
// skipped.
func FromUIDs(uids []uint32) SearchResult {
	s := slices.Compact(slices.Sorted(slices.Values(uids)))
	if len(s) > 0 && s[0] == 0 {
		s = s[1:]
	}
	return SearchResult{UIDs: compact(s), Count: uint64(len(s))}
}

// CompactSet formats numbers as a sorted IMAP set with runs merged into
// ranges, "" for none. Zero is skipped (it is never a UID).
func CompactSet(nums []uint32) string {
	return compact(slices.Compact(slices.Sorted(slices.Values(nums))))
}

// compact formats sorted, deduplicated numbers.
func compact(s []uint32) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == 0 {
			i++
			continue
		}
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(s[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(s[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}

// FromVanished returns the vanished event (Seq left 0 for the session to
// number).
func FromVanished(mailbox string, v *imap.Vanished) Event {
	e := Event{Event: EventVanished, Mailbox: mailbox}
	if v != nil {
		e.UIDs, e.Earlier = v.UIDs.String(), v.Earlier
	}
	return e
}

// NewIMAPError returns the error info of an IMAP NO or BAD completion:
// code CodeIMAPNo for NO, CodeIMAPBad otherwise.
func NewIMAPError(typ, code, text, message string) ErrorInfo {
	c := CodeIMAPBad
	if strings.EqualFold(typ, "NO") {
		c = CodeIMAPNo
	}
	return ErrorInfo{Code: c, Message: message, IMAP: &IMAPError{Type: strings.ToUpper(typ), Code: code, Text: text}}
}

func flagStrings(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}
