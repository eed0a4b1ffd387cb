package util_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/util"
)

// Merge combines its boxes, labelling each message, and keeps each box's
// order.
func TestMerge(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Merge("a", "b", axon.InboxName))
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
		got, ok := axontest.Get(t, ctx, h, axon.OutboxName).(util.Merged)
		if !ok {
			t.Fatalf("got %T, want util.Merged", got)
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
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.Wait(t, h)
}

// ProducerFinished drains every inbox of Merge, not just "inbox".
func TestMergeDrainsAllBoxes(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Merge("a", "b"))
	want := map[util.Merged]bool{}
	for i := range 4 {
		for _, b := range []string{axon.InboxName, "a", "b"} {
			axontest.Put(t, ctx, h, b, i)
			want[util.Merged{Box: b, Msg: i}] = true
		}
	}
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	for range len(want) {
		got := axontest.Get(t, ctx, h, axon.OutboxName).(util.Merged)
		if !want[got] {
			t.Fatalf("unexpected or repeated %v", got)
		}
		delete(want, got)
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestMergeBadNames(t *testing.T) {
	for _, names := range [][]string{{"a", "a"}, {"control"}, {"outbox"}, {"signal"}} {
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			err := axon.Run(axontest.Context(t), util.Merge(names...))
			if !errors.Is(err, axon.ErrBoxExists) || !strings.Contains(err.Error(), "Merge") {
				t.Fatalf("got %v, want an error from Merge wrapping ErrBoxExists", err)
			}
		})
	}
}

func TestMergedString(t *testing.T) {
	if got := (util.Merged{Box: "left", Msg: 7}).String(); got != "left: 7" {
		t.Fatalf("got %q", got)
	}
}

// Merge passes nil messages through like any other.
func TestMergeNil(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Merge("a"))
	axontest.Put(t, ctx, h, "a", nil)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != (util.Merged{Box: "a", Msg: nil}) {
		t.Fatalf("got %#v", got)
	}
}

// With more boxes than a plain select covers, Merge still merges them
// all, keeps each box's order, and drains them all on ProducerFinished.
func TestMergeManyBoxes(t *testing.T) {
	ctx := axontest.Context(t)
	names := []string{"a", "b", "c", "d", "e", "f"}
	h := axontest.Start(t, ctx, util.Merge(names...))
	boxes := append([]string{axon.InboxName}, names...)
	for _, b := range boxes {
		axontest.Put(t, ctx, h, b, 0)
	}
	seen := map[string]bool{}
	for range boxes {
		got := axontest.Get(t, ctx, h, axon.OutboxName).(util.Merged)
		if got.Msg != 0 || seen[got.Box] {
			t.Fatalf("unexpected or repeated %v", got)
		}
		seen[got.Box] = true
	}
	axontest.Put(t, ctx, h, axon.ControlName, "hello?") // ignored
	for i := 1; i <= 2; i++ {
		for _, b := range boxes {
			axontest.Put(t, ctx, h, b, i)
		}
	}
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	next := map[string]int{}
	for range 2 * len(boxes) {
		got := axontest.Get(t, ctx, h, axon.OutboxName).(util.Merged)
		if want := next[got.Box] + 1; got.Msg != want {
			t.Fatalf("from %s: got %v, want %d", got.Box, got.Msg, want)
		}
		next[got.Box]++
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// A ShutdownMicroprocess ends a Merge of many boxes at once, even while
// it is blocked sending.
func TestMergeManyBoxesShutdown(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.Merge("a", "b", "c", "d", "e", "f"))
	axontest.Put(t, ctx, h, "f", 1)
	axontest.Put(t, ctx, h, "a", 2)
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}
