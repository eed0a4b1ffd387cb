package chassis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// TestPARRunsChildrenTogether: the two children can only finish if they
// run at the same time (each waits until the other has started); their
// outputs are merged, each child's in its own order.
func TestPARRunsChildrenTogether(t *testing.T) {
	ctx := axontest.Context(t)
	const n = 300
	startA, startB := make(chan struct{}), make(chan struct{})
	worker := func(tag string, mine, theirs chan struct{}) *axon.Component {
		return axon.New(tag, func(ctx context.Context, c *axon.Component) error {
			close(mine)
			select {
			case <-theirs:
			case <-ctx.Done():
				return ctx.Err()
			}
			for i := range n {
				if err := c.Send(ctx, axon.OutboxName, fmt.Sprint(tag, i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	par := chassis.PAR(worker("a", startA, startB), worker("b", startB, startA))
	h := axontest.Start(t, ctx, par)
	axontest.Tap(t, h, axon.SignalName)
	next := map[string]int{"a": 0, "b": 0}
	for range 2 * n {
		m := axontest.Get(t, ctx, h, axon.OutboxName).(string)
		tag := m[:1]
		if want := fmt.Sprint(tag, next[tag]); m != want {
			t.Fatalf("got %s, want %s", m, want)
		}
		next[tag]++
	}
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: par.Ref()}) {
		t.Errorf("signal carried %#v, want ProducerFinished from the PAR", sig)
	}
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// ctlNoter ends on the first message on its control, noting it.
func ctlNoter(name string, l *log) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		select {
		case m := <-c.In(axon.ControlName):
			l.add(m)
			return c.PassOn(ctx, m)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func TestPARControlReachesEveryChild(t *testing.T) {
	for _, msg := range []axon.Shutdown{axon.ProducerFinished{From: axontest.Tester}, axon.ShutdownMicroprocess{From: axontest.Tester}} {
		t.Run(fmt.Sprintf("%T", msg), func(t *testing.T) {
			ctx := axontest.Context(t)
			var logs [3]log
			var kids []axon.Node
			for i := range logs {
				kids = append(kids, ctlNoter(fmt.Sprint("K", i), &logs[i]))
			}
			par := chassis.PAR(kids...)
			h := axontest.Start(t, ctx, par)
			axontest.Tap(t, h, axon.SignalName)
			axontest.Put(t, ctx, h, axon.ControlName, msg)
			var want any = axon.ProducerFinished{From: par.Ref()}
			if _, ok := msg.(axon.ShutdownMicroprocess); ok {
				want = msg // a shutdown is passed on as it came
			}
			if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != want {
				t.Errorf("signal carried %#v, want %#v", sig, want)
			}
			axontest.Wait(t, h)
			for i, k := range kids {
				if !axontest.IsClosed(k.Core().Done()) {
					t.Errorf("PAR ended before child %d", i)
				}
				got := logs[i].all()
				if _, ok := msg.(axon.ShutdownMicroprocess); ok && len(got) == 0 {
					// Delivering a ShutdownMicroprocess to the PAR
					// cancels the PAR's context and its children's:
					// a child may stop before reading its control.
					continue
				}
				if !slices.Equal(got, []any{msg}) {
					t.Errorf("child %d's control saw %v, want [%v]", i, got, msg)
				}
			}
		})
	}
}

func TestPARErrors(t *testing.T) {
	ctx := axontest.Context(t)
	if err := axon.Run(ctx, chassis.PAR(axontest.PassThrough("A", 1), nil)); !errors.Is(err, axon.ErrBadLink) {
		t.Errorf("nil child: got %v, want ErrBadLink", err)
	}
	taken := axontest.PassThrough("Taken", 1)
	_ = chassis.Pipeline(taken)
	err := axon.Run(ctx, chassis.PAR(taken))
	if !errors.Is(err, axon.ErrBadLink) || !strings.Contains(err.Error(), taken.String()) {
		t.Errorf("child of another graph: got %v, want ErrBadLink naming %s", err, taken)
	}
}
