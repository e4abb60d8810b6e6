package mqtt

import (
	"bytes"
	"slices"
	"testing"
)

type countingObject struct {
	*bytes.Reader
	reads, largest int
}

func (c *countingObject) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	c.largest = max(c.largest, len(p))
	return c.Reader.ReadAt(p, off)
}

func (c *countingObject) Close() error { return nil }

func TestBlockReaderReadsAWindowAtOnce(t *testing.T) {
	body := make([]byte, 20*4096+100) // 21 blocks of 4096, the last short
	for i := range body {
		body[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name             string
		bitmap           []byte
		offset, limit, l int64
		want             []int64
		reads, largest   int
	}{
		{"window of 8", nil, 0, 8, 4096, []int64{0, 1, 2, 3, 4, 5, 6, 7}, 1, 8 * 4096},
		{"to the short end", nil, 16, 8, 4096, []int64{16, 17, 18, 19, 20}, 1, 4*4096 + 100},
		{"more than one read ahead", nil, 4, 99, 4096, []int64{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 2, readAhead},
		{"bitmap", []byte{0b00100101, 0b00000010}, 1, 99, 4096, []int64{1, 3, 6, 10}, 1, 10 * 4096},
		{"one block", nil, 3, 1, 4096, []int64{3}, 1, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &countingObject{Reader: bytes.NewReader(body)}
			want := wantedBlocks(tc.bitmap, tc.offset, 21, tc.limit)
			if !slices.Equal(want, tc.want) {
				t.Fatalf("blocks %v, want %v", want, tc.want)
			}
			size := int64(len(body))
			r := newBlockReader(obj, min(size, (want[len(want)-1]+1)*tc.l))
			defer r.release()
			for _, i := range want {
				p := make([]byte, min(tc.l, size-i*tc.l))
				if err := r.read(p, i*tc.l); err != nil || !bytes.Equal(p, body[i*tc.l:i*tc.l+int64(len(p))]) {
					t.Fatalf("block %d: %v", i, err)
				}
			}
			if obj.reads != tc.reads || obj.largest != tc.largest {
				t.Fatalf("%d reads, largest %d; want %d, %d", obj.reads, obj.largest, tc.reads, tc.largest)
			}
		})
	}
}
