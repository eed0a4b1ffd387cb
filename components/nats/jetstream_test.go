package nats_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

func TestStreamAndConsumerNames(t *testing.T) {
	for name, want := range map[string][2]string{
		"chat":   {"KAMAELIA_BACKPLANE_chat", "chat"},
		"room.1": {"KAMAELIA_BACKPLANE_room%2E1", "room%2E1"},
		"a/b *>": {"KAMAELIA_BACKPLANE_a%2Fb%20%2A%3E", "a%2Fb%20%2A%3E"},
		"":       {"KAMAELIA_BACKPLANE_%", "%"},
	} {
		if got := nats.StreamName(name); got != want[0] {
			t.Errorf("StreamName(%q) = %q, want %q", name, got, want[0])
		}
		if got := nats.ConsumerName(name); got != want[1] {
			t.Errorf("ConsumerName(%q) = %q, want %q", name, got, want[1])
		}
	}
}

func TestSeenRemembersTheLastN(t *testing.T) {
	s := nats.NewSeen(3)
	for _, id := range []string{"a", "b", "c"} {
		if !s.Add(id) {
			t.Fatalf("%s: not new", id)
		}
	}
	if s.Add("a") || s.Add("c") {
		t.Fatal("an id among the last 3 was new")
	}
	if !s.Add("d") { // forgets "a"
		t.Fatal("d: not new")
	}
	if !s.Add("a") {
		t.Fatal("a, 4 ids ago: still remembered")
	}
	if s.Add("d") {
		t.Fatal("d: new again")
	}
}

