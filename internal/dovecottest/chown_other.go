//go:build !unix

package dovecottest

import "os"

// chownLike does nothing where files have no Unix owner.
func chownLike(string, os.FileInfo) error { return nil }
