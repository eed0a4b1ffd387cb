package natsbackplane

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
	natsgo "github.com/nats-io/nats.go"
)

// bytesOf formats n messages as the []byte payloads NATS delivers.
func bytesOf(prefix string, from, to int) []any {
	var out []any
	for i := from; i < to; i++ {
		out = append(out, []byte(fmt.Sprint(prefix, i)))
	}
	return out
}

func stringsOf(prefix string, from, to int) []any {
	var out []any
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(prefix, i))
	}
	return out
}

func sameBytes(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, ok := got[i].([]byte)
		if !ok || string(g) != string(want[i].([]byte)) {
			return false
		}
	}
	return true
}

// rawConn connects to srv as another process would.
func rawConn(t *testing.T, srv *natstest.ServerHandle) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(srv.URL(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// A Backplane given NATS works with PublishTo and SubscribeTo unchanged,
// and its messages are on the backplane's subject for other processes.
func TestNATSBackplaneLocalAndRemote(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	name := t.Name()
	bp := start(t, ctx, backplane.Backplane(name, NATS(srv.URL())))
	_, sub := subscribe(t, ctx, name)

	// Another process, on the same server and subject.
	other := rawConn(t, srv)
	seen := make(chan *natsgo.Msg, 300)
	if _, err := other.ChanSubscribe(nats.Subject(name), seen); err != nil {
		t.Fatal(err)
	}
	if err := other.Flush(); err != nil {
		t.Fatal(err)
	}

	pub := start(t, ctx, backplane.PublishTo(name))
	put(t, ctx, pub, axon.InboxName, stringsOf("local ", 0, 100)...)
	if got := get(t, ctx, sub, 100); !sameBytes(got, bytesOf("local ", 0, 100)) {
		t.Fatalf("local subscriber got %q", got)
	}
	for i := range 100 {
		select {
		case m := <-seen:
			if want := fmt.Sprint("local ", i); string(m.Data) != want {
				t.Fatalf("the other process got %q, want %q", m.Data, want)
			}
		case <-ctx.Done():
			t.Fatalf("the other process got %d of 100", i)
		}
	}

	for i := range 100 {
		if err := other.Publish(nats.Subject(name), []byte(fmt.Sprint("remote ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := get(t, ctx, sub, 100); !sameBytes(got, bytesOf("remote ", 0, 100)) {
		t.Fatalf("local subscriber got %q from the other process", got)
	}
	finish(t, ctx, pub)
	finish(t, ctx, bp)
}

// A server restart mid-stream: messages published before it, and after
// the connection is back, reach the subscriber in order. Of those published while the server was
// down, the ones the connection buffered follow in order once it is back;
// the ones written in the moment before it noticed the server had gone
// are lost (core NATS is at most once; see Backplane).
func TestNATSBackplaneSurvivesServerRestart(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	name := t.Name()
	reconnected := make(chan struct{}, 1)
	bp := backplane.Backplane(name, NATS(srv.URL(), NATSOptions(natsgo.ReconnectHandler(func(*natsgo.Conn) {
		reconnected <- struct{}{}
	}))))
	start(t, ctx, bp)
	_, sub := subscribe(t, ctx, name)
	pub := start(t, ctx, backplane.PublishTo(name))

	put(t, ctx, pub, axon.InboxName, stringsOf("m", 0, 50)...)
	if got := get(t, ctx, sub, 50); !sameBytes(got, bytesOf("m", 0, 50)) {
		t.Fatalf("before the restart: got %q", got)
	}
	srv.Shutdown()
	put(t, ctx, pub, axon.InboxName, stringsOf("m", 50, 100)...)
	srv.Start(t)
	// Until the connection has noticed the outage and reconnected, what
	// it writes goes to the old socket and is lost; "after" means after
	// that.
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("the Backplane's connection did not reconnect")
	}
	put(t, ctx, pub, axon.InboxName, stringsOf("m", 100, 150)...)
	last, during := 49, 0
	for last < 149 {
		m := get(t, ctx, sub, 1)[0].([]byte)
		var i int
		if _, err := fmt.Sscanf(string(m), "m%d", &i); err != nil || i <= last {
			t.Fatalf("got %q after m%d: want later messages only, in order", m, last)
		}
		if i >= 100 && i != max(last+1, 100) {
			t.Fatalf("got %q after m%d: a message published after the restart was lost", m, last)
		}
		if i < 100 {
			during++
		}
		last = i
	}
	t.Logf("%d of the 50 messages published during the outage arrived", during)
}

func TestNATSOptionsOnlyForBackplane(t *testing.T) {
	ctx := testCtx(t)
	err := axon.Run(ctx, backplane.PublishTo("x", NATS("nats://127.0.0.1:1")))
	if !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("PublishTo with NATS: %v, want backplane.ErrBadOption", err)
	}
	if err := axon.Run(ctx, backplane.Backplane("x", NATS(""))); !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("NATS(\"\"): %v, want backplane.ErrBadOption", err)
	}
}

// A Backplane that never runs, or fails before it starts, holds no NATS
// connection (goleak, at the end of the package's tests, would see the
// client's goroutines).
func TestNATSBackplaneConnectsOnlyWhenRunning(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	_ = backplane.Backplane("never run", NATS(srv.URL()))
	if err := axon.Run(ctx, backplane.Backplane("", NATS(srv.URL()))); !errors.Is(err, backplane.ErrBadOption) {
		t.Fatalf("empty name: %v, want backplane.ErrBadOption", err)
	}
}

// A NATS Backplane told to finish delivers everything its publishers had
// published before it ends: those messages went round through the server
// and are on their way back when it is told.
func TestNATSBackplaneFinishDeliversWhatWasPublished(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	name := t.Name()
	bp := start(t, ctx, backplane.Backplane(name, NATS(srv.URL())))
	_, sub := subscribe(t, ctx, name)
	pub := start(t, ctx, backplane.PublishTo(name))
	const n = 500
	put(t, ctx, pub, axon.InboxName, stringsOf("m", 0, n)...)
	finish(t, ctx, pub) // all handed to the connection
	put(t, ctx, bp, axon.ControlName, axon.ProducerFinished{})
	if got := getAll(t, ctx, sub); !sameBytes(got, bytesOf("m", 0, n)) {
		t.Fatalf("got %d messages, want m0..m%d in order", len(got), n-1)
	}
	if err := bp.Wait(); err != nil {
		t.Fatalf("backplane: %v", err)
	}
	if m, err := sub.Get(ctx, axon.SignalName); err != nil || !axon.IsProducerFinished(m) {
		t.Fatalf("subscriber signal: %v, %v", m, err)
	}
}

// A message a NATS backplane cannot send is reported on the "errors" of
// the PublishTo that had it, naming it, and the messages after it still
// go out.
func TestNATSBackplaneReportsWhatItCannotPublish(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	name := t.Name()
	start(t, ctx, backplane.Backplane(name, NATS(srv.URL())))
	_, sub := subscribe(t, ctx, name)
	p := backplane.PublishTo(name)
	pub := axon.Start(ctx, p, axon.Tapping(backplane.ErrorsBox))
	t.Cleanup(func() { pub.Stop(); _ = pub.Wait() })

	put(t, ctx, pub, axon.InboxName, "before", 42, "after")
	if got := get(t, ctx, sub, 2); !sameBytes(got, []any{[]byte("before"), []byte("after")}) {
		t.Fatalf("subscriber got %q, want before and after", got)
	}
	m, err := pub.Get(ctx, backplane.ErrorsBox)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := m.(error)
	if !ok || !errors.Is(e, nats.ErrBadMessage) {
		t.Fatalf("errors gave %T %v, want an error wrapping nats.ErrBadMessage", m, m)
	}
	for _, want := range []string{p.String(), "inbox", name, "int"} {
		if !strings.Contains(e.Error(), want) {
			t.Fatalf("error %q does not mention %q", e, want)
		}
	}
}

// With a codec, what arrives from NATS in a burst (handed over in runs)
// reaches the subscribers decoded and in order; a payload the codec
// cannot decode is reported on the Backplane's "errors" and dropped, and
// the messages on both sides of it all arrive.
func TestNATSBackplaneDecodesInRunsAndReportsWhatItCannot(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	name := t.Name()
	bp := axon.Start(ctx, backplane.Backplane(name, NATS(srv.URL(), WithCodec(nats.JSON[int]()))), axon.Tapping(backplane.ErrorsBox))
	t.Cleanup(func() { bp.Stop(); _ = bp.Wait() })
	_, sub := subscribe(t, ctx, name)

	// Another process publishes a burst, so that nats.go has many
	// waiting at once: 0..199, a payload that is no int, 200..399.
	other := rawConn(t, srv)
	for i := range 400 {
		if i == 200 {
			if err := other.Publish(nats.Subject(name), []byte("not a number")); err != nil {
				t.Fatal(err)
			}
		}
		if err := other.Publish(nats.Subject(name), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := get(t, ctx, sub, 200); !equal(got, ints(0, 200)) {
		t.Fatalf("before the bad payload: got %v", got)
	}
	m, err := bp.Get(ctx, backplane.ErrorsBox)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := m.(error); !ok || !errors.Is(e, nats.ErrDecode) {
		t.Fatalf("errors gave %T %v, want an error wrapping nats.ErrDecode", m, m)
	}
	if got := get(t, ctx, sub, 200); !equal(got, ints(200, 400)) {
		t.Fatalf("after the bad payload: got %v", got)
	}
}

// What arrives on a NATS Backplane's own inbox is published by its
// nats.Publisher child: it reaches the subscribers, a message that cannot
// be sent is reported on the Backplane's "errors" (an *axon.BoxError
// naming that child, around a *nats.Error), and ProducerFinished goes
// down the children so that everything published is delivered first.
func TestNATSBackplaneOwnInboxGoesThroughItsPublisher(t *testing.T) {
	ctx := testCtx(t)
	srv := natstest.Server(t)
	name := t.Name()
	bp := axon.Start(ctx, backplane.Backplane(name, NATS(srv.URL())), axon.Tapping(backplane.ErrorsBox))
	t.Cleanup(func() { bp.Stop(); _ = bp.Wait() })
	_, sub := subscribe(t, ctx, name)

	put(t, ctx, bp, axon.InboxName, "one", 42, "two")
	m, err := bp.Get(ctx, backplane.ErrorsBox)
	if err != nil {
		t.Fatal(err)
	}
	var be *axon.BoxError
	var ne *nats.Error
	if e, ok := m.(error); !ok || !errors.Is(e, nats.ErrBadMessage) || !errors.As(e, &be) || !errors.As(e, &ne) ||
		!strings.Contains(be.Component, "nats.Publisher") || ne.Subject != nats.Subject(name) {
		t.Fatalf("errors gave %T %v, want a BoxError of the nats.Publisher around a nats.Error", m, m)
	}
	put(t, ctx, bp, axon.InboxName, stringsOf("m", 0, 100)...)
	put(t, ctx, bp, axon.ControlName, axon.ProducerFinished{})
	want := []any{[]byte("one"), []byte("two")}
	if got := getAll(t, ctx, sub); !sameBytes(got, append(want, bytesOf("m", 0, 100)...)) {
		t.Fatalf("subscriber got %q", got)
	}
	if err := bp.Wait(); err != nil {
		t.Fatalf("backplane: %v", err)
	}
}
