package axon_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// nest builds parents[0] ⊃ parents[1] ⊃ ... ⊃ leafOut on one side and the
// same on the other side ending in leafIn, and returns every link needed to
// carry leafOut's outbox up through its ancestors, across, and down into
// leafIn's inbox.
type linkSpec struct {
	from    *axon.Component
	fromBox string
	to      *axon.Component
	toBox   string
}

func nestedChain(depth int) (leafOut, leafIn *axon.Component, links []linkSpec) {
	leafOut, leafIn = axon.New("LeafOut", nil), axon.New("LeafIn", nil)
	outAnc, inAnc := leafOut, leafIn
	for i := range depth {
		po := axon.New(fmt.Sprintf("OutParent%d", i), nil)
		pi := axon.New(fmt.Sprintf("InParent%d", i), nil)
		if err := po.AddChild(outAnc); err != nil {
			panic(err)
		}
		if err := pi.AddChild(inAnc); err != nil {
			panic(err)
		}
		links = append(links, linkSpec{outAnc, "outbox", po, "outbox"}, linkSpec{pi, "inbox", inAnc, "inbox"})
		outAnc, inAnc = po, pi
	}
	links = append(links, linkSpec{outAnc, "outbox", inAnc, "inbox"})
	return leafOut, leafIn, links
}

func TestPassthroughResolvesInAnyOrder(t *testing.T) {
	for depth := 0; depth <= 4; depth++ {
		for seed := range 8 {
			leafOut, leafIn, links := nestedChain(depth)
			// Apply the links in a different order each time.
			order := make([]int, len(links))
			for i := range order {
				order[i] = (i*(seed+1) + seed) % len(links)
			}
			seen := map[int]bool{}
			var perm []int
			for _, i := range order {
				if !seen[i] {
					seen[i] = true
					perm = append(perm, i)
				}
			}
			for i := range links {
				if !seen[i] {
					perm = append(perm, i)
				}
			}
			for k, i := range perm {
				l := links[i]
				if err := axon.Link(l.from, l.fromBox, l.to, l.toBox); err != nil {
					t.Fatal(err)
				}
				want := leafIn.Inbox("inbox")
				got := leafOut.Out("outbox").Destination()
				if k == len(perm)-1 && got != want {
					t.Fatalf("depth %d order %v: destination %v, want %v", depth, perm, got, want)
				}
				if k < len(perm)-1 && got != nil && got == want {
					t.Fatalf("depth %d: resolved before the chain was complete", depth)
				}
			}
			// One hop: the message is in the leaf's own channel.
			if err := leafOut.TrySend("outbox", "m"); err != nil {
				t.Fatal(err)
			}
			if got := <-leafIn.In("inbox"); got != "m" {
				t.Fatalf("got %v", got)
			}
			// Breaking a middle link unresolves, relinking resolves again.
			mid := links[len(links)/2]
			if err := axon.Unlink(mid.from, mid.fromBox); err != nil {
				t.Fatal(err)
			}
			// Without the middle link, sends stop short of the leaf (in a
			// parent's own inbox, where they wait, or nowhere).
			if leafOut.Out("outbox").Destination() == leafIn.Inbox("inbox") {
				t.Fatal("still reaches the leaf after a middle link was removed")
			}
			if err := axon.Link(mid.from, mid.fromBox, mid.to, mid.toBox); err != nil {
				t.Fatal(err)
			}
			if leafOut.Out("outbox").Destination() != leafIn.Inbox("inbox") {
				t.Fatal("relinking the middle did not restore the route")
			}
		}
	}
}

