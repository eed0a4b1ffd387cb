// Package slab cuts the byte slices of many packets from few allocations:
// a burst of datagrams costs a handful of allocations rather than one a
// datagram. internet/udp copies what it reads with it, internet/fragment
// makes its fragments with it, and components/transfer its packets.
//
// Every slice it returns has its capacity cut to its length, so
// appending to one never touches its neighbours; and an allocation is at
// most Size bytes (or one slice, when that is longer), so that whoever
// keeps one slice keeps little else alive with it.
package slab

import "bytes"

// Size bounds an allocation that slices made together share: 32 KiB.
const Size = 32 << 10

// Join appends to dst, for each run of per consecutive slices in parts,
// one slice holding that run's bytes end to end, and returns the longer
// dst. Runs that follow one another share an allocation while their bytes
// fit in Size; the bytes are copied once, into memory that is not zeroed
// first. An empty run gives an empty, non-nil slice. len(parts) must be
// a multiple of per (a trailing partial run is ignored).
//
// dst may be parts[:0]: each result is written over slices that have
// been read already, so a reader's buffers can be replaced by copies of
// their own in place.
func Join(dst, parts [][]byte, per int) [][]byte {
	n := len(parts) / per
	run := func(i int) int {
		size := 0
		for _, p := range parts[i*per : (i+1)*per] {
			size += len(p)
		}
		return size
	}
	for i := 0; i < n; {
		j, size := i+1, run(i)
		for j < n {
			m := run(j)
			if size+m > Size {
				break
			}
			size += m
			j++
		}
		all := []byte{}
		if size > 0 {
			all = bytes.Join(parts[i*per:j*per], nil)
		}
		off := 0
		for k := i; k < j; k++ {
			m := run(k) // read before dst's next slot, which may be parts[k], is written
			dst = append(dst, all[off:off+m:off+m])
			off += m
		}
		i = j
	}
	return dst
}

// A Slab cuts slices one at a time, for callers that fill them in
// themselves, from allocations of Size bytes. The zero value is ready to
// use; a Slab is not safe for use by several goroutines at once.
type Slab struct {
	free []byte // what is left of the current allocation
}

// Cut returns an n-byte slice of zeros, with capacity n, cut from the
// current allocation, or from a new one when that has less than n bytes
// left (of its own, when n is more than Size).
func (s *Slab) Cut(n int) []byte {
	if len(s.free) < n {
		s.free = make([]byte, max(Size, n))
	}
	b := s.free[:n:n]
	s.free = s.free[n:]
	return b
}
