package axon_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// chain links nodes outbox->inbox and signal->control, one after the
// other, as children of a container it returns.
func chain(t *testing.T, nodes ...axon.Node) *axon.Component {
	t.Helper()
	root := axon.New("Chain", nil, axon.WithChildren(nodes...))
	for i := 0; i+1 < len(nodes); i++ {
		if err := axon.Link(nodes[i], "outbox", nodes[i+1], "inbox"); err != nil {
			t.Fatal(err)
		}
		if err := axon.Link(nodes[i], "signal", nodes[i+1], "control"); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// burst sends 0..n-1 inside one Batch, then ProducerFinished.
func burst(n int) *axon.Component {
	msgs := make([]any, n)
	for i := range msgs {
		msgs[i] = i
	}
	return axontest.Burst("Burst", msgs...)
}

func pass(name string, opts ...axon.Option) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := c.Out("outbox")
		return c.Serve(ctx, func(ctx context.Context, m any) error { return out.Send(ctx, m) })
	}, opts...)
}

// collector is a sink with its own select loop over In, as components
// written without Serve have: it must still get one message at a time.
type collector struct {
	comp *axon.Component
	got  []any
	pf   chan int // messages received or queued when ProducerFinished arrived
}

func newCollector() *collector {
	k := &collector{pf: make(chan int, 1)}
	// Room for everything the tests send: errors are reported without
	// waiting, and a full box would make them go to the log instead.
	k.comp = axon.New("Collector", func(ctx context.Context, c *axon.Component) error {
		in, ctl := c.In("inbox"), c.In("control")
		for {
			select {
			case m := <-in:
				k.got = append(k.got, m)
			case m := <-ctl:
				n := len(k.got) + c.Inbox("inbox").Len()
				for {
					select {
					case m := <-in:
						k.got = append(k.got, m)
						continue
					default:
					}
					break
				}
				if axon.IsProducerFinished(m) {
					k.pf <- n
				}
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}, axon.WithInbox("inbox", "everything", axon.Capacity(4096)))
	return k
}

func wantInts(t *testing.T, got []any, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		if m != i {
			t.Fatalf("message %d is %#v (%T), want %d", i, m, m, i)
		}
	}
}

// Messages crossing in batches reach a select loop over In one at a
// time, in order, and ProducerFinished after all of them, however the
// batches fell.
func TestBatchesReachSelectLoopsOneByOne(t *testing.T) {
	for _, n := range []int{1, 2, 7, axon.DefaultCapacity, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := axontest.Context(t)
			k := newCollector()
			if err := axon.Run(ctx, chain(t, burst(n), pass("A"), pass("B"), k.comp)); err != nil {
				t.Fatal(err)
			}
			wantInts(t, k.got, n)
			if at := <-k.pf; at != n {
				t.Fatalf("ProducerFinished was in control when %d of %d messages had arrived or were queued", at, n)
			}
		})
	}
}

