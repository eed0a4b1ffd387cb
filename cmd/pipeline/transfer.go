package main

import (
	"errors"
	"flag"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Placeholders: the file transfer commands are being written.

var sendfileCommand = &command{
	name:    "sendfile",
	summary: "(not yet built)",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func([]string) (axon.Node, error) { return nil, errors.New("not yet built") }
	},
}

var recvfileCommand = &command{
	name:    "recvfile",
	summary: "(not yet built)",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func([]string) (axon.Node, error) { return nil, errors.New("not yet built") }
	},
}
