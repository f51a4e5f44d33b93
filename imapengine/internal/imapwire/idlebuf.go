package imapwire

import (
	"bufio"
	"io"
	"net"
	"sync"
	"syscall"
)

// Idle buffer release. A Reader on a socket (a net.Conn that is a
// syscall.Conn, such as *net.TCPConn) gives its read buffer back to a pool
// shared by every Reader of the same buffer size whenever WaitData finds
// nothing buffered, waits for the socket to become readable without a buffer,
// and takes a buffer from the pool again before reading. An idle connection
// (an IDLE that lasts minutes) then holds no read buffer; one that receives
// data holds it as before. Sources that are not sockets (TLS connections,
// pipes, streams) wait with a 1-byte read instead of readiness (a TLS
// connection may hold decrypted bytes that the socket's readiness does not
// show), the byte kept in front of the next buffer.

// bufPools maps a buffer size to a *sync.Pool of *bufio.Reader of that size.
var bufPools sync.Map

func getBufReader(src io.Reader, size int) *bufio.Reader {
	if p, ok := bufPools.Load(size); ok {
		if br, _ := p.(*sync.Pool).Get().(*bufio.Reader); br != nil {
			br.Reset(src)
			return br
		}
	}
	return bufio.NewReaderSize(src, size)
}

func putBufReader(br *bufio.Reader, size int) {
	br.Reset(nil)
	p, _ := bufPools.LoadOrStore(size, new(sync.Pool))
	p.(*sync.Pool).Put(br)
}

// rawConnOf returns the socket of src when src is a net.Conn with one and
// waitReadable works on this platform, else nil.
func rawConnOf(src io.Reader) syscall.RawConn {
	if !canWaitReadable {
		return nil
	}
	if _, ok := src.(net.Conn); !ok {
		return nil
	}
	sc, ok := src.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// releaseWhileWaiting runs when WaitData has nothing buffered: it returns
// the buffer to the pool, waits until the socket is readable (or fails: the
// read that follows reports the error), and takes a buffer again. A source
// that turns out not to support the wait loses r.raw: it keeps its buffer
// from then on.
func (r *Reader) releaseWhileWaiting() {
	putBufReader(r.br, r.lim.ReadBufferSize)
	r.br = nil
	r.released.Store(true)
	ok := waitReadable(r.raw)
	r.br = getBufReader(r.ps, r.lim.ReadBufferSize)
	r.released.Store(false)
	if !ok {
		r.raw = nil
	}
}

// releaseWhileReading is releaseWhileWaiting for a source that is not a
// socket (a TLS connection, a pipe): the wait is a 1-byte read, whose byte
// the next buffer serves first (prefixSource). A TLS connection decrypts the
// whole record into its own buffer; the Reader holds none meanwhile. The
// read's error, with no byte, is returned as a read error.
func (r *Reader) releaseWhileReading() error {
	putBufReader(r.br, r.lim.ReadBufferSize)
	r.br = nil
	r.released.Store(true)
	n, err := r.src.Read(r.ps.b[:])
	r.ps.n = n
	r.br = getBufReader(r.ps, r.lim.ReadBufferSize)
	r.released.Store(false)
	if n == 0 && err != nil {
		return err
	}
	return nil
}

// prefixSource reads the byte a buffer-less wait has read (n = 1), then src.
type prefixSource struct {
	b   [1]byte
	n   int
	src io.Reader
}

func (p *prefixSource) Read(b []byte) (int, error) {
	if p.n > 0 && len(b) > 0 {
		b[0] = p.b[0]
		p.n = 0
		return 1, nil
	}
	return p.src.Read(b)
}
