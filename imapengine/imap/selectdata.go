package imap

import (
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// SelectData is the state of a mailbox built from the responses to SELECT
// or EXAMINE (RFC 3501 §6.3.1, RFC 7162 §3.1.2) and kept up to date by
// later EXISTS, RECENT, EXPUNGE and VANISHED responses.
type SelectData struct {
	// Exists is the number of messages (EXISTS).
	Exists uint32
	// Recent is the number of messages with \Recent (RECENT).
	Recent uint32
	// Flags are the flags defined in the mailbox (FLAGS).
	Flags []Flag
	// PermanentFlags are the flags that can be changed permanently;
	// FlagWildcard among them means new keywords may be created.
	PermanentFlags []Flag
	// UIDValidity is the UIDVALIDITY value.
	UIDValidity uint32
	// UIDNext is the predicted next UID (UIDNEXT).
	UIDNext UID
	// Unseen is the first unseen message (UNSEEN code, IMAP4rev1 only).
	Unseen SeqNum
	// HighestModSeq is HIGHESTMODSEQ (RFC 7162).
	HighestModSeq uint64
	// NoModSeq is set by the NOMODSEQ code: the mailbox has no mod-sequences.
	NoModSeq bool
	// ReadOnly is set by the READ-ONLY code of the completion.
	ReadOnly bool
	// Closed is set by the CLOSED code (RFC 7162 §3.2.11): the previous
	// mailbox was closed; responses before it belong to that mailbox.
	Closed bool
	// Err is the first malformed response met by Apply, nil if none.
	Err error
}

// Apply updates s from one response and reports whether the response was
// used. Feed it every untagged response and the tagged completion of
// SELECT or EXAMINE. Malformed data is not applied; the first such
// problem is kept in s.Err.
func (s *SelectData) Apply(resp *imapwire.Response) bool {
	if n, typ, ok := ParseNumbered(resp); ok {
		switch typ {
		case "EXISTS":
			s.Exists = n
		case "RECENT":
			s.Recent = n
		case "EXPUNGE":
			if s.Exists > 0 {
				s.Exists--
			}
		default:
			return false
		}
		return true
	}
	if st, ok := ParseStatusResponse(resp); ok {
		return s.applyCode(st)
	}
	switch rawName(resp) {
	case "FLAGS":
		p := newParser(resp, imapwire.Limits{}, "FLAGS")
		p.untagged()
		p.s.SP()
		flags := p.flagList()
		if err := p.finish(); err != nil {
			s.fail(err)
			return false
		}
		s.Flags = flags
		return true
	case "VANISHED":
		v, err := ParseVanished(resp, imapwire.Limits{})
		if err != nil {
			s.fail(err)
			return false
		}
		if !v.Earlier {
			n, ok := v.UIDs.Count()
			if ok && n > 0 {
				s.Exists -= uint32(min(n, uint64(s.Exists)))
			}
		}
		return true
	}
	return false
}

// fail records the first error.
func (s *SelectData) fail(err error) {
	if s.Err == nil {
		s.Err = err
	}
}

// applyCode applies the response code of a status response.
func (s *SelectData) applyCode(st StatusResponse) bool {
	if st.Status != "OK" {
		return false
	}
	arg := strings.TrimSpace(st.CodeArg)
	var err error
	var n uint32
	switch st.Code {
	case "PERMANENTFLAGS":
		var flags []Flag
		if flags, err = parseFlagArg(arg); err == nil {
			s.PermanentFlags = flags
		}
	case "UIDVALIDITY":
		if n, err = parseUint32Arg(st.Code, arg); err == nil {
			s.UIDValidity = n
		}
	case "UIDNEXT":
		if n, err = parseUint32Arg(st.Code, arg); err == nil {
			s.UIDNext = UID(n)
		}
	case "UNSEEN":
		if n, err = parseUint32Arg(st.Code, arg); err == nil {
			s.Unseen = SeqNum(n)
		}
	case "HIGHESTMODSEQ":
		var m uint64
		if m, err = parseUint64Arg(st.Code, arg); err == nil {
			s.HighestModSeq = m
		}
	case "NOMODSEQ":
		s.NoModSeq = true
	case "READ-ONLY":
		s.ReadOnly = true
	case "READ-WRITE":
		s.ReadOnly = false
	case "CLOSED":
		s.Closed = true
	default:
		return false
	}
	if err != nil {
		s.fail(err)
		return false
	}
	return true
}

// codeResponse builds a one-line response from a code argument, so the
// Scanner can parse it.
func codeResponse(arg string) *imapwire.Response {
	return &imapwire.Response{Lines: [][]byte{[]byte(arg)}}
}

// parseFlagArg parses the "(flag ...)" argument of PERMANENTFLAGS.
func parseFlagArg(arg string) ([]Flag, error) {
	p := newParser(codeResponse(arg), imapwire.Limits{}, "PERMANENTFLAGS")
	flags := p.flagList()
	if err := p.finish(); err != nil {
		return nil, err
	}
	return flags, nil
}

// parseUint32Arg parses a code argument that is a 32-bit number.
func parseUint32Arg(code, arg string) (uint32, error) {
	p := newParser(codeResponse(arg), imapwire.Limits{}, code)
	n := p.s.Number()
	return n, p.finish()
}

// parseUint64Arg parses a code argument that is a 63-bit number.
func parseUint64Arg(code, arg string) (uint64, error) {
	p := newParser(codeResponse(arg), imapwire.Limits{}, code)
	n := p.s.Number64()
	return n, p.finish()
}
