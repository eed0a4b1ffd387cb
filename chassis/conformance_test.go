package chassis_test

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// Every chassis keeps the shutdown rules, with pass-through children.
func TestConformance(t *testing.T) {
	pass := func() axon.Node { return util.PureTransformer(func(m any) any { return m }) }
	words := axontest.Feed("one", "two", "three")
	childBoxes := axontest.Internal("childControl", "childInbox") // linked to each child in turn
	for _, c := range []struct {
		name    string
		factory func() axon.Node
		opts    []axontest.ConformanceOption
	}{
		{"Pipeline", func() axon.Node { return chassis.Pipeline(pass(), pass(), pass()) }, []axontest.ConformanceOption{words}},
		{"Pipeline nested", func() axon.Node {
			return chassis.Pipeline(pass(), chassis.Pipeline(pass(), pass()), pass())
		}, []axontest.ConformanceOption{words}},
		{"Graphline", func() axon.Node {
			return chassis.Graphline(
				chassis.Nodes{"A": pass(), "B": pass()},
				chassis.Links{
					{chassis.Self, "inbox"}:   {"A", "inbox"},
					{chassis.Self, "control"}: {"A", "control"},
					{"A", "outbox"}:           {"B", "inbox"},
					{"A", "signal"}:           {"B", "control"},
					{"B", "outbox"}:           {chassis.Self, "outbox"},
					{"B", "signal"}:           {chassis.Self, "signal"},
				})
		}, []axontest.ConformanceOption{words}},
		// Fed, pass-through stages in a ring would pass the words round
		// for ever: it is checked empty. Its last child's signal goes back
		// to its first, so its own carries nothing.
		{"CircularPipeline", func() axon.Node { return chassis.CircularPipeline(pass(), pass()) }, []axontest.ConformanceOption{axontest.SilentSignal()}},
		{"Carousel", func() axon.Node { return chassis.Carousel(func(any) axon.Node { return pass() }) }, nil},
		{"Seq", func() axon.Node { return chassis.Seq(pass(), pass()) }, []axontest.ConformanceOption{words, childBoxes}},
		{"PAR", func() axon.Node { return chassis.PAR(pass(), pass()) }, nil},
		{"Supervise", func() axon.Node { return chassis.Supervise(chassis.Child{Make: pass}) }, []axontest.ConformanceOption{words}},
	} {
		t.Run(c.name, func(t *testing.T) { axontest.Conformance(t, c.factory, c.opts...) })
	}
}
