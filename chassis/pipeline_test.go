package chassis_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// trail is a message that records the stages it has been through.
type trail struct {
	seq  int
	path string
}

// stamp appends its name to every trail passing through it.
func stamp(name string) *axon.Component {
	return axontest.Map(name, func(m any) any {
		tr := m.(trail)
		tr.path += name
		return tr
	})
}

// sendTrails puts n trails into h's inbox from a goroutine of its own, and
// then a ProducerFinished from axontest.Tester on its control, while it
// checks that the n trails come out of h's outbox in order, each having
// been through the stages path.
func sendTrails(t *testing.T, ctx context.Context, h *axon.Handle, n int, path string) {
	t.Helper()
	go func() {
		for i := range n {
			if h.Put(ctx, axon.InboxName, trail{seq: i}) != nil {
				return
			}
		}
		_ = h.Put(ctx, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	}()
	for i := range n {
		got := axontest.Get(t, ctx, h, axon.OutboxName).(trail)
		if got.seq != i || got.path != path {
			t.Fatalf("message %d: got %+v, want seq %d path %q", i, got, i, path)
		}
	}
}

func TestPipelineDataInOrderThroughStages(t *testing.T) {
	ctx := axontest.Context(t)
	const stages, msgs = 8, 500
	var kids []axon.Node
	want := ""
	for i := range stages {
		name := string(rune('a' + i))
		kids = append(kids, stamp(name))
		want += name
	}
	p := chassis.Pipeline(kids...)
	h := axontest.Start(t, ctx, p)
	sendTrails(t, ctx, h, msgs, want)
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: axontest.Tester}) {
		t.Fatalf("signal carried %#v, want the ProducerFinished put on control", sig)
	}
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestPipelineSingleChildAndEmpty(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, chassis.Pipeline(axontest.Map("Neg", func(m any) any { return -m.(int) })))
	axontest.Put(t, ctx, h, axon.InboxName, 7)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != -7 {
		t.Fatalf("got %v, want -7", got)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)

	err := axon.Run(ctx, chassis.Pipeline())
	if !errors.Is(err, axon.ErrBadLink) {
		t.Fatalf("empty Pipeline: got %v, want ErrBadLink", err)
	}
	var none *axon.Component
	err = axon.Run(ctx, chassis.Pipeline(axontest.PassThrough("A", 1), none))
	if !errors.Is(err, axon.ErrBadLink) || !strings.Contains(err.Error(), "child 1") {
		t.Fatalf("Pipeline with a nil child: got %v, want ErrBadLink naming child 1", err)
	}
}

// TestPipelineNested builds pipelines four deep and checks that every
// outbox leads straight to the inbox of the component that reads it, with
// no pipeline in between, then that data and the shutdown both get through.
func TestPipelineNested(t *testing.T) {
	ctx := axontest.Context(t)
	names := []string{"A", "B", "C", "D", "E", "F", "G"}
	st := map[string]*axon.Component{}
	for _, n := range names {
		st[n] = stamp(n)
	}
	// Pipeline(A, Pipeline(B, Pipeline(C, Pipeline(D, E)), F), G)
	p4 := chassis.Pipeline(st["D"], st["E"])
	p3 := chassis.Pipeline(st["C"], p4)
	p2 := chassis.Pipeline(st["B"], p3, st["F"])
	p1 := chassis.Pipeline(st["A"], p2, st["G"])

	snap := axon.Inspect(p1)
	if len(snap.Components) != 11 {
		t.Fatalf("snapshot lists %d components, want 11 (4 pipelines, 7 stages)", len(snap.Components))
	}
	dest := map[string]string{} // "Name.box" -> Dest from the snapshot
	for _, ci := range snap.Components {
		for _, b := range ci.Outboxes {
			dest[ci.Ref.Name+"."+b.Name] = b.Dest
		}
	}
	for i := 0; i+1 < len(names); i++ {
		from, to := st[names[i]], st[names[i+1]]
		out := from.Out(axon.OutboxName).Destination()
		if out == nil || out.Owner() != to || out.Name() != axon.InboxName {
			t.Errorf("%s.outbox leads to %v, want %s.inbox", names[i], out, to)
		}
		sig := from.Out(axon.SignalName).Destination()
		if sig == nil || sig.Owner() != to || sig.Name() != axon.ControlName {
			t.Errorf("%s.signal leads to %v, want %s.control", names[i], sig, to)
		}
		if d := dest[names[i]+".outbox"]; d != to.Inbox(axon.InboxName).String() {
			t.Errorf("snapshot: %s.outbox -> %q, want %q", names[i], d, to.Inbox(axon.InboxName))
		}
	}
	// The outermost pipeline's own outbox leads nowhere yet: its last
	// stage's outbox waits too.
	if d := st["G"].Out(axon.OutboxName).Destination(); d != nil {
		t.Errorf("G.outbox leads to %v before anything takes the pipeline's output", d)
	}

	h := axontest.Start(t, ctx, p1)
	const msgs = 200
	sendTrails(t, ctx, h, msgs, "ABCDEFG")
	// Once the handle takes the output, G sends straight into it.
	if d := st["G"].Out(axon.OutboxName).Destination(); d == nil || d.Owner() == p1 {
		t.Errorf("G.outbox leads to %v, want the handle's inbox", d)
	}
	axontest.Wait(t, h)
	for _, n := range names {
		if s := st[n].Out(axon.OutboxName).Sent(); s != msgs {
			t.Errorf("%s sent %d messages, want %d", n, s, msgs)
		}
	}
}

