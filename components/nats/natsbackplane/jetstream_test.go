package natsbackplane

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// jsServer starts an embedded NATS server with JetStream, its store in a
// directory of the test's.
func jsServer(t *testing.T) *natstest.ServerHandle {
	t.Helper()
	return natstest.Server(t, natstest.JetStream(t.TempDir()))
}

// longCtx bounds a test that restarts servers.
func longCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tally checks what a subscriber received of what the publishers called
// prefixes sent, each "prefix" followed by 0..n-1: how many were lost,
// how many came twice, and whether each publisher's came in order.
type tally struct {
	lost, dup  int
	outOfOrder []string
	dups       []string
}

func count(got []any, prefixes []string, n int) tally {
	var tl tally
	seen := map[string]bool{}
	next := map[string]int{}
	for _, m := range got {
		s := string(m.([]byte))
		if seen[s] {
			tl.dup++
			tl.dups = append(tl.dups, s)
			continue
		}
		seen[s] = true
		for _, p := range prefixes {
			if v, ok := strings.CutPrefix(s, p); ok {
				i, _ := strconv.Atoi(v)
				if i != next[p] {
					tl.outOfOrder = append(tl.outOfOrder, fmt.Sprintf("%s after %s%d", s, p, next[p]-1))
				}
				next[p] = i + 1
			}
		}
	}
	for _, p := range prefixes {
		for i := range n {
			if !seen[fmt.Sprint(p, i)] {
				tl.lost++
			}
		}
	}
	return tl
}

// collect takes up to n messages from h's outbox, giving up after a
// while without one: what it returns is for count to judge.
func collect(t *testing.T, ctx context.Context, h *axon.Handle, n int) []any {
	t.Helper()
	var got []any
	for len(got) < n {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := h.Get(c, axon.OutboxName)
		cancel()
		if err != nil {
			t.Logf("after %d messages: %v", len(got), err)
			return got
		}
		got = append(got, m)
	}
	return got
}

func (tl tally) check(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: %d lost, %d duplicated, %d out of order", what, tl.lost, tl.dup, len(tl.outOfOrder))
	if tl.lost != 0 || tl.dup != 0 || len(tl.outOfOrder) != 0 {
		t.Fatalf("%s: %d lost, %d duplicated %v, out of order: %v", what, tl.lost, tl.dup, tl.dups, tl.outOfOrder)
	}
}

// checkOnce is check without order: across a subscriber's restart, what
// it had fetched and not handed on is delivered again first, but a
// message being handed on as it stopped may come after newer ones.
func (tl tally) checkOnce(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: %d lost, %d duplicated, %d out of order %v", what, tl.lost, tl.dup, len(tl.outOfOrder), tl.outOfOrder)
	if tl.lost != 0 || tl.dup != 0 {
		t.Fatalf("%s: %d lost, %d duplicated %v, out of order: %v", what, tl.lost, tl.dup, tl.dups, tl.outOfOrder)
	}
}

// The server is restarted while two publishers publish and a subscriber
// reads: every message arrives once, each publisher's in order.
func TestJetStreamServerRestartLosesNothing(t *testing.T) {
	ctx := longCtx(t)
	srv := jsServer(t)
	start(t, ctx, backplane.Backplane("jsr", JetStream(srv.URL())))
	_, hs := subscribe(t, ctx, "jsr", backplane.Durable("reader"))
	const n = 3000
	prefixes := []string{"a", "b"}
	var sent []<-chan struct{}
	for _, p := range prefixes {
		hp := start(t, ctx, backplane.PublishTo("jsr"))
		sent = append(sent, putAsync(t, ctx, hp, stringsOf(p, 0, n)...))
	}
	got := collect(t, ctx, hs, n/3)
	srv.Restart(t)
	got = append(got, collect(t, ctx, hs, 2*n-len(got))...)
	for _, done := range sent {
		<-done
	}
	count(got, prefixes, n).check(t, "server restart")
	expectNothingMore(t, hs)
}

