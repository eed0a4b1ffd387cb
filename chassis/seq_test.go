package chassis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

func TestSeqChildrenInTurn(t *testing.T) {
	ctx := axontest.Context(t)
	var mu sync.Mutex
	var problems []string
	var kids []*axon.Component
	items := [][]string{{"a1", "a2"}, {"b1"}, {"c1", "c2", "c3"}}
	for i, its := range items {
		kids = append(kids, axon.New(fmt.Sprint("Part", i), func(ctx context.Context, c *axon.Component) error {
			// kids is complete before the Seq starts; only read here.
			for j := range i {
				if !axontest.IsClosed(kids[j].Done()) {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("child %d started before child %d ended", i, j))
					mu.Unlock()
				}
			}
			for j := i + 1; j < len(kids); j++ {
				if kids[j].Running() || axontest.IsClosed(kids[j].Done()) {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("child %d already started while child %d runs", j, i))
					mu.Unlock()
				}
			}
			for _, m := range its {
				if err := c.Send(ctx, axon.OutboxName, m); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	nodes := make([]axon.Node, len(kids))
	for i, k := range kids {
		nodes[i] = k
	}
	seq := chassis.Seq(nodes...)
	h := axontest.Start(t, ctx, seq)
	axontest.Tap(t, h, axon.SignalName)
	var got []any
	for range 6 {
		got = append(got, axontest.Get(t, ctx, h, axon.OutboxName))
	}
	if want := []any{"a1", "a2", "b1", "c1", "c2", "c3"}; !slices.Equal(got, want) {
		t.Errorf("Seq gave %v, want %v", got, want)
	}
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: seq.Ref()}) {
		t.Errorf("signal carried %#v, want ProducerFinished from the Seq", sig)
	}
	axontest.Wait(t, h)
	for _, p := range problems {
		t.Error(p)
	}
	if n := len(seq.Children()); n != 0 {
		t.Errorf("Seq still holds %d children", n)
	}
}

// TestSeqInboxAcrossChildren: the Seq's inbox reaches whichever child is
// current; what one child leaves unread goes to the next; a
// ProducerFinished is handed on to each child after what is queued for it.
func TestSeqInboxAcrossChildren(t *testing.T) {
	ctx := axontest.Context(t)
	rest := axontest.PassThrough("Rest", 4)
	seq := chassis.Seq(takeK("Take2", 2, 1), takeK("Take3", 3, 2), rest)
	h := axontest.Start(t, ctx, seq)
	axontest.Tap(t, h, axon.SignalName)
	const n = 12
	for i := range n {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	for i := range n {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: seq.Ref()}) {
		t.Errorf("signal carried %#v, want ProducerFinished from the Seq", sig)
	}
	axontest.Wait(t, h)
	if s := rest.Out(axon.OutboxName).Sent(); s != n-5 {
		t.Errorf("the last child forwarded %d messages, want %d", s, n-5)
	}
}

func TestSeqShutdownMicroprocess(t *testing.T) {
	ctx := axontest.Context(t)
	first := axontest.PassThrough("First", 1)
	second := axontest.PassThrough("Second", 1)
	seq := chassis.Seq(first, second)
	h := axontest.Start(t, ctx, seq)
	axontest.Tap(t, h, axon.SignalName)
	passOneThenStop(t, ctx, h, "x")
	if !axontest.IsClosed(first.Done()) {
		t.Error("the Seq ended before its current child")
	}
	if second.Running() || axontest.IsClosed(second.Done()) {
		t.Error("the second child was started although the Seq was stopped")
	}
}

func TestSeqErrors(t *testing.T) {
	ctx := axontest.Context(t)
	// Both mistakes are reported before any child starts: axontest.PassThrough("A") would
	// otherwise run for ever.
	if err := axon.Run(ctx, chassis.Seq(axontest.PassThrough("A", 1), nil)); !errors.Is(err, axon.ErrBadLink) {
		t.Errorf("nil child: got %v, want ErrBadLink", err)
	}
	taken := axontest.PassThrough("Taken", 1)
	_ = chassis.Pipeline(taken)
	seq := chassis.Seq(axontest.PassThrough("B", 1), taken)
	err := axon.Run(ctx, seq)
	var ce *axon.ComponentError
	if !errors.Is(err, axon.ErrBadLink) || !errors.As(err, &ce) || ce.Component != seq.String() {
		t.Errorf("child of another graph: got %v, want ErrBadLink reported by the Seq", err)
	}
}
