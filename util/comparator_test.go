package util_test

import (
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/util"
)

func TestComparator(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Comparator())
	as := []any{1, "x", []int{1, 2}, map[string]int{"k": 1}, nil, 2}
	bs := []any{1, "y", []int{1, 2}, map[string]int{"k": 2}, nil, int64(2)}
	want := []bool{true, false, true, false, true, false}
	// All of one side first: each value waits for its partner.
	go func() {
		for _, a := range as {
			if h.Put(ctx, "inA", a) != nil {
				return
			}
		}
	}()
	for i, b := range bs {
		axontest.Put(t, ctx, h, "inB", b)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want[i] {
			t.Fatalf("pair %d (%v, %v): got %v, want %v", i, as[i], b, got, want[i])
		}
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}

// A side that runs ahead is held back: Comparator takes one value from it
// and waits for the partner, and the side's inbox fills.
func TestComparatorBackpressure(t *testing.T) {
	ctx := axontest.Context(t)
	cmp := util.Comparator()
	h := axontest.Start(t, ctx, cmp)
	n := 1 + cmp.Inbox("inA").Cap()
	for i := range n {
		axontest.Put(t, ctx, h, "inA", i)
	}
	if err := h.TryPut("inA", n); !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("TryPut with no partners: got %v, want ErrBoxFull", err)
	}
	go func() {
		for i := range n {
			if h.Put(ctx, "inB", i) != nil {
				return
			}
		}
	}()
	for range n {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != true {
			t.Fatalf("got %v, want true", got)
		}
	}
}

// On ProducerFinished, pairs already queued are compared; an unpaired
// value is left (and logged).
func TestComparatorProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Comparator())
	axontest.Put(t, ctx, h, "inA", 1)
	axontest.Put(t, ctx, h, "inA", 2)
	axontest.Put(t, ctx, h, "inA", 3)
	axontest.Put(t, ctx, h, "inB", 1)
	axontest.Put(t, ctx, h, "inB", 5)
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	for _, w := range []bool{true, false} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %v, want %v", got, w)
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}
