//go:build !unix

package mqtt

import "io/fs"

// linked cannot tell on this system: nothing is kept open.
func linked(fs.FileInfo) bool { return false }

func mapObject(Object) []byte { return nil }

func unmapObject([]byte) {}

func fdLinked(Object) (linked, ok bool) { return false, false }
