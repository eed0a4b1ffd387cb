package transfer_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/transfer"
)

func TestPacketRoundTrip(t *testing.T) {
	var dg [32]byte
	dg[0], dg[31] = 1, 2
	for _, p := range []transfer.Packet{
		{Type: transfer.TypeStart, ID: 1, Size: 2401, ChunkSize: 1200, Chunks: 3, Window: 256},
		{Type: transfer.TypeStart, ID: 2, Size: 0, ChunkSize: 1, Chunks: 0, Window: transfer.MaxWindow},
		{Type: transfer.TypeData, ID: 3, Seq: 1 << 40, Payload: []byte("x")},
		{Type: transfer.TypeEnd, ID: 4, Digest: dg},
		{Type: transfer.TypeAccept, ID: 5, Window: 9},
		{Type: transfer.TypeAck, ID: 6, Next: 77},
		{Type: transfer.TypeAck, ID: 6, Next: 77, SACK: []byte{1, 0, 0x80}},
		{Type: transfer.TypeDone, ID: 7, Status: transfer.StatusRefused, Text: "busy"},
	} {
		b := p.Marshal()
		got, err := transfer.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", p.Type, err)
		}
		if !bytes.Equal(got.Marshal(), b) || got.Type != p.Type || got.ID != p.ID || got.Seq != p.Seq ||
			got.Next != p.Next || got.Size != p.Size || got.Chunks != p.Chunks || got.Window != p.Window ||
			got.Digest != p.Digest || got.Text != p.Text || got.Status != p.Status ||
			!bytes.Equal(got.Payload, p.Payload) || !bytes.Equal(got.SACK, p.SACK) {
			t.Fatalf("%s: round trip gave %+v, want %+v", p.Type, got, p)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	good := (&transfer.Packet{Type: transfer.TypeStart, ID: 1, Size: 10, ChunkSize: 4, Chunks: 3, Window: 2}).Marshal()
	cases := map[string][]byte{
		"empty":          nil,
		"short header":   good[:transfer.HeaderLen-1],
		"magic":          append([]byte("XMFT"), good[4:]...),
		"version":        append([]byte("KMFT\x09"), good[5:]...),
		"type":           append([]byte("KMFT\x01\x63"), good[6:]...),
		"start short":    good[:len(good)-1],
		"start long":     append(good[:len(good):len(good)], 0),
		"start count":    (&transfer.Packet{Type: transfer.TypeStart, ID: 1, Size: 10, ChunkSize: 4, Chunks: 2, Window: 2}).Marshal(),
		"start chunk 0":  (&transfer.Packet{Type: transfer.TypeStart, ID: 1, Size: 0, ChunkSize: 0, Chunks: 0, Window: 2}).Marshal(),
		"start window 0": (&transfer.Packet{Type: transfer.TypeStart, ID: 1, Size: 0, ChunkSize: 5, Chunks: 0, Window: 0}).Marshal(),
		"data empty":     (&transfer.Packet{Type: transfer.TypeData, ID: 1, Seq: 1}).Marshal(),
		"end short":      (&transfer.Packet{Type: transfer.TypeEnd, ID: 1}).Marshal()[:transfer.HeaderLen+31],
		"accept 0":       (&transfer.Packet{Type: transfer.TypeAccept, ID: 1}).Marshal(),
		"ack bitmap len": append((&transfer.Packet{Type: transfer.TypeAck, ID: 1, SACK: []byte{1}}).Marshal(), 0),
		"done status":    (&transfer.Packet{Type: transfer.TypeDone, ID: 1, Status: 9}).Marshal(),
		"done text len":  (&transfer.Packet{Type: transfer.TypeDone, ID: 1, Text: "abc"}).Marshal()[:transfer.HeaderLen+4],
	}
	for name, b := range cases {
		if p, err := transfer.Parse(b); !errors.Is(err, transfer.ErrMalformed) {
			t.Errorf("%s: Parse(%q) = %+v, %v; want ErrMalformed", name, b, p, err)
		}
	}
}

func TestChunkCount(t *testing.T) {
	for _, c := range []struct {
		size  uint64
		chunk uint32
		want  uint64
	}{{0, 10, 0}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {20, 10, 2}, {5, 0, 0}} {
		if got := transfer.ChunkCount(c.size, c.chunk); got != c.want {
			t.Errorf("ChunkCount(%d, %d) = %d, want %d", c.size, c.chunk, got, c.want)
		}
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// encodes back to exactly the bytes it came from. Each input is parsed
// as it is, and again with its checksum made right (transfer.Reseal),
// so that the fuzzer's changes reach the checks past the checksum.
func FuzzParse(f *testing.F) {
	f.Add((&transfer.Packet{Type: transfer.TypeData, ID: 1, Seq: 2, Payload: []byte("abc")}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, transfer.Reseal(b)} {
			p, err := transfer.Parse(in)
			if err != nil {
				if !errors.Is(err, transfer.ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				continue
			}
			if again := p.Marshal(); !bytes.Equal(again, in) {
				t.Fatalf("Parse(%q) = %+v, which encodes as %q", in, p, again)
			}
		}
	})
}

func TestParseCatchesDamage(t *testing.T) {
	b := (&transfer.Packet{Type: transfer.TypeData, ID: 1, Seq: 2, Payload: []byte("payload")}).Marshal()
	for i := range len(b) * 8 {
		c := append([]byte(nil), b...)
		c[i/8] ^= 1 << (i % 8)
		if p, err := transfer.Parse(c); !errors.Is(err, transfer.ErrMalformed) {
			t.Fatalf("bit %d flipped: Parse = %+v, %v; want ErrMalformed", i, p, err)
		}
	}
}
