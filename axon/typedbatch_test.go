package axon_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// intBurst sends base, base+1, ... base+n-1 with a Sender[int] inside one
// Batch, so that they cross as typed batches, then ProducerFinished.
func intBurst(n, base int) *axon.Component {
	ints := make([]int, n)
	for i := range ints {
		ints[i] = base + i
	}
	return axontest.Burst("IntBurst", ints...)
}

// intPass hands on every int with ServeAs and a Sender[int].
func intPass(name string, opts ...axon.Option) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := axon.SenderOf[int](c, axon.OutboxName)
		return axon.ServeAs(ctx, c, func(ctx context.Context, v int) error { return out.Send(ctx, v) })
	}, append([]axon.Option{
		axon.WithInbox(axon.InboxName, "numbers", axon.Carries[int]()),
		axon.WithOutbox(axon.OutboxName, "the same numbers", axon.Carries[int]()),
	}, opts...)...)
}

// intSink collects what ServeAs[int] hands it.
type intSink struct {
	comp *axon.Component
	got  []int
}

func newIntSink(opts ...axon.Option) *intSink {
	k := &intSink{}
	k.comp = axon.New("IntSink", func(ctx context.Context, c *axon.Component) error {
		return axon.ServeAs(ctx, c, func(_ context.Context, v int) error {
			k.got = append(k.got, v)
			return nil
		})
	}, append([]axon.Option{axon.WithInbox(axon.InboxName, "numbers", axon.Carries[int]())}, opts...)...)
	return k
}

// wantRun fails unless got is base, base+1, ... base+n-1.
func wantRun[T ~int](t *testing.T, got []T, n, base int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d messages, want %d", len(got), n)
	}
	for i, v := range got {
		if int(v) != base+i {
			t.Fatalf("message %d is %d, want %d", i, v, base+i)
		}
	}
}

// Ints sent with a Sender[int] reach ServeAs[int] handlers through a
// chain, every one, in order, however the batches fell.
func TestTypedBatchesCrossInOrder(t *testing.T) {
	for _, n := range []int{1, 2, 31, 33, axon.DefaultCapacity, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := axontest.Context(t)
			k := newIntSink()
			if err := axon.Run(ctx, chain(t, intBurst(n, 1000), intPass("A"), intPass("B"), k.comp)); err != nil {
				t.Fatal(err)
			}
			wantRun(t, k.got, n, 1000)
		})
	}
}

