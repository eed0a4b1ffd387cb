package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/observe"
)

// observeFlagDoc is the help of --observe, which every command has.
const observeFlagDoc = "while the graph runs, serve a live page of it and its Prometheus /metrics at `addr` (host:port, say 127.0.0.1:8080)"

// observeGrace is how long the pages open may take to go once the graph
// has ended.
const observeGrace = time.Second

// startObserve serves the live page of g at addr, and says where on
// stderr. The caller stops it with stopObserve once g has ended.
func startObserve(g axon.Node, addr string, stderr io.Writer) (*observe.Server, error) {
	srv, err := observe.Listen(context.Background(), addr, g)
	if err != nil {
		return nil, fmt.Errorf("--observe: %w", err)
	}
	fmt.Fprintf(stderr, "pipeline: observe the graph at %s\n", srv.URL())
	return srv, nil
}

// stopObserve shuts srv down, giving the pages open observeGrace to go,
// and returns once it has stopped. A server that could not stop cleanly
// is said on stderr; the graph's outcome is what the exit code says.
func stopObserve(srv *observe.Server, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), observeGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "pipeline: --observe: %v\n", err)
	}
}
