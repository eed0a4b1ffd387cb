package udp

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestCopyPayloads(t *testing.T) {
	burst := make([]int, 26)
	for i := range burst {
		burst[i] = 1400
	}
	for _, c := range []struct {
		name  string
		sizes []int
	}{
		{"one", []int{5}},
		{"one empty", []int{0}},
		{"all empty", []int{0, 0, 0}},
		{"mixed", []int{3, 0, 7, 1}},
		{"a burst over copyChunk", burst},
		{"the largest among small ones", []int{10, 65507, 10, 10}},
		{"around copyChunk", []int{copyChunk, 1, copyChunk - 1, 1}},
	} {
		sizes := c.sizes
		t.Run(c.name, func(t *testing.T) {
			// The reader's buffers, which the copies must not share.
			var read [][]byte
			var want [][]byte
			for i, n := range sizes {
				b := bytes.Repeat([]byte{byte('a' + i%26)}, n)
				read = append(read, b)
				want = append(want, bytes.Clone(b))
			}
			orig := make([][]byte, len(read))
			copy(orig, read)
			copyPayloads(read)
			for i, b := range read {
				if !bytes.Equal(b, want[i]) || b == nil {
					t.Fatalf("payload %d: %q, want %q (non-nil)", i, b, want[i])
				}
				if cap(b) != len(b) {
					t.Errorf("payload %d: capacity %d, want its length %d", i, cap(b), len(b))
				}
				if len(b) > 0 && &b[0] == &orig[i][0] {
					t.Errorf("payload %d was not copied", i)
				}
			}
			// Appending to one copy leaves its neighbours alone, and
			// changing the reader's buffers leaves the copies alone.
			for i := range read {
				read[i] = append(read[i], '!')
				for _, b := range orig {
					clear(b)
				}
				for j, b := range read {
					if j != i && !bytes.Equal(b, want[j]) {
						t.Fatalf("payload %d changed to %q when payload %d grew", j, b, i)
					}
				}
				read[i] = read[i][:len(read[i])-1]
			}
		})
	}
}

// Payloads read together share allocations of at most copyChunk bytes,
// each bigger payload on its own: one allocation for a burst of small
// ones.
func TestCopyPayloadsShares(t *testing.T) {
	read := [][]byte{make([]byte, 100), make([]byte, 100), make([]byte, copyChunk), make([]byte, 100)}
	copyPayloads(read)
	next := func(a, b []byte) bool { // b starts where a ends
		return uintptr(unsafe.Pointer(unsafe.SliceData(a)))+uintptr(len(a)) == uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	}
	if !next(read[0], read[1]) {
		t.Error("the first two payloads are not in one allocation")
	}
	if next(read[1], read[2]) || next(read[2], read[3]) {
		t.Error("a payload of copyChunk bytes shares its allocation")
	}

	src := make([]byte, 16*64)
	bs := make([][]byte, 16)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range bs {
			bs[i] = src[i*64 : (i+1)*64]
		}
		copyPayloads(bs)
	})
	if allocs != 1 {
		t.Errorf("%v allocations to copy 16 payloads of 64 bytes, want 1", allocs)
	}
}
