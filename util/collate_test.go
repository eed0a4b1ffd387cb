package util_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
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
	got, ok := axontest.Get(t, ctx, h, axon.OutboxName).([]any)
	if !ok {
		t.Fatalf("outbox: got %T, want []any", got)
	}
	return got
}

// collectInts puts 0, 1, ..., n-1 into the Collate, then a
// ProducerFinished from axontest.Tester on its control, and checks that
// they come back as one collection, in order.
func collectInts(t *testing.T, ctx context.Context, h *axon.Handle, n int) {
	t.Helper()
	for i := range n {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, ints(n)) {
		t.Fatalf("got %v, want %v", got, ints(n))
	}
}

// Collate sends everything, in arrival order, as one message when
// ProducerFinished arrives, then passes it on once and ends.
func TestCollateOrder(t *testing.T) {
	ctx := axontest.Context(t)
	col := util.Collate()
	h := axontest.Start(t, ctx, col)
	n := 5 * col.Inbox(axon.InboxName).Cap() // more than fit in the inbox
	collectInts(t, ctx, h, n)
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName) // one message only
	axontest.ExpectEnded(t, ctx, h, axon.SignalName) // passed on once only
}

// Items still queued in "inbox" when ProducerFinished is taken are
// included.
func TestCollateTakesQueued(t *testing.T) {
	ctx := axontest.Context(t)
	col := util.Collate()
	items := []any{"a", nil, 3, "d"}
	pf := &axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, col, axon.InboxName, items...)
	axontest.Preload(t, col, axon.ControlName, pf)
	h := axontest.Start(t, ctx, col)
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, items) {
		t.Fatalf("got %#v, want %#v", got, items)
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

// With nothing gathered, Collate still sends: an empty, non-nil []any.
func TestCollateEmpty(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Collate())
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	if got := collection(t, ctx, h); got == nil || len(got) != 0 {
		t.Fatalf("got %#v, want an empty []any", got)
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
}

// ShutdownMicroprocess ends Collate at once: it is passed on, once, and
// what Collate holds is not sent, although its outbox is linked and has
// room.
func TestCollateShutdownMicroprocess(t *testing.T) {
	for _, sm := range []any{axon.ShutdownMicroprocess{From: axontest.Tester}, &axon.ShutdownMicroprocess{From: axontest.Tester}} {
		t.Run(fmt.Sprintf("%T", sm), func(t *testing.T) {
			ctx := axontest.Context(t)
			col := util.Collate()
			sink := axon.New("Sink", nil) // never run; read directly
			if err := axon.Link(col, axon.OutboxName, sink, axon.InboxName); err != nil {
				t.Fatal(err)
			}
			h := axontest.Start(t, ctx, col)
			// Puts beyond the inbox's capacity wait for Collate to take
			// items, so it holds some when the shutdown arrives.
			for i := range col.Inbox(axon.InboxName).Cap() + 5 {
				axontest.Put(t, ctx, h, axon.InboxName, i)
			}
			axontest.StopWith(t, ctx, h, sm)
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
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Collate())
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	// "outbox" is not linked, so Collate cannot deliver before the
	// ShutdownMicroprocess comes.
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// Other control messages are ignored.
func TestCollateIgnoresOtherControl(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Collate())
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	axontest.Put(t, ctx, h, axon.ControlName, "hello?")
	axontest.Put(t, ctx, h, axon.InboxName, 2)
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	if got := collection(t, ctx, h); !reflect.DeepEqual(got, []any{1, 2}) {
		t.Fatalf("got %v, want [1 2]", got)
	}
	axontest.Wait(t, h)
}

// Cancelling the context ends Collate without an error, a notice or a
// collection.
func TestCollateContextCancelled(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Collate())
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	h.Stop()
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// Up to MaxItems items are held and sent as usual.
func TestCollateMaxItemsReached(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Collate(util.MaxItems(3)))
	collectInts(t, ctx, h, 3)
	axontest.Wait(t, h)
}

// One item more than MaxItems makes Collate fail, naming itself and its
// inbox, whether the item arrives while it runs or is found queued at
// ProducerFinished. Nothing is sent.
func TestCollateMaxItemsExceeded(t *testing.T) {
	for _, queued := range []bool{false, true} {
		t.Run(fmt.Sprintf("queued=%v", queued), func(t *testing.T) {
			ctx := axontest.Context(t)
			col := util.Collate(util.MaxItems(3))
			var h *axon.Handle
			if queued {
				axontest.Preload(t, col, axon.InboxName, ints(4)...)
				axontest.Preload(t, col, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
				h = axontest.Start(t, ctx, col)
			} else {
				h = axontest.Start(t, ctx, col)
				for i := range 4 {
					axontest.Put(t, ctx, h, axon.InboxName, i)
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
			axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
		})
	}
}

// MaxItems below 1 means no limit.
func TestCollateMaxItemsNone(t *testing.T) {
	for _, n := range []int{0, -1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := axontest.Context(t)
			h := axontest.Start(t, ctx, util.Collate(util.MaxItems(n)))
			collectInts(t, ctx, h, 40)
			axontest.Wait(t, h)
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
	ctx := axontest.Context(t)
	col := util.Collate()
	axontest.LinkToEnded(t, col, axon.OutboxName)
	h := axontest.Start(t, ctx, col)
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	if err := h.Wait(); !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("Wait: got %v, want ErrReceiverDone", err)
	}
}
