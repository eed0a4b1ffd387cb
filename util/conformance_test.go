package util_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/util"
)

// Every component util provides keeps the shutdown rules.
func TestConformance(t *testing.T) {
	words := axontest.Feed("one", "two", "three")
	for _, c := range []struct {
		name    string
		factory func() axon.Node
		opts    []axontest.ConformanceOption
	}{
		{"Collate", func() axon.Node { return util.Collate() }, []axontest.ConformanceOption{words}},
		{"Comparator", func() axon.Node { return util.Comparator() }, nil},
		{"ConsoleReader", func() axon.Node { return util.ConsoleReader(strings.NewReader("a\nb\nc\n")) }, nil},
		{"ConsoleEchoer", func() axon.Node { return util.ConsoleEchoer(new(bytes.Buffer)) }, []axontest.ConformanceOption{words}},
		{"ConsoleEchoer forwarding", func() axon.Node { return util.ConsoleEchoer(new(bytes.Buffer), util.Forward()) }, []axontest.ConformanceOption{words}},
		{"Fanout", func() axon.Node { return util.Fanout(axon.OutboxName, "copy") }, []axontest.ConformanceOption{words}},
		{"Splitter", func() axon.Node { return util.Splitter() }, []axontest.ConformanceOption{words}},
		{"Merge", func() axon.Node { return util.Merge(axon.InboxName, "other") }, []axontest.ConformanceOption{words}},
		{"DataSource", func() axon.Node { return util.DataSource([]int{1, 2, 3}) }, nil},
		{"TriggeredSource", func() axon.Node { return util.TriggeredSource("go") }, []axontest.ConformanceOption{words}},
		{"Linger", func() axon.Node { return util.Linger(time.Millisecond) }, []axontest.ConformanceOption{words}},
		{"Cycle", func() axon.Node { return util.Cycle(time.Millisecond, 1, 2, 3) }, nil},
		{"Take", func() axon.Node { return util.Take(5) }, []axontest.ConformanceOption{words}},
		{"PureTransformer", func() axon.Node { return util.PureTransformer(func(m any) any { return m }) }, []axontest.ConformanceOption{words}},
		{"CheckedTransformer", func() axon.Node {
			return util.CheckedTransformer(func(m any) (any, error) { return m, nil })
		}, []axontest.ConformanceOption{words}},
		{"Filter", func() axon.Node { return util.Filter(func(any) bool { return true }) }, []axontest.ConformanceOption{words}},
	} {
		t.Run(c.name, func(t *testing.T) { axontest.Conformance(t, c.factory, c.opts...) })
	}
}
