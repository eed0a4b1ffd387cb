package main

import (
	"context"
	"fmt"
	"io"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/observe"
)

// observeFlagDoc is the help of --observe, which every command has.
const observeFlagDoc = "while the graph runs, serve a live page of it and its Prometheus /metrics at `addr` (host:port, say 127.0.0.1:8080)"

// startObserve serves the live page of g at addr until g has ended, and
// says where on stderr.
func startObserve(g axon.Node, addr string, stderr io.Writer) error {
	srv, err := observe.Listen(context.Background(), addr, g)
	if err != nil {
		return fmt.Errorf("--observe: %w", err)
	}
	fmt.Fprintf(stderr, "pipeline: observe the graph at %s\n", srv.URL())
	go func() {
		<-g.Core().Done()
		_ = srv.Close() // which ends the server's own context too
	}()
	return nil
}
