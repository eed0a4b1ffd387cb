package axontest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// hangLimit is how long a test's context lasts: long enough never to
// matter for a test that works, short enough to end one that hangs well
// before go test's own timeout.
const hangLimit = 60 * time.Second

// Context returns a context for one test. It is cancelled when the test
// ends, after the cleanups registered after it (Start's among them), so
// those can still use it. Its deadline, 60 seconds away, only turns a hang
// into a failure: no check should depend on it.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	t.Cleanup(cancel)
	return ctx
}

// Tester is the Ref to put on the shutdown messages a test sends, so that
// a check can tell them from the ones components make:
//
//	axon.ProducerFinished{From: axontest.Tester}
var Tester = axon.Ref{Name: "tester"}

// Start starts n (with its children) in the background, like axon.Start
// with opts (axon.Tapping links outboxes to the handle before anything
// runs), and makes sure it does not outlive the test: when the test ends, however
// it ends, the graph is stopped and waited for. What it returned then is
// not checked; a test that cares how the graph ended calls Wait (or
// h.Wait) itself.
func Start(t testing.TB, ctx context.Context, n axon.Node, opts ...axon.StartOption) *axon.Handle {
	t.Helper()
	h := axon.Start(ctx, n, opts...)
	t.Cleanup(func() {
		h.Stop()
		_ = h.Wait()
	})
	return h
}

// Put puts msg into the started component's inbox called inbox, waiting
// while it is full, and fails the test (t.Fatalf) if that is not possible:
// the component has ended, there is no such inbox, or ctx ended. Call it
// from the test's goroutine only.
func Put(t testing.TB, ctx context.Context, h *axon.Handle, inbox string, msg any) {
	t.Helper()
	if err := h.Put(ctx, inbox, msg); err != nil {
		t.Fatalf("put to %s: %v", inbox, err)
	}
}

// Get returns the next message the started component sends on its outbox
// called outbox, and fails the test (t.Fatalf) if there is none to come:
// the component ended with nothing queued, there is no such outbox, or ctx
// ended. Call it from the test's goroutine only.
func Get(t testing.TB, ctx context.Context, h *axon.Handle, outbox string) any {
	t.Helper()
	m, err := h.Get(ctx, outbox)
	if err != nil {
		t.Fatalf("get from %s: %v", outbox, err)
	}
	return m
}

// Tap links the component's outbox called outbox to h now, without taking
// a message from it. A component that sends on a box only while the box
// is linked (a Carousel's "requestNext", for one) then sees the link from
// the start; a later Get reads what it sent. Call Tap straight after
// Start, before the component can have sent on outbox (a component that
// may send at once, before Tap can link, wants axon.Tapping given to
// Start instead): if a message is
// already waiting, Tap takes it and fails the test, as it does if the box
// cannot be linked to h. ("signal" needs no Tap: Start links it.)
func Tap(t testing.TB, h *axon.Handle, outbox string) {
	t.Helper()
	// Get makes the link first, then gives up at once on a context that
	// has already ended.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m, err := h.Get(ctx, outbox); !errors.Is(err, context.Canceled) {
		t.Fatalf("tap %s: got %v, %v; want only the link made", outbox, m, err)
	}
}

// Wait waits until h's graph has ended and fails the test (t.Fatalf) if
// it reported an error (a component failed, or the context passed to Start
// ended first).
func Wait(t testing.TB, h *axon.Handle) {
	t.Helper()
	if err := h.Wait(); err != nil {
		t.Fatalf("graph ended with %v", err)
	}
}

// ExpectSignal gets the next message on the component's "signal" and
// fails the test (t.Fatalf) unless it is want (compared with ==, so a
// pointer must be the very same pointer).
func ExpectSignal(t testing.TB, ctx context.Context, h *axon.Handle, want any) {
	t.Helper()
	if got := Get(t, ctx, h, axon.SignalName); got != want {
		t.Fatalf("signal: got %#v, want %#v", got, want)
	}
}

// ExpectEnded checks that the component's outbox called outbox has nothing
// more to give: the component has ended and nothing sent on the box is
// left unread. Otherwise it fails the test (t.Fatalf), after waiting for
// the component to end or for ctx.
func ExpectEnded(t testing.TB, ctx context.Context, h *axon.Handle, outbox string) {
	t.Helper()
	if m, err := h.Get(ctx, outbox); !errors.Is(err, axon.ErrEnded) {
		t.Fatalf("get from %s after the end: got %v, %v; want an error wrapping ErrEnded", outbox, m, err)
	}
}

// StopWith puts msg, a shutdown message, on the component's "control" and
// checks that the component does what every component must: passes the
// very same message on its "signal", once, and ends without error. After
// a ProducerFinished the component first sends what it still has to send,
// so the test must have read that already (or tapped and left room for
// it); after a ShutdownMicroprocess it is abandoned.
func StopWith(t testing.TB, ctx context.Context, h *axon.Handle, msg any) {
	t.Helper()
	Put(t, ctx, h, axon.ControlName, msg)
	ExpectSignal(t, ctx, h, msg)
	Wait(t, h)
	ExpectEnded(t, ctx, h, axon.SignalName)
}

// Preload queues msgs, in order, in n's inbox called inbox, through a
// component of its own that never runs. Called before n starts, it has n
// find them all waiting at once, whatever box it looks at first (put a
// shutdown message in "control" the same way to have it arrive with the
// data). It fails the test (t.Fatalf) if the box cannot be linked to or
// has no room for them.
func Preload(t testing.TB, n axon.Node, inbox string, msgs ...any) {
	t.Helper()
	feeder := axon.New("Preload", nil) // never run: sent from directly
	if err := axon.Link(feeder, axon.OutboxName, n, inbox); err != nil {
		t.Fatalf("preload %s: %v", inbox, err)
	}
	out := feeder.Out(axon.OutboxName)
	for i, m := range msgs {
		if err := out.TrySend(m); err != nil {
			t.Fatalf("preload %s, message %d of %d: %v", inbox, i+1, len(msgs), err)
		}
	}
}

// LinkToEnded links n's outbox called outbox to the "inbox" of a component
// that has already ended, and returns that component. A component that
// then sends on outbox should fail with an error wrapping
// axon.ErrReceiverDone, and the returned component's inbox should stay
// empty. It fails the test (t.Fatalf) if the link cannot be made.
func LinkToEnded(t testing.TB, n axon.Node, outbox string) *axon.Component {
	t.Helper()
	ended := axon.New("Ended", nil)
	ended.Stop() // never started: it ends at once
	if err := axon.Link(n, outbox, ended, axon.InboxName); err != nil {
		t.Fatalf("link %s to an ended component: %v", outbox, err)
	}
	return ended
}

// IsClosed reports whether ch is closed now, without waiting. It is meant
// for channels that are only ever closed, never sent on, such as a
// component's or a Handle's Done channel: then it tells whether the
// component has ended.
func IsClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
