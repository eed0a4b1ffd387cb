package framing_test

import (
	"bytes"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/framing"
)

// seq returns the bytes from..to inclusive.
func seq(from, to int) []byte {
	var b []byte
	for i := from; i <= to; i++ {
		b = append(b, byte(i))
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The usual COBS test vectors, each with its delimiter.
var cobsVectors = []struct{ msg, enc []byte }{
	{[]byte{}, []byte{1, 0}},
	{[]byte{0}, []byte{1, 1, 0}},
	{[]byte{0, 0}, []byte{1, 1, 1, 0}},
	{[]byte{0x11, 0x22, 0, 0x33}, []byte{3, 0x11, 0x22, 2, 0x33, 0}},
	{[]byte{0x11, 0x22, 0x33, 0x44}, []byte{5, 0x11, 0x22, 0x33, 0x44, 0}},
	{[]byte{0x11, 0, 0, 0}, []byte{2, 0x11, 1, 1, 1, 0}},
	{seq(1, 254), cat([]byte{0xff}, seq(1, 254), []byte{0})},
	{seq(0, 254), cat([]byte{1, 0xff}, seq(1, 254), []byte{0})},
	{seq(1, 255), cat([]byte{0xff}, seq(1, 254), []byte{2, 0xff, 0})},
	{cat(seq(2, 255), []byte{0}), cat([]byte{0xff}, seq(2, 255), []byte{1, 1, 0})},
	{cat(seq(3, 255), []byte{0, 1}), cat([]byte{0xfe}, seq(3, 255), []byte{2, 1, 0})},
}

func TestAppendCOBSVectors(t *testing.T) {
	for _, v := range cobsVectors {
		got := framing.AppendCOBS([]byte("pre"), v.msg)
		if !bytes.Equal(got, cat([]byte("pre"), v.enc)) {
			t.Errorf("encode % x:\n got % x\nwant pre % x", v.msg, got, v.enc)
		}
		if bytes.IndexByte(got[3:len(got)-1], 0) >= 0 {
			t.Errorf("encode % x: a zero inside the chunk", v.msg)
		}
	}
}

func TestCOBSSplitterVectors(t *testing.T) {
	var s []byte
	var want [][]byte
	for _, v := range cobsVectors {
		got := feed(t, framing.NewCOBSSplitter(0), [][]byte{v.enc})
		if len(got) != 1 || !bytes.Equal(got[0].msg, v.msg) || got[0].err != nil {
			t.Errorf("decode % x: got %v", v.enc, got)
		}
		s = append(s, v.enc...)
		want = append(want, v.msg)
	}
	if got := feed(t, framing.NewCOBSSplitter(0), bytewise(s)); !sameMessages(messages(got), want) || len(got) != len(want) {
		t.Fatalf("all, byte by byte: got %v", got)
	}
}

func chunks(msgs [][]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = framing.AppendCOBS(b, m)
	}
	return b
}

func TestCOBSSplitterEverySplit(t *testing.T) {
	msgs := sample()[:5]
	s := chunks(msgs)
	for i := 0; i <= len(s); i++ {
		for j := i; j <= len(s); j++ {
			got := feed(t, framing.NewCOBSSplitter(0), cut(s, i, j))
			if !sameMessages(messages(got), msgs) || len(got) != len(msgs) {
				t.Fatalf("cut at %d, %d: got %v, want %q", i, j, got, msgs)
			}
		}
	}
}

func TestCOBSSplitterResynchronises(t *testing.T) {
	good := chunks([][]byte{[]byte("after")})
	for _, tc := range []struct {
		name    string
		garbage []byte
		lost    int
	}{
		// 'x' as a code byte says 119 data bytes follow; the delimiter
		// comes after two.
		{"short block", []byte("xyz\x00"), 3},
		// A chunk cut in the middle of a block, as after a lost packet,
		// and the next delimiter.
		{"cut chunk", cat(framing.AppendCOBS(nil, []byte("lost message"))[:5], []byte{0}), 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cat(chunks([][]byte{[]byte("before")}), tc.garbage, good)
			for i := 0; i <= len(in); i++ {
				evs := feed(t, framing.NewCOBSSplitter(0), cut(in, i))
				if len(evs) != 3 || string(evs[0].msg) != "before" || string(evs[2].msg) != "after" {
					t.Fatalf("cut at %d: got %v", i, evs)
				}
				if e := asError(t, evs[1].err, framing.ErrMalformed); e.Lost != tc.lost || e.Op != "dechunk" {
					t.Fatalf("cut at %d: %+v, want %d lost", i, e, tc.lost)
				}
			}
		})
	}
}

