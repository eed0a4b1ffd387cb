package nats_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

func TestPublishSubscribeInOrder(t *testing.T) {
	srv := natstest.Server(t)
	s := nats.Subscriber("t.order", nats.Connect(srv.URL()))
	hs := start(t, s)
	subscribed(t, s)
	p := nats.Publisher("t.order", nats.Connect(srv.URL()))
	hp := start(t, p)

	const n = 1000
	go func() {
		for i := range n {
			if err := hp.Put(t.Context(), axon.InboxName, []byte(strconv.Itoa(i))); err != nil {
				return
			}
		}
	}()
	equalInts(t, getInts(t, hs, n), seq(0, n))

	put(t, hp, axon.ControlName, axon.ProducerFinished{})
	if m := get(t, hp, axon.SignalName); !axon.IsProducerFinished(m) {
		t.Fatalf("publisher signal: %T, want ProducerFinished", m)
	}
	if err := hp.Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	if st := p.Stats(); st.Published != n || st.Errors != 0 {
		t.Fatalf("publisher stats %+v", st)
	}
	put(t, hs, axon.ControlName, axon.ShutdownMicroprocess{})
	if m := get(t, hs, axon.SignalName); !axon.IsShutdownMicroprocess(m) {
		t.Fatalf("subscriber signal: %T, want ShutdownMicroprocess", m)
	}
	if err := hs.Wait(); err != nil {
		t.Fatalf("subscriber: %v", err)
	}
	if st := s.Stats(); st.Received != n || st.Dropped != 0 {
		t.Fatalf("subscriber stats %+v", st)
	}
}

type point struct{ X, Y int }

