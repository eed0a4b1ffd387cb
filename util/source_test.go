package util_test

import (
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

func TestDataSource(t *testing.T) {
	ctx := axontest.Context(t)
	items := []int{3, 1, 4, 1, 5}
	ds := util.DataSource(items)
	items[0] = 99 // the DataSource took a copy
	h := axontest.Start(t, ctx, ds)
	for _, w := range []int{3, 1, 4, 1, 5} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %#v, want %d", got, w)
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: ds.Ref()})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestDataSourceEmpty(t *testing.T) {
	ctx := axontest.Context(t)
	ds := util.DataSource[string](nil)
	h := axontest.Start(t, ctx, ds)
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: ds.Ref()})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// A ProducerFinished received on control does not cut the items short;
// it is the notice passed on at the end, instead of the DataSource's own.
func TestDataSourceProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.DataSource([]string{"a", "b", "c"}))
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	for _, w := range []string{"a", "b", "c"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %#v, want %q", got, w)
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
}

func TestDataSourceShutdownWhileSending(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.DataSource([]int{1, 2, 3}))
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// A ShutdownMicroprocess that reached control before the DataSource
// started is acted on before any item is sent.
func TestDataSourceShutdownBeforeStart(t *testing.T) {
	ctx := axontest.Context(t)
	ds := util.DataSource([]int{1, 2, 3})
	sink := axon.New("Sink", nil)
	if err := axon.Link(ds, axon.OutboxName, sink, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	axontest.Preload(t, ds, axon.ControlName, sm)
	h := axontest.Start(t, ctx, ds)
	axontest.ExpectSignal(t, ctx, h, sm)
	axontest.Wait(t, h)
	if n := sink.Inbox(axon.InboxName).Len(); n != 0 {
		t.Fatalf("%d items sent after a ShutdownMicroprocess", n)
	}
}

func TestDataSourceContextCancelled(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.DataSource([]int{1, 2, 3}))
	h.Stop()
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

// A DataSource whose receiver has ended cannot deliver, and fails saying
// so, even though the receiver's inbox has room: nothing vanishes into it.
func TestDataSourceReceiverEnded(t *testing.T) {
	ctx := axontest.Context(t)
	ds := util.DataSource([]int{1, 2, 3})
	dead := axontest.LinkToEnded(t, ds, axon.OutboxName)
	h := axontest.Start(t, ctx, ds)
	err := h.Wait()
	var ce *axon.ComponentError
	if !errors.Is(err, axon.ErrReceiverDone) || !errors.As(err, &ce) || ce.Component != ds.String() {
		t.Fatalf("Wait: got %v, want %s failing with ErrReceiverDone", err, ds)
	}
	if n := ds.Out(axon.OutboxName).Sent(); n != 0 {
		t.Fatalf("%d items counted as delivered to an ended component", n)
	}
	if n := dead.Inbox(axon.InboxName).Len(); n != 0 {
		t.Fatalf("%d items queued in an ended component's inbox", n)
	}
	// A failure is not a shutdown: nothing is passed on.
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

// The receiver ending while the DataSource waits for room in it is the
// same failure.
func TestDataSourceReceiverEndsWhileSending(t *testing.T) {
	ctx := axontest.Context(t)
	ds := util.DataSource(make([]int, 100))
	// Nobody reads the pipeline's outbox, so the transformer takes one
	// item, fills its inbox and stops taking: the DataSource is stuck.
	sink := util.PureTransformer(func(m any) any { return m })
	h := axontest.Start(t, ctx, chassis.Pipeline(ds, sink))
	sink.Stop()
	err := h.Wait()
	var ce *axon.ComponentError
	if !errors.Is(err, axon.ErrReceiverDone) || !errors.As(err, &ce) || ce.Component != ds.String() {
		t.Fatalf("Wait: got %v, want %s failing with ErrReceiverDone", err, ds)
	}
}

func TestTriggeredSource(t *testing.T) {
	ctx := axontest.Context(t)
	var buf syncBuffer
	src := util.DataSource([]int{1, 2, 3})
	if err := axon.Run(ctx, chassis.Pipeline(src, util.TriggeredSource("ping"), util.ConsoleEchoer(&buf, util.WithNewline()))); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "ping\nping\nping\n" {
		t.Fatalf("got %q", got)
	}
}
