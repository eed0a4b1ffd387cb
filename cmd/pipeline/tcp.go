package main

import (
	"errors"
	"flag"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Placeholders: the TCP commands are being written.

var tcpClientCommand = &command{
	name:    "tcp-client",
	summary: "(not yet built)",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func([]string) (axon.Node, error) { return nil, errors.New("not yet built") }
	},
}

var tcpServerCommand = &command{
	name:    "tcp-server",
	summary: "(not yet built)",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func([]string) (axon.Node, error) { return nil, errors.New("not yet built") }
	},
}