// Deliveries the server counts as made but the client never gets (what a
// server going away had not yet written out, say) are not acknowledged by
// the acknowledgement of a later message: they arrive, in order, once.
func TestJetStreamLostDeliveriesAreNotAcknowledged(t *testing.T) {
	ctx := longCtx(t)
	srv := jsServer(t)
	proxy := natstest.Proxy(t, srv.URL())
	start(t, ctx, backplane.Backplane("jsg", JetStream(proxy.URL())))
	_, hs := subscribe(t, ctx, "jsg", backplane.Durable("gap"))
	hp := start(t, ctx, backplane.PublishTo("jsg"))
	const n, lose = 300, 10
	dropped := proxy.DropDeliveries(50, lose)
	put(t, ctx, hp, axon.InboxName, stringsOf("g", 0, n)...)
	got := collect(t, ctx, hs, n)
	if len(dropped) != lose {
		t.Fatalf("the proxy lost %d deliveries, want %d", len(dropped), lose)
	}
	count(got, []string{"g"}, n).check(t, "lost deliveries")
	expectNothingMore(t, hs)
}

// expectNothingMore checks that no further message reaches h within a
// short while: a message delivered again would.
func expectNothingMore(t *testing.T, h *axon.Handle) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := h.Get(ctx, axon.OutboxName); err == nil {
		t.Fatalf("unexpected message %q", m)
	}
}

// jsGraph starts a server with JetStream, a JetStream Backplane called
// name, a SubscribeTo with a durable consumer and a PublishTo.
func jsGraph(t *testing.T, name, durable string) (context.Context, *natstest.ServerHandle, *backplane.SubscribeToComponent, *axon.Handle, *axon.Handle) {
	t.Helper()
	ctx := longCtx(t)
	srv := jsServer(t)
	start(t, ctx, backplane.Backplane(name, JetStream(srv.URL())))
	s, hs := subscribe(t, ctx, name, backplane.Durable(durable))
	hp := start(t, ctx, backplane.PublishTo(name))
	return ctx, srv, s, hs, hp
}

// A durable subscriber stopped at once mid-stream and started again
// resumes where it was: what it had put into the next inbox is not
// delivered again, and nothing is skipped.
func TestJetStreamDurableSubscriberResumes(t *testing.T) {
	ctx, _, s1, h1, hp := jsGraph(t, "jsd", "keeper")
	const n = 5000
	sent := putAsync(t, ctx, hp, stringsOf("m", 0, n)...)
	got := collect(t, ctx, h1, n/4)
	put(t, ctx, h1, axon.ControlName, axon.ShutdownMicroprocess{})
	got = append(got, getAll(t, ctx, h1)...)
	if err := h1.Wait(); err != nil {
		t.Fatal(err)
	}
	<-s1.Done()
	t.Logf("first subscriber got %d of %d", len(got), n)
	_, h2 := subscribe(t, ctx, "jsd", backplane.Durable("keeper"))
	got = append(got, collect(t, ctx, h2, n-len(got))...)
	<-sent
	count(got, []string{"m"}, n).checkOnce(t, "subscriber restart")
	expectNothingMore(t, h2)
}

