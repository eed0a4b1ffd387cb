package util_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/util"
)

func TestFanout(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Fanout("a", "b"))
	for i := range 5 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	for i := range 5 {
		for _, box := range []string{"a", "b"} {
			if got := axontest.Get(t, ctx, h, box); got != i {
				t.Fatalf("%s: got %#v, want %d", box, got, i)
			}
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, "a")
	axontest.ExpectEnded(t, ctx, h, "b")
}

// The slowest destination sets the pace: with "b" taking nothing, Fanout
// holds on to the first message and takes no more, and its inbox fills.
func TestFanoutBackpressure(t *testing.T) {
	ctx := axontest.Context(t)
	fan := util.Fanout("a", "b")
	h := axontest.Start(t, ctx, fan)
	axontest.Put(t, ctx, h, axon.InboxName, 0)
	if got := axontest.Get(t, ctx, h, "a"); got != 0 {
		t.Fatalf("a: got %#v, want 0", got)
	}
	// Fanout is now waiting for "b" to be linked. Fill its inbox.
	n := fan.Inbox(axon.InboxName).Cap()
	for i := 1; i <= n; i++ {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	if err := h.TryPut(axon.InboxName, n+1); !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("TryPut into a Fanout held up by its slowest outbox: got %v, want ErrBoxFull", err)
	}
	for i := 0; i <= n; i++ {
		if got := axontest.Get(t, ctx, h, "b"); got != i {
			t.Fatalf("b: got %#v, want %d", got, i)
		}
		if i < n {
			if got := axontest.Get(t, ctx, h, "a"); got != i+1 {
				t.Fatalf("a: got %#v, want %d", got, i+1)
			}
		}
	}
}

func TestFanoutBadNames(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  error
	}{
		{nil, axon.ErrNoSuchBox},
		{[]string{"a", "a"}, axon.ErrBoxExists},
		{[]string{"signal"}, axon.ErrBoxExists},
		{[]string{"a", "inbox"}, axon.ErrBoxExists},
		{[]string{"control"}, axon.ErrBoxExists},
	} {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			err := axon.Run(axontest.Context(t), util.Fanout(tc.names...))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "Fanout") {
				t.Fatalf("got %v, want an error from Fanout wrapping %v", err, tc.want)
			}
		})
	}
}

// echo is a sink for Splitter tests: a PureTransformer passing messages
// through, run as a graph of its own so the test can read what it gets.
func echo(t *testing.T, ctx context.Context) *axon.Handle {
	t.Helper()
	return axontest.Start(t, ctx, util.PureTransformer(func(m any) any { return m }))
}

