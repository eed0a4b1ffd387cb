package chassis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ctxT is a context for one test. The deadline only turns a hang into a
// failure; no assertion depends on it.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tester is the Ref the tests put on the shutdown messages they send.
var tester = axon.Ref{Name: "tester"}

// pass forwards every message from inbox to outbox unchanged, with the
// standard shutdown behaviour.
func pass(name string, capacity int) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, msg any) error { return out.Send(ctx, msg) })
	}, axon.WithInbox(axon.InboxName, "messages to pass on", axon.Capacity(capacity)))
}

// mapper applies f to every message.
func mapper(name string, f func(any) any) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, msg any) error { return out.Send(ctx, f(msg)) })
	})
}

// emitter sends msgs on its outbox, then ProducerFinished on its signal.
func emitter(name string, msgs ...any) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		for _, m := range msgs {
			if err := c.Send(ctx, axon.OutboxName, m); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

// get takes one message from the handle's outbox, failing the test if
// there is none.
func get(t *testing.T, ctx context.Context, h *axon.Handle, box string) any {
	t.Helper()
	m, err := h.Get(ctx, box)
	if err != nil {
		t.Fatalf("get from %s: %v", box, err)
	}
	return m
}

func put(t *testing.T, ctx context.Context, h *axon.Handle, box string, msg any) {
	t.Helper()
	if err := h.Put(ctx, box, msg); err != nil {
		t.Fatalf("put to %s: %v", box, err)
	}
}

// tap links the handle to outbox box now, without waiting for a message,
// so that a component which sends on box only while it is linked (as a
// Carousel does with requestNext) sees the link from the start. It asks
// Get with a context that has already ended: the link is made first, then
// Get gives up at once.
func tap(t *testing.T, h *axon.Handle, box string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Get(ctx, box); !errors.Is(err, context.Canceled) {
		t.Fatalf("tap %s: got %v, want a context error", box, err)
	}
}

// isClosed reports whether ch is closed now, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// endOf waits for h's graph to end and fails the test on an error.
func endOf(t *testing.T, h *axon.Handle) {
	t.Helper()
	if err := h.Wait(); err != nil {
		t.Fatalf("graph ended with %v", err)
	}
}

// wantEnded checks that the outbox has nothing more to give.
func wantEnded(t *testing.T, ctx context.Context, h *axon.Handle, box string) {
	t.Helper()
	if m, err := h.Get(ctx, box); !errors.Is(err, axon.ErrEnded) {
		t.Fatalf("get from %s after the end: got %v, %v; want ErrEnded", box, m, err)
	}
}