func TestLinkErrors(t *testing.T) {
	a, b, c := axon.New("Alpha", nil), axon.New("Beta", nil), axon.New("Gamma", nil)
	if err := axon.Link(a, "outbox", b, "inbox"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		err   error
		is    error
		names []string
	}{
		{"outbox linked twice", axon.Link(a, "outbox", c, "inbox"), axon.ErrAlreadyLinked, []string{"Alpha#", ".outbox", "Gamma#", "Beta#"}},
		{"unknown source box", axon.Link(a, "outbx", b, "inbox"), axon.ErrNoSuchBox, []string{"Alpha#", "outbx"}},
		{"unknown destination box", axon.Link(a, "signal", b, "controll"), axon.ErrNoSuchBox, []string{"Beta#", "controll"}},
		{"inbox to outbox", axon.Link(a, "inbox", b, "outbox"), axon.ErrBadLink, []string{"Alpha#", "Beta#"}},
		{"inbox passthrough to non-child", axon.Link(a, "inbox", c, "inbox"), axon.ErrBadLink, []string{"child"}},
		{"outbox passthrough to non-parent", axon.Link(b, "outbox", c, "outbox"), axon.ErrBadLink, []string{"child"}},
		{"unlink unlinked", axon.Unlink(c, "outbox"), axon.ErrNotLinked, []string{"Gamma#"}},
		{"unlink unknown", axon.Unlink(c, "nope"), axon.ErrNoSuchBox, []string{"nope"}},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.is) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.is)
			continue
		}
		for _, n := range tc.names {
			if !strings.Contains(tc.err.Error(), n) {
				t.Errorf("%s: %q does not mention %q", tc.name, tc.err, n)
			}
		}
	}
}

func TestPassthroughLoopRefused(t *testing.T) {
	p, k := axon.New("P", nil), axon.New("K", nil)
	if err := p.AddChild(k); err != nil {
		t.Fatal(err)
	}
	if err := p.AddChild(p); !errors.Is(err, axon.ErrBadLink) {
		t.Fatalf("self as child: %v", err)
	}
	q := axon.New("Q", nil)
	if err := q.AddChild(k); !errors.Is(err, axon.ErrBadLink) {
		t.Fatalf("second parent: %v", err)
	}
}

type celsius float64

func TestTypedBoxes(t *testing.T) {
	src := axon.New("Thermometer", nil, axon.WithOutbox("outbox", "readings", axon.Carries[celsius]()))
	strs := axon.New("Printer", nil, axon.WithInbox("inbox", "lines", axon.Carries[string]()))
	anyIn := axon.New("Any", nil)
	stringer := axon.New("Fmt", nil, axon.WithInbox("inbox", "things to format", axon.Carries[fmt.Stringer]()))
	err := axon.Link(src, "outbox", strs, "inbox")
	if !errors.Is(err, axon.ErrTypeMismatch) {
		t.Fatalf("celsius -> string: got %v", err)
	}
	for _, n := range []string{"Thermometer#", "Printer#", "celsius", "string"} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("%q does not mention %q", err, n)
		}
	}
	if err := axon.Link(src, "outbox", anyIn, "inbox"); err != nil {
		t.Fatalf("typed -> untyped: %v", err)
	}
	// An interface type accepts the types that implement it.
	named := axon.New("Named", nil, axon.WithOutbox("outbox", "refs", axon.Carries[axon.Ref]()))
	if err := axon.Link(named, "outbox", stringer, "inbox"); err != nil {
		t.Fatalf("Ref -> fmt.Stringer: %v", err)
	}
	if got := stringer.Inbox("inbox").Type().String(); got != "fmt.Stringer" {
		t.Errorf("declared type %q", got)
	}
}

