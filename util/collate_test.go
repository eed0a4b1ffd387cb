package util_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/util"
)

// ints returns []any{0, 1, ..., n-1}.
func ints(n int) []any {
	s := make([]any, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// collection gets the one message Collate sends, which must be a []any.
func collection(t *testing.T, ctx context.Context, h *axon.Handle) []any {
	t.Helper()
	got, ok := get(t, ctx, h, axon.OutboxName).([]any)
	if !ok {
		t.Fatalf("outbox: got %T, want []any", got)
	}
	return got
}

// preloaded queues msgs in col's "inbox" and then notice in its
// "control", all before col runs: when it starts, it finds the notice
// with everything still queued.
func preloaded(t *testing.T, ctx context.Context, col *axon.Component, msgs []any, notice any) {
	t.Helper()
	src := axon.New("Src", nil) // never run: its boxes are sent from directly
	if err := axon.Link(src, axon.OutboxName, col, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(src, axon.SignalName, col, axon.ControlName); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := src.Out(axon.OutboxName).Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Out(axon.SignalName).Send(ctx, notice); err != nil {
		t.Fatal(err)
	}
}

// Collate sends everything, in arrival order, as one message when
// ProducerFinished arrives, then passes it on once and ends.
func TestCollateOrder(t *testing.T) {
	ctx := ctxT(t)
	col := util.Collate()
	h := start(t, ctx, col)
	n := 5 * col.Inbox(axon.InboxName).Cap() // more than fit in the inbox
	for i := range n {
		put(t, ctx, h, axon.InboxName, i)
	}
	pf := axon.ProducerFinished{From: tester}
	put(t, ctx, h, axon.ControlName, pf)
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, ints(n)) {
		t.Fatalf("got %v, want %v", got, ints(n))
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName) // one message only
	expectEnded(t, ctx, h, axon.SignalName) // passed on once only
}

// Items still queued in "inbox" when ProducerFinished is taken are
// included.
func TestCollateTakesQueued(t *testing.T) {
	ctx := ctxT(t)
	col := util.Collate()
	items := []any{"a", nil, 3, "d"}
	pf := &axon.ProducerFinished{From: tester}
	preloaded(t, ctx, col, items, pf)
	h := start(t, ctx, col)
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, items) {
		t.Fatalf("got %#v, want %#v", got, items)
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
	expectEnded(t, ctx, h, axon.SignalName)
}

// With nothing gathered, Collate still sends: an empty, non-nil []any.
func TestCollateEmpty(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate())
	pf := axon.ProducerFinished{From: tester}
	put(t, ctx, h, axon.ControlName, pf)
	if got := collection(t, ctx, h); got == nil || len(got) != 0 {
		t.Fatalf("got %#v, want an empty []any", got)
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
}

// ShutdownMicroprocess ends Collate at once: it is passed on, once, and
// what Collate holds is not sent, although its outbox is linked and has
// room.
func TestCollateShutdownMicroprocess(t *testing.T) {
	for _, sm := range []any{axon.ShutdownMicroprocess{From: tester}, &axon.ShutdownMicroprocess{From: tester}} {
		t.Run(fmt.Sprintf("%T", sm), func(t *testing.T) {
			ctx := ctxT(t)
			col := util.Collate()
			sink := axon.New("Sink", nil) // never run; read directly
			if err := axon.Link(col, axon.OutboxName, sink, axon.InboxName); err != nil {
				t.Fatal(err)
			}
			h := start(t, ctx, col)
			// Puts beyond the inbox's capacity wait for Collate to take
			// items, so it holds some when the shutdown arrives.
			for i := range col.Inbox(axon.InboxName).Cap() + 5 {
				put(t, ctx, h, axon.InboxName, i)
			}
			put(t, ctx, h, axon.ControlName, sm)
			expectSignal(t, ctx, h, sm)
			wait(t, h)
			expectEnded(t, ctx, h, axon.SignalName)
			if n := sink.Inbox(axon.InboxName).Len(); n != 0 {
				t.Fatalf("%d messages sent after ShutdownMicroprocess, want none", n)
			}
		})
	}
}

// A ShutdownMicroprocess arriving after ProducerFinished, before the
// collection is delivered, wins: nothing is sent and only it is passed
// on.
func TestCollateShutdownDuringFinish(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate())
	put(t, ctx, h, axon.InboxName, 1)
	// "outbox" is not linked, so Collate cannot deliver before the
	// ShutdownMicroprocess comes.
	put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: tester})
	sm := axon.ShutdownMicroprocess{From: tester}
	put(t, ctx, h, axon.ControlName, sm)
	expectSignal(t, ctx, h, sm)
	wait(t, h)
	expectEnded(t, ctx, h, axon.SignalName)
	expectEnded(t, ctx, h, axon.OutboxName)
}