func TestCOBSSplitterEmptyChunksSkipped(t *testing.T) {
	got := feed(t, framing.NewCOBSSplitter(0), [][]byte{{0, 0, 1, 0, 0}})
	if len(got) != 1 || got[0].err != nil || len(got[0].msg) != 0 {
		t.Fatalf("got %v, want one empty message", got)
	}
}

func TestCOBSSplitterMaxBoundary(t *testing.T) {
	const max = 300 // more than one COBS block
	atMax := bytes.Repeat([]byte("m"), max)
	atMaxZero := cat(bytes.Repeat([]byte("z"), max-1), []byte{0}) // ends in an owed zero
	over := bytes.Repeat([]byte("o"), max+1)
	overZero := cat(bytes.Repeat([]byte("z"), max), []byte{0})
	s := chunks([][]byte{atMax, over, atMaxZero, overZero, []byte("next")})
	for i := 0; i <= len(s); i += 7 {
		evs := feed(t, framing.NewCOBSSplitter(max), cut(s, i))
		if len(evs) != 5 || !bytes.Equal(evs[0].msg, atMax) || !bytes.Equal(evs[2].msg, atMaxZero) || string(evs[4].msg) != "next" {
			t.Fatalf("cut at %d: got %v", i, evs)
		}
		for _, k := range []int{1, 3} {
			if e := asError(t, evs[k].err, framing.ErrFrameTooLong); e.Length != max+1 {
				t.Fatalf("cut at %d: %+v", i, e)
			}
		}
	}
}

func TestCOBSSplitterBoundsMemory(t *testing.T) {
	// Endless data with no delimiter: reported once, then not held.
	sp := framing.NewCOBSSplitter(1000)
	junk := bytes.Repeat([]byte{7}, 4096)
	errs := 0
	for range 100 {
		sp.Write(junk)
		for {
			_, ok, err := sp.Next()
			if err != nil {
				asError(t, err, framing.ErrFrameTooLong)
				errs++
				continue
			}
			if !ok {
				break
			}
			t.Fatal("a message from junk")
		}
		if sp.Buffered() > 1000 {
			t.Fatalf("holding %d bytes", sp.Buffered())
		}
	}
	if errs != 1 {
		t.Fatalf("%d errors, want 1", errs)
	}
	if err := sp.End(); err != nil {
		t.Fatalf("End after a reported chunk: %v", err)
	}
}

func TestCOBSSplitterTruncated(t *testing.T) {
	enc := framing.AppendCOBS(nil, []byte("whole"))
	sp := framing.NewCOBSSplitter(0)
	// Even a chunk whose blocks are complete is truncated without its
	// delimiter.
	evs := feed(t, sp, [][]byte{enc, enc[:len(enc)-1]})
	if len(evs) != 2 || string(evs[0].msg) != "whole" {
		t.Fatalf("got %v", evs)
	}
	if e := asError(t, evs[1].err, framing.ErrTruncated); e.Lost != len(enc)-1 {
		t.Fatalf("%+v, want %d lost", e, len(enc)-1)
	}
	if got := messages(feed(t, sp, [][]byte{enc})); len(got) != 1 || string(got[0]) != "whole" {
		t.Fatalf("after End: %q", got)
	}
}
