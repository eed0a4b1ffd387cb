package natsbackplane

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/components/backplane"
)

// The helpers of the tests here, on axontest's.

var (
	testCtx = func(t *testing.T) context.Context { return axontest.Context(t) }
	start   = func(t *testing.T, ctx context.Context, n axon.Node) *axon.Handle { return axontest.Start(t, ctx, n) }
)

// subscribe starts a SubscribeTo and waits until it has joined.
func subscribe(t *testing.T, ctx context.Context, name string, opts ...backplane.Option) (s *backplane.SubscribeToComponent, h *axon.Handle) {
	t.Helper()
	s = backplane.SubscribeTo(name, opts...)
	if h = start(t, ctx, s); !joined(ctx, s, h) {
		t.Fatalf("subscriber did not join: %v", context.Cause(ctx))
	}
	return s, h
}

// joined waits for s to join, or to end first.
func joined(ctx context.Context, s *backplane.SubscribeToComponent, h *axon.Handle) bool {
	select {
	case <-s.Joined():
		return true
	case <-h.Done():
		return false
	case <-ctx.Done():
		return false
	}
}

// put puts msgs, in order, on h's box.
func put(t *testing.T, ctx context.Context, h *axon.Handle, box string, msgs ...any) {
	t.Helper()
	if err := putAll(ctx, h, box, msgs); err != nil {
		t.Fatal(err)
	}
}

func putAll(ctx context.Context, h *axon.Handle, box string, msgs []any) error {
	for i, m := range msgs {
		if err := h.Put(ctx, box, m); err != nil {
			return fmt.Errorf("put %d of %d (%v) on %s: %w", i, len(msgs), m, box, err)
		}
	}
	return nil
}

// get takes n messages from h's outbox.
func get(t *testing.T, ctx context.Context, h *axon.Handle, n int) []any {
	t.Helper()
	got := make([]any, n)
	for i := range got {
		got[i] = axontest.Get(t, ctx, h, axon.OutboxName)
	}
	return got
}

// getAll takes messages from h's outbox until it has ended.
func getAll(t *testing.T, ctx context.Context, h *axon.Handle) (got []any) {
	t.Helper()
	m, err := h.Get(ctx, axon.OutboxName)
	for ; err == nil; m, err = h.Get(ctx, axon.OutboxName) {
		got = append(got, m)
	}
	if !errors.Is(err, axon.ErrEnded) {
		t.Fatalf("after %d messages: get: %v", len(got), err)
	}
	return got
}

// putAsync puts msgs on h's inbox in the background; wait for the
// returned channel to be closed.
func putAsync(t *testing.T, ctx context.Context, h *axon.Handle, msgs ...any) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := putAll(ctx, h, axon.InboxName, msgs); err != nil {
			t.Error(err)
		}
	}()
	return done
}

// finish sends a ProducerFinished to h's control and waits for h to end
// without error.
func finish(t *testing.T, ctx context.Context, h *axon.Handle) {
	t.Helper()
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{})
	axontest.Wait(t, h)
}

// ints and equal build and compare the expected runs of ints.
func ints(from, to int) (s []any) {
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func equal(a, b []any) bool { return len(a) == len(b) && fmt.Sprint(a) == fmt.Sprint(b) }
