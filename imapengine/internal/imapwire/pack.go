package imapwire

import "strings"

// Packing of the small pieces of one response (issue 20 item 4). A response
// of many tiny literals or lines would otherwise cost one allocation per
// piece, each rounded up to its size class (16 bytes at least under the race
// detector, which turns off the runtime's packing of tiny objects), several
// times the piece itself.
const (
	// MaxPackedSize is the largest line or literal the Reader stores in a
	// shared chunk of its response instead of its own allocation. Such a
	// piece is handed out with its capacity equal to its length, so an
	// append never reaches its neighbour, and Recycle ignores it.
	MaxPackedSize = 256

	// MaxPackChunk is the largest chunk small pieces are packed into. The
	// first chunk of a response is the size of its first piece and each
	// next one twice the last, up to this size, so a short response costs
	// what it did with one allocation per piece and a long one wastes at
	// most MaxPackedSize bytes per chunk (and the tail of its last one).
	MaxPackChunk = 16 << 10
)

// packer hands out the memory of a response's small pieces from chunks.
// Bytes handed out are never touched by the packer again.
type packer struct {
	free []byte // the rest of the current chunk (len 0)
	size int    // the size of the current chunk
}

// alloc returns n bytes (len and cap n) for a piece: from the current chunk
// when n is at most MaxPackedSize, else its own allocation.
func (p *packer) alloc(n int) []byte {
	if n > MaxPackedSize || n == 0 {
		return make([]byte, n)
	}
	if cap(p.free) < n {
		p.size = max(n, min(2*p.size, MaxPackChunk))
		p.free = make([]byte, 0, p.size)
	}
	b := p.free[:n:n]
	p.free = p.free[n:n]
	return b
}

// strPacker is packer for strings: the Scanner's atoms that its cache does
// not hold (many distinct flags, or item names such as BODY[123]) share
// chunks instead of costing one allocation each. A strings.Builder only ever
// appends, so the strings handed out stay immutable; a chunk is replaced,
// never grown.
type strPacker struct {
	b    strings.Builder
	size int
}

// str returns tok as a string, from the current chunk when it is at most
// MaxPackedSize bytes.
func (p *strPacker) str(tok []byte) string {
	n := len(tok)
	if n > MaxPackedSize || n == 0 {
		return string(tok)
	}
	if p.b.Cap()-p.b.Len() < n {
		p.size = max(n, min(2*p.size, MaxPackChunk))
		p.b = strings.Builder{}
		p.b.Grow(p.size)
	}
	p.b.Write(tok)
	s := p.b.String()
	return s[len(s)-n:]
}
