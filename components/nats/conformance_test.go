package nats_test

import (
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// Publisher and Subscriber keep the shutdown rules (issue 12), each with
// a connection of its own and on a connection it is given, against an
// embedded server on 127.0.0.1 whose subject a connection of the test's
// publishes to every millisecond: the ShutdownMicroprocess check finds a
// Subscriber blocked on "outbox".
func TestConformance(t *testing.T) {
	srv := natstest.Server(t)
	const subject = "conformance"
	nc := busyConn(t, srv.URL(), subject)
	type point struct{ X, Y int }
	for _, c := range []struct {
		name    string
		factory func() axon.Node
		feed    []any
	}{
		{"Publisher", func() axon.Node { return nats.Publisher(subject, nats.Connect(srv.URL())) }, []any{[]byte("one"), "two"}},
		{"PublisherConn", func() axon.Node { return nats.Publisher(subject, nats.Conn(nc)) }, []any{[]byte("one"), "two"}},
		{"PublisherCodec", func() axon.Node {
			return nats.Publisher("conformance.json", nats.Connect(srv.URL()), nats.WithCodec(nats.JSON[point]()))
		}, []any{point{1, 2}, point{3, 4}}},
		// A Subscriber does not read its "inbox", so it is fed nothing.
		{"Subscriber", func() axon.Node { return nats.Subscriber(subject, nats.Connect(srv.URL())) }, nil},
		{"SubscriberConn", func() axon.Node { return nats.Subscriber(subject, nats.Conn(nc)) }, nil},
	} {
		t.Run(c.name, func(t *testing.T) { axontest.Conformance(t, c.factory, axontest.Feed(c.feed...)) })
	}
}

// busyConn connects to url and publishes on subject every millisecond
// until the test ends, when it closes the connection.
func busyConn(t *testing.T, url, subject string) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = nc.Publish(subject, []byte("busy"))
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait(); nc.Close() })
	return nc
}
