package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
)

// errNoHijack reports a ResponseWriter that cannot hand over its connection.
var errNoHijack = errors.New("bridge: the response writer cannot be hijacked")

// smallBuffers is the ResponseWriter handed to websocket.Accept: its Hijack
// returns the connection with read and write buffers of Limits.WSReadBuffer
// and WSWriteBuffer bytes instead of net/http's 4 KiB each, which the
// WebSocket would keep for the session's whole life (bench/bridge: an idle
// session is mostly buffers). Bytes net/http had already read past the
// upgrade request are carried over into the new read buffer.
type smallBuffers struct {
	http.ResponseWriter
	lim *Limits
}

// Hijack implements http.Hijacker.
func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, err := hijackerOf(w.ResponseWriter)
	if err != nil {
		return nil, nil, err
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, w.lim.WSReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		// Frames the browser sent right behind the upgrade request: they go
		// into the new buffer (made large enough), where Accept looks for
		// them (it re-reads Buffered bytes before the connection).
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(w.lim.WSReadBuffer, n))
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, w.lim.WSWriteBuffer)), nil
}

// hijackerOf finds the http.Hijacker under rw, following Unwrap as
// http.ResponseController does.
func hijackerOf(rw http.ResponseWriter) (http.Hijacker, error) {
	for {
		switch t := rw.(type) {
		case http.Hijacker:
			return t, nil
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return nil, errNoHijack
		}
	}
}
