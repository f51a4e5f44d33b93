package imap

import "github.com/imapbridge/imapbridge/imapengine/internal/imapwire"

// NamespaceDescr is one namespace: its prefix as sent on the wire (modified
// UTF-7 unless UTF-8 mode) and hierarchy delimiter ("" for NIL).
type NamespaceDescr struct {
	Prefix, Delim string
}

// Namespace is a NAMESPACE response (RFC 2342): personal, other users' and
// shared namespaces, each nil when the server sent NIL.
type Namespace struct {
	Personal, Other, Shared []NamespaceDescr
}

// ParseNamespace parses "* NAMESPACE (("" "/")) NIL (("#shared/" "/"))".
// Namespace response extensions are skipped.
func ParseNamespace(resp *imapwire.Response, l imapwire.Limits) (*Namespace, error) {
	p := newParser(resp, l, "NAMESPACE")
	if err := p.expectUntagged("NAMESPACE"); err != nil {
		return nil, err
	}
	ns := &Namespace{}
	for _, dst := range []*[]NamespaceDescr{&ns.Personal, &ns.Other, &ns.Shared} {
		p.s.SP()
		*dst = p.namespaceList()
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return ns, nil
}

// namespaceList reads NIL or "(" 1*( "(" prefix SP delim *ext ")" ) ")".
func (p *parser) namespaceList() []NamespaceDescr {
	s := p.s
	var list []NamespaceDescr
	if !s.Byte('(') {
		if _, isStr := s.NString(); isStr {
			p.failf("namespace is a string")
		}
		return nil
	}
	for s.Err() == nil {
		s.Byte(' ')
		if s.Byte(')') {
			break
		}
		var d NamespaceDescr
		i := 0
		s.List(func() {
			switch i {
			case 0:
				d.Prefix = string(s.String())
			case 1:
				b, _ := s.NString()
				d.Delim = string(b)
			default:
				p.s.Skip()
			}
			i++
		})
		if s.Err() == nil && i < 2 {
			p.failf("namespace has %d fields", i)
		}
		list = append(list, d)
	}
	if list == nil {
		list = []NamespaceDescr{}
	}
	return list
}
