package imap

import (
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// SearchData is a SEARCH (RFC 3501 §7.2.5, RFC 7162 MODSEQ) or ESEARCH
// (RFC 4731) response. Sets stay ranges (security.md B11).
type SearchData struct {
	// All lists the numbers of a plain SEARCH: sequence numbers, or UIDs
	// for UID SEARCH.
	All []uint32
	// ModSeq is the highest mod-sequence of the matches (MODSEQ), 0 if
	// not sent.
	ModSeq uint64
	// ESEARCH reports whether this was an ESEARCH response; the fields
	// below are used only then.
	ESEARCH bool
	// Tag is the correlator (TAG "A5") of an ESEARCH response.
	Tag string
	// UID is set when the numbers are UIDs.
	UID bool
	// Min, Max and Count are the MIN, MAX and COUNT results; see HasMin,
	// HasMax and HasCount.
	Min, Max, Count          uint32
	HasMin, HasMax, HasCount bool
	// AllSet is the ALL result, as ranges; nil if not sent.
	AllSet []NumRange
}

// AllUIDs returns AllSet as a UIDSet (meaningful when UID is set).
func (d *SearchData) AllUIDs() UIDSet { return UIDSet(d.AllSet) }

// AllSeqs returns AllSet as a SeqSet (meaningful when UID is not set).
func (d *SearchData) AllSeqs() SeqSet { return SeqSet(d.AllSet) }

// ParseSearch parses "* SEARCH 2 3 (MODSEQ 917162500)" or
// "* ESEARCH (TAG "A5") UID MIN 1 MAX 9 COUNT 5 ALL 1:3,5". Unknown
// ESEARCH return data is skipped.
func ParseSearch(resp *imapwire.Response, l imapwire.Limits) (*SearchData, error) {
	kind := rawName(resp)
	if kind != "SEARCH" && kind != "ESEARCH" {
		return nil, unexpected("SEARCH", kind)
	}
	p := newParser(resp, l, kind)
	p.untagged()
	d := &SearchData{}
	if kind == "SEARCH" {
		p.search(d)
	} else {
		p.esearch(d)
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return d, nil
}

// search reads the numbers of a plain SEARCH and an optional MODSEQ.
func (p *parser) search(d *SearchData) {
	s := p.s
	d.All = []uint32{}
	for s.Byte(' ') {
		if s.AtEnd() {
			return // a trailing space, as some servers send
		}
		if c, _ := s.Peek(); c == '(' {
			s.List(func() {
				if k := upper(s.Atom()); k != "MODSEQ" {
					p.failf("unknown search modifier %.20q", k)
				}
				s.SP()
				d.ModSeq = s.Number64()
			})
			return
		}
		if n := s.Number(); n != 0 {
			d.All = append(d.All, n)
		} else if s.Err() == nil {
			p.failf("number 0")
		}
	}
}

// esearch reads ESEARCH return data.
func (p *parser) esearch(d *SearchData) {
	s := p.s
	d.ESEARCH = true
	if !s.Byte(' ') {
		return
	}
	if c, _ := s.Peek(); c == '(' {
		var k string
		i := 0
		s.List(func() {
			if i == 0 {
				k = upper(s.Atom())
			} else if b := s.String(); k == "TAG" {
				d.Tag = string(b)
			}
			i++
		})
		if !s.Byte(' ') {
			return
		}
	}
	for s.Err() == nil && !s.AtEnd() {
		key := upper(s.Atom())
		if key == "UID" {
			d.UID = true
			if !s.Byte(' ') {
				return
			}
			continue
		}
		s.SP()
		p.item = key
		switch key {
		case "MIN":
			d.Min, d.HasMin = s.Number(), true
		case "MAX":
			d.Max, d.HasMax = s.Number(), true
		case "COUNT":
			d.Count, d.HasCount = s.Number(), true
		case "ALL":
			d.AllSet = fromWire(s.SeqSet())
		case "MODSEQ":
			d.ModSeq = s.Number64()
		default:
			p.s.Skip()
		}
		if !s.Byte(' ') {
			return
		}
	}
}