func TestCodecRoundTrip(t *testing.T) {
	srv := natstest.Server(t)
	s := nats.Subscriber("t.codec", nats.Connect(srv.URL()), nats.WithCodec(nats.JSON[point]()))
	hs := start(t, s)
	link(t, hs, nats.ErrorsBox)
	subscribed(t, s)
	hp := start(t, nats.Publisher("t.codec", nats.Connect(srv.URL()), nats.WithCodec(nats.JSON[point]())))
	put(t, hp, axon.InboxName, point{1, 2})
	put(t, hp, axon.InboxName, &point{3, 4})
	for _, want := range []point{{1, 2}, {3, 4}} {
		if got := get(t, hs, axon.OutboxName); got != want {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	}
	// A payload the codec cannot decode is reported, and the
	// Subscriber carries on.
	raw := nats.Publisher("t.codec", nats.Connect(srv.URL()))
	hr := start(t, raw)
	put(t, hr, axon.InboxName, "not json")
	be, e := asError(t, get(t, hs, nats.ErrorsBox), nats.ErrDecode)
	if be.Op != "decode" || e.Subject != "t.codec" || !strings.Contains(be.Component, "nats.Subscriber") {
		t.Fatalf("decode error %v", be)
	}
	put(t, hp, axon.InboxName, point{5, 6})
	if got := get(t, hs, axon.OutboxName); got != (point{5, 6}) {
		t.Fatalf("after a bad payload: got %#v", got)
	}
}

func TestBadTypeReportedAndCarriesOn(t *testing.T) {
	srv := natstest.Server(t)
	s := nats.Subscriber("t.bad", nats.Connect(srv.URL()))
	hs := start(t, s)
	subscribed(t, s)
	p := nats.Publisher("t.bad", nats.Connect(srv.URL()), nats.Name("pub"))
	hp := start(t, p)
	link(t, hp, nats.ErrorsBox)
	put(t, hp, axon.InboxName, 42)
	be, _ := asError(t, get(t, hp, nats.ErrorsBox), nats.ErrBadMessage)
	if be.Box != axon.InboxName || !strings.HasPrefix(be.Component, "pub") || !strings.Contains(be.Error(), "int") {
		t.Fatalf("error %+v (%v)", be, be)
	}
	put(t, hp, axon.InboxName, "0")
	equalInts(t, getInts(t, hs, 1), []int{0})
	if st := p.Stats(); st.Published != 1 || st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTwoSubscribersBothReceive(t *testing.T) {
	srv := natstest.Server(t)
	var hs [2]*axon.Handle
	for i := range hs {
		s := nats.Subscriber(nats.Subject("room.1"), nats.Connect(srv.URL()))
		hs[i] = start(t, s)
		subscribed(t, s)
	}
	hp := start(t, nats.Publisher(nats.Subject("room.1"), nats.Connect(srv.URL())))
	putInts(t, hp, 0, 50)
	for _, h := range hs {
		equalInts(t, getInts(t, h, 50), seq(0, 50))
	}
}

func TestSharedConnectionNotClosed(t *testing.T) {
	srv := natstest.Server(t)
	nc, err := natsgo.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s := nats.Subscriber("t.shared", nats.Conn(nc))
	hs := start(t, s)
	subscribed(t, s)
	hp := start(t, nats.Publisher("t.shared", nats.Conn(nc)))
	putInts(t, hp, 0, 3)
	// ProducerFinished: the Subscriber sends on what it has, ends, and
	// leaves the connection open.
	equalInts(t, getInts(t, hs, 1), []int{0})
	put(t, hp, axon.ControlName, axon.ProducerFinished{})
	if err := hp.Wait(); err != nil {
		t.Fatal(err)
	}
	put(t, hs, axon.ControlName, axon.ProducerFinished{})
	equalInts(t, getInts(t, hs, 2), []int{1, 2})
	if m := get(t, hs, axon.SignalName); !axon.IsProducerFinished(m) {
		t.Fatalf("signal %T", m)
	}
	if err := hs.Wait(); err != nil {
		t.Fatal(err)
	}
	if nc.IsClosed() {
		t.Fatal("components closed a connection given with Conn")
	}
	// Closing a given connection under a Subscriber ends it with ErrClosed.
	s2 := nats.Subscriber("t.shared", nats.Conn(nc))
	h2 := start(t, s2)
	subscribed(t, s2)
	nc.Close()
	if err := h2.Wait(); !errors.Is(err, nats.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

func TestConfigErrors(t *testing.T) {
	srv := natstest.Server(t)
	nc, err := natsgo.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for name, n := range map[string]axon.Node{
		"wildcard publish": nats.Publisher("a.*", nats.Connect(srv.URL())),
		"empty subject":    nats.Subscriber("", nats.Connect(srv.URL())),
		"empty token":      nats.Subscriber("a..b", nats.Connect(srv.URL())),
		"both conns":       nats.Publisher("a", nats.Connect(srv.URL()), nats.Conn(nc)),
		"buffer":           nats.Subscriber("a", nats.Connect(srv.URL()), nats.Buffer(0)),
		"opts with conn":   nats.Subscriber("a", nats.Conn(nc), nats.NATSOptions(natsgo.Name("x"))),
	} {
		t.Run(name, func(t *testing.T) {
			err := axon.Run(t.Context(), n)
			if !errors.Is(err, nats.ErrConfig) {
				t.Fatalf("Run: %v, want ErrConfig", err)
			}
		})
	}
}

func TestConnectFailure(t *testing.T) {
	srv := natstest.Server(t)
	url := srv.URL()
	srv.Shutdown()
	for _, n := range []axon.Node{
		nats.Publisher("a", nats.Connect(url)),
		nats.Subscriber("a", nats.Connect(url)),
	} {
		err := axon.Run(t.Context(), n)
		var be *axon.BoxError
		var e *nats.Error
		if !errors.Is(err, nats.ErrConnect) || !errors.Is(err, natsgo.ErrNoServers) ||
			!errors.As(err, &be) || be.Op != "connect" || !errors.As(err, &e) || e.Server != url {
			t.Fatalf("Run: %v, want ErrConnect wrapping nats.ErrNoServers, naming %s", err, url)
		}
	}
}

func TestSlowConsumerReported(t *testing.T) {
	srv := natstest.Server(t)
	// nats.go would print the slow consumer without a handler.
	nc, err := natsgo.Connect(srv.URL(), natsgo.ErrorHandler(func(*natsgo.Conn, *natsgo.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	marker, err := nc.SubscribeSync("t.marker")
	if err != nil {
		t.Fatal(err)
	}
	s := nats.Subscriber("t.slow", nats.Conn(nc), nats.Buffer(1))
	hs := start(t, s)
	link(t, hs, nats.ErrorsBox)
	subscribed(t, s)
	pub, err := natsgo.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const n = 200
	for i := range n {
		if err := pub.Publish("t.slow", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish("t.marker", nil); err != nil {
		t.Fatal(err)
	}
	// nc reads in order: once the marker is here, all n were delivered to
	// the Subscriber's channel or dropped, while nobody read its outbox.
	if _, err := marker.NextMsg(wait); err != nil {
		t.Fatal(err)
	}
	// The Subscriber counts drops after it has handed on a run, so the
	// last message may come before the count that accounts for the rest:
	// wait for either, never for a message alone.
	var got []int
	deadline := time.Now().Add(wait)
	for uint64(len(got))+s.Stats().Dropped < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d received and %d dropped of %d", len(got), s.Stats().Dropped, n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		m, err := hs.Get(ctx, axon.OutboxName)
		cancel()
		if err != nil {
			continue
		}
		got = append(got, payloadInt(t, m))
	}
	put(t, hs, axon.ControlName, axon.ShutdownMicroprocess{})
	if err := hs.Wait(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Dropped == 0 || st.Received != uint64(len(got)) {
		t.Fatalf("stats %+v, %d received", st, len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
	}
	var reported int
	for reported < int(st.Dropped) {
		_, e := asError(t, get(t, hs, nats.ErrorsBox), nats.ErrSlowConsumer)
		if !errors.Is(e, natsgo.ErrSlowConsumer) || e.Dropped <= 0 {
			t.Fatalf("slow consumer error %+v", e)
		}
		reported += e.Dropped
	}
	if reported != int(st.Dropped) {
		t.Fatalf("reported %d dropped, stats say %d", reported, st.Dropped)
	}
}

func TestSubjectMapping(t *testing.T) {
	for name, want := range map[string]string{
		"chat":   "kamaelia.backplane.chat",
		"room.1": "kamaelia.backplane.room%2E1",
		"a b*>":  "kamaelia.backplane.a%20b%2A%3E",
		"%2E":    "kamaelia.backplane.%252E",
		"":       "kamaelia.backplane.%",
		"é":      "kamaelia.backplane.%C3%A9",
		"A-z_9":  "kamaelia.backplane.A-z_9",
	} {
		if got := nats.Subject(name); got != want {
			t.Errorf("Subject(%q) = %q, want %q", name, got, want)
		}
	}
}
