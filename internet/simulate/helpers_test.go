package simulate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/util"
)

// seeded is a stage whose seed a failing test reports.
type seeded interface {
	axon.Node
	Seed() uint64
}

// through runs msgs through n (with a ProducerFinished after them) and
// returns what came out, checking that the ProducerFinished came out too.
func through[T any](t *testing.T, n seeded, msgs []T) []any {
	t.Helper()
	ctx := axontest.Context(t)
	src := util.DataSource(msgs)
	h := axontest.Start(t, ctx, chassis.Pipeline(src, n))
	var out []any
	for {
		m, err := h.Get(ctx, axon.OutboxName)
		if errors.Is(err, axon.ErrEnded) {
			break
		}
		if err != nil {
			t.Fatalf("seed %d: get: %v", n.Seed(), err)
		}
		out = append(out, m)
	}
	axontest.Wait(t, h)
	sig, err := h.Get(ctx, axon.SignalName)
	if err != nil {
		t.Fatalf("seed %d: no signal: %v", n.Seed(), err)
	}
	if pf, ok := sig.(axon.ProducerFinished); !ok || pf.From != src.Ref() {
		t.Fatalf("seed %d: signal %#v, want the DataSource's ProducerFinished", n.Seed(), sig)
	}
	return out
}

// ints returns 0..n-1.
func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// asInts converts what came out of a stage fed ints.
func asInts(t *testing.T, msgs []any) []int {
	t.Helper()
	out := make([]int, len(msgs))
	for i, m := range msgs {
		v, ok := m.(int)
		if !ok {
			t.Fatalf("message %d is %T, want int", i, m)
		}
		out[i] = v
	}
	return out
}

// isPermutation reports whether got holds 0..n-1 once each.
func isPermutation(got []int, n int) error {
	if len(got) != n {
		return fmt.Errorf("%d messages, want %d", len(got), n)
	}
	seen := make([]bool, n)
	for _, v := range got {
		if v < 0 || v >= n || seen[v] {
			return fmt.Errorf("message %d out of range or repeated", v)
		}
		seen[v] = true
	}
	return nil
}

var _ seeded = (*simulate.Stage)(nil)
var _ seeded = (*simulate.Link)(nil)

// waitFor polls cond until it holds, failing the test if ctx ends first.
// It is for counters that a stage updates on its own goroutine.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// getAll gets n messages from the handle's outbox.
func getAll(t *testing.T, ctx context.Context, h *axon.Handle, n int) []any {
	t.Helper()
	out := make([]any, n)
	for i := range out {
		out[i] = axontest.Get(t, ctx, h, axon.OutboxName)
	}
	return out
}

// epoch is where manual clocks start.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
