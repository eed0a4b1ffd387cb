package framing_test

import (
	"bytes"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/framing"
)

// fuzzMax is the bound the fuzz targets use: small, so that oversized
// frames come up often.
const fuzzMax = 64

// split cuts b into pieces whose sizes are taken in turn from sizes
// (each modulo 32, so empty pieces occur too); what is left when sizes
// run out is the last piece.
func split(b, sizes []byte) [][]byte {
	var out [][]byte
	for _, n := range sizes {
		k := min(int(n%32), len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return append(out, b)
}

// checkBounded feeds pieces to s, checking as it goes that no message
// is over max and that s never holds more than one frame's worth beyond
// the piece just written.
func checkBounded(t *testing.T, s splitter, pieces [][]byte, max, overhead int) []event {
	t.Helper()
	var evs []event
	for _, p := range pieces {
		s.Write(p)
		for {
			m, ok, err := s.Next()
			if err != nil {
				evs = append(evs, event{err: err})
				continue
			}
			if !ok {
				break
			}
			if len(m) > max {
				t.Fatalf("message of %d bytes, over the bound %d", len(m), max)
			}
			evs = append(evs, event{msg: m})
		}
		if n := s.Buffered(); n > max+overhead {
			t.Fatalf("holding %d bytes, bound %d", n, max+overhead)
		}
	}
	if err := s.End(); err != nil {
		evs = append(evs, event{err: err})
	}
	return evs
}

// FuzzDeframer feeds a Splitter two streams, each cut at fuzz-chosen
// points: data itself (anything at all: no panic, nothing over the
// bound, and the same result however it is cut) and frames made by
// AppendFrame from pieces of data, which must come back identical.
func FuzzDeframer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0}, []byte{2, 5})
	f.Add([]byte{0, 0, 0, 65, 'x'}, []byte{1, 1, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, []byte{})
	f.Add([]byte("hello, world"), []byte{3, 0, 7, 31})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		// Any input.
		got := checkBounded(t, framing.NewSplitter(fuzzMax), split(data, sizes), fuzzMax, framing.HeaderLen)
		whole := feed(t, framing.NewSplitter(fuzzMax), [][]byte{data})
		if !sameEvents(got, whole) {
			t.Fatalf("cut differently, read differently:\n cut %v\nwhole %v", got, whole)
		}
		// Real frames round-trip.
		msgs := split(data, sizes)
		var s []byte
		for _, m := range msgs {
			s = framing.AppendFrame(s, m)
		}
		back := checkBounded(t, framing.NewSplitter(len(data)+1), split(s, reversed(sizes)), len(data)+1, framing.HeaderLen)
		if !sameMessages(messages(back), msgs) || len(back) != len(msgs) {
			t.Fatalf("round trip: got %v, want %q", back, msgs)
		}
	})
}

// FuzzDechunker does the same for COBS, and adds resynchronisation: after
// any garbage and a delimiter, chunks made by AppendCOBS come back intact.
func FuzzDechunker(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 0, 1, 0}, []byte{2, 1})
	f.Add([]byte("xyz\x00\x00"), []byte{1, 1, 1})
	f.Add(bytes.Repeat([]byte{0xff}, 80), []byte{30, 30})
	f.Add([]byte{0, 5, 1, 2, 3}, []byte{})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		// COBS overhead: a code byte per 254 bytes, before the bound
		// is found to be passed.
		got := checkBounded(t, framing.NewCOBSSplitter(fuzzMax), split(data, sizes), fuzzMax, fuzzMax/254+2)
		whole := feed(t, framing.NewCOBSSplitter(fuzzMax), [][]byte{data})
		if !sameEvents(got, whole) {
			t.Fatalf("cut differently, read differently:\n cut %v\nwhole %v", got, whole)
		}
		msgs := split(data, sizes)
		var enc []byte
		for _, m := range msgs {
			enc = framing.AppendCOBS(enc, m)
		}
		max := len(data) + 1
		back := checkBounded(t, framing.NewCOBSSplitter(max), split(enc, reversed(sizes)), max, max/254+2)
		if !sameMessages(messages(back), msgs) || len(back) != len(msgs) {
			t.Fatalf("round trip: got %v, want %q", back, msgs)
		}
		// Garbage, a delimiter, then the chunks: they all come back,
		// after whatever the garbage decoded to.
		in := append(append(append([]byte{}, data...), framing.Delimiter), enc...)
		evs := messages(feed(t, framing.NewCOBSSplitter(max), split(in, sizes)))
		if len(evs) < len(msgs) || !sameMessages(evs[len(evs)-len(msgs):], msgs) {
			t.Fatalf("after garbage: got %q, want %q at the end", evs, msgs)
		}
	})
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i, x := range b {
		r[len(b)-1-i] = x
	}
	return r
}
