package main

import (
	"flag"

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
		return func(args []string) (axon.Node, error) {
			if err := noArgs(args); err != nil {
				return nil, err
			}
			return chassis.Pipeline(
				util.ConsoleReader(e.stdin),
				util.ConsoleEchoer(e.stdout, util.WithNewline()),
			), nil
		}
	},
}