// TestRelinkWhileRunning moves a running producer from one consumer to
// another and back while it sends; every message arrives exactly once and,
// per consumer, in order.
func TestRelinkWhileRunning(t *testing.T) {
	ctx := axontest.Context(t)
	const n = 20000
	prod := axon.New("Producer", func(ctx context.Context, c *axon.Component) error {
		out := c.Out("outbox")
		for i := range n {
			if err := out.Send(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
	results := make(chan []int, 2)
	consumer := func(name string) *axon.Component {
		return axon.New(name, func(ctx context.Context, c *axon.Component) error {
			var got []int
			in := c.In("inbox")
			for {
				select {
				case m := <-in:
					got = append(got, m.(int))
				case <-c.In("control"):
					for {
						select {
						case m := <-in:
							got = append(got, m.(int))
						default:
							results <- got
							return nil
						}
					}
				}
			}
		}, axon.WithInbox("inbox", "numbers", axon.Capacity(4)))
	}
	a, b := consumer("A"), consumer("B")
	root := axon.New("Root", nil, axon.WithChildren(prod, a, b))
	if err := axon.Link(prod, "outbox", a, "inbox"); err != nil {
		t.Fatal(err)
	}
	h := axon.Start(ctx, root)
	for i := 0; prod.Running(); i++ {
		if err := axon.Unlink(prod, "outbox"); err != nil {
			t.Fatal(err)
		}
		next := a
		if i%2 == 0 {
			next = b
		}
		if err := axon.Link(prod, "outbox", next, "inbox"); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	<-prod.Done()
	for _, c := range []*axon.Component{a, b} {
		stop := axon.New("S", nil)
		if err := axon.Link(stop, "outbox", c, "control"); err != nil {
			t.Fatal(err)
		}
		if err := stop.Send(ctx, "outbox", axon.ShutdownMicroprocess{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, n)
	for range 2 {
		got := <-results
		for i, v := range got {
			if seen[v] {
				t.Fatalf("message %d delivered twice", v)
			}
			seen[v] = true
			if i > 0 && got[i-1] >= v {
				t.Fatalf("out of order: %d after %d", v, got[i-1])
			}
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("message %d lost", i)
		}
	}
}

func TestPassthroughOnlyInbox(t *testing.T) {
	ctx := axontest.Context(t)
	parent := axon.New("Container", nil, axon.WithInbox("inbox", "passed to the child", axon.PassthroughOnly()))
	child := axon.New("Child", nil)
	src := axon.New("Src", nil)
	if err := parent.AddChild(child); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(src, "outbox", parent, "inbox"); err != nil {
		t.Fatal(err)
	}
	if !parent.Inbox("inbox").PassthroughOnly() || parent.Inbox("inbox").Cap() != 0 {
		t.Fatal("box is not passthrough-only")
	}
	// Until the container passes the box through, sending to it is like
	// sending on an unlinked outbox: nothing can be stranded in it.
	if err := src.TrySend("outbox", "x"); !errors.Is(err, axon.ErrNotLinked) {
		t.Fatalf("TrySend before passthrough: %v", err)
	}
	sent := make(chan error, 1)
	go func() { sent <- src.Send(ctx, "outbox", "first") }()
	if err := axon.Link(parent, "inbox", child, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := <-child.In("inbox"); got != "first" {
		t.Fatalf("child got %v", got)
	}
	if err := axon.Unlink(parent, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := src.TrySend("outbox", "x"); !errors.Is(err, axon.ErrNotLinked) {
		t.Fatalf("TrySend after the passthrough went: %v", err)
	}
	// Receiving from it is a programming error, reported like any panic.
	err := axon.Run(ctx, axon.New("Reader", func(ctx context.Context, c *axon.Component) error {
		<-c.In("inbox")
		return nil
	}, axon.WithInbox("inbox", "", axon.PassthroughOnly())))
	if !errors.Is(err, axon.ErrPanic) || !strings.Contains(err.Error(), "passthrough-only") {
		t.Fatalf("receiving from a passthrough-only box: %v", err)
	}
}

// TestPassthroughLeavesQueuedForParent: a parent that reads its own inbox
// keeps what was queued there when it starts passing the box through.
func TestPassthroughLeavesQueuedForParent(t *testing.T) {
	parent := axon.New("Parent", nil)
	child := axon.New("Child", nil)
	src := axon.New("Src", nil)
	_ = parent.AddChild(child)
	_ = axon.Link(src, "outbox", parent, "inbox")
	for i := range 3 {
		if err := src.TrySend("outbox", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := axon.Link(parent, "inbox", child, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := src.TrySend("outbox", "new"); err != nil {
		t.Fatal(err)
	}
	if parent.Inbox("inbox").Len() != 3 || child.Inbox("inbox").Len() != 1 {
		t.Fatalf("parent holds %d, child %d; want 3 and 1", parent.Inbox("inbox").Len(), child.Inbox("inbox").Len())
	}
}

func TestAdaptiveBoxes(t *testing.T) {
	ctx := axontest.Context(t)
	added := make(chan struct{})
	c := axon.New("Adaptive", func(ctx context.Context, c *axon.Component) error {
		<-added
		select {
		case m := <-c.In("extra"):
			return c.Send(ctx, "report", m)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	h := axon.Start(ctx, c)
	if _, err := c.AddInbox("extra", "added while running", axon.Capacity(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddOutbox("report", "added while running"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddInbox("extra", "again"); !errors.Is(err, axon.ErrBoxExists) {
		t.Fatalf("duplicate box: %v", err)
	}
	close(added)
	if err := h.Put(ctx, "extra", "hi"); err != nil {
		t.Fatal(err)
	}
	if got, err := h.Get(ctx, "report"); err != nil || got != "hi" {
		t.Fatalf("got %v, %v", got, err)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	// Removing returns what was queued rather than dropping it.
	d := axon.New("D", nil)
	if _, err := d.AddInbox("tmp", "", axon.Capacity(4)); err != nil {
		t.Fatal(err)
	}
	s := axon.New("S", nil)
	_ = axon.Link(s, "outbox", d, "tmp")
	_ = s.TrySend("outbox", 1)
	_ = s.TrySend("outbox", 2)
	left, err := d.RemoveInbox("tmp")
	if err != nil || len(left) != 2 || left[0] != 1 || left[1] != 2 {
		t.Fatalf("RemoveInbox = %v, %v", left, err)
	}
	if s.Out("outbox").Linked() {
		t.Fatal("link to a removed inbox survived")
	}
	if _, err := d.RemoveInbox("inbox"); !errors.Is(err, axon.ErrBoxInUse) {
		t.Fatalf("removing a default box: %v", err)
	}
	if err := d.RemoveOutbox("nope"); !errors.Is(err, axon.ErrNoSuchBox) {
		t.Fatalf("removing unknown: %v", err)
	}
}

// A passthrough inbox that leads to no child holds senders as an unlinked
// box does, until its owner has ended: then no link can come, and they
// fail with ErrReceiverDone rather than wait for ever.
func TestSendToDeadEndPassthroughOfEndedComponent(t *testing.T) {
	ctx := axontest.Context(t)
	hollow := axon.New("Hollow", func(ctx context.Context, c *axon.Component) error {
		<-c.In(axon.ControlName)
		return nil
	}, axon.WithInbox(axon.InboxName, "leads nowhere", axon.PassthroughOnly()))
	src := axon.New("Src", nil)
	if err := axon.Link(src, axon.OutboxName, hollow, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	out := src.Out(axon.OutboxName)
	h := axontest.Start(t, ctx, hollow)
	if err := out.TrySend(1); !errors.Is(err, axon.ErrNotLinked) {
		t.Fatalf("TrySend while it runs: %v, want ErrNotLinked", err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- out.Send(ctx, 2) }()
	select {
	case err := <-waiting:
		t.Fatalf("Send returned %v while the owner runs, want it to wait", err)
	case <-time.After(20 * time.Millisecond):
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{})
	axontest.Wait(t, h)
	if err := <-waiting; !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("waiting Send after the owner ended: %v, want ErrReceiverDone", err)
	}
	if err := out.Send(ctx, 3); !errors.Is(err, axon.ErrReceiverDone) {
		t.Errorf("Send after the owner ended: %v, want ErrReceiverDone", err)
	}
	if err := out.TrySend(4); !errors.Is(err, axon.ErrReceiverDone) {
		t.Errorf("TrySend after the owner ended: %v, want ErrReceiverDone", err)
	}
}
