package util_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/util"
)

// worker describes a component that turns messages arriving on one of its
// inboxes into messages on one outbox, for the shutdown tests that every
// such component must pass.
type worker struct {
	name string
	make func() axon.Node
	feed func(t *testing.T, ctx context.Context, h *axon.Handle, i int) // deliver input number i
	want func(i int) any                                                // the output for input i
}

func workers() []worker {
	putInbox := func(t *testing.T, ctx context.Context, h *axon.Handle, i int) {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	same := func(i int) any { return i }
	return []worker{
		{"PureTransformer", func() axon.Node { return util.PureTransformer(func(m any) any { return m.(int) * 10 }) },
			putInbox, func(i int) any { return i * 10 }},
		{"CheckedTransformer", func() axon.Node {
			return util.CheckedTransformer(func(m any) (any, error) { return m.(int) * 10, nil })
		}, putInbox, func(i int) any { return i * 10 }},
		{"Filter", func() axon.Node { return util.Filter(func(any) bool { return true }) }, putInbox, same},
		{"TriggeredSource", func() axon.Node { return util.TriggeredSource("tick") }, putInbox, func(int) any { return "tick" }},
		{"ConsoleEchoer", func() axon.Node { return util.ConsoleEchoer(io.Discard, util.Forward()) }, putInbox, same},
		{"Linger", func() axon.Node { return util.Linger(0) }, putInbox, same},
		{"Take", func() axon.Node { return util.Take(1000) }, putInbox, same},
		{"Fanout", func() axon.Node { return util.Fanout(axon.OutboxName) }, putInbox, same},
		{"Merge", func() axon.Node { return util.Merge("extra") },
			func(t *testing.T, ctx context.Context, h *axon.Handle, i int) { axontest.Put(t, ctx, h, "extra", i) },
			func(i int) any { return util.Merged{Box: "extra", Msg: i} }},
		{"Comparator", func() axon.Node { return util.Comparator() },
			func(t *testing.T, ctx context.Context, h *axon.Handle, i int) {
				axontest.Put(t, ctx, h, "inA", i)
				axontest.Put(t, ctx, h, "inB", i)
			},
			func(int) any { return true }},
	}
}

// eachWorker runs test as a subtest for every worker, with the worker
// just started.
func eachWorker(t *testing.T, test func(t *testing.T, ctx context.Context, w worker, h *axon.Handle)) {
	for _, w := range workers() {
		t.Run(w.name, func(t *testing.T) {
			ctx := axontest.Context(t)
			test(t, ctx, w, axontest.Start(t, ctx, w.make()))
		})
	}
}

// A ProducerFinished makes each worker finish what is queued, then pass
// the very same message on and end.
func TestWorkersProducerFinishedDrains(t *testing.T) {
	eachWorker(t, func(t *testing.T, ctx context.Context, w worker, h *axon.Handle) {
		const n = 5
		// The outbox is not linked until the first Get, so the worker
		// is stuck on the first output while the rest, and the notice,
		// queue up behind it.
		for i := range n {
			w.feed(t, ctx, h, i)
		}
		pf := axon.ProducerFinished{From: axontest.Tester}
		axontest.Put(t, ctx, h, axon.ControlName, pf)
		for i := range n {
			if got := axontest.Get(t, ctx, h, axon.OutboxName); !reflect.DeepEqual(got, w.want(i)) {
				t.Fatalf("output %d: got %#v, want %#v", i, got, w.want(i))
			}
		}
		axontest.ExpectSignal(t, ctx, h, pf)
		axontest.Wait(t, h)
		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	})
}

// A ShutdownMicroprocess ends each worker at once, even while it is stuck
// sending to an outbox that leads nowhere, and is passed on.
func TestWorkersShutdownMicroprocessWhileBlocked(t *testing.T) {
	eachWorker(t, func(t *testing.T, ctx context.Context, w worker, h *axon.Handle) {
		for i := range 3 {
			w.feed(t, ctx, h, i)
		}
		axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
		// Nothing was sent: the outbox was never linked, and the
		// queued input was abandoned, not worked through.
		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	})
}

// A ShutdownMicroprocess also ends an idle worker, and a pointer to either
// shutdown message counts as the message.
func TestWorkersShutdownIdleAndPointers(t *testing.T) {
	for _, w := range workers() {
		for _, msg := range []any{
			axon.ShutdownMicroprocess{From: axontest.Tester},
			&axon.ShutdownMicroprocess{From: axontest.Tester},
			&axon.ProducerFinished{From: axontest.Tester},
		} {
			t.Run(fmt.Sprintf("%s/%T", w.name, msg), func(t *testing.T) {
				ctx := axontest.Context(t)
				h := axontest.Start(t, ctx, w.make())
				axontest.StopWith(t, ctx, h, msg)
			})
		}
	}
}

// A ShutdownMicroprocess arriving after a ProducerFinished, while the
// worker is still working through its queue, cuts that short: the
// ShutdownMicroprocess alone is passed on, once.
func TestWorkersShutdownDuringFinish(t *testing.T) {
	eachWorker(t, func(t *testing.T, ctx context.Context, w worker, h *axon.Handle) {
		for i := range 3 {
			w.feed(t, ctx, h, i)
		}
		// The worker is stuck on its first output (the outbox is not
		// linked) when, or before, the notices arrive.
		axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
		axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	})
}

// A worker whose outbox leads to a component that has ended fails with
// ErrReceiverDone, and the output does not vanish into the ended inbox.
func TestWorkersReceiverEnded(t *testing.T) {
	for _, w := range workers() {
		t.Run(w.name, func(t *testing.T) {
			ctx := axontest.Context(t)
			n := w.make()
			dead := axontest.LinkToEnded(t, n, axon.OutboxName)
			h := axontest.Start(t, ctx, n)
			w.feed(t, ctx, h, 1)
			err := h.Wait()
			var ce *axon.ComponentError
			if !errors.Is(err, axon.ErrReceiverDone) || !errors.As(err, &ce) || ce.Component != n.Core().String() {
				t.Fatalf("Wait: got %v, want %s failing with ErrReceiverDone", err, n.Core())
			}
			if got := dead.Inbox(axon.InboxName).Len(); got != 0 {
				t.Fatalf("%d messages queued in an ended component's inbox", got)
			}
		})
	}
}

// Each component runs on one goroutine (ConsoleReader on two: it reads
// on a second), so that an idle component costs little. Each is counted
// once it has handled a message, so its main loop is well under way.
func TestGoroutinesPerComponent(t *testing.T) {
	const n = 50
	count := func(t *testing.T, per int, startOne func(ctx context.Context)) {
		t.Helper()
		ctx := axontest.Context(t)
		before := runtime.NumGoroutine()
		for range n {
			startOne(ctx)
		}
		if got := runtime.NumGoroutine() - before; got > n*per {
			t.Fatalf("%d components run %d goroutines, want %d", n, got, n*per)
		}
	}
	for _, w := range workers() {
		t.Run(w.name, func(t *testing.T) {
			count(t, 1, func(ctx context.Context) {
				h := axontest.Start(t, ctx, w.make())
				w.feed(t, ctx, h, 1)
				if got := axontest.Get(t, ctx, h, axon.OutboxName); !reflect.DeepEqual(got, w.want(1)) {
					t.Fatalf("got %#v, want %#v", got, w.want(1))
				}
			})
		})
	}
	t.Run("DataSource", func(t *testing.T) {
		count(t, 1, func(ctx context.Context) {
			h := axontest.Start(t, ctx, util.DataSource(make([]int, 100))) // soon stuck sending
			axontest.Get(t, ctx, h, axon.OutboxName)
		})
	})
	t.Run("Splitter", func(t *testing.T) {
		count(t, 1, func(ctx context.Context) {
			sp := util.Splitter()
			sink := axon.New("Sink", nil) // never started; read directly
			if err := sp.AddSink(ctx, sink, axon.InboxName); err != nil {
				t.Fatal(err)
			}
			h := axontest.Start(t, ctx, sp)
			axontest.Put(t, ctx, h, axon.InboxName, 1)
			select {
			case <-sink.In(axon.InboxName):
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			}
		})
	})
	t.Run("ConsoleReader", func(t *testing.T) {
		count(t, 2, func(ctx context.Context) {
			pr, pw := io.Pipe()
			t.Cleanup(func() { _ = pw.Close() })
			h := axontest.Start(t, ctx, util.ConsoleReader(pr))
			// The reading goroutine takes this, so the write returns.
			if _, err := pw.Write([]byte("x\n")); err != nil {
				t.Fatal(err)
			}
			if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "x" {
				t.Fatalf("got %#v, want x", got)
			}
		})
	})
}

// Cancelling the context ends each worker, even while blocked, without a
// shutdown notice and without an error.
func TestWorkersContextCancelled(t *testing.T) {
	eachWorker(t, func(t *testing.T, ctx context.Context, w worker, h *axon.Handle) {
		w.feed(t, ctx, h, 0)
		h.Stop()
		axontest.Wait(t, h)
		axontest.ExpectEnded(t, ctx, h, axon.SignalName)
	})
}

// A control message that is not a shutdown message is ignored: the worker
// keeps working.
func TestWorkersIgnoreOtherControl(t *testing.T) {
	eachWorker(t, func(t *testing.T, ctx context.Context, w worker, h *axon.Handle) {
		axontest.Put(t, ctx, h, axon.ControlName, "hello?")
		w.feed(t, ctx, h, 1)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); !reflect.DeepEqual(got, w.want(1)) {
			t.Fatalf("got %#v, want %#v", got, w.want(1))
		}
		axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
		axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
		axontest.Wait(t, h)
	})
}
