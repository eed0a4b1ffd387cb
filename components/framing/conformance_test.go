package framing_test

import (
	"slices"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/components/framing"
)

// Every component of the package keeps the shutdown rules (issue 12),
// each fed what it takes: messages for the encoders, the encoders'
// streams cut into pieces for the decoders.
func TestConformance(t *testing.T) {
	msgs := []any{[]byte("one"), "two", []byte{0, 1, 0, 2}, []byte("four")}
	// stream encodes msgs with encode and cuts the bytes into pieces of
	// three, the last shorter, so that frames arrive split.
	stream := func(encode func(dst, msg []byte) []byte) []any {
		var b []byte
		for _, m := range msgs {
			switch m := m.(type) {
			case string:
				b = encode(b, []byte(m))
			case []byte:
				b = encode(b, m)
			}
		}
		var pieces []any
		for p := range slices.Chunk(b, 3) {
			pieces = append(pieces, p)
		}
		return pieces
	}
	for _, c := range []struct {
		name    string
		factory func() axon.Node
		feed    []any
	}{
		{"Framer", func() axon.Node { return framing.Framer() }, msgs},
		{"Chunker", func() axon.Node { return framing.Chunker() }, msgs},
		{"Deframer", func() axon.Node { return framing.Deframer() }, stream(framing.AppendFrame)},
		{"Dechunker", func() axon.Node { return framing.Dechunker() }, stream(framing.AppendCOBS)},
		{"Chunkify", func() axon.Node { return framing.Chunkify(2) }, msgs},
	} {
		t.Run(c.name, func(t *testing.T) { axontest.Conformance(t, c.factory, axontest.Feed(c.feed...)) })
	}
}