// pfRecorder passes data through; on ProducerFinished it notes its name
// in order, then (if hold is not nil) tells got and waits for hold to
// close before passing the message on.
func pfRecorder(name string, order *[]string, mu *sync.Mutex, got chan<- struct{}, hold <-chan struct{}) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		for {
			select {
			case m := <-c.In(axon.InboxName):
				if err := c.Send(ctx, axon.OutboxName, m); err != nil {
					return err
				}
			case m := <-c.In(axon.ControlName):
				mu.Lock()
				*order = append(*order, name)
				mu.Unlock()
				if hold != nil {
					close(got)
					select {
					case <-hold:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return c.PassOn(ctx, m)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

func TestPipelineProducerFinishedReachesChildrenInOrder(t *testing.T) {
	ctx := axontest.Context(t)
	var mu sync.Mutex
	var order []string
	got, hold := make(chan struct{}), make(chan struct{})
	k1 := pfRecorder("k1", &order, &mu, nil, nil)
	k2 := pfRecorder("k2", &order, &mu, got, hold)
	k3 := pfRecorder("k3", &order, &mu, nil, nil)
	k4 := pfRecorder("k4", &order, &mu, nil, nil)
	p := chassis.Pipeline(k1, chassis.Pipeline(k2, k3), k4)
	h := axontest.Start(t, ctx, p)
	axontest.Tap(t, h, axon.SignalName)
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("k2 never received ProducerFinished")
	}
	// k2 holds the message: k1 has ended, the rest of the pipeline has not.
	<-k1.Done()
	if axontest.IsClosed(p.Done()) {
		t.Fatal("Pipeline ended while a child was still running")
	}
	for _, k := range []*axon.Component{k2, k3, k4} {
		if axontest.IsClosed(k.Done()) {
			t.Fatalf("%s ended before k2 passed ProducerFinished on", k.Name())
		}
	}
	mu.Lock()
	if !slices.Equal(order, []string{"k1", "k2"}) {
		t.Fatalf("ProducerFinished seen by %v before k2 let it go, want [k1 k2]", order)
	}
	mu.Unlock()
	close(hold)
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: axontest.Tester}) {
		t.Fatalf("signal carried %#v", sig)
	}
	axontest.Wait(t, h)
	if !slices.Equal(order, []string{"k1", "k2", "k3", "k4"}) {
		t.Fatalf("ProducerFinished reached children in order %v", order)
	}
	for _, k := range []*axon.Component{k1, k2, k3, k4} {
		if !axontest.IsClosed(k.Done()) {
			t.Fatalf("Pipeline ended before %s", k.Name())
		}
	}
}

func TestPipelineShutdownMicroprocess(t *testing.T) {
	ctx := axontest.Context(t)
	// The stages never finish on their own: the middle one holds its
	// first message until the graph ends, so data is still queued when
	// the shutdown comes.
	stuck := axon.New("Stuck", func(ctx context.Context, c *axon.Component) error {
		select {
		case <-c.In(axon.InboxName):
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	})
	p := chassis.Pipeline(axontest.PassThrough("P1", 4), stuck, axontest.PassThrough("P2", 4))
	h := axontest.Start(t, ctx, p)
	axontest.Tap(t, h, axon.SignalName)
	for i := range 6 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ShutdownMicroprocess{From: axontest.Tester}) {
		t.Fatalf("signal carried %#v, want the ShutdownMicroprocess", sig)
	}
	axontest.Wait(t, h)
}

func TestCircularPipeline(t *testing.T) {
	ctx := axontest.Context(t)
	const laps = 1000
	var seen []int
	// Counter sends each number it gets back round the loop, one higher,
	// until it has seen laps of them; then it finishes, and its
	// ProducerFinished goes round to end the others.
	counter := axon.New("Counter", func(ctx context.Context, c *axon.Component) error {
		for {
			select {
			case m := <-c.In(axon.InboxName):
				n := m.(int)
				seen = append(seen, n)
				if len(seen) == laps {
					return c.Finish(ctx)
				}
				if err := c.Send(ctx, axon.OutboxName, n+1); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	p := chassis.CircularPipeline(counter, axontest.PassThrough("Lap1", 1), axontest.PassThrough("Lap2", 3))
	// The loop is closed: the last stage leads back to the first.
	if d := p.Children()[2].Out(axon.OutboxName).Destination(); d == nil || d.Owner() != counter {
		t.Fatalf("last stage's outbox leads to %v, want Counter.inbox", d)
	}
	if d := p.Children()[2].Out(axon.SignalName).Destination(); d == nil || d.Owner() != counter || d.Name() != axon.ControlName {
		t.Fatalf("last stage's signal leads to %v, want Counter.control", d)
	}
	h := axontest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, 0)
	axontest.Wait(t, h)
	if len(seen) != laps {
		t.Fatalf("counter saw %d laps, want %d", len(seen), laps)
	}
	for i, n := range seen {
		if n != i {
			t.Fatalf("lap %d carried %d", i, n)
		}
	}
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestPipelineWiringErrorNamesComponent(t *testing.T) {
	ctx := axontest.Context(t)
	shared := axontest.PassThrough("Shared", 1)
	first := chassis.Pipeline(shared, axontest.PassThrough("Other", 1))
	second := chassis.Pipeline(axontest.PassThrough("Mine", 1), shared)
	err := axon.Run(ctx, second)
	if err == nil {
		t.Fatal("a child already in another Pipeline was accepted")
	}
	if !errors.Is(err, axon.ErrBadLink) {
		t.Errorf("got %v, want an error wrapping ErrBadLink", err)
	}
	var ce *axon.ComponentError
	if !errors.As(err, &ce) {
		t.Fatalf("got %T, want a *axon.ComponentError", err)
	}
	for _, want := range []string{shared.String(), first.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	// The first Pipeline is untouched and still works.
	h := axontest.Start(t, ctx, first)
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "x" {
		t.Fatalf("first pipeline gave %v", got)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}
