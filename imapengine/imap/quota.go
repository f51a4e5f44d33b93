package imap

import "github.com/imapbridge/imapbridge/imapengine/internal/imapwire"

// QuotaResource is one resource of a quota root: its name (e.g.
// "STORAGE", in KiB, or "MESSAGE"), current usage and limit.
type QuotaResource struct {
	Name         string
	Usage, Limit uint64
}

// Quota is a QUOTA response (RFC 2087, RFC 9208 §5.1).
type Quota struct {
	// Root is the quota root name.
	Root string
	// Resources are the resources with their usage and limit.
	Resources []QuotaResource
}

// ParseQuota parses "* QUOTA root (name usage limit ...)".
func ParseQuota(resp *imapwire.Response, l imapwire.Limits) (*Quota, error) {
	p := newParser(resp, l, "QUOTA")
	if err := p.expectUntagged("QUOTA"); err != nil {
		return nil, err
	}
	s := p.s
	s.SP()
	q := &Quota{Root: p.astring(), Resources: []QuotaResource{}}
	s.SP()
	i := 0
	s.List(func() {
		switch i % 3 {
		case 0:
			q.Resources = append(q.Resources, QuotaResource{Name: upper(s.Atom())})
		case 1:
			q.Resources[len(q.Resources)-1].Usage = p.number64("usage")
		case 2:
			q.Resources[len(q.Resources)-1].Limit = p.number64("limit")
		}
		i++
	})
	if s.Err() == nil && i%3 != 0 {
		p.failf("resource without usage and limit")
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return q, nil
}

// QuotaRoot is a QUOTAROOT response (RFC 2087, RFC 9208 §5.2).
type QuotaRoot struct {
	// Mailbox is the mailbox name as sent.
	Mailbox string
	// Roots are the quota roots of the mailbox.
	Roots []string
}

// ParseQuotaRoot parses "* QUOTAROOT mailbox root ...".
func ParseQuotaRoot(resp *imapwire.Response, l imapwire.Limits) (*QuotaRoot, error) {
	p := newParser(resp, l, "QUOTAROOT")
	if err := p.expectUntagged("QUOTAROOT"); err != nil {
		return nil, err
	}
	p.s.SP()
	q := &QuotaRoot{Mailbox: p.astring(), Roots: []string{}}
	for p.s.Byte(' ') && !p.s.AtEnd() {
		q.Roots = append(q.Roots, p.astring())
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return q, nil
}
