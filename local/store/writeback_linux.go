package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing a range of f to disk
// without waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE): the data
// goes out while the rest is still being written, and the fsync at the end
// does not wait for all of it. Durability still comes from that fsync.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
