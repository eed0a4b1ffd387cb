package util_test

import (
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

func TestDataSource(t *testing.T) {
	ctx := ctxT(t)
	items := []int{3, 1, 4, 1, 5}
	ds := util.DataSource(items)
	items[0] = 99 // the DataSource took a copy
	h := start(t, ctx, ds)
	for _, w := range []int{3, 1, 4, 1, 5} {
		if got := get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %#v, want %d", got, w)
		}
	}
	expectSignal(t, ctx, h, axon.ProducerFinished{From: ds.Ref()})
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName)
}

func TestDataSourceEmpty(t *testing.T) {
	ctx := ctxT(t)
	ds := util.DataSource[string](nil)
	h := start(t, ctx, ds)
	expectSignal(t, ctx, h, axon.ProducerFinished{From: ds.Ref()})
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName)
}

// A ProducerFinished received on control does not cut the items short;
// it is the notice passed on at the end, instead of the DataSource's own.
func TestDataSourceProducerFinished(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.DataSource([]string{"a", "b", "c"}))
	pf := axon.ProducerFinished{From: tester}
	put(t, ctx, h, axon.ControlName, pf)
	for _, w := range []string{"a", "b", "c"} {
		if got := get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %#v, want %q", got, w)
		}
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
}

func TestDataSourceShutdownWhileSending(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.DataSource([]int{1, 2, 3}))
	sm := axon.ShutdownMicroprocess{From: tester}
	put(t, ctx, h, axon.ControlName, sm)
	expectSignal(t, ctx, h, sm)
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName)
	expectEnded(t, ctx, h, axon.SignalName) // passed on once only
}

// A ShutdownMicroprocess that reached control before the DataSource
// started is acted on before any item is sent.
func TestDataSourceShutdownBeforeStart(t *testing.T) {
	ctx := ctxT(t)
	ds := util.DataSource([]int{1, 2, 3})
	sink := axon.New("Sink", nil)
	ctl := axon.New("Ctl", nil)
	for _, err := range []error{
		axon.Link(ds, axon.OutboxName, sink, axon.InboxName),
		axon.Link(ctl, axon.OutboxName, ds, axon.ControlName),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	sm := axon.ShutdownMicroprocess{From: tester}
	if err := ctl.Out(axon.OutboxName).TrySend(sm); err != nil {
		t.Fatal(err)
	}
	h := start(t, ctx, ds)
	expectSignal(t, ctx, h, sm)
	wait(t, h)
	if n := sink.Inbox(axon.InboxName).Len(); n != 0 {
		t.Fatalf("%d items sent after a ShutdownMicroprocess", n)
	}
}

func TestDataSourceContextCancelled(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.DataSource([]int{1, 2, 3}))
	h.Stop()
	wait(t, h)
	expectEnded(t, ctx, h, axon.SignalName)
}

// A DataSource whose receiver has ended cannot deliver, and fails saying
// so, even though the receiver's inbox has room: nothing vanishes into it.
func TestDataSourceReceiverEnded(t *testing.T) {
	ctx := ctxT(t)
	ds := util.DataSource([]int{1, 2, 3})
	dead := axon.New("Dead", nil)
	dead.Stop() // never started: ended at once
	if err := axon.Link(ds, axon.OutboxName, dead, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	h := start(t, ctx, ds)
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
	expectEnded(t, ctx, h, axon.SignalName)
}

// The receiver ending while the DataSource waits for room in it is the
// same failure.
func TestDataSourceReceiverEndsWhileSending(t *testing.T) {
	ctx := ctxT(t)
	ds := util.DataSource(make([]int, 100))
	// Nobody reads the pipeline's outbox, so the transformer takes one
	// item, fills its inbox and stops taking: the DataSource is stuck.
	sink := util.PureTransformer(func(m any) any { return m })
	h := start(t, ctx, chassis.Pipeline(ds, sink))
	sink.Stop()
	err := h.Wait()
	var ce *axon.ComponentError
	if !errors.Is(err, axon.ErrReceiverDone) || !errors.As(err, &ce) || ce.Component != ds.String() {
		t.Fatalf("Wait: got %v, want %s failing with ErrReceiverDone", err, ds)
	}
}

func TestTriggeredSource(t *testing.T) {
	ctx := ctxT(t)
	var buf syncBuffer
	src := util.DataSource([]int{1, 2, 3})
	if err := axon.Run(ctx, chassis.Pipeline(src, util.TriggeredSource("ping"), util.ConsoleEchoer(&buf, util.WithNewline()))); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "ping\nping\nping\n" {
		t.Fatalf("got %q", got)
	}
}
