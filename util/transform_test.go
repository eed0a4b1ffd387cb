package util_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// A long chain keeps order, drops what the transformer and filter say to
// drop, and carries the source's ProducerFinished to the end of the line.
func TestTransformChainOrderAndShutdown(t *testing.T) {
	ctx := axontest.Context(t)
	const n = 2000
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	src := util.DataSource(items)
	p := chassis.Pipeline(
		src,
		util.PureTransformer(func(m any) any {
			if m.(int)%3 == 0 {
				return nil // dropped by design
			}
			return m.(int) * 2
		}),
		util.Filter(func(m any) bool { return m.(int)%4 == 0 }),
		util.ConsoleEchoer(&syncBuffer{}, util.Forward()),
	)
	h := axontest.Start(t, ctx, p)
	for i := range n {
		if i%3 == 0 || (2*i)%4 != 0 {
			continue
		}
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != 2*i {
			t.Fatalf("got %#v, want %d", got, 2*i)
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: src.Ref()})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// A ShutdownMicroprocess put into the head of a pipeline passes through
// every component to the end, and ends them all.
func TestShutdownMicroprocessThroughPipeline(t *testing.T) {
	ctx := axontest.Context(t)
	p := chassis.Pipeline(
		util.PureTransformer(func(m any) any { return m }),
		util.Filter(func(any) bool { return true }),
		util.TriggeredSource(1),
		util.Merge(),
		util.Fanout(axon.OutboxName),
		util.ConsoleEchoer(&syncBuffer{}, util.Forward()),
	)
	h := axontest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "go")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != (util.Merged{Box: axon.InboxName, Msg: 1}) {
		t.Fatalf("got %#v", got)
	}
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, sm)
	axontest.ExpectSignal(t, ctx, h, sm)
	axontest.Wait(t, h)
}

// A panic in the function is the component's failure, reported by name.
func TestPureTransformerPanic(t *testing.T) {
	ctx := axontest.Context(t)
	pt := util.PureTransformer(func(any) any { panic("no") })
	h := axontest.Start(t, ctx, pt)
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	err := h.Wait()
	var ce *axon.ComponentError
	if !errors.Is(err, axon.ErrPanic) || !errors.As(err, &ce) || ce.Component != pt.String() {
		t.Fatalf("Wait: got %v", err)
	}
}

// A ShutdownMicroprocess that arrives while a ProducerFinished is being
// acted on stops the work through the queue: the message in hand is
// finished, the rest are abandoned, and only the ShutdownMicroprocess is
// passed on.
func TestPureTransformerShutdownDuringFinish(t *testing.T) {
	ctx := axontest.Context(t)
	entered, gate := make(chan any, 4), make(chan struct{})
	pt := util.PureTransformer(func(m any) any {
		entered <- m
		<-gate
		return m
	})
	// The sink never runs: its inbox has room for everything, so sends
	// to it never wait, and the test reads what reached it.
	sink := axon.New("Sink", nil)
	if err := axon.Link(pt, axon.OutboxName, sink, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, pt)
	axontest.Put(t, ctx, h, axon.InboxName, 0)
	if got := <-entered; got != 0 {
		t.Fatalf("fn got %#v first, want 0", got)
	}
	for i := 1; i <= 3; i++ {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, sm)
	close(gate)
	axontest.ExpectSignal(t, ctx, h, sm)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
	in := sink.In(axon.InboxName)
	if got := <-in; got != 0 {
		t.Fatalf("sink got %#v, want 0", got)
	}
	if n := len(in); n != 0 {
		t.Fatalf("sink got %d more messages after the ShutdownMicroprocess", n)
	}
}

// CheckedTransformer sends results on "outbox" and errors on "errors", in
// order, and drops nil results; the stream goes on after an error.
func TestCheckedTransformer(t *testing.T) {
	ctx := axontest.Context(t)
	odd := errors.New("odd")
	ct := util.CheckedTransformer(func(m any) (any, error) {
		switch n := m.(int); {
		case n == 0:
			return nil, nil
		case n%2 == 1:
			return nil, fmt.Errorf("%d: %w", n, odd)
		default:
			return n * 10, nil
		}
	})
	axontest.Preload(t, ct, axon.InboxName, 0, 1, 2, 3, 4)
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, ct, axon.ControlName, pf)
	h := axontest.Start(t, ctx, ct)
	// Read in the order they are made: each box is linked by its first
	// Get, while the CheckedTransformer waits on it.
	for _, want := range []any{"1: odd", 20, "3: odd", 40} {
		if s, ok := want.(string); ok {
			got, isErr := axontest.Get(t, ctx, h, util.ErrorsBox).(error)
			if !isErr || got.Error() != s || !errors.Is(got, odd) {
				t.Fatalf("errors: got %v, want %q wrapping %v", got, s, odd)
			}
			continue
		}
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("outbox: got %v, want %v", got, want)
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	axontest.ExpectEnded(t, ctx, h, util.ErrorsBox)
}
