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

// log is a concurrency-safe list of what a component saw.
type log struct {
	mu   sync.Mutex
	msgs []any
}

func (l *log) add(m any) {
	l.mu.Lock()
	l.msgs = append(l.msgs, m)
	l.mu.Unlock()
}

func (l *log) all() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// noting passes data through and notes every message it takes from its
// inbox in l.
func noting(name string, l *log) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			l.add(m)
			return out.Send(ctx, m)
		})
	})
}

// passOneThenStop puts msg into h's inbox and checks that it comes out of
// h's outbox, then puts a ShutdownMicroprocess on h's control and checks
// that h's signal carries it as it came and that the graph ends without
// error.
func passOneThenStop(t *testing.T, ctx context.Context, h *axon.Handle, msg any) {
	t.Helper()
	axontest.Put(t, ctx, h, axon.InboxName, msg)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != msg {
		t.Fatalf("got %v", got)
	}
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, sm)
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != sm {
		t.Errorf("signal carried %#v, want %v", sig, sm)
	}
	axontest.Wait(t, h)
}

func TestGraphlineDataOnlyAlongLinks(t *testing.T) {
	ctx := axontest.Context(t)
	var seenA, seenB log
	tried := make(chan struct{})
	var leakErr error
	// Leak sends on an outbox that no link names: the send must wait for
	// ever, reaching nobody.
	leak := axon.New("Leak", func(ctx context.Context, c *axon.Component) error {
		close(tried)
		leakErr = c.Send(ctx, axon.OutboxName, "leaked")
		return leakErr
	})
	a, b := noting("A", &seenA), noting("B", &seenB)
	g := chassis.Graphline(
		chassis.Nodes{"A": a, "B": b, "LEAK": leak},
		chassis.Links{
			{chassis.Self, "inbox"}: {"A", "inbox"},
			{"A", "outbox"}:         {"B", "inbox"},
			{"B", "outbox"}:         {chassis.Self, "outbox"},
		})
	h := axontest.Start(t, ctx, g)
	<-tried
	if d := leak.Out(axon.OutboxName).Destination(); d != nil {
		t.Fatalf("Leak's unlinked outbox leads to %v", d)
	}
	for _, m := range []string{"m1", "m2", "m3"} {
		axontest.Put(t, ctx, h, axon.InboxName, m)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != m {
			t.Fatalf("got %v, want %s", got, m)
		}
	}
	h.Stop() // Leak is stuck in Send by design; only the context frees it.
	axontest.Wait(t, h)
	if !errors.Is(leakErr, context.Canceled) {
		t.Errorf("Leak's send ended with %v, want a context error", leakErr)
	}
	if n := leak.Out(axon.OutboxName).Sent(); n != 0 {
		t.Errorf("Leak's unlinked outbox delivered %d messages", n)
	}
	want := []any{"m1", "m2", "m3"}
	if got := seenA.all(); !slices.Equal(got, want) {
		t.Errorf("A saw %v, want %v", got, want)
	}
	if got := seenB.all(); !slices.Equal(got, want) {
		t.Errorf("B saw %v, want %v", got, want)
	}
}

