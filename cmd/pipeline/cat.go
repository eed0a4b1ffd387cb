package main

import (
	"flag"
	"maps"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

var catCommand = &command{
	name:    "cat",
	summary: "copy standard input to standard output, line by line",
	doc: "Reads lines from standard input with a ConsoleReader and writes each\n" +
		"to standard output with a ConsoleEchoer, like cat. It ends at end of\n" +
		"input, or on SIGINT or SIGTERM.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var lf lineFlags
		lf.declare(fs, maxStreamLine, "1 MiB", false)
		return func(args []string) (axon.Node, error) {
			if err := firstErr(noArgs(args), lf.check()); err != nil {
				return nil, err
			}
			nodes, links := errorsTail(e)
			maps.Copy(nodes, chassis.Nodes{
				"STDIN":  lf.reader(e),
				"STDOUT": util.ConsoleEchoer(e.stdout, util.WithNewline()),
			})
			maps.Copy(links, chassis.Links{
				{"STDIN", "outbox"}:  {"STDOUT", "inbox"},
				{"STDIN", "signal"}:  {"STDOUT", "control"},
				{"STDOUT", "signal"}: {"ERRORS", "control"},
			})
			return chassis.Graphline(nodes, linkErrors(links, "STDIN")), nil
		}
	},
}
