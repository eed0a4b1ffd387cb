package main

import (
	"flag"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// demoLines is what the demo sends through its pipeline.
var demoLines = []string{
	"hello from kamaelia-go",
	"each line is a message",
	"it crosses three components",
	"and comes out in capitals",
}

var demoCommand = &command{
	name:    "demo",
	summary: "run a short self-contained demo pipeline",
	doc: "Sends a few lines from a DataSource through a PureTransformer that\n" +
		"upper-cases them to a ConsoleEchoer on standard output, then exits.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func(args []string) (axon.Node, error) {
			if err := noArgs(args); err != nil {
				return nil, err
			}
			return demoGraph(e), nil
		}
	},
}

// demoGraph is, in Kamaelia:
//
//	Pipeline(DataSource([...]), PureTransformer(lambda s: s.upper()), ConsoleEchoer()).run()
func demoGraph(e *env) axon.Node {
	return chassis.Pipeline(
		util.DataSource(demoLines),
		util.PureTransformer(upper),
		util.ConsoleEchoer(e.stdout, util.WithNewline()),
	)
}

// upper upper-cases strings and passes anything else through unchanged.
func upper(msg any) any {
	if s, ok := msg.(string); ok {
		return strings.ToUpper(s)
	}
	return msg
}