// An AckedPublisher's messages are stored once each, in order, across a
// server restart in the middle of publishing; a consumer read with a
// StreamReader hands each on once.
func TestAckedPublisherAcrossRestart(t *testing.T) {
	srv := natstest.Server(t, natstest.JetStream(t.TempDir()))
	nc, js := jsConn(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := nats.EnsureStream(ctx, slog.Default(), nil, js, "T", "t.acked"); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "T", jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	p, err := nats.NewAckedPublisher(nc, "t.acked", nats.AckedPublisherConfig{ID: "p", Window: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 2000
	for i := range n {
		if i == n/2 {
			srv.Restart(t)
		}
		if err := p.Publish(ctx, []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
		if p.Pending() > 64 {
			t.Fatalf("%d messages wait for acknowledgements, window 64", p.Pending())
		}
	}
	if err := p.Flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d pending after Flush", p.Pending())
	}

	rd, err := nats.ReadStream(nc, nil, cons, 128, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Stop()
	for next := 0; next < n; {
		select {
		case m := <-rd.C():
			for _, v := range rd.Run(m, 32, nil, nil) {
				if got := string(v.([]byte)); got != fmt.Sprint(next) {
					t.Fatalf("got %s, want %d", got, next)
				}
				next++
			}
			if err := rd.Done(1 << 30); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatalf("after %d messages: %v", next, ctx.Err())
		}
	}
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != n {
		t.Fatalf("stored %d messages, want %d", info.State.LastSeq, n)
	}
}

func TestAckedPublisherNeedsAnID(t *testing.T) {
	if _, err := nats.NewAckedPublisher(nil, "x", nats.AckedPublisherConfig{}); !errors.Is(err, nats.ErrConfig) {
		t.Fatalf("no ID: %v, want ErrConfig", err)
	}
	if _, err := nats.NewAckedPublisher(nil, "x", nats.AckedPublisherConfig{ID: "p"}); !errors.Is(err, nats.ErrConfig) {
		t.Fatalf("no connection: %v, want ErrConfig", err)
	}
}

// A Publisher and a Subscriber given JetStream, on connections of their
// own, across a server restart: every message arrives once, in order,
// those published while the server was down included; then a second
// Subscriber of the same durable consumer gets what was published after
// the first stopped.
func TestDurablePublisherAndSubscriber(t *testing.T) {
	srv := natstest.Server(t, natstest.JetStream(t.TempDir()))
	s := nats.Subscriber("t.durable", nats.Connect(srv.URL()), nats.JetStream("D"), nats.Consumer("reader"))
	hs := start(t, s)
	subscribed(t, s)
	p := nats.Publisher("t.durable", nats.Connect(srv.URL()), nats.JetStream("D"))
	hp := start(t, p)
	link(t, hp, nats.ErrorsBox)

	putInts(t, hp, 0, 100)
	equalInts(t, getInts(t, hs, 100), seq(0, 100))
	srv.Shutdown()
	putInts(t, hp, 100, 200)
	srv.Start(t)
	putInts(t, hp, 200, 300)
	equalInts(t, getInts(t, hs, 200), seq(100, 300))

	put(t, hs, axon.ControlName, axon.ProducerFinished{})
	if err := hs.Wait(); err != nil {
		t.Fatal(err)
	}
	putInts(t, hp, 300, 350) // kept for "reader" while none reads it
	eventually(t, "350 stored", func() bool { return p.Stats().Published == 350 })
	s2 := nats.Subscriber("t.durable", nats.Connect(srv.URL()), nats.JetStream("D"), nats.Consumer("reader"))
	hs2 := start(t, s2)
	equalInts(t, getInts(t, hs2, 50), seq(300, 350))
	if st := s2.Stats(); st.Received != 50 || st.Errors != 0 {
		t.Fatalf("second subscriber: %+v", st)
	}
	if st := p.Stats(); st.Errors != 0 {
		t.Fatalf("publisher: %+v", st)
	}
}

func TestConsumerNeedsJetStream(t *testing.T) {
	s := nats.Subscriber("x", nats.Consumer("c"))
	h := start(t, s)
	if err := h.Wait(); !errors.Is(err, nats.ErrConfig) {
		t.Fatalf("Consumer without JetStream: %v, want ErrConfig", err)
	}
}

// jsConn connects to url as the durable mode does, until the test ends.
func jsConn(t *testing.T, url string) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := natsgo.Connect(url, append(nats.DefaultOptions(nil), nats.JetStreamOptions()...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// gapSetup makes a stream with n messages on subject t.gap, a durable
// consumer acknowledging with AckAll, and a connection to it through a
// proxy that can lose deliveries.
func gapSetup(t *testing.T, ctx context.Context, n int) (*natstest.ProxyHandle, *natsgo.Conn, jetstream.JetStream, jetstream.Consumer) {
	t.Helper()
	srv := natstest.Server(t, natstest.JetStream(t.TempDir()))
	proxy := natstest.Proxy(t, srv.URL())
	nc, js := jsConn(t, proxy.URL())
	if _, err := nats.EnsureStream(ctx, slog.Default(), nil, js, "G", "t.gap"); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "G", jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := js.Publish(ctx, "t.gap", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	return proxy, nc, js, cons
}

// readInOrder reads rd until it has handed on want, in order, from
// *next, acknowledging each run and setting the consumer back when told
// to; it stops early if stop says so after a run.
func readInOrder(t *testing.T, ctx context.Context, rd *nats.StreamReader, next *int, want int, stop func() bool) {
	t.Helper()
	for *next < want {
		select {
		case m := <-rd.C():
			for _, v := range rd.Run(m, 32, nil, nil) {
				if got := string(v.([]byte)); got != fmt.Sprint(*next) {
					t.Fatalf("got %s, want %d", got, *next)
				}
				*next++
			}
			if err := rd.Done(1 << 30); err != nil {
				t.Fatal(err)
			}
			if stop != nil && stop() {
				return
			}
			if err := rd.Resync(ctx); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatalf("after %d messages: %v", *next, ctx.Err())
		}
	}
}

// ackFloor checks that the consumer comes to have acknowledged n
// messages and to hold none unacknowledged. It asks again until ctx ends:
// the server applies an acknowledgement after it has answered the
// connection's flush, so the last may not show at once.
func ackFloor(t *testing.T, ctx context.Context, cons jetstream.Consumer, n uint64) {
	t.Helper()
	for {
		ci, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.AckFloor.Stream == n && ci.NumAckPending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer: ack floor %d, %d unacknowledged; want %d, 0", ci.AckFloor.Stream, ci.NumAckPending, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Deliveries that never reach a StreamReader (the server counted them as
// made) are not acknowledged by the acknowledgement of later ones: the
// reader sees the consumer sequence skip, sets the consumer back, and
// hands everything on once, in order, long before the ack wait.
func TestStreamReaderMissedDeliveries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 200
	proxy, nc, _, cons := gapSetup(t, ctx, n)
	dropped := proxy.DropDeliveries(40, 7)
	rd := readAll(t, ctx, nc, cons, n)
	if len(dropped) != 7 || rd.Resyncs() != 1 {
		t.Fatalf("%d deliveries lost, consumer set back %d times; want 7, 1", len(dropped), rd.Resyncs())
	}
}

// readAll reads cons's n messages with a StreamReader, which it returns,
// checking that they come in order and end up acknowledged.
func readAll(t *testing.T, ctx context.Context, nc *natsgo.Conn, cons jetstream.Consumer, n int) *nats.StreamReader {
	t.Helper()
	rd, err := nats.ReadStream(nc, nil, cons, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rd.Stop)
	next := 0
	readInOrder(t, ctx, rd, &next, n, nil)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ackFloor(t, ctx, cons, uint64(n))
	return rd
}

// Deliveries made before a reader opens the consumer and never
// acknowledged (the server had them on their way to an earlier reader
// as it stopped) are not acknowledged by the new reader's first
// acknowledgement: it sets the consumer back before acknowledging
// anything, and hands on everything from the first unacknowledged.
func TestStreamReaderOpensBehindUnacknowledged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n, lost = 200, 30
	_, nc, js, cons := gapSetup(t, ctx, n)
	// Delivered, and gone nowhere: nobody acknowledges or gives them back.
	batch, err := cons.Fetch(lost)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for range batch.Messages() {
		got++
	}
	if got != lost {
		t.Fatalf("fetched %d, want %d", got, lost)
	}
	// Looked up afresh, as a restarted subscriber's CreateOrUpdateConsumer
	// does: its info counts those deliveries as made.
	cons, err = js.Consumer(ctx, "G", "c")
	if err != nil {
		t.Fatal(err)
	}
	if rd := readAll(t, ctx, nc, cons, n); rd.Resyncs() != 1 {
		t.Fatalf("consumer set back %d times, want 1", rd.Resyncs())
	}
}

// A reader that opens the consumer after another stopped mid-stream,
// with deliveries fetched and given back, hands on exactly what the
// first did not: nothing again, nothing skipped.
func TestStreamReaderTakesOverWhereTheLastStopped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 200
	_, nc, js, cons := gapSetup(t, ctx, n)
	rd, err := nats.ReadStream(nc, nil, cons, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	readInOrder(t, ctx, rd, &next, n, func() bool { return next >= 50 })
	rd.Stop()
	if next >= n {
		t.Fatalf("the first reader handed on all %d", n)
	}
	cons, err = js.Consumer(ctx, "G", "c")
	if err != nil {
		t.Fatal(err)
	}
	rd2, err := nats.ReadStream(nc, nil, cons, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rd2.Stop()
	readInOrder(t, ctx, rd2, &next, n, nil)
}

// A StreamReader that stops having missed deliveries sets its consumer
// back: the next reader gets, at once and in order, everything after
// what the first acknowledged.
func TestStreamReaderStopsBehind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 200
	proxy, nc, _, cons := gapSetup(t, ctx, n)
	proxy.DropDeliveries(40, 7)
	rd, err := nats.ReadStream(nc, nil, cons, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	readInOrder(t, ctx, rd, &next, n, rd.Behind)
	rd.Stop()
	if next != 40 {
		t.Fatalf("the first reader handed on %d, want 40", next)
	}
	rd2, err := nats.ReadStream(nc, nil, cons, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rd2.Stop()
	readInOrder(t, ctx, rd2, &next, n, nil)
	if rd2.Resyncs() != 0 {
		t.Fatalf("the second reader set the consumer back %d times", rd2.Resyncs())
	}
}
