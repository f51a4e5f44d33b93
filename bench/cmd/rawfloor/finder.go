package main

import "bytes"

// maxTaggedLine bounds the tagged completion line kept by a finder.
const maxTaggedLine = 4 << 10

// finder watches a response stream for the tagged completion of one command
// without parsing anything else: it looks for CRLF + tag + SP across read
// boundaries, then keeps the rest of that line. The stream is assumed to
// start at a line boundary (right after the command was sent).
type finder struct {
	pat   []byte // "\r\n" + tag + " "
	carry []byte // the last len(pat)-1 bytes seen, for matches across chunks
	line  []byte // the tagged line once found, without CRLF
	found bool
	done  bool
}

func newFinder(tag string) *finder {
	f := &finder{pat: []byte("\r\n" + tag + " ")}
	f.carry = append(f.carry, '\r', '\n') // the stream starts a line
	return f
}

// feed scans the next chunk and reports whether the tagged line is complete;
// line then returns it.
func (f *finder) feed(chunk []byte) bool {
	if f.done {
		return true
	}
	if f.found {
		return f.collect(chunk)
	}
	// A match that straddles the previous chunk and this one.
	if k := len(f.pat) - 1; len(f.carry) > 0 {
		head := chunk[:min(k, len(chunk))]
		joined := append(append(make([]byte, 0, len(f.carry)+len(head)), f.carry...), head...)
		if i := bytes.Index(joined, f.pat); i >= 0 {
			f.found = true
			start := i + len(f.pat) - len(f.carry) // offset in chunk just after the pattern
			f.line = append(f.line, f.pat[2:]...)
			return f.collect(chunk[start:])
		}
	}
	if i := bytes.Index(chunk, f.pat); i >= 0 {
		f.found = true
		f.line = append(f.line, f.pat[2:]...)
		return f.collect(chunk[i+len(f.pat):])
	}
	k := len(f.pat) - 1
	if len(chunk) >= k {
		f.carry = append(f.carry[:0], chunk[len(chunk)-k:]...)
	} else {
		f.carry = append(f.carry, chunk...)
		if len(f.carry) > k {
			f.carry = f.carry[len(f.carry)-k:]
		}
	}
	return false
}

// collect appends bytes of the tagged line until its CRLF (which may be
// split across chunks). A line longer than maxTaggedLine ends the search.
func (f *finder) collect(b []byte) bool {
	f.line = append(f.line, b...)
	if i := bytes.Index(f.line, []byte("\r\n")); i >= 0 {
		f.line = f.line[:i]
		f.done = true
	} else if len(f.line) > maxTaggedLine {
		f.done = true
	}
	return f.done
}
