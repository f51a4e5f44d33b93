package imapwire

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestIdleBufferReleased: on a TCP socket, WaitData with nothing buffered
// holds no read buffer while it waits, and what arrives afterwards (a
// response split across writes, a literal larger than the buffer) reads
// intact.
func TestIdleBufferReleased(t *testing.T) {
	if !canWaitReadable {
		t.Skip("no readiness wait on this platform")
	}
	c, s := tcpPair(t)
	r := NewReader(c, Limits{ReadBufferSize: MinReadBufferSize})
	if r.raw == nil {
		t.Fatal("a TCP connection should be recognised as a socket")
	}
	waiting := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(waiting)
		if err := r.WaitData(); err != nil {
			done <- err
			return
		}
		done <- nil
	}()
	<-waiting
	// The reader must park in the readiness wait, with its buffer released.
	deadline := time.Now().Add(10 * time.Second)
	for !r.released.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the buffer was not released while waiting")
		}
		time.Sleep(time.Millisecond)
	}
	lit := make([]byte, 3*MinReadBufferSize)
	for i := range lit {
		lit[i] = 'a' + byte(i%26)
	}
	msg := "* 1 FETCH (BODY[] {" + itoa(len(lit)) + "}\r\n" + string(lit) + ")\r\n* 2 EXISTS\r\n"
	if _, err := s.Write([]byte(msg[:7])); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r.released.Load() {
		t.Fatal("the buffer is still released after data arrived")
	}
	go s.Write([]byte(msg[7:]))
	resp, err := r.ReadResponse()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Literals) != 1 || string(resp.Literals[0]) != string(lit) {
		t.Fatalf("literal corrupted: %d literals", len(resp.Literals))
	}
	// The next response is already buffered: no release.
	if err := r.WaitData(); err != nil {
		t.Fatal(err)
	}
	resp, err = r.ReadResponse()
	if err != nil || string(resp.Lines[0]) != "* 2 EXISTS" {
		t.Fatalf("second response %q, %v", resp.Lines, err)
	}
}

// TestIdleBufferWaitEnds: a read deadline and the peer's close end the
// buffer-less wait with the errors a blocked read would report.
func TestIdleBufferWaitEnds(t *testing.T) {
	if !canWaitReadable {
		t.Skip("no readiness wait on this platform")
	}
	c, s := tcpPair(t)
	r := NewReader(c, Limits{})
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if err := r.WaitData(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline: got %v", err)
	}
	c.SetReadDeadline(time.Time{})
	s.Close()
	if err := r.WaitData(); err == nil {
		t.Fatal("peer closed: WaitData returned nil")
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestIdleBufferReleasedNonSocket: a source that is not a socket (net.Pipe
// here, a TLS connection in production) waits with a 1-byte read and no
// buffer; the byte is served first, Buffered counts it, and a read error
// with no byte is returned.
func TestIdleBufferReleasedNonSocket(t *testing.T) {
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	r := NewReader(c, Limits{ReadBufferSize: MinReadBufferSize})
	if r.raw != nil {
		t.Fatal("net.Pipe is not a socket")
	}
	done := make(chan error, 1)
	go func() { done <- r.WaitData() }()
	deadline := time.Now().Add(10 * time.Second)
	for !r.released.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the buffer was not released while waiting")
		}
		time.Sleep(time.Millisecond)
	}
	lit := make([]byte, 3*MinReadBufferSize)
	for i := range lit {
		lit[i] = 'A' + byte(i%26)
	}
	msg := "* 1 FETCH (BODY[] {" + itoa(len(lit)) + "}\r\n" + string(lit) + ")\r\n"
	go s.Write([]byte(msg))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r.Buffered() < 1 {
		t.Fatalf("Buffered = %d after the wait read a byte", r.Buffered())
	}
	resp, err := r.ReadResponse()
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Lines[0]) != "* 1 FETCH (BODY[] {"+itoa(len(lit))+"}" || len(resp.Literals) != 1 || string(resp.Literals[0]) != string(lit) {
		t.Fatalf("response corrupted: %q", resp.Lines)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if err := r.WaitData(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline: got %v", err)
	}
}
