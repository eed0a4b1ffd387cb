package util_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/util"
)

// Collate merges its boxes, labelling each message, and keeps each box's
// order.
func TestCollate(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate("a", "b", axon.InboxName))
	boxes := []string{axon.InboxName, "a", "b"}
	const per = 200
	done := make(chan error, 1)
	go func() {
		for i := range per {
			for _, b := range boxes {
				if err := h.Put(ctx, b, i); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	next := map[string]int{}
	for range per * len(boxes) {
		got, ok := get(t, ctx, h, axon.OutboxName).(util.Collated)
		if !ok {
			t.Fatalf("got %T, want util.Collated", got)
		}
		if got.Msg != next[got.Box] {
			t.Fatalf("from %s: got %v, want %d", got.Box, got.Msg, next[got.Box])
		}
		next[got.Box]++
	}
	for _, b := range boxes {
		if next[b] != per {
			t.Fatalf("from %s: got %d messages, want %d", b, next[b], per)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: tester})
	wait(t, h)
}

// ProducerFinished drains every inbox of Collate, not just "inbox".
func TestCollateDrainsAllBoxes(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate("a", "b"))
	want := map[util.Collated]bool{}
	for i := range 4 {
		for _, b := range []string{axon.InboxName, "a", "b"} {
			put(t, ctx, h, b, i)
			want[util.Collated{Box: b, Msg: i}] = true
		}
	}
	pf := axon.ProducerFinished{From: tester}
	put(t, ctx, h, axon.ControlName, pf)
	for range len(want) {
		got := get(t, ctx, h, axon.OutboxName).(util.Collated)
		if !want[got] {
			t.Fatalf("unexpected or repeated %v", got)
		}
		delete(want, got)
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName)
}

func TestCollateBadNames(t *testing.T) {
	for _, names := range [][]string{{"a", "a"}, {"control"}, {"outbox"}, {"signal"}} {
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			err := axon.Run(ctxT(t), util.Collate(names...))
			if !errors.Is(err, axon.ErrBoxExists) || !strings.Contains(err.Error(), "Collate") {
				t.Fatalf("got %v, want an error from Collate wrapping ErrBoxExists", err)
			}
		})
	}
}

func TestCollatedString(t *testing.T) {
	if got := (util.Collated{Box: "left", Msg: 7}).String(); got != "left: 7" {
		t.Fatalf("got %q", got)
	}
}

// Collate passes nil messages through like any other.
func TestCollateNil(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate("a"))
	put(t, ctx, h, "a", nil)
	if got := get(t, ctx, h, axon.OutboxName); got != (util.Collated{Box: "a", Msg: nil}) {
		t.Fatalf("got %#v", got)
	}
}

func TestComparator(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Comparator())
	as := []any{1, "x", []int{1, 2}, map[string]int{"k": 1}, nil, 2}
	bs := []any{1, "y", []int{1, 2}, map[string]int{"k": 2}, nil, int64(2)}
	want := []bool{true, false, true, false, true, false}
	// All of one side first: each value waits for its partner.
	go func() {
		for _, a := range as {
			if h.Put(ctx, "inA", a) != nil {
				return
			}
		}
	}()
	for i, b := range bs {
		put(t, ctx, h, "inB", b)
		if got := get(t, ctx, h, axon.OutboxName); got != want[i] {
			t.Fatalf("pair %d (%v, %v): got %v, want %v", i, as[i], b, got, want[i])
		}
	}
	put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: tester})
	wait(t, h)
}

// A side that runs ahead is held back: Comparator takes one value from it
// and waits for the partner, and the side's inbox fills.
func TestComparatorBackpressure(t *testing.T) {
	ctx := ctxT(t)
	cmp := util.Comparator()
	h := start(t, ctx, cmp)
	n := 1 + cmp.Inbox("inA").Cap()
	for i := range n {
		put(t, ctx, h, "inA", i)
	}
	if err := h.TryPut("inA", n); !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("TryPut with no partners: got %v, want ErrBoxFull", err)
	}
	go func() {
		for i := range n {
			if h.Put(ctx, "inB", i) != nil {
				return
			}
		}
	}()
	for range n {
		if got := get(t, ctx, h, axon.OutboxName); got != true {
			t.Fatalf("got %v, want true", got)
		}
	}
}

// On ProducerFinished, pairs already queued are compared; an unpaired
// value is left (and logged).
func TestComparatorProducerFinished(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Comparator())
	put(t, ctx, h, "inA", 1)
	put(t, ctx, h, "inA", 2)
	put(t, ctx, h, "inA", 3)
	put(t, ctx, h, "inB", 1)
	put(t, ctx, h, "inB", 5)
	pf := axon.ProducerFinished{From: tester}
	put(t, ctx, h, axon.ControlName, pf)
	for _, w := range []bool{true, false} {
		if got := get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %v, want %v", got, w)
		}
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName)
}

// With more boxes than a plain select covers, Collate still merges them
// all, keeps each box's order, and drains them all on ProducerFinished.
func TestCollateManyBoxes(t *testing.T) {
	ctx := ctxT(t)
	names := []string{"a", "b", "c", "d", "e", "f"}
	h := start(t, ctx, util.Collate(names...))
	boxes := append([]string{axon.InboxName}, names...)
	for _, b := range boxes {
		put(t, ctx, h, b, 0)
	}
	seen := map[string]bool{}
	for range boxes {
		got := get(t, ctx, h, axon.OutboxName).(util.Collated)
		if got.Msg != 0 || seen[got.Box] {
			t.Fatalf("unexpected or repeated %v", got)
		}
		seen[got.Box] = true
	}
	put(t, ctx, h, axon.ControlName, "hello?") // ignored
	for i := 1; i <= 2; i++ {
		for _, b := range boxes {
			put(t, ctx, h, b, i)
		}
	}
	pf := axon.ProducerFinished{From: tester}
	put(t, ctx, h, axon.ControlName, pf)
	next := map[string]int{}
	for range 2 * len(boxes) {
		got := get(t, ctx, h, axon.OutboxName).(util.Collated)
		if want := next[got.Box] + 1; got.Msg != want {
			t.Fatalf("from %s: got %v, want %d", got.Box, got.Msg, want)
		}
		next[got.Box]++
	}
	expectSignal(t, ctx, h, pf)
	wait(t, h)
	expectEnded(t, ctx, h, axon.OutboxName)
}

// A ShutdownMicroprocess ends a Collate of many boxes at once, even while
// it is blocked sending.
func TestCollateManyBoxesShutdown(t *testing.T) {
	ctx := ctxT(t)
	h := start(t, ctx, util.Collate("a", "b", "c", "d", "e", "f"))
	put(t, ctx, h, "f", 1)
	put(t, ctx, h, "a", 2)
	sm := axon.ShutdownMicroprocess{From: tester}
	put(t, ctx, h, axon.ControlName, sm)
	expectSignal(t, ctx, h, sm)
	wait(t, h)
	expectEnded(t, ctx, h, axon.SignalName)
	expectEnded(t, ctx, h, axon.OutboxName)
}