// Typed batches reach readers that do not serve their type as one
// message at a time, in order: an untyped Serve, a Reader, and a select
// loop over In behind them. ProducerFinished comes after the data.
func TestTypedBatchesReachUntypedReaders(t *testing.T) {
	const n = 500
	ctx := axontest.Context(t)
	var fromReader []any
	reader := axon.New("ReaderLoop", func(ctx context.Context, c *axon.Component) error {
		r := c.Reader(axon.InboxName)
		ctl := c.In(axon.ControlName)
		out := c.Out(axon.OutboxName)
		for {
			select {
			case e := <-r.C():
				for _, m := range r.Open(e) {
					fromReader = append(fromReader, m)
					if err := out.Send(ctx, m); err != nil {
						return err
					}
				}
			case m := <-ctl:
				for msgs := r.Next(); msgs != nil; msgs = r.Next() {
					for _, m := range msgs {
						fromReader = append(fromReader, m)
						if err := out.Send(ctx, m); err != nil {
							return err
						}
					}
				}
				return c.PassOn(ctx, m)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	k := newCollector()
	if err := axon.Run(ctx, chain(t, intBurst(n, 0), pass("Untyped"), intPass("Typed"), reader, k.comp)); err != nil {
		t.Fatal(err)
	}
	wantInts(t, fromReader, n)
	wantInts(t, k.got, n)
	if at := <-k.pf; at != n {
		t.Fatalf("ProducerFinished was in control when %d of %d messages had arrived or were queued", at, n)
	}
}

// A ServeAs component stopped in the middle of a typed batch leaves the
// rest in its box, where TakeAll finds it ahead of what came after; and
// one whose handler fails leaves the rest likewise.
func TestTypedBatchStoppedMidwayLosesNothing(t *testing.T) {
	for _, how := range []string{"stopped", "failed"} {
		t.Run(how, func(t *testing.T) {
			ctx := axontest.Context(t)
			var seen []int
			stopper := make(chan struct{})
			errFail := errors.New("fails on 3")
			src := intBurst(10, 0)
			worker := axon.New("Worker", func(ctx context.Context, c *axon.Component) error {
				return axon.ServeAs(ctx, c, func(ctx context.Context, v int) error {
					seen = append(seen, v)
					if v == 3 {
						// All ten are in the box once the source has ended
						// (it holds what it has not put in yet, and would
						// fail with it if the worker ended first).
						<-src.Done()
						if how == "failed" {
							return errFail
						}
						close(stopper)
						<-ctx.Done() // the ShutdownMicroprocess interrupts us
						return ctx.Err()
					}
					return nil
				})
			}, axon.WithInbox(axon.InboxName, "ten", axon.Capacity(20), axon.Carries[int]()))
			if err := axon.Link(src, axon.OutboxName, worker, axon.InboxName); err != nil {
				t.Fatal(err)
			}
			root := axon.New("Root", nil, axon.WithChildren(src, worker))
			h := axontest.Start(t, ctx, root)
			if how == "stopped" {
				<-stopper
				boss := axon.New("Boss", nil)
				if err := axon.Link(boss, axon.OutboxName, worker, axon.ControlName); err != nil {
					t.Fatal(err)
				}
				if err := boss.Send(ctx, axon.OutboxName, axon.ShutdownMicroprocess{From: boss.Ref()}); err != nil {
					t.Fatal(err)
				}
			}
			<-worker.Done()
			left := worker.Inbox(axon.InboxName).TakeAll()
			all := slices.Clone(seen)
			for _, m := range left {
				v, ok := m.(int)
				if !ok {
					t.Fatalf("left in the box: %#v (%T)", m, m)
				}
				all = append(all, v)
			}
			h.Stop()
			err := h.Wait()
			if how == "failed" && !errors.Is(err, errFail) {
				t.Fatalf("graph ended with %v, want the handler's error", err)
			}
			wantRun(t, all, 10, 0)
		})
	}
}

// Typed and untyped sends on one outbox, and typed sends of two types,
// keep their order.
func TestTypedAndUntypedSendsKeepOrder(t *testing.T) {
	type label string
	const n = 300
	ctx := axontest.Context(t)
	mixed := axon.New("Mixed", func(ctx context.Context, c *axon.Component) error {
		ints := axon.SenderOf[int](c, axon.OutboxName)
		labels := axon.SenderOf[label](c, axon.OutboxName)
		out := c.Out(axon.OutboxName)
		err := c.Batch(ctx, func(ctx context.Context) error {
			for i := range n {
				var err error
				switch i % 5 {
				case 0, 1:
					err = ints.Send(ctx, i)
				case 2:
					err = out.Send(ctx, i)
				case 3:
					err = labels.Send(ctx, label(fmt.Sprint(i)))
				default:
					err = ints.Send(ctx, i)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.Finish(ctx)
	})
	k := newCollector()
	if err := axon.Run(ctx, chain(t, mixed, k.comp)); err != nil {
		t.Fatal(err)
	}
	if len(k.got) != n {
		t.Fatalf("got %d messages, want %d", len(k.got), n)
	}
	for i, m := range k.got {
		var want any = i
		if i%5 == 3 {
			want = label(fmt.Sprint(i))
		}
		if m != want {
			t.Fatalf("message %d is %#v (%T), want %#v", i, m, m, want)
		}
	}
}

// A typed batch of another type reaching ServeAs through an untyped path
// is reported message by message on "errors", and the component goes on.
func TestTypedBatchOfAnotherType(t *testing.T) {
	type celsius int
	const n = 10
	ctx := axontest.Context(t)
	temps := make([]celsius, n)
	for i := range temps {
		temps[i] = celsius(i)
	}
	src := axontest.Burst("Celsius", temps...)
	k := newIntSink(axon.WithOutbox(axon.ErrorsName, "refused", axon.Carries[error]()))
	errs := newCollector()
	// The untyped hop between: Link would refuse celsius -> int.
	root := chain(t, src, pass("Untyped"), k.comp)
	if err := axon.Link(k.comp, axon.ErrorsName, errs.comp, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := root.AddChild(errs.comp); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, root)
	deadline := time.Now().Add(10 * time.Second)
	reported := k.comp.Out(axon.ErrorsName)
	for reported.Sent() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d refusals reported", reported.Sent(), n)
		}
		time.Sleep(time.Millisecond)
	}
	h.Stop()
	_ = h.Wait()
	if len(k.got) != 0 {
		t.Fatalf("handler got %v", k.got)
	}
	got := append(errs.got, errs.comp.Inbox(axon.InboxName).TakeAll()...)
	if len(got) != n {
		t.Fatalf("%d refusals reported, want %d", len(got), n)
	}
	for _, m := range got {
		err, _ := m.(error)
		var be *axon.BoxError
		if !errors.As(err, &be) || !errors.Is(err, axon.ErrBadMessage) || be.Box != axon.InboxName {
			t.Fatalf("reported %v, want a *BoxError for inbox wrapping ErrBadMessage", m)
		}
	}
}

// RemoveInbox returns typed batches queued in the box as their messages,
// in order.
func TestRemoveInboxReturnsTypedBatches(t *testing.T) {
	ctx := axontest.Context(t)
	opened := make(chan struct{})
	holder := axon.New("Holder", func(ctx context.Context, c *axon.Component) error {
		c.Reader("data") // read in batches, and then not at all
		close(opened)
		<-ctx.Done()
		return ctx.Err()
	}, axon.WithInbox("data", "numbers nobody takes", axon.Capacity(100)))
	src := intBurst(50, 1000)
	if err := axon.Link(src, axon.OutboxName, holder, "data"); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, axon.New("Root", nil, axon.WithChildren(holder)))
	<-opened
	h2 := axontest.Start(t, ctx, src)
	axontest.Wait(t, h2)
	left, err := holder.RemoveInbox("data")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int, 0, len(left))
	for _, m := range left {
		v, ok := m.(int)
		if !ok {
			t.Fatalf("left in the box: %#v (%T)", m, m)
		}
		got = append(got, v)
	}
	wantRun(t, got, 50, 1000)
	h.Stop()
	_ = h.Wait()
}

// The backlog ServeAs finds when ProducerFinished arrives is handed over
// whole, in order, before ProducerFinished is passed on.
func TestTypedBacklogDrainedInOrder(t *testing.T) {
	const n = 150
	ctx := axontest.Context(t)
	gate := make(chan struct{})
	var got []int
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return axon.ServeAs(ctx, c, func(ctx context.Context, v int) error {
			if len(got) == 0 {
				<-gate
			}
			got = append(got, v)
			return nil
		})
	}, axon.WithInbox(axon.InboxName, "numbers", axon.Carries[int](), axon.Capacity(2*n)))
	src := intBurst(n, 1000)
	h := axontest.Start(t, ctx, chain(t, src, sink))
	var open sync.Once
	openGate := func() { open.Do(func() { close(gate) }) }
	t.Cleanup(openGate) // runs before Start's cleanup waits for the sink
	// The source ends once ProducerFinished is in the sink's control. The
	// sink may already have taken it (its select is free to pick control
	// first); either way it is blocked on its first message, so all n are
	// the backlog it finds.
	select {
	case <-src.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the source never finished")
	}
	openGate()
	axontest.Wait(t, h)
	wantRun(t, got, n, 1000)
}
