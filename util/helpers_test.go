package util_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ctxT is a context for one test. Its deadline only turns a hang into a
// failure; no assertion depends on it.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tester is the Ref on the shutdown messages the tests send.
var tester = axon.Ref{Name: "tester"}

// start runs n in the background; the graph is stopped and waited for when
// the test ends, whatever happened.
func start(t *testing.T, ctx context.Context, n axon.Node) *axon.Handle {
	t.Helper()
	h := axon.Start(ctx, n)
	t.Cleanup(func() {
		h.Stop()
		_ = h.Wait()
	})
	return h
}

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

// expectEnded checks that box yields nothing more: the component has ended
// and nothing is left queued.
func expectEnded(t *testing.T, ctx context.Context, h *axon.Handle, box string) {
	t.Helper()
	m, err := h.Get(ctx, box)
	if !errors.Is(err, axon.ErrEnded) {
		t.Fatalf("get from %s after the end: got %v, %v; want an error wrapping ErrEnded", box, m, err)
	}
}

// wait waits for the graph and fails the test if it reported an error.
func wait(t *testing.T, h *axon.Handle) {
	t.Helper()
	if err := h.Wait(); err != nil {
		t.Fatalf("graph failed: %v", err)
	}
}

// expectSignal checks that the next thing on the handle's signal is want.
func expectSignal(t *testing.T, ctx context.Context, h *axon.Handle, want any) {
	t.Helper()
	if got := get(t, ctx, h, axon.SignalName); got != want {
		t.Fatalf("signal: got %#v, want %#v", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe to write from a component while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
