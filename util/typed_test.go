package util_test

import (
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// A DataSource of ints cannot be linked to a stage that takes strings: the
// mistake is found when the graph is wired, not when it panics running.
func TestTypedStagesRefuseAMismatch(t *testing.T) {
	ctx := axontest.Context(t)
	err := axon.Run(ctx, chassis.Pipeline(
		util.DataSource([]int{1, 2, 3}),
		util.Map(func(s string) int { return len(s) }),
	))
	if !errors.Is(err, axon.ErrTypeMismatch) {
		t.Fatalf("Run: %v, want ErrTypeMismatch", err)
	}
	err = axon.Run(ctx, chassis.Pipeline(
		util.Map(func(n int) string { return "x" }),
		util.Filter(func(n int) bool { return true }),
	))
	if !errors.Is(err, axon.ErrTypeMismatch) {
		t.Fatalf("Run: %v, want ErrTypeMismatch", err)
	}
}

// Typed stages through an untyped path: a message of the wrong type is
// reported on "errors" and dropped, and the rest go through in order.
func TestMapAndFilterTyped(t *testing.T) {
	ctx := axontest.Context(t)
	p := chassis.Pipeline(
		util.PureTransformer(func(m any) any { return m }), // declares nothing
		util.Filter(func(n int) bool { return n%2 == 1 }),
		util.Map(func(n int) int { return n * 10 }),
	)
	h := axontest.Start(t, ctx, p)
	for _, m := range []any{1, 2, "three", 3, 5} {
		axontest.Put(t, ctx, h, axon.InboxName, m)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	for _, want := range []int{10, 30, 50} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
	axontest.Wait(t, h)
}

// The Filter that reports "three" is found by its errors box, which the
// Pipeline does not pass through: it is read directly.
func TestFilterReportsWrongType(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Filter(func(s string) bool { return true }), axon.Tapping(axon.OutboxName, util.ErrorsBox))
	axontest.Put(t, ctx, h, axon.InboxName, 7)
	axontest.Put(t, ctx, h, axon.InboxName, "kept")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "kept" {
		t.Fatalf("got %v, want kept", got)
	}
	if err, _ := axontest.Get(t, ctx, h, util.ErrorsBox).(error); !errors.Is(err, axon.ErrBadMessage) {
		t.Fatalf("errors: %v, want ErrBadMessage", err)
	}
}
