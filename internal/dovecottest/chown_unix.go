//go:build unix

package dovecottest

import (
	"os"
	"syscall"
)

// chownLike gives path the owner and group of st (the mail user's).
func chownLike(path string, st os.FileInfo) error {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return os.Chown(path, int(sys.Uid), int(sys.Gid))
	}
	return nil
}
