package imap

import (
	"math"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// StatusData is one STATUS response (RFC 3501 §7.2.4, RFC 7162 HIGHESTMODSEQ,
// RFC 8438 SIZE, RFC 9051 DELETED).
type StatusData struct {
	// Mailbox is the decoded mailbox name (see ListData.Name).
	Mailbox string
	// RawMailbox is the name exactly as sent.
	RawMailbox []byte
	// MailboxErr is set when the name could not be decoded.
	MailboxErr error
	// Item values; check Has for which were sent.
	Messages, Recent, UIDNext, UIDValidity, Unseen, DeletedCount uint32
	// Size is SIZE and HighestModSeq HIGHESTMODSEQ, both 63-bit.
	Size, HighestModSeq uint64
	// Has holds the names (upper-case) of the items sent, e.g. "MESSAGES".
	Has map[string]bool
}

// ParseStatus parses "* STATUS mailbox (item value ...)". Unknown items
// are recorded in Has and otherwise skipped; a 32-bit item whose value
// does not fit is a malformed response.
func ParseStatus(resp *imapwire.Response, l imapwire.Limits, utf8 bool) (*StatusData, error) {
	p := newParser(resp, l, "STATUS")
	if err := p.expectUntagged("STATUS"); err != nil {
		return nil, err
	}
	s := p.s
	s.SP()
	raw := s.AString()
	sd := &StatusData{RawMailbox: append([]byte(nil), raw...), Has: map[string]bool{}}
	sd.Mailbox, sd.MailboxErr = DecodeMailbox(raw, utf8)
	s.SP()
	i := 0
	var key string
	s.List(func() {
		if i%2 == 0 {
			key = upper(s.Atom())
			i++
			return
		}
		i++
		p.item = key
		sd.Has[key] = true
		v := p.value()
		if v.Kind != imapwire.ValueNumber {
			if s.Err() == nil && isKnownStatusItem(key) {
				p.failf("value is a %s", v.Kind)
			}
			return
		}
		sd.set(p, key, v.Num)
	})
	if s.Err() == nil && i%2 != 0 {
		p.failf("item without value")
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return sd, nil
}

// isKnownStatusItem reports whether key is an item StatusData stores.
func isKnownStatusItem(key string) bool {
	switch key {
	case "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ":
		return true
	}
	return false
}

// set stores item key with value n, checking 32-bit items.
func (sd *StatusData) set(p *parser, key string, n uint64) {
	var dst *uint32
	switch key {
	case "MESSAGES":
		dst = &sd.Messages
	case "RECENT":
		dst = &sd.Recent
	case "UIDNEXT":
		dst = &sd.UIDNext
	case "UIDVALIDITY":
		dst = &sd.UIDValidity
	case "UNSEEN":
		dst = &sd.Unseen
	case "DELETED":
		dst = &sd.DeletedCount
	case "SIZE":
		sd.Size = n
		return
	case "HIGHESTMODSEQ":
		sd.HighestModSeq = n
		return
	default:
		return
	}
	if n > math.MaxUint32 {
		p.failf("%d does not fit 32 bits", n)
		return
	}
	*dst = uint32(n)
}