// finishSink tells a sink started by echo to finish, and checks that want
// is all it had left to pass on.
func finishSink(t *testing.T, ctx context.Context, h *axon.Handle, want ...any) {
	t.Helper()
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	for _, w := range want {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("sink: got %#v, want %#v", got, w)
		}
	}
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestSplitter(t *testing.T) {
	ctx := axontest.Context(t)
	a, b := echo(t, ctx), echo(t, ctx)
	sp := util.Splitter()
	// Sinks can be added before the Splitter starts.
	if err := sp.AddSink(ctx, a.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := sp.AddSink(ctx, b.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, sp)
	for i := range 10 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	for i := range 10 {
		for name, s := range map[string]*axon.Handle{"a": a, "b": b} {
			if got := axontest.Get(t, ctx, s, axon.OutboxName); got != i {
				t.Fatalf("sink %s: got %#v, want %d", name, got, i)
			}
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	finishSink(t, ctx, a)
	finishSink(t, ctx, b)
}

func TestSplitterAddRemoveWhileRunning(t *testing.T) {
	ctx := axontest.Context(t)
	a, b := echo(t, ctx), echo(t, ctx)
	sp := util.Splitter()
	h := axontest.Start(t, ctx, sp)
	if err := sp.AddSink(ctx, a.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	putRange := func(from, to int) {
		for i := from; i < to; i++ {
			axontest.Put(t, ctx, h, axon.InboxName, i)
		}
	}
	expect := func(s *axon.Handle, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if got := axontest.Get(t, ctx, s, axon.OutboxName); got != i {
				t.Fatalf("got %#v, want %d", got, i)
			}
		}
	}
	putRange(0, 5)
	expect(a, 0, 5) // a is the only sink, so message 4 has been delivered

	if err := sp.AddSink(ctx, b.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := sp.AddSink(ctx, b.Component(), axon.InboxName); !errors.Is(err, axon.ErrAlreadyLinked) {
		t.Fatalf("adding a sink twice: got %v, want ErrAlreadyLinked", err)
	}
	if n, err := sp.Sinks(ctx); err != nil || n != 2 {
		t.Fatalf("Sinks: got %d, %v; want 2", n, err)
	}
	putRange(5, 10)
	expect(a, 5, 10)
	expect(b, 5, 10) // b saw nothing from before it was added

	if err := sp.RemoveSink(ctx, a.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := sp.RemoveSink(ctx, a.Component(), axon.InboxName); !errors.Is(err, axon.ErrNotLinked) {
		t.Fatalf("removing a sink twice: got %v, want ErrNotLinked", err)
	}
	putRange(10, 15)
	expect(b, 10, 15)

	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	finishSink(t, ctx, a) // nothing more reached a after its removal
	finishSink(t, ctx, b)
}

func TestSplitterAddSinkErrors(t *testing.T) {
	ctx := axontest.Context(t)
	sp := util.Splitter()
	other := util.Filter(func(any) bool { return true })
	if err := sp.AddSink(ctx, other, "nosuchbox"); !errors.Is(err, axon.ErrNoSuchBox) {
		t.Fatalf("AddSink to a missing inbox: got %v, want ErrNoSuchBox", err)
	}
	if err := sp.AddSink(ctx, nil, axon.InboxName); !errors.Is(err, axon.ErrBadLink) {
		t.Fatalf("AddSink(nil): got %v, want ErrBadLink", err)
	}
	// The failed attempts left no outbox behind.
	if got := len(sp.Outboxes()); got != 2 {
		t.Fatalf("Splitter has %d outboxes after failed AddSinks, want 2", got)
	}
	if err := sp.RemoveSink(ctx, other, axon.InboxName); !errors.Is(err, axon.ErrNotLinked) {
		t.Fatalf("RemoveSink of a stranger: got %v, want ErrNotLinked", err)
	}
}

// A slow sink slows the Splitter (and so its sender) down, and nothing is
// lost on the way.
func TestSplitterBackpressure(t *testing.T) {
	ctx := axontest.Context(t)
	var fastOut syncBuffer
	fast := axontest.Start(t, ctx, util.ConsoleEchoer(&fastOut, util.WithNewline()))
	slow := echo(t, ctx) // nobody reads its outbox until later
	sp := util.Splitter()
	for _, s := range []*axon.Handle{fast, slow} {
		if err := sp.AddSink(ctx, s.Component(), axon.InboxName); err != nil {
			t.Fatal(err)
		}
	}
	h := axontest.Start(t, ctx, sp)
	// The slow sink holds one message and queues a full inbox more; the
	// Splitter then waits with the next, and its own inbox fills.
	held := 1 + slow.Component().Inbox(axon.InboxName).Cap() + 1 + sp.Inbox(axon.InboxName).Cap()
	for i := range held {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	if err := h.TryPut(axon.InboxName, held); !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("TryPut with the slow sink stalled: got %v, want ErrBoxFull", err)
	}
	total := held + 50
	done := make(chan error, 1)
	go func() {
		for i := held; i < total; i++ {
			if err := h.Put(ctx, axon.InboxName, i); err != nil {
				done <- err
				return
			}
		}
		done <- h.Put(ctx, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	}()
	for i := range total {
		if got := axontest.Get(t, ctx, slow, axon.OutboxName); got != i {
			t.Fatalf("slow sink: got %#v, want %d", got, i)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	axontest.Wait(t, h)
	finishSink(t, ctx, slow)
	axontest.Put(t, ctx, fast, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, fast)
	var want strings.Builder
	for i := range total {
		fmt.Fprintln(&want, i)
	}
	if got := fastOut.String(); got != want.String() {
		t.Fatalf("fast sink wrote %q, want 0..%d one per line", got, total-1)
	}
}

// RemoveSink waits for the delivery under way, so the sink being removed
// still gets the message in flight, and nothing after it.
func TestSplitterRemoveDuringDelivery(t *testing.T) {
	ctx := axontest.Context(t)
	first, second := echo(t, ctx), echo(t, ctx)
	sp := util.Splitter()
	for _, s := range []*axon.Handle{first, second} {
		if err := sp.AddSink(ctx, s.Component(), axon.InboxName); err != nil {
			t.Fatal(err)
		}
	}
	h := axontest.Start(t, ctx, sp)
	// Each sink holds n messages without being read.
	n := 1 + first.Component().Inbox(axon.InboxName).Cap()
	for i := 0; i <= n; i++ {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	// Message n reaches first once first is read, then goes to second,
	// which is full: the Splitter is stuck delivering it.
	for i := 0; i <= n; i++ {
		if got := axontest.Get(t, ctx, first, axon.OutboxName); got != i {
			t.Fatalf("first: got %#v, want %d", got, i)
		}
	}
	expired, cancel := context.WithCancel(ctx)
	cancel()
	if err := sp.RemoveSink(expired, second.Component(), axon.InboxName); !errors.Is(err, context.Canceled) {
		t.Fatalf("RemoveSink in mid-delivery with an ended context: got %v, want context.Canceled", err)
	}
	removed := make(chan error, 1)
	go func() { removed <- sp.RemoveSink(ctx, second.Component(), axon.InboxName) }()
	for i := 0; i <= n; i++ {
		if got := axontest.Get(t, ctx, second, axon.OutboxName); got != i {
			t.Fatalf("second: got %#v, want %d", got, i)
		}
	}
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	axontest.Put(t, ctx, h, axon.InboxName, "later")
	if got := axontest.Get(t, ctx, first, axon.OutboxName); got != "later" {
		t.Fatalf("first: got %#v, want later", got)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	finishSink(t, ctx, second) // "later" did not reach the removed sink
	finishSink(t, ctx, first)
}

// A ShutdownMicroprocess ends a Splitter stuck delivering to a full sink.
func TestSplitterShutdownInMidDelivery(t *testing.T) {
	ctx := axontest.Context(t)
	s := echo(t, ctx)
	sp := util.Splitter()
	if err := sp.AddSink(ctx, s.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, sp)
	n := 1 + s.Component().Inbox(axon.InboxName).Cap() + 1 // the last one is stuck
	for i := range n {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, sm)
	axontest.ExpectSignal(t, ctx, h, sm)
	axontest.Wait(t, h)
	// Sinks can still be changed after the end.
	if err := sp.RemoveSink(ctx, s.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
}

// A sink whose component has ended is dropped the first time the Splitter
// tries to deliver to it; nothing vanishes into it, and the others carry
// on.
func TestSplitterDropsEndedSink(t *testing.T) {
	ctx := axontest.Context(t)
	live, dead := echo(t, ctx), echo(t, ctx)
	sp := util.Splitter()
	for _, s := range []*axon.Handle{dead, live} {
		if err := sp.AddSink(ctx, s.Component(), axon.InboxName); err != nil {
			t.Fatal(err)
		}
	}
	dead.Stop()
	axontest.Wait(t, dead)
	h := axontest.Start(t, ctx, sp)
	axontest.Put(t, ctx, h, axon.InboxName, 0)
	if got := axontest.Get(t, ctx, live, axon.OutboxName); got != 0 {
		t.Fatalf("live sink: got %#v, want 0", got)
	}
	// The dead sink comes first, so it was dropped before message 0
	// reached the live one.
	if n, err := sp.Sinks(ctx); err != nil || n != 1 {
		t.Fatalf("Sinks: got %d, %v; want 1", n, err)
	}
	if n := dead.Component().Inbox(axon.InboxName).Len(); n != 0 {
		t.Fatalf("%d messages queued in the ended sink's inbox", n)
	}
	// Its outbox went with it: "outbox", "signal" and the live sink's
	// are left.
	if n := len(sp.Outboxes()); n != 3 {
		t.Fatalf("Splitter has %d outboxes, want 3", n)
	}
	const total = 40
	go func() {
		for i := 1; i < total; i++ {
			if h.Put(ctx, axon.InboxName, i) != nil {
				return
			}
		}
	}()
	for i := 1; i < total; i++ {
		if got := axontest.Get(t, ctx, live, axon.OutboxName); got != i {
			t.Fatalf("live sink: got %#v, want %d", got, i)
		}
	}
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h) // a dropped sink is no failure
	finishSink(t, ctx, live)
}

// A sink that ends while the Splitter waits for room in it is dropped
// then, and the message goes on to the other sinks.
func TestSplitterDropsSinkEndingMidDelivery(t *testing.T) {
	ctx := axontest.Context(t)
	stuck, live := echo(t, ctx), echo(t, ctx) // nobody reads stuck's outbox
	sp := util.Splitter()
	for _, s := range []*axon.Handle{stuck, live} {
		if err := sp.AddSink(ctx, s.Component(), axon.InboxName); err != nil {
			t.Fatal(err)
		}
	}
	h := axontest.Start(t, ctx, sp)
	// stuck holds one message and queues a full inbox more; the next
	// message is held up on its way to stuck, before it reaches live.
	n := 1 + stuck.Component().Inbox(axon.InboxName).Cap()
	for i := 0; i <= n; i++ {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	for i := range n {
		if got := axontest.Get(t, ctx, live, axon.OutboxName); got != i {
			t.Fatalf("live sink: got %#v, want %d", got, i)
		}
	}
	stuck.Stop()
	axontest.Wait(t, stuck)
	if got := axontest.Get(t, ctx, live, axon.OutboxName); got != n {
		t.Fatalf("live sink: got %#v, want %d", got, n)
	}
	if k, err := sp.Sinks(ctx); err != nil || k != 1 {
		t.Fatalf("Sinks: got %d, %v; want 1", k, err)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	finishSink(t, ctx, live)
}
