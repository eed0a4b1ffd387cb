package fragment

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// Every component of the package keeps the shutdown rules (issue 12).
func TestConformance(t *testing.T) {
	t.Run("Broadcaster", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node { return Broadcaster(Topic("t")) },
			axontest.Feed([]byte("one"), "two", Message{Topic: "u", Data: pattern(3, 3000)}, &Message{Data: []byte("four")}))
	})
	t.Run("Listener", func(t *testing.T) {
		// Three whole messages, of several fragments each: completing
		// the second blocks the Listener on "outbox".
		fr := smallSplitter(1)
		var feed []any
		for i := range 3 {
			feed = append(feed, datagrams(t, fr, alice, "t", pattern(uint64(i), 250))...)
		}
		axontest.Conformance(t, func() axon.Node { return Listener() }, axontest.Feed(feed...))
	})
}
