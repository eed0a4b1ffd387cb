package natsbackplane_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats/natsbackplane"
	"github.com/kamaelia-go/kamaelia/components/nats/natsserver"
	"github.com/kamaelia-go/kamaelia/util"
)

// Two Backplanes of one name on one NATS server (here inside the
// process; they would as well be in two processes) are one backplane:
// what is published to one reaches the subscribers of the other.
func ExampleNATS() {
	srv, err := natsserver.Start(0, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown()

	// Each process has a registry of its own: here two in one process.
	ctx, here, there := context.Background(), &axon.Registry{}, &axon.Registry{}
	hub1 := axon.Start(ctx, backplane.Backplane("news", natsbackplane.NATS(srv.URL())), axon.WithServices(here))
	hub2 := axon.Start(ctx, backplane.Backplane("news", natsbackplane.NATS(srv.URL())), axon.WithServices(there))
	sub := backplane.SubscribeTo("news")
	reader := axon.Start(ctx, sub, axon.WithServices(there), axon.Tapping(axon.OutboxName))
	<-sub.Joined()

	err = axon.Run(ctx, chassis.Pipeline(util.DataSource([]string{"hello"}), backplane.PublishTo("news")),
		axon.WithServices(here))
	m, _ := reader.Get(ctx, axon.OutboxName)
	fmt.Printf("%s %v\n", m, err)

	_ = hub1.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	_ = hub2.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	fmt.Println(hub1.Wait(), hub2.Wait(), reader.Wait())
	// Output:
	// hello <nil>
	// <nil> <nil> <nil>
}

// A durable subscriber that stops and starts again gets what was
// published while it was gone: the backplane's messages are kept in a
// NATS JetStream stream (here on a server inside the process).
func ExampleJetStream() {
	dir, err := os.MkdirTemp("", "jetstream-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := natsserver.Start(0, func(o *server.Options) { o.JetStream, o.StoreDir = true, dir })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown()

	ctx := context.Background()
	hub := axon.Start(ctx, backplane.Backplane("orders", natsbackplane.JetStream(srv.URL())))
	publish := func(msgs ...string) {
		err := axon.Run(ctx, chassis.Pipeline(util.DataSource(msgs), backplane.PublishTo("orders")))
		fmt.Println("published", msgs, err)
	}
	read := func(n int) {
		sub := backplane.SubscribeTo("orders", backplane.Durable("billing"))
		h := axon.Start(ctx, sub)
		<-sub.Joined()
		for range n {
			m, err := h.Get(ctx, axon.OutboxName)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("billing got %s\n", m)
		}
		_ = h.Put(ctx, axon.ControlName, axon.ProducerFinished{})
		fmt.Println("billing stopped:", h.Wait())
	}

	read(0) // makes the durable consumer: from now on, it is kept for
	publish("one", "two")
	read(2)
	publish("three") // while billing is not running
	read(1)

	_ = hub.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	fmt.Println("backplane:", hub.Wait())
	// Output:
	// billing stopped: <nil>
	// published [one two] <nil>
	// billing got one
	// billing got two
	// billing stopped: <nil>
	// published [three] <nil>
	// billing got three
	// billing stopped: <nil>
	// backplane: <nil>
}
