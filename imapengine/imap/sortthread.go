package imap

import (
	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// MaxThreadDepth bounds the depth of a parsed THREAD tree (a reply chain of
// more messages is a malformed response): consumers walk trees recursively,
// and a browser's JSON parser has a nesting limit of its own.
const MaxThreadDepth = 1000

// SortData is a SORT response (RFC 5256 §4): numbers in sort order.
type SortData struct {
	// Nums are sequence numbers, or UIDs for UID SORT, in sort order.
	Nums []uint32
	// ModSeq is the highest mod-sequence of the matches (RFC 7162), 0 if
	// not sent.
	ModSeq uint64
}

// ParseSort parses "* SORT 5 3 4 1 2" (an empty result is "* SORT").
func ParseSort(resp *imapwire.Response, l imapwire.Limits) (*SortData, error) {
	p := newParser(resp, l, "SORT")
	if err := p.expectUntagged("SORT"); err != nil {
		return nil, err
	}
	var sd SearchData
	p.search(&sd)
	if err := p.finish(); err != nil {
		return nil, err
	}
	return &SortData{Nums: sd.All, ModSeq: sd.ModSeq}, nil
}

// ParseThread parses "* THREAD (2)(3 6 (4 23)(44 7 96))" (RFC 5256 §4) into
// its threads, each a root node. A thread-members chain "3 6" becomes 6 a
// child of 3; nested lists are children of the last member, or of a node
// with UID 0 when the list has no members.
func ParseThread(resp *imapwire.Response, l imapwire.Limits) ([]*ThreadNode, error) {
	p := newParser(resp, l, "THREAD")
	if err := p.expectUntagged("THREAD"); err != nil {
		return nil, err
	}
	s := p.s
	roots := []*ThreadNode{}
	if s.Byte(' ') {
		for s.Err() == nil && p.bad == nil && !s.AtEnd() {
			if c, _ := s.Peek(); c != '(' {
				p.failf("expected thread list")
				break
			}
			roots = append(roots, p.threadList(0))
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return roots, nil
}

// threadList reads one "(" ... ")" thread list at the given depth and
// returns its root.
func (p *parser) threadList(depth int) *ThreadNode {
	s := p.s
	s.Expect('(')
	var root, last *ThreadNode
	for s.Err() == nil && p.bad == nil {
		c, ok := s.Peek()
		if !ok {
			p.failf("unterminated thread list")
			return root
		}
		switch {
		case c == ')':
			s.Byte(')')
			if root == nil {
				p.failf("empty thread list")
			}
			return root
		case c == ' ':
			s.Byte(' ')
		case c == '(':
			if last == nil {
				root = &ThreadNode{}
				last = root
			}
			if depth+1 >= MaxThreadDepth {
				p.failf("thread deeper than %d", MaxThreadDepth)
				return root
			}
			if ch := p.threadList(depth + 1); ch != nil {
				last.Children = append(last.Children, ch)
			}
		case c >= '1' && c <= '9':
			if last != nil && len(last.Children) > 0 {
				p.failf("number after nested thread")
				return root
			}
			n := &ThreadNode{UID: UID(s.Number())}
			if root == nil {
				root = n
			} else {
				depth++
				if depth >= MaxThreadDepth {
					p.failf("thread deeper than %d", MaxThreadDepth)
					return root
				}
				last.Children = append(last.Children, n)
			}
			last = n
		default:
			p.failf("unexpected %q in thread", c)
			return root
		}
	}
	return root
}
