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

// fdLinked is linked for an open file, with fstat into a Stat_t on the
// stack: a fleet asks this once per request. ok is false when obj has no
// descriptor.
func fdLinked(obj Object) (linked, ok bool) {
	f, ok := obj.(fder)
	if !ok {
		return false, false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false, true
	}
	return st.Nlink > 0, true
}

// fder is an open file's descriptor (local/s3's objects embed *os.File).
type fder interface{ Fd() uintptr }

// mapObject maps a kept object version read-only, so that each block is
// copied once, from the page cache straight into the message being
// framed, with no read syscall per window. Blobs are written once under a
// new name and never truncated (local/store), so the mapping stays valid
// for as long as it is held, even after the version is deleted. nil when
// it cannot be mapped: reads then go through ReadAt.
func mapObject(obj Object) []byte {
	f, ok := obj.(fder)
	size := obj.Size()
	if !ok || size <= 0 || size != int64(int(size)) {
		return nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return data
}

func unmapObject(data []byte) {
	if data != nil {
		_ = syscall.Munmap(data)
	}
}