// A batched box still counts its capacity in messages: a sender batching
// into a 5-slot box never has more than 5 counted there, and a plain
// TrySend from elsewhere is refused while it is full. The same holds
// for typed batches, sent by a Sender[int] to ServeAs[int].
func TestBatchedBoxCountsMessages(t *testing.T) {
	const n = 40
	for _, typed := range []bool{false, true} {
		t.Run(fmt.Sprint("typed=", typed), func(t *testing.T) {
			ctx := axontest.Context(t)
			gate := make(chan struct{})
			var handled atomic.Int64
			wait := func(ctx context.Context) error {
				if handled.Add(1) == 1 {
					select {
					case <-gate:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			}
			src, main := burst(n), func(ctx context.Context, c *axon.Component) error {
				return c.Serve(ctx, func(ctx context.Context, _ any) error { return wait(ctx) })
			}
			if typed {
				src, main = intBurst(n, 1000), func(ctx context.Context, c *axon.Component) error {
					return axon.ServeAs(ctx, c, func(ctx context.Context, _ int) error { return wait(ctx) })
				}
			}
			slow := axon.New("Slow", main, axon.WithInbox("inbox", "five slots", axon.Capacity(5)))
			other := axon.New("Other", nil)
			if err := axon.Link(other, "outbox", slow, "inbox"); err != nil {
				t.Fatal(err)
			}
			h := axontest.Start(t, ctx, chain(t, src, slow))
			in := slow.Inbox("inbox")
			deadline := time.Now().Add(10 * time.Second)
			for in.Len() < 5 {
				if time.Now().After(deadline) {
					t.Fatalf("box never filled: Len %d", in.Len())
				}
				time.Sleep(time.Millisecond)
			}
			for range 20 {
				if l := in.Len(); l > 5 {
					t.Fatalf("5-slot box counts %d", l)
				}
				time.Sleep(time.Millisecond)
			}
			if err := other.Out("outbox").TrySend(7); !errors.Is(err, axon.ErrBoxFull) {
				t.Fatalf("TrySend into the full box: %v, want ErrBoxFull", err)
			}
			close(gate)
			axontest.Wait(t, h)
			if got := handled.Load(); got != n {
				t.Fatalf("handled %d of %d", got, n)
			}
		})
	}
}

// A box nobody reads yet takes exactly its capacity from a batching
// sender; the next send waits.
func TestUnreadBoxTakesItsCapacity(t *testing.T) {
	ctx := axontest.Context(t)
	dst := axon.New("Dst", nil, axon.WithInbox("inbox", "five", axon.Capacity(5)))
	src := axon.New("Src", nil)
	if err := axon.Link(src, "outbox", dst, "inbox"); err != nil {
		t.Fatal(err)
	}
	out := src.Out("outbox")
	err := src.Batch(ctx, func(ctx context.Context) error {
		for i := range 5 {
			if err := out.Send(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.TrySend(5); !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("sixth TrySend: %v, want ErrBoxFull", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := out.Send(short, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sixth Send: %v, want to wait until its context ended", err)
	}
	var got []any
	for range 5 {
		got = append(got, <-dst.In("inbox"))
	}
	wantInts(t, got, 5)
}

// A lone message is not held back waiting for a batch to fill: it goes
// through an idle chain of Serve stages at once.
func TestLoneMessageIsNotHeld(t *testing.T) {
	ctx := axontest.Context(t)
	stages := make([]axon.Node, 10)
	for i := range stages {
		stages[i] = pass(fmt.Sprint("S", i))
	}
	first, last := stages[0], stages[len(stages)-1]
	root := chain(t, stages...)
	// The container's own boxes lead to the ends of the chain.
	if err := axon.Link(root, "inbox", first, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(last, "outbox", root, "outbox"); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, root)
	for i := range 5 {
		axontest.Put(t, ctx, h, "inbox", i)
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := h.Get(wait, "outbox")
		cancel()
		if err != nil || m != i {
			t.Fatalf("message %d: got %v, %v", i, m, err)
		}
	}
}

// Sends made with a context derived from the one Serve gave the handler
// keep their order with the sends it holds, on the same outbox and on
// others.
func TestDerivedContextKeepsOrder(t *testing.T) {
	ctx := axontest.Context(t)
	type key struct{}
	mixer := axon.New("Mixer", func(ctx context.Context, c *axon.Component) error {
		out, side := c.Out("outbox"), c.Out("side")
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			i := m.(int)
			if err := out.Send(ctx, 3*i); err != nil {
				return err
			}
			derived := context.WithValue(ctx, key{}, i)
			if err := out.Send(derived, 3*i+1); err != nil {
				return err
			}
			return side.Send(derived, 3*i+2)
		})
	}, axon.WithOutbox("side", "the third of each three"))
	k := newCollector()
	if err := axon.Link(mixer, "side", k.comp, "inbox"); err != nil {
		t.Fatal(err)
	}
	const n = 200
	if err := axon.Run(ctx, chain(t, burst(n), mixer, k.comp)); err != nil {
		t.Fatal(err)
	}
	wantInts(t, k.got, 3*n)
}

// ReportFrom puts what the handler sent before the error first.
func TestReportFromKeepsOrder(t *testing.T) {
	ctx := axontest.Context(t)
	checker := axon.New("Checker", func(ctx context.Context, c *axon.Component) error {
		out, rep := c.Out("outbox"), axon.NewReporter(c, "errors")
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			if i := m.(int); i%3 == 2 {
				rep.ReportFrom(ctx, fmt.Errorf("%d", i))
				return nil
			}
			return out.Send(ctx, m)
		})
	}, axon.WithOutbox("errors", "every third message, as an error"))
	k := newCollector()
	if err := axon.Link(checker, "errors", k.comp, "inbox"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	if err := axon.Run(ctx, chain(t, burst(n), checker, k.comp)); err != nil {
		t.Fatal(err)
	}
	if len(k.got) != n {
		t.Fatalf("got %d of %d", len(k.got), n)
	}
	for i, m := range k.got {
		if e, ok := m.(error); ok {
			m = e.Error()
			if m != fmt.Sprint(i) {
				t.Fatalf("message %d is error %v", i, e)
			}
			continue
		}
		if m != i {
			t.Fatalf("message %d is %v", i, m)
		}
	}
}

// A handler that waits for an answer to what it sent calls Flush first;
// without it the request would still be held.
func TestFlushBeforeWaiting(t *testing.T) {
	ctx := axontest.Context(t)
	answers := make(chan any, 1)
	asker := axon.New("Asker", func(ctx context.Context, c *axon.Component) error {
		out := c.Out("outbox")
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			if err := out.Send(ctx, m); err != nil {
				return err
			}
			if err := axon.Flush(ctx); err != nil {
				return err
			}
			select {
			case a := <-answers:
				if a != m {
					return fmt.Errorf("answer %v to %v", a, m)
				}
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	answerer := axon.New("Answerer", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			answers <- m
			return nil
		})
	})
	if err := axon.Run(ctx, chain(t, burst(50), asker, answerer)); err != nil {
		t.Fatal(err)
	}
}

// A component stopped in the middle of a batch leaves the rest of it in
// its box, where TakeAll finds it, ahead of what came after.
func TestStoppedMidBatchLosesNothing(t *testing.T) {
	ctx := axontest.Context(t)
	var seen []any
	stopper := make(chan struct{})
	worker := axon.New("Worker", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			seen = append(seen, m)
			if m == 3 {
				close(stopper)
				<-ctx.Done() // the ShutdownMicroprocess interrupts us
				return ctx.Err()
			}
			return nil
		})
	}, axon.WithInbox("inbox", "ten", axon.Capacity(20)))
	src := burst(10)
	if err := axon.Link(src, "outbox", worker, "inbox"); err != nil {
		t.Fatal(err)
	}
	root := axon.New("Root", nil, axon.WithChildren(src, worker))
	h := axontest.Start(t, ctx, root)
	<-stopper
	boss := axon.New("Boss", nil)
	if err := axon.Link(boss, "outbox", worker, "control"); err != nil {
		t.Fatal(err)
	}
	if err := boss.Send(ctx, "outbox", axon.ShutdownMicroprocess{From: boss.Ref()}); err != nil {
		t.Fatal(err)
	}
	<-worker.Done()
	left := worker.Inbox("inbox").TakeAll()
	all := append(slices.Clone(seen), left...)
	h.Stop()
	_ = h.Wait()
	wantInts(t, all, 10)
}

// With Unbatched, every message crosses alone.
func TestUnbatchedRun(t *testing.T) {
	ctx := axontest.Context(t)
	k := newCollector()
	if err := axon.Run(ctx, chain(t, burst(500), pass("A"), k.comp), axon.Unbatched()); err != nil {
		t.Fatal(err)
	}
	wantInts(t, k.got, 500)
}

// A Reader takes batches whole in a select loop of its own, one receive
// for many messages, in order, and frees their slots as it opens them.
func TestReaderOpensBatches(t *testing.T) {
	ctx := axontest.Context(t)
	var got []any
	var elements int
	reader := axon.New("Reader", func(ctx context.Context, c *axon.Component) error {
		r, ctl := c.Reader("inbox"), c.In("control")
		for {
			select {
			case e := <-r.C():
				elements++
				got = append(got, r.Open(e)...)
			case m := <-ctl:
				for msgs := r.Next(); msgs != nil; msgs = r.Next() {
					got = append(got, msgs...)
				}
				if r.Len() != 0 {
					return fmt.Errorf("box counts %d after the last Next", r.Len())
				}
				return c.PassOn(ctx, m)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	const n = 1000
	if err := axon.Run(ctx, chain(t, burst(n), reader)); err != nil {
		t.Fatal(err)
	}
	wantInts(t, got, n)
	if elements >= n {
		t.Fatalf("%d messages took %d receives: nothing was batched", n, elements)
	}
}

// In an Unbatched graph a Reader reads one message an element, and frees
// each slot as it goes: nothing stalls once the box has been filled.
func TestReaderUnbatched(t *testing.T) {
	ctx := axontest.Context(t)
	var got []any
	reader := axon.New("Reader", func(ctx context.Context, c *axon.Component) error {
		r := c.Reader("inbox")
		for {
			select {
			case e := <-r.C():
				got = append(got, r.Open(e)...)
			case m := <-c.In("control"):
				for msgs := r.Next(); msgs != nil; msgs = r.Next() {
					got = append(got, msgs...)
				}
				return c.PassOn(ctx, m)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	n := 3 * axon.DefaultCapacity
	if err := axon.Run(ctx, chain(t, burst(n), reader), axon.Unbatched()); err != nil {
		t.Fatal(err)
	}
	wantInts(t, got, n)
}

// A box already read raw stays raw for a Reader: one message an element.
func TestReaderOfRawBox(t *testing.T) {
	ctx := axontest.Context(t)
	var got []any
	reader := axon.New("Reader", func(ctx context.Context, c *axon.Component) error {
		_ = c.In("inbox")
		r := c.Reader("inbox")
		for {
			select {
			case e := <-r.C():
				msgs := r.Open(e)
				if len(msgs) != 1 {
					return fmt.Errorf("raw box gave %d messages in one element", len(msgs))
				}
				got = append(got, msgs[0])
			case m := <-c.In("control"):
				for msgs := r.Next(); msgs != nil; msgs = r.Next() {
					got = append(got, msgs...)
				}
				return c.PassOn(ctx, m)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	if err := axon.Run(ctx, chain(t, burst(300), reader)); err != nil {
		t.Fatal(err)
	}
	wantInts(t, got, 300)
}