// Other control messages are ignored.
func TestCollateIgnoresOtherControl(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate())
	put(t, ctx, h, axon.InboxName, 1)
	put(t, ctx, h, axon.ControlName, "hello?")
	put(t, ctx, h, axon.InboxName, 2)
	put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: tester})
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, []any{1, 2}) {
		t.Fatalf("got %v, want [1 2]", got)
	}
	wait(t, h)
}

// Cancelling the context ends Collate without an error, a notice or a
// collection.
func TestCollateContextCancelled(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate())
	put(t, ctx, h, axon.InboxName, 1)
	h.Stop()
	wait(t, h)
	expectEnded(t, ctx, h, axon.SignalName)
	expectEnded(t, ctx, h, axon.OutboxName)
}

// Up to MaxItems items are held and sent as usual.
func TestCollateMaxItemsReached(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate(util.MaxItems(3)))
	for i := range 3 {
		put(t, ctx, h, axon.InboxName, i)
	}
	put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: tester})
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, ints(3)) {
		t.Fatalf("got %v, want %v", got, ints(3))
	}
	wait(t, h)
}

// One item more than MaxItems makes Collate fail, naming itself and its
// inbox, whether the item arrives while it runs or is found queued at
// ProducerFinished. Nothing is sent.
func TestCollateMaxItemsExceeded(t *testing.T) {
	for _, queued := range []bool{false, true} {
		t.Run(fmt.Sprintf("queued=%v", queued), func(t *testing.T) {
			ctx := ctxT(t)
			col := util.Collate(util.MaxItems(3))
			var h *axon.Handle
			if queued {
				preloaded(t, ctx, col, ints(4), axon.ProducerFinished{From: tester})
				h = start(t, ctx, col)
			} else {
				h = start(t, ctx, col)
				for i := range 4 {
					put(t, ctx, h, axon.InboxName, i)
				}
			}
			err := h.Wait()
			var ce *axon.ComponentError
			if !errors.Is(err, util.ErrTooMany) || !errors.As(err, &ce) || ce.Component != col.String() {
				t.Fatalf("got %v, want %s failing with ErrTooMany", err, col)
			}
			if want := col.Inbox(axon.InboxName).String(); !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name %s", err, want)
			}
			expectEnded(t, ctx, h, axon.OutboxName)
		})
	}
}

// MaxItems below 1 means no limit.
func TestCollateMaxItemsNone(t *testing.T) {
	for _, n := range []int{0, -1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := ctxT(t)
			h := start(t, ctx, util.Collate(util.MaxItems(n)))
			for i := range 40 {
				put(t, ctx, h, axon.InboxName, i)
			}
			put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: tester})
			if got := collection(t, ctx, h); !reflect.DeepEqual(got, ints(40)) {
				t.Fatalf("got %v, want %v", got, ints(40))
			}
			wait(t, h)
		})
	}
}

// "outbox" declares that it carries []any, so Link refuses an inbox
// declared for something else.
func TestCollateOutboxType(t *testing.T) {
	ok := axon.New("Lists", nil, axon.WithInbox(axon.InboxName, "lists", axon.Carries[[]any]()))
	if err := axon.Link(util.Collate(), axon.OutboxName, ok, axon.InboxName); err != nil {
		t.Fatalf("link to a []any inbox: %v", err)
	}
	bad := axon.New("Ints", nil, axon.WithInbox(axon.InboxName, "ints", axon.Carries[int]()))
	if err := axon.Link(util.Collate(), axon.OutboxName, bad, axon.InboxName); !errors.Is(err, axon.ErrTypeMismatch) {
		t.Fatalf("link to an int inbox: got %v, want ErrTypeMismatch", err)
	}
}

// A Collate whose outbox leads to a component that has ended fails with
// ErrReceiverDone.
func TestCollateReceiverEnded(t *testing.T) {
	ctx := ctxT(t)
	col := util.Collate()
	dead := axon.New("Dead", nil)
	dead.Stop() // never started: ended at once
	if err := axon.Link(col, axon.OutboxName, dead, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	h := start(t, ctx, col)
	put(t, ctx, h, axon.InboxName, 1)
	put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: tester})
	if err := h.Wait(); !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("Wait: got %v, want ErrReceiverDone", err)
	}
}
