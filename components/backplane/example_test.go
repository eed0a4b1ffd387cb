package backplane_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"

	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/util"
)

// A publisher and two subscribers share the backplane "news" without
// being linked to one another. Ending the backplane ends the subscribers'
// pipelines.
func Example() {
	ctx := context.Background()
	hub := axon.Start(ctx, backplane.Backplane("news"))

	var subs []*backplane.SubscribeToComponent
	var readers []*axon.Handle
	for _, who := range []string{"ann", "bob"} {
		sub := backplane.SubscribeTo("news")
		subs = append(subs, sub)
		readers = append(readers, axon.Start(ctx, chassis.Pipeline(
			sub,
			util.PureTransformer(func(m any) any { return who + " got " + m.(string) }),
		)))
	}
	for _, s := range subs {
		<-s.Joined()
	}

	err := axon.Run(ctx, chassis.Pipeline(
		util.DataSource([]string{"hello", "world"}),
		backplane.PublishTo("news"),
	))
	fmt.Println("publisher:", err)

	// Read each subscriber in turn, so the output has a fixed order.
	_ = hub.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	for _, r := range readers {
		for {
			m, err := r.Get(ctx, axon.OutboxName)
			if err != nil {
				break
			}
			fmt.Println(m)
		}
		fmt.Println("subscriber:", r.Wait())
	}
	fmt.Println("backplane:", hub.Wait())
	// Output:
	// publisher: <nil>
	// ann got hello
	// ann got world
	// subscriber: <nil>
	// bob got hello
	// bob got world
	// subscriber: <nil>
	// backplane: <nil>
}

// A subscriber looks its backplane up by name, waiting a while for one to
// be registered.
func ExampleSubscribeTo_noBackplane() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		backplane.SubscribeTo("nobody-here", backplane.Wait(10*time.Millisecond)),
		util.ConsoleEchoer(os.Stdout),
	))
	fmt.Println(errors.Is(err, backplane.ErrNoBackplane))
	// Output:
	// true
}

// Two backplanes cannot share a name.
func ExampleBackplane_duplicate() {
	ctx := context.Background()
	first := backplane.Backplane("weather")
	h := axon.Start(ctx, first)
	defer func() { h.Stop(); _ = h.Wait() }()
	// Wait until the first has registered its name.
	sub := backplane.SubscribeTo("weather")
	sh := axon.Start(ctx, sub)
	<-sub.Joined()

	err := axon.Run(ctx, backplane.Backplane("weather"))
	fmt.Println(errors.Is(err, axon.ErrServiceExists))
	sh.Stop()
	_ = sh.Wait()
	// Output:
	// true
}

// A subscriber with DropOldest keeps up with the backplane whatever
// happens downstream, dropping and counting the oldest messages it holds.
func ExampleDropOldest() {
	ctx := context.Background()
	hub := axon.Start(ctx, backplane.Backplane("ticks"))
	sub := backplane.SubscribeTo("ticks", backplane.DropOldest(1))
	reader := axon.Start(ctx, sub)
	<-sub.Joined()

	// Nobody reads the subscriber while 100 messages are published, and
	// publishing never waits for it.
	pub := axon.Start(ctx, backplane.PublishTo("ticks"))
	for i := range 100 {
		_ = pub.Put(ctx, axon.InboxName, i)
	}
	_ = pub.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	_ = pub.Wait()
	_ = hub.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	_ = hub.Wait()

	got := 0
	last := -1
	for {
		m, err := reader.Get(ctx, axon.OutboxName)
		if err != nil {
			break
		}
		got++
		last = m.(int)
	}
	_ = reader.Wait()
	fmt.Println("last:", last)
	fmt.Println("received + dropped:", got+int(sub.Dropped()))
	fmt.Println("some dropped:", sub.Dropped() > 0)
	// Output:
	// last: 99
	// received + dropped: 100
	// some dropped: true
}

// A PublishTo finds its backplane by name, waiting up to Wait for one to
// be registered; with none, it fails with ErrNoBackplane.
func ExamplePublishTo() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"into the void"}),
		backplane.PublishTo("nobody-listens", backplane.Wait(10*time.Millisecond)),
	))
	fmt.Println(errors.Is(err, backplane.ErrNoBackplane))
	// Output:
	// true
}

// loopback is a Transport that carries nothing out of the process: what
// is published comes straight back, as a NATS server would send it back.
// natsbackplane.NATS is a real one.
type loopback struct{}

func (loopback) Open(_ context.Context, end *backplane.End) (backplane.Link, error) {
	return loopLink{end}, nil
}

type loopLink struct{ end *backplane.End }

func (l loopLink) Publisher(string, func(error)) (backplane.Publishing, error) {
	return backplane.Publishes[struct{}](loopPublisher{end: l.end}), nil
}

func (loopLink) Subscribe(context.Context, *axon.Component, backplane.Subscription) (bool, error) {
	return false, nil // subscribers join the Backplane
}

func (loopLink) Failed() <-chan error         { return nil }
func (loopLink) Finish(context.Context) error { return nil }
func (loopLink) Close()                       {}

type loopPublisher struct {
	backplane.Unanswered
	end *backplane.End
}

func (p loopPublisher) Publish(ctx context.Context, msgs []any) error {
	out := make([]any, len(msgs))
	for i, m := range msgs {
		out[i] = fmt.Sprint("via loopback: ", m)
	}
	return p.end.Deliver(ctx, out)
}

func (loopPublisher) Limit() int { return 32 }

// A Backplane given a Transport with Via shares its messages through it;
// PublishTo and SubscribeTo do not change.
func ExampleVia() {
	ctx := context.Background()
	hub := axon.Start(ctx, backplane.Backplane("looped", backplane.Via(loopback{})))
	sub := backplane.SubscribeTo("looped")
	reader := axon.Start(ctx, sub, axon.Tapping(axon.OutboxName))
	<-sub.Joined()
	err := axon.Run(ctx, chassis.Pipeline(util.DataSource([]string{"hello"}), backplane.PublishTo("looped")))
	m, _ := reader.Get(ctx, axon.OutboxName)
	fmt.Println(m, err)
	_ = hub.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	fmt.Println(hub.Wait(), reader.Wait())
	// Output:
	// via loopback: hello <nil>
	// <nil> <nil>
}
