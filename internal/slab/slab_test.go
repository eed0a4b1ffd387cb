package slab

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestJoinCopies(t *testing.T) {
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
		{"a burst over Size", burst},
		{"the largest among small ones", []int{10, 65507, 10, 10}},
		{"around Size", []int{Size, 1, Size - 1, 1}},
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
			Join(read[:0], read, 1)
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

// Payloads read together share allocations of at most Size bytes,
// each bigger payload on its own: one allocation for a burst of small
// ones.
func TestJoinShares(t *testing.T) {
	read := [][]byte{make([]byte, 100), make([]byte, 100), make([]byte, Size), make([]byte, 100)}
	Join(read[:0], read, 1)
	if !follows(read[0], read[1]) {
		t.Error("the first two payloads are not in one allocation")
	}
	if follows(read[1], read[2]) || follows(read[2], read[3]) {
		t.Error("a payload of Size bytes shares its allocation")
	}

	src := make([]byte, 16*64)
	bs := make([][]byte, 16)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range bs {
			bs[i] = src[i*64 : (i+1)*64]
		}
		Join(bs[:0], bs, 1)
	})
	if allocs != 1 {
		t.Errorf("%v allocations to copy 16 payloads of 64 bytes, want 1", allocs)
	}
}

// Runs of several parts become one slice each, in order, sharing
// allocations as single parts do; results written over the parts in place
// are what a separate dst gets.
func TestJoinRuns(t *testing.T) {
	var parts [][]byte
	var want []string
	for i := range 40 {
		head, body := []byte{'h', byte('a' + i%26)}, bytes.Repeat([]byte{byte('0' + i%10)}, 1000+i)
		parts = append(parts, head, body)
		want = append(want, string(head)+string(body))
	}
	sep := Join(nil, parts, 2)
	inPlace := Join(parts[:0], parts, 2)
	if len(sep) != len(want) || len(inPlace) != len(want) {
		t.Fatalf("%d and %d results, want %d", len(sep), len(inPlace), len(want))
	}
	shared := 0
	for i := range want {
		if string(sep[i]) != want[i] || string(inPlace[i]) != want[i] {
			t.Fatalf("result %d: %d and %d bytes, want %d", i, len(sep[i]), len(inPlace[i]), len(want[i]))
		}
		if cap(sep[i]) != len(sep[i]) {
			t.Errorf("result %d: capacity %d, want its length %d", i, cap(sep[i]), len(sep[i]))
		}
		if i > 0 && follows(sep[i-1], sep[i]) {
			shared++
		}
	}
	// 40 results of about 1 KiB: two or three allocations of 32 KiB.
	if shared < len(want)-3 {
		t.Errorf("only %d of %d results follow their predecessor in memory", shared, len(want))
	}
	if got := Join(nil, [][]byte{nil, {}, {}, nil}, 2); len(got) != 2 || got[0] == nil || got[1] == nil {
		t.Errorf("empty runs: %q, want two empty, non-nil slices", got)
	}
}

// follows reports whether b starts where a ends.
func follows(a, b []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(a)))+uintptr(len(a)) == uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// Cut hands out zeroed slices of their own capacity, one after another
// in an allocation of Size bytes, and a longer one alone.
func TestCut(t *testing.T) {
	var s Slab
	a, b := s.Cut(100), s.Cut(200)
	if len(a) != 100 || cap(a) != 100 || len(b) != 200 || cap(b) != 200 {
		t.Fatalf("lengths %d, %d and capacities %d, %d", len(a), len(b), cap(a), cap(b))
	}
	if !follows(a, b) {
		t.Error("two small slices are not cut one after the other")
	}
	if bytes.Count(append(a, b...), []byte{0}) != 300 {
		t.Error("a slice cut is not zeroed")
	}
	big := s.Cut(Size + 1)
	if len(big) != Size+1 || follows(b, big) {
		t.Errorf("a slice longer than Size: %d bytes, following the last: %v", len(big), follows(b, big))
	}
	allocs := testing.AllocsPerRun(100, func() {
		var s Slab
		for range 32 {
			s.Cut(1000)
		}
	})
	if allocs != 1 {
		t.Errorf("%v allocations to cut 32 slices of 1000 bytes, want 1", allocs)
	}
}
