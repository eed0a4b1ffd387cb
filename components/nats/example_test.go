package nats_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
	"github.com/kamaelia-go/kamaelia/util"
)

// A Publisher and a Subscriber meeting on a subject through an embedded
// server.
func ExamplePublisher() {
	t := &exampleT{}
	defer t.cleanup()
	srv := natstest.Server(t)
	ctx := context.Background()

	sub := nats.Subscriber("greetings", nats.Connect(srv.URL()))
	hs := axon.Start(ctx, sub)
	<-sub.Subscribed()
	hp := axon.Start(ctx, nats.Publisher("greetings", nats.Connect(srv.URL())))

	hp.Put(ctx, "inbox", "hello")
	hp.Put(ctx, "inbox", []byte("world"))
	hp.Put(ctx, "control", axon.ProducerFinished{})
	for range 2 {
		m, _ := hs.Get(ctx, "outbox")
		fmt.Println(string(m.([]byte)))
	}
	fmt.Println(hp.Wait())
	hs.Stop()
	hs.Wait()
	// Output:
	// hello
	// world
	// <nil>
}

// A Codec carries values other than []byte and string.
func ExampleJSON() {
	t := &exampleT{}
	defer t.cleanup()
	srv := natstest.Server(t)
	ctx := context.Background()
	type reading struct {
		Sensor string
		Value  float64
	}

	sub := nats.Subscriber("readings", nats.Connect(srv.URL()), nats.WithCodec(nats.JSON[reading]()))
	hs := axon.Start(ctx, sub)
	<-sub.Subscribed()
	hp := axon.Start(ctx, nats.Publisher("readings", nats.Connect(srv.URL()), nats.WithCodec(nats.JSON[reading]())))
	hp.Put(ctx, "inbox", reading{"t1", 21.5})
	m, _ := hs.Get(ctx, "outbox")
	fmt.Printf("%+v\n", m)
	hp.Stop()
	hs.Stop()
	hp.Wait()
	hs.Wait()
	// Output: {Sensor:t1 Value:21.5}
}

func ExampleSubject() {
	fmt.Println(nats.Subject("chat"))
	fmt.Println(nats.Subject("room.1"))
	// Output:
	// kamaelia.backplane.chat
	// kamaelia.backplane.room%2E1
}

// exampleT is the little of testing.TB that natstest.Server needs, for
// examples.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                   {}
func (t *exampleT) Cleanup(f func())          { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// A durable Publisher and Subscriber: what is published while the
// Subscriber is not running is kept for its consumer, and a Subscriber of
// the same consumer gets it later.
func ExampleJetStream() {
	t := &exampleT{}
	defer t.cleanup()
	dir, err := os.MkdirTemp("", "nats-jetstream-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv := natstest.Server(t, natstest.JetStream(dir))
	ctx := context.Background()
	subscriber := func() (*nats.SubscriberComponent, *axon.Handle) {
		sub := nats.Subscriber("orders", nats.Connect(srv.URL()), nats.JetStream("ORDERS"), nats.Consumer("billing"))
		h := axon.Start(ctx, sub)
		<-sub.Subscribed()
		return sub, h
	}
	_, hs := subscriber()
	hs.Put(ctx, "control", axon.ProducerFinished{})
	fmt.Println("subscriber:", hs.Wait())

	hp := axon.Start(ctx, nats.Publisher("orders", nats.Connect(srv.URL()), nats.JetStream("ORDERS")))
	hp.Put(ctx, "inbox", "one")
	hp.Put(ctx, "inbox", "two")
	hp.Put(ctx, "control", axon.ProducerFinished{})
	fmt.Println("publisher:", hp.Wait()) // both stored

	_, hs = subscriber()
	for range 2 {
		m, _ := hs.Get(ctx, "outbox")
		fmt.Println(string(m.([]byte)))
	}
	hs.Stop()
	hs.Wait()
	// Output:
	// subscriber: <nil>
	// publisher: <nil>
	// one
	// two
}

// A Subscriber hands on each message published on its subject, as
// []byte, in the order the server delivers them: here to a typed stage
// that reads them as text.
func ExampleSubscriber() {
	t := &exampleT{}
	defer t.cleanup()
	srv := natstest.Server(t)
	ctx := context.Background()

	sub := nats.Subscriber("weather", nats.Connect(srv.URL()))
	hs := axon.Start(ctx, chassis.Pipeline(sub, util.Map(func(b []byte) string { return "forecast: " + string(b) })))
	<-sub.Subscribed()
	err := axon.Run(ctx, chassis.Pipeline(
		util.DataSource([]string{"sun", "rain"}),
		nats.Publisher("weather", nats.Connect(srv.URL())),
	))
	for range 2 {
		m, _ := hs.Get(ctx, "outbox")
		fmt.Println(m)
	}
	fmt.Println("publisher:", err)
	hs.Stop()
	hs.Wait()
	// Output:
	// forecast: sun
	// forecast: rain
	// publisher: <nil>
}