func TestGraphlineSelfBoxes(t *testing.T) {
	ctx := axontest.Context(t)
	up := axontest.Map("Up", func(m any) any { return strings.ToUpper(m.(string)) })
	rev := axontest.Map("Rev", func(m any) any {
		r := []rune(m.(string))
		slices.Reverse(r)
		return string(r)
	})
	g := chassis.Graphline(
		chassis.Nodes{"UP": up, "REV": rev},
		chassis.Links{
			{chassis.Self, "inbox"}: {"UP", "inbox"},
			{"UP", "outbox"}:        {chassis.Self, "outbox"},
			{chassis.Self, "extra"}: {"REV", "inbox"},
			{"REV", "outbox"}:       {chassis.Self, "reversed"},
		})
	if g.Inbox("extra") == nil {
		t.Fatal(`("self","extra") did not become an inbox of the Graphline`)
	}
	if g.Outbox("reversed") == nil {
		t.Fatal(`("self","reversed") did not become an outbox of the Graphline`)
	}
	h := axontest.Start(t, ctx, g)
	axontest.Put(t, ctx, h, "extra", "abc")
	axontest.Put(t, ctx, h, axon.InboxName, "abc")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "ABC" {
		t.Errorf("outbox gave %v, want ABC", got)
	}
	if got := axontest.Get(t, ctx, h, "reversed"); got != "cba" {
		t.Errorf("reversed gave %v, want cba", got)
	}
	// The handle's links went straight to the children's inboxes.
	if up.Out(axon.OutboxName).Destination().Owner() == g || rev.Out(axon.OutboxName).Destination().Owner() == g {
		t.Error("a child's output stops at the Graphline instead of passing through")
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}

// TestGraphlineControlFanout: what arrives on the Graphline's control goes
// to every child whose control no link feeds, and only to those.
func TestGraphlineControlFanout(t *testing.T) {
	ctx := axontest.Context(t)
	var ctlA, ctlB, ctlC log
	var a *axon.Component
	// A notes its control message, then tells B to stop with a
	// ProducerFinished of its own.
	a = axon.New("A", func(ctx context.Context, c *axon.Component) error {
		select {
		case m := <-c.In(axon.ControlName):
			ctlA.add(m)
			return c.Finish(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	// B notes everything on its control and stops only for A's message.
	b := axon.New("B", func(ctx context.Context, c *axon.Component) error {
		for {
			select {
			case m := <-c.In(axon.ControlName):
				ctlB.add(m)
				if s, ok := m.(axon.Shutdown); ok && s.Origin() == a.Ref() {
					return nil
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	c := axon.New("C", func(ctx context.Context, c *axon.Component) error {
		select {
		case m := <-c.In(axon.ControlName):
			ctlC.add(m)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	g := chassis.Graphline(
		chassis.Nodes{"A": a, "B": b, "C": c},
		chassis.Links{{"A", "signal"}: {"B", "control"}})
	for _, ob := range g.Outboxes() {
		if d := ob.Destination(); d != nil && d.Owner() == b {
			t.Fatalf("Graphline outbox %s leads to B, whose control is linked from A", ob)
		}
	}
	h := axontest.Start(t, ctx, g)
	axontest.Tap(t, h, axon.SignalName)
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: g.Ref()}) {
		t.Errorf("signal carried %#v, want ProducerFinished from the Graphline", sig)
	}
	axontest.Wait(t, h)
	if got := ctlA.all(); !slices.Equal(got, []any{pf}) {
		t.Errorf("A's control saw %v, want [%v]", got, pf)
	}
	if got := ctlC.all(); !slices.Equal(got, []any{pf}) {
		t.Errorf("C's control saw %v, want [%v]", got, pf)
	}
	if got := ctlB.all(); !slices.Equal(got, []any{axon.ProducerFinished{From: a.Ref()}}) {
		t.Errorf("B's control saw %v, want only A's ProducerFinished", got)
	}
	if n := b.Inbox(axon.ControlName).Len(); n != 0 {
		t.Errorf("%d messages left on B's control, want none", n)
	}
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

func TestGraphlineEndsWhenAllChildrenEnd(t *testing.T) {
	ctx := axontest.Context(t)
	hold := make(chan struct{})
	quick := axon.New("Quick", func(context.Context, *axon.Component) error { return nil })
	slow := axon.New("Slow", func(ctx context.Context, c *axon.Component) error {
		select {
		case <-hold:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	g := chassis.Graphline(chassis.Nodes{"Q": quick, "S": slow}, nil)
	h := axontest.Start(t, ctx, g)
	axontest.Tap(t, h, axon.SignalName)
	<-quick.Done()
	if axontest.IsClosed(g.Done()) {
		t.Fatal("Graphline ended while a child was running")
	}
	close(hold)
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: g.Ref()}) {
		t.Errorf("signal carried %#v, want ProducerFinished from the Graphline", sig)
	}
	axontest.Wait(t, h)
	if !axontest.IsClosed(slow.Done()) {
		t.Fatal("Graphline ended before Slow")
	}
}

// A ShutdownMicroprocess stops every child, and is what the Graphline's
// signal carries.
func TestGraphlineShutdownMicroprocess(t *testing.T) {
	ctx := axontest.Context(t)
	kids := chassis.Nodes{}
	for _, n := range []string{"A", "B", "C"} {
		kids[n] = axontest.PassThrough(n, 2)
	}
	g := chassis.Graphline(kids, chassis.Links{
		{chassis.Self, "inbox"}: {"A", "inbox"},
		{"A", "outbox"}:         {"B", "inbox"},
		{"A", "signal"}:         {"B", "control"},
		{"B", "outbox"}:         {chassis.Self, "outbox"},
	})
	h := axontest.Start(t, ctx, g)
	axontest.Tap(t, h, axon.SignalName)
	passOneThenStop(t, ctx, h, 1)
	for n, k := range kids {
		if !axontest.IsClosed(k.Core().Done()) {
			t.Errorf("Graphline ended before %s", n)
		}
	}
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

// When a child feeds ("self","signal"), the Graphline sends nothing there
// of its own.
func TestGraphlineLinkedSignal(t *testing.T) {
	ctx := axontest.Context(t)
	gate := make(chan struct{})
	src := axon.New("Src", func(ctx context.Context, c *axon.Component) error {
		<-gate
		for i := range 2 {
			if err := c.Send(ctx, axon.OutboxName, i); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	})
	g := chassis.Graphline(
		chassis.Nodes{"SRC": src, "SINK": sink},
		chassis.Links{
			{"SRC", "outbox"}:  {"SINK", "inbox"},
			{"SRC", "signal"}:  {"SINK", "control"},
			{"SINK", "signal"}: {chassis.Self, "signal"},
		})
	h := axontest.Start(t, ctx, g)
	axontest.Tap(t, h, axon.SignalName)
	close(gate)
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: src.Ref()}) {
		t.Errorf("signal carried %#v, want Src's ProducerFinished passed on by Sink", sig)
	}
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

func TestGraphlineErrors(t *testing.T) {
	ctx := axontest.Context(t)
	twoStages := func() chassis.Nodes {
		return chassis.Nodes{"A": axontest.PassThrough("A", 1), "B": axontest.PassThrough("B", 1)}
	}
	cases := []struct {
		name  string
		nodes func() chassis.Nodes
		links chassis.Links
		is    error
		names []string
	}{
		{
			name:  "unknown child",
			nodes: func() chassis.Nodes { return chassis.Nodes{"A": axontest.PassThrough("A", 1)} },
			links: chassis.Links{{"A", "outbox"}: {"Nobody", "inbox"}},
			is:    axon.ErrBadLink,
			names: []string{`"Nobody"`},
		},
		{
			name:  "unknown source box",
			nodes: twoStages,
			links: chassis.Links{{"A", "nobox"}: {"B", "inbox"}},
			is:    axon.ErrNoSuchBox,
			names: []string{"nobox", "A#"},
		},
		{
			name:  "unknown destination box",
			nodes: twoStages,
			links: chassis.Links{{"A", "outbox"}: {"B", "elsewhere"}},
			is:    axon.ErrNoSuchBox,
			names: []string{"elsewhere", "B#"},
		},
		{
			name:  "child called self",
			nodes: func() chassis.Nodes { return chassis.Nodes{chassis.Self: axontest.PassThrough("A", 1)} },
			is:    axon.ErrBadLink,
			names: []string{`"self"`},
		},
		{
			name:  "self to self",
			nodes: func() chassis.Nodes { return chassis.Nodes{"A": axontest.PassThrough("A", 1)} },
			links: chassis.Links{{chassis.Self, "inbox"}: {chassis.Self, "outbox"}},
			is:    axon.ErrBadLink,
		},
		{
			name:  "typed nil child",
			nodes: func() chassis.Nodes { return chassis.Nodes{"A": (*axon.Component)(nil)} },
			is:    axon.ErrBadLink,
			names: []string{`"A"`},
		},
		{
			name:  "nil child",
			nodes: func() chassis.Nodes { return chassis.Nodes{"A": nil} },
			is:    axon.ErrBadLink,
			names: []string{`"A"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := axon.Run(ctx, chassis.Graphline(tc.nodes(), tc.links))
			if !errors.Is(err, tc.is) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.is)
			}
			var ce *axon.ComponentError
			if !errors.As(err, &ce) || !strings.HasPrefix(ce.Component, "Graphline#") {
				t.Errorf("error %v is not reported as the Graphline's", err)
			}
			for _, n := range tc.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %s", err, n)
				}
			}
		})
	}
}
