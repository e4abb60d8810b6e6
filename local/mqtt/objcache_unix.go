//go:build unix

package mqtt

import (
	"io/fs"
	"syscall"
)

// linked reports whether an open file still has a directory entry.
func linked(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink > 0
}
