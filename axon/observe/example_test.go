package observe_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/observe"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// A graph served live while it runs: open the printed address in a
// browser to see it, /metrics beside it.
func ExampleListen() {
	ctx := context.Background()
	g := chassis.Pipeline(
		util.DataSource([]string{"one", "two", "three"}),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	)
	srv, err := observe.Listen(ctx, "127.0.0.1:0", g)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	if err := axon.Run(ctx, g); err != nil {
		fmt.Println(err)
	}
	// Output:
	// one
	// two
	// three
}

// A program that serves the page while its graph runs stops the server
// once the graph has ended, giving the pages open a moment to go.
func ExampleServer_Shutdown() {
	ctx := context.Background()
	g := chassis.Pipeline(
		util.DataSource([]string{"done"}),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	)
	srv, err := observe.Listen(ctx, "127.0.0.1:0", g)
	if err != nil {
		fmt.Println(err)
		return
	}
	runErr := axon.Run(ctx, g)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	fmt.Println(runErr, srv.Shutdown(sctx))
	// Output:
	// done
	// <nil> <nil>
}

// The metrics alone, registered with a Prometheus registry of the
// program's own.
func ExampleNewCollector() {
	g := chassis.Pipeline(util.DataSource([]int{1, 2, 3}), util.ConsoleEchoer(os.Stdout))
	reg := prometheus.NewRegistry()
	reg.MustRegister(observe.NewCollector(g))
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