// A subscriber whose graph has stopped reading holds at most what its
// consumer lets be unacknowledged; the rest waits in the stream, and
// everything arrives once reading resumes.
func TestJetStreamStalledSubscriberIsBounded(t *testing.T) {
	ctx, srv, _, hs, hp := jsGraph(t, "jss", "slow")
	const n = 20000
	put(t, ctx, hp, axon.InboxName, stringsOf("s", 0, n)...)

	nc := rawConn(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	info := func() *jetstream.ConsumerInfo {
		ci, err := js.Consumer(ctx, nats.StreamName("jss"), nats.ConsumerName("slow"))
		if err != nil {
			t.Fatal(err)
		}
		i, err := ci.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	// Wait for everything to be stored, the subscriber's share to be
	// handed out, and nothing more to move.
	var ci *jetstream.ConsumerInfo
	for deadline, last := time.Now().Add(20*time.Second), -1; ; {
		ci = info()
		if ci.NumPending+uint64(ci.NumAckPending)+ci.AckFloor.Stream >= n && ci.NumAckPending == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer: %d pending, %d unacknowledged", ci.NumPending, ci.NumAckPending)
		}
		last = ci.NumAckPending
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("stalled: %d acknowledged, %d held by the subscriber, %d waiting in the stream", ci.AckFloor.Stream, ci.NumAckPending, ci.NumPending)
	if ci.NumAckPending > 2*consumerBuffer {
		t.Fatalf("%d messages unacknowledged, more than the consumer's limit %d", ci.NumAckPending, 2*consumerBuffer)
	}
	if ci.NumPending < n/2 {
		t.Fatalf("only %d messages wait in the stream: the subscriber took too many", ci.NumPending)
	}
	got := collect(t, ctx, hs, n)
	count(got, []string{"s"}, n).check(t, "stalled subscriber")
}

// A publisher whose acknowledgement times out publishes again; the
// server stores the message once.
func TestJetStreamAckTimeoutStoredOnce(t *testing.T) {
	ctx := longCtx(t)
	srv := jsServer(t)
	proxy := natstest.Proxy(t, srv.URL())
	retries := make(chan int, 100)
	bp := backplane.Backplane("jst", JetStream(proxy.URL(), func(t *transport) {
		t.ackTimeout = 200 * time.Millisecond
		t.onRetry = func(n int) { retries <- n }
	}))
	start(t, ctx, bp)
	_, hs := subscribe(t, ctx, "jst", backplane.Durable("once"))
	hp := start(t, ctx, backplane.PublishTo("jst", backplane.Wait(5*time.Second)))

	put(t, ctx, hp, axon.InboxName, stringsOf("t", 0, 10)...)
	first := collect(t, ctx, hs, 10)
	// Hold back what the server says to the publisher's connection: the
	// acknowledgements of the next messages do not come in time.
	proxy.HoldReplies(true)
	put(t, ctx, hp, axon.InboxName, stringsOf("t", 10, 20)...)
	// Twice: the first time they are sent again is before the second.
	for range 2 {
		select {
		case n := <-retries:
			t.Logf("%d messages to publish again after their acknowledgements timed out", n)
		case <-ctx.Done():
			t.Fatal("no retry")
		}
	}
	proxy.HoldReplies(false)
	got := append(first, collect(t, ctx, hs, 10)...)
	count(got, []string{"t"}, 20).check(t, "ack timeout")
	expectNothingMore(t, hs)

	nc := rawConn(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, nats.StreamName("jst"))
	if err != nil {
		t.Fatal(err)
	}
	si, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.LastSeq != 20 {
		t.Fatalf("the stream stored %d messages, want 20", si.State.LastSeq)
	}
}

func TestJetStreamOptions(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t) // no JetStream
	h := start(t, ctx, backplane.Backplane("nojs", JetStream(srv.URL())))
	if err := h.Wait(); !errors.Is(err, nats.ErrStream) {
		t.Fatalf("Backplane on a server without JetStream: %v, want ErrStream", err)
	}

	start(t, ctx, backplane.Backplane("core", NATS(srv.URL())))
	s := start(t, ctx, backplane.SubscribeTo("core", backplane.Durable("x")))
	if err := s.Wait(); !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("Durable on a core NATS Backplane: %v, want backplane.ErrBadOption", err)
	}
	s = start(t, ctx, backplane.SubscribeTo("core", backplane.Durable("")))
	if err := s.Wait(); !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("backplane.Durable(\"\"): %v, want backplane.ErrBadOption", err)
	}

	jsrv := jsServer(t)
	start(t, ctx, backplane.Backplane("js", JetStream(jsrv.URL())))
	s = start(t, ctx, backplane.SubscribeTo("js", backplane.DropOldest(4)))
	if err := s.Wait(); !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("DropOldest on a JetStream Backplane: %v, want backplane.ErrBadOption", err)
	}
	b := start(t, ctx, backplane.PublishTo("js", backplane.Durable("x")))
	if err := b.Wait(); !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("Durable on PublishTo: %v, want backplane.ErrBadOption", err)
	}
}

// A Backplane that ends while a subscriber's graph has stopped reading
// does not wait for it: the subscriber gives up its send, gives back
// what it had not sent on, and finishes.
func TestJetStreamBackplaneEndsPastAStuckSubscriber(t *testing.T) {
	ctx := longCtx(t)
	srv := jsServer(t)
	hb := start(t, ctx, backplane.Backplane("jse", JetStream(srv.URL())))
	s, _ := subscribe(t, ctx, "jse", backplane.Durable("stuck"))
	hp := start(t, ctx, backplane.PublishTo("jse"))
	put(t, ctx, hp, axon.InboxName, stringsOf("x", 0, 500)...) // more than the subscriber's outbox holds
	finish(t, ctx, hp)
	time.Sleep(200 * time.Millisecond) // the subscriber is stuck sending
	finish(t, ctx, hb)
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("the subscriber did not end with its Backplane")
	}
}
