//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package imapwire

import "syscall"

const canWaitReadable = false

func waitReadable(syscall.RawConn) bool { return false }
