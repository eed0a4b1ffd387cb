package util_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// While Linger holds a ProducerFinished, messages still pass; the notice
// is held until it is due, and then goes on after what was queued.
func TestLingerHoldsNotice(t *testing.T) {
	for _, d := range []time.Duration{time.Hour, -1} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			ctx := axontest.Context(t)
			h := axontest.Start(t, ctx, util.Linger(d))
			axontest.Put(t, ctx, h, axon.InboxName, "before")
			axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
			axontest.Put(t, ctx, h, axon.InboxName, "after")
			for _, want := range []string{"before", "after"} {
				if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
					t.Fatalf("got %v, want %q", got, want)
				}
			}
			// The ProducerFinished is still held: the signal carries the
			// ShutdownMicroprocess alone.
			axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
			axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
		})
	}
}

// Once its delay has passed, Linger passes the very ProducerFinished it
// was given on, after the messages queued, and ends; a second notice is
// dropped.
func TestLingerPassesNoticeOn(t *testing.T) {
	ctx := axontest.Context(t)
	l := util.Linger(20 * time.Millisecond)
	first := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, l, axon.InboxName, 1, 2, 3)
	axontest.Preload(t, l, axon.ControlName, first, axon.ProducerFinished{From: axon.Ref{Name: "second"}})
	h := axontest.Start(t, ctx, l)
	for want := 1; want <= 3; want++ {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
	axontest.ExpectSignal(t, ctx, h, first)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// In a Pipeline, Linger delays the end without losing anything.
func TestLingerInPipeline(t *testing.T) {
	ctx := axontest.Context(t)
	src := util.DataSource([]int{1, 2, 3})
	h := axontest.Start(t, ctx, chassis.Pipeline(src, util.Linger(10*time.Millisecond), util.Collate()))
	if got := axontest.Get(t, ctx, h, axon.OutboxName); !reflect.DeepEqual(got, []any{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: src.Ref()})
	axontest.Wait(t, h)
}

func TestCycle(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Cycle(time.Millisecond, "a", "b", "c"))
	for i, want := range []string{"a", "b", "c", "a", "b", "c", "a"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("item %d: got %v, want %q", i, got, want)
		}
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

// The first item goes at once, not after the first interval; after a
// ProducerFinished nothing more is sent.
func TestCycleFirstAtOnce(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Cycle(time.Hour, 7, 8))
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != 7 {
		t.Fatalf("got %v, want 7", got)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// With no items Cycle sends nothing, and still stops when told.
func TestCycleNoItems(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Cycle[string](time.Millisecond))
	axontest.Tap(t, h, axon.OutboxName)
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// A Cycle stuck sending (its outbox leads nowhere) still stops at once.
func TestCycleShutdownWhileSending(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Cycle(time.Millisecond, 1))
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestCycleBadInterval(t *testing.T) {
	for _, every := range []time.Duration{0, -time.Second} {
		c := util.Cycle(every, "x")
		err := axon.Run(axontest.Context(t), c)
		var ce *axon.ComponentError
		if !errors.Is(err, util.ErrBadInterval) || !errors.As(err, &ce) || ce.Component != c.String() {
			t.Errorf("Cycle(%v): got %v, want a ComponentError naming it and wrapping ErrBadInterval", every, err)
		}
	}
}

// Take passes n messages, then sends a ProducerFinished of its own and
// ends, leaving the rest unread.
func TestTake(t *testing.T) {
	ctx := axontest.Context(t)
	take := util.Take(3)
	axontest.Preload(t, take, axon.InboxName, 1, 2, 3, 4, 5)
	h := axontest.Start(t, ctx, take)
	for want := 1; want <= 3; want++ {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: take.Ref()})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	if n := take.Inbox(axon.InboxName).Len(); n != 2 {
		t.Fatalf("%d messages left in the inbox, want 2", n)
	}
}

// A ProducerFinished before the n-th message ends Take after what is
// queued, up to n in all, passing that notice on rather than its own.
func TestTakeProducerFinished(t *testing.T) {
	for _, tc := range []struct {
		n, queued, want int
	}{{5, 2, 2}, {2, 4, 2}} {
		t.Run(fmt.Sprintf("Take(%d) of %d", tc.n, tc.queued), func(t *testing.T) {
			ctx := axontest.Context(t)
			take := util.Take(tc.n)
			for i := range tc.queued {
				axontest.Preload(t, take, axon.InboxName, i)
			}
			pf := axon.ProducerFinished{From: axontest.Tester}
			axontest.Preload(t, take, axon.ControlName, pf)
			h := axontest.Start(t, ctx, take)
			for want := range tc.want {
				if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
					t.Fatalf("got %v, want %d", got, want)
				}
			}
			axontest.ExpectSignal(t, ctx, h, pf)
			axontest.Wait(t, h)
			axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
		})
	}
}

func TestTakeNone(t *testing.T) {
	for _, n := range []int{0, -1} {
		ctx := axontest.Context(t)
		take := util.Take(n)
		h := axontest.Start(t, ctx, take)
		axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: take.Ref()})
		axontest.Wait(t, h)
		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	}
}

// A Cycle whose receiver has ended ends too, quietly: its items would
// only have repeated.
func TestCycleReceiverEnded(t *testing.T) {
	ctx := axontest.Context(t)
	c := util.Cycle(time.Millisecond, "x")
	dead := axontest.LinkToEnded(t, c, axon.OutboxName)
	h := axontest.Start(t, ctx, c)
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: c.Ref()})
	axontest.Wait(t, h)
	if n := dead.Inbox(axon.InboxName).Len(); n != 0 {
		t.Fatalf("%d items queued in an ended component's inbox", n)
	}
}
