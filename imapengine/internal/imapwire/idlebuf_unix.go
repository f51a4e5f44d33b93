//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package imapwire

import "syscall"

const canWaitReadable = true

// waitReadable blocks until rc has data (or end of stream, or an error)
// without consuming any: a non-blocking 1-byte MSG_PEEK that would block
// hands the wait to the runtime's poller (so a read deadline or a Close ends
// it as it ends a Read). It returns false when rc is not a socket.
func waitReadable(rc syscall.RawConn) bool {
	var b [1]byte
	var serr error
	err := rc.Read(func(fd uintptr) bool {
		_, _, serr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return serr != syscall.EAGAIN && serr != syscall.EWOULDBLOCK && serr != syscall.EINTR
	})
	return err != nil || serr != syscall.ENOTSOCK
}
