package framing_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/framing"
)

func TestAppendFrameWireFormat(t *testing.T) {
	got := framing.AppendFrame([]byte("x"), []byte("hi"))
	want := []byte{'x', 0, 0, 0, 2, 'h', 'i'}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
	if got := framing.AppendFrame(nil, nil); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("empty message: got % x", got)
	}
	long := framing.AppendFrame(nil, make([]byte, 70000))
	if n := binary.BigEndian.Uint32(long); n != 70000 || len(long) != 70004 {
		t.Fatalf("70000-byte message: prefix %d, frame %d bytes", n, len(long))
	}
}

func stream(msgs [][]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = framing.AppendFrame(b, m)
	}
	return b
}

func TestSplitterEverySplit(t *testing.T) {
	msgs := sample()[:5] // the small ones: every pair of cut points
	s := stream(msgs)
	for i := 0; i <= len(s); i++ {
		for j := i; j <= len(s); j++ {
			got := messages(feed(t, framing.NewSplitter(0), cut(s, i, j)))
			if !sameMessages(got, msgs) {
				t.Fatalf("cut at %d, %d: got %q, want %q", i, j, got, msgs)
			}
		}
	}
	all := sample()
	s = stream(all)
	if got := feed(t, framing.NewSplitter(0), bytewise(s)); !sameMessages(messages(got), all) || len(got) != len(all) {
		t.Fatalf("byte by byte: got %v", got)
	}
}

func TestSplitterFreshSlices(t *testing.T) {
	in := stream([][]byte{[]byte("abc"), []byte("def")})
	sp := framing.NewSplitter(0)
	sp.Write(in)
	a, _, _ := sp.Next()
	b, _, _ := sp.Next()
	for i := range in {
		in[i] = '!'
	}
	a = append(a, 'X') // must not run into b
	if string(a) != "abcX" || string(b) != "def" {
		t.Fatalf("messages changed with their input or each other: %q %q", a, b)
	}
}

func TestSplitterWriteTwiceBeforeNext(t *testing.T) {
	s := stream([][]byte{[]byte("one"), []byte("two")})
	sp := framing.NewSplitter(0)
	sp.Write(s[:5]) // Next not called: the second Write must append
	got := feed(t, sp, [][]byte{s[5:]})
	if !sameMessages(messages(got), [][]byte{[]byte("one"), []byte("two")}) {
		t.Fatalf("got %v", got)
	}
}

func TestSplitterMaxBoundary(t *testing.T) {
	const max = 10
	atMax := bytes.Repeat([]byte("m"), max)
	over := bytes.Repeat([]byte("o"), max+1)
	s := stream([][]byte{atMax, over, []byte("next")})
	for i := 0; i <= len(s); i++ {
		evs := feed(t, framing.NewSplitter(max), cut(s, i))
		if len(evs) != 3 || !bytes.Equal(evs[0].msg, atMax) || string(evs[2].msg) != "next" {
			t.Fatalf("cut at %d: got %v", i, evs)
		}
		e := asError(t, evs[1].err, framing.ErrFrameTooLong)
		if e.Length != max+1 || e.Lost != max+1 || e.Op != "deframe" {
			t.Fatalf("cut at %d: error %+v", i, e)
		}
	}
}

func TestSplitterHugeDeclaredLength(t *testing.T) {
	// A prefix of 4 GiB - 1 is skipped as its bytes arrive: nothing is
	// held, and a stream that ends inside it reports no truncation (the
	// frame was reported already).
	sp := framing.NewSplitter(0)
	sp.Write([]byte{0xff, 0xff, 0xff, 0xff})
	if _, _, err := sp.Next(); err == nil {
		t.Fatal("no error for a 4 GiB prefix")
	} else if e := asError(t, err, framing.ErrFrameTooLong); e.Length != 1<<32-1 {
		t.Fatalf("length %d", e.Length)
	}
	chunk := make([]byte, 1<<20)
	for range 4 {
		sp.Write(chunk)
		if m, ok, err := sp.Next(); ok || err != nil || m != nil {
			t.Fatalf("while skipping: %v %v %v", m, ok, err)
		}
		if n := sp.Buffered(); n != 0 {
			t.Fatalf("holding %d bytes while skipping", n)
		}
	}
	if err := sp.End(); err != nil {
		t.Fatalf("End while skipping: %v", err)
	}
}

func TestSplitterTruncated(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           []byte
		length, lost int
	}{
		{"partial prefix", []byte{0, 0}, 0, 2},
		{"prefix only", []byte{0, 0, 0, 5}, 5, 4},
		{"partial payload", []byte{0, 0, 0, 5, 'a', 'b'}, 5, 6},
		{"after a whole frame", append(stream([][]byte{[]byte("ok")}), 0, 0, 0, 9, 'x'), 9, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := framing.NewSplitter(0)
			evs := feed(t, sp, cut(tc.in, 1))
			last := evs[len(evs)-1]
			e := asError(t, last.err, framing.ErrTruncated)
			if e.Length != tc.length || e.Lost != tc.lost {
				t.Fatalf("got length %d lost %d, want %d, %d", e.Length, e.Lost, tc.length, tc.lost)
			}
			// End made it ready for a new stream.
			if got := messages(feed(t, sp, [][]byte{stream([][]byte{[]byte("new")})})); len(got) != 1 || string(got[0]) != "new" {
				t.Fatalf("after End: %q", got)
			}
		})
	}
	if err := framing.NewSplitter(0).End(); err != nil {
		t.Fatalf("End of an empty stream: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	e := &framing.Error{Op: "deframe", Length: 20, Lost: 20, Err: framing.ErrFrameTooLong}
	if want := "deframe: frame too long (length 20, 20 bytes lost)"; e.Error() != want {
		t.Fatalf("got %q, want %q", e.Error(), want)
	}
	e = &framing.Error{Op: "frame", Length: 20, Err: framing.ErrFrameTooLong}
	if want := "frame: frame too long (length 20)"; e.Error() != want {
		t.Fatalf("got %q, want %q", e.Error(), want)
	}
	e = &framing.Error{Op: "dechunk", Lost: 3, Err: framing.ErrMalformed}
	if want := "dechunk: malformed chunk (3 bytes lost)"; e.Error() != want {
		t.Fatalf("got %q, want %q", e.Error(), want)
	}
}
