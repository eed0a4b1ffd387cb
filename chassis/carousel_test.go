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

// echoChild sends back every message it gets as "name:message"; on any
// message on its control it notes it in ctl, passes it on and ends (after
// echoing what is queued, for a ProducerFinished).
func echoChild(name string, ctl *log, started func(*axon.Component)) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		if started != nil {
			started(c)
		}
		echo := func(ctx context.Context, m any) error {
			return c.Send(ctx, axon.OutboxName, fmt.Sprintf("%s:%v", name, m))
		}
		for {
			select {
			case m := <-c.In(axon.ControlName):
				if ctl != nil {
					ctl.add(m)
				}
				_, err := c.Control(ctx, m, echo)
				return err
			case m := <-c.In(axon.InboxName):
				if err := echo(ctx, m); err != nil {
					return err
				}
			case <-ctx.Done():
				// A ShutdownMicroprocess delivered to control cancels
				// the context at once: note it if that is why.
				if ctl != nil {
					for _, m := range drainCtl(c) {
						ctl.add(m)
					}
				}
				return ctx.Err()
			}
		}
	})
}

func drainCtl(c *axon.Component) []any {
	var out []any
	for {
		select {
		case m := <-c.In(axon.ControlName):
			out = append(out, m)
		default:
			return out
		}
	}
}

func TestCarouselFactoryPerNext(t *testing.T) {
	ctx := axontest.Context(t)
	var made []any
	// "next" and "inbox" are separate boxes: a message put on inbox right
	// after "next" may still reach the old child. Once the factory has been
	// asked for the new one, the old one is gone and inbox waits for it.
	asked := make(chan struct{}, 1)
	car := chassis.Carousel(func(m any) axon.Node {
		made = append(made, m)
		asked <- struct{}{}
		return echoChild(m.(string), nil, nil)
	})
	h := axontest.Start(t, ctx, car)
	axontest.Put(t, ctx, h, chassis.NextName, "one")
	<-asked
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "one:1" {
		t.Fatalf("got %v, want one:1", got)
	}
	axontest.Put(t, ctx, h, chassis.NextName, "two")
	<-asked
	axontest.Put(t, ctx, h, axon.InboxName, 2)
	axontest.Put(t, ctx, h, axon.InboxName, 3)
	for _, want := range []string{"two:2", "two:3"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: axontest.Tester}) {
		t.Errorf("signal carried %#v", sig)
	}
	axontest.Wait(t, h)
	if !slices.Equal(made, []any{"one", "two"}) {
		t.Errorf("factory called with %v, want [one two]", made)
	}
}

// TestCarouselReplacementAfterShutdown: a second "next" shuts the first
// child down, and the first has ended before the factory is asked for its
// replacement and before the replacement runs.
func TestCarouselReplacementAfterShutdown(t *testing.T) {
	ctx := axontest.Context(t)
	var ctl [3]log
	var kids []*axon.Component
	var problems []string // written by the Carousel's goroutine and the children's; read after the end
	var mu sync.Mutex
	asked := make(chan struct{}, 1)
	problem := func(s string) {
		mu.Lock()
		problems = append(problems, s)
		mu.Unlock()
	}
	car := chassis.Carousel(func(m any) axon.Node {
		i := m.(int)
		if i > 0 && !axontest.IsClosed(kids[i-1].Done()) {
			problem(fmt.Sprintf("factory asked for child %d while child %d runs", i, i-1))
		}
		k := echoChild(fmt.Sprint("child", i), &ctl[i], func(c *axon.Component) {
			if i > 0 && !axontest.IsClosed(kids[i-1].Done()) {
				problem(fmt.Sprintf("child %d started while child %d runs", i, i-1))
			}
		})
		kids = append(kids, k)
		asked <- struct{}{}
		return k
	})
	h := axontest.Start(t, ctx, car)
	axontest.Tap(t, h, axon.SignalName)
	for i := range 3 {
		axontest.Put(t, ctx, h, chassis.NextName, i)
		<-asked
		axontest.Put(t, ctx, h, axon.InboxName, "x")
		if got, want := axontest.Get(t, ctx, h, axon.OutboxName), fmt.Sprint("child", i, ":x"); got != want {
			t.Fatalf("got %v, want %s", got, want)
		}
		if kids := car.Children(); len(kids) != 1 {
			t.Fatalf("Carousel has %d children, want 1", len(kids))
		}
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.Wait(t, h)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	sm := axon.ShutdownMicroprocess{From: car.Ref()}
	for i := range 2 {
		if got := ctl[i].all(); !slices.Equal(got, []any{sm}) {
			t.Errorf("child %d's control saw %v, want [%v]", i, got, sm)
		}
	}
	// The last child was stopped with the Carousel, and the Carousel's
	// shutdown was passed on.
	if !axontest.IsClosed(kids[2].Done()) {
		t.Error("the Carousel ended before its last child")
	}
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ShutdownMicroprocess{From: axontest.Tester}) {
		t.Errorf("signal carried %#v, want the ShutdownMicroprocess", sig)
	}
}

// takeOne is a child that handles a single message and ends by itself.
func takeOne(tag string) *axon.Component {
	return axon.New("TakeOne("+tag+")", func(ctx context.Context, c *axon.Component) error {
		select {
		case m := <-c.In(axon.InboxName):
			return c.Send(ctx, axon.OutboxName, tag+":"+m.(string))
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func TestCarouselRequestNextAndWaitingMessages(t *testing.T) {
	ctx := axontest.Context(t)
	car := chassis.Carousel(func(m any) axon.Node { return takeOne(m.(string)) })
	h := axontest.Start(t, ctx, car)
	axontest.Tap(t, h, chassis.RequestNextName)
	// Sent before any child exists: they wait in the Carousel.
	axontest.Put(t, ctx, h, axon.InboxName, "early")
	axontest.Put(t, ctx, h, axon.InboxName, "later")
	if n := car.Inbox(axon.InboxName).Len(); n != 2 {
		t.Fatalf("%d messages waiting in the Carousel, want 2", n)
	}
	axontest.Put(t, ctx, h, chassis.NextName, "A")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "A:early" {
		t.Fatalf("got %v, want A:early", got)
	}
	// A ended by itself: the Carousel asks for the next child.
	if got := axontest.Get(t, ctx, h, chassis.RequestNextName); got != car.Ref() {
		t.Fatalf("requestNext carried %v, want the Carousel's Ref", got)
	}
	if kids := car.Children(); len(kids) != 0 {
		t.Fatalf("Carousel still holds %v after its child ended", kids)
	}
	// What arrives now, between children, waits in the Carousel, behind
	// what A left unread. "later" is there too unless the forwarder had
	// already moved it into A's inbox when A ended: both are kept, in
	// order, for B.
	axontest.Put(t, ctx, h, axon.InboxName, "between")
	if n := car.Inbox(axon.InboxName).Len(); n != 1 && n != 2 {
		t.Fatalf("%d messages waiting in the Carousel between children, want 1 or 2", n)
	}
	for _, tag := range []string{"B", "C"} {
		axontest.Put(t, ctx, h, chassis.NextName, tag)
		want := map[string]string{"B": "B:later", "C": "C:between"}[tag]
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %s", got, want)
		}
		if got := axontest.Get(t, ctx, h, chassis.RequestNextName); got != car.Ref() {
			t.Fatalf("requestNext carried %v, want the Carousel's Ref", got)
		}
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}

// TestCarouselBacklogLargerThanChildInbox: more messages wait in the
// Carousel than the next child's inbox can hold at once; all reach it,
// in order.
func TestCarouselBacklogLargerThanChildInbox(t *testing.T) {
	ctx := axontest.Context(t)
	car := chassis.Carousel(func(any) axon.Node { return axontest.PassThrough("Narrow", 1) })
	h := axontest.Start(t, ctx, car)
	const n = 12
	for i := range n {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	axontest.Put(t, ctx, h, chassis.NextName, "go")
	for i := range n {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}

// TestCarouselCarriesUnreadToNextChild: what a child leaves unread in its
// inbox when it ends goes to the next child, ahead of anything newer.
func TestCarouselCarriesUnreadToNextChild(t *testing.T) {
	ctx := axontest.Context(t)
	car := chassis.Carousel(func(m any) axon.Node { return takeOne(m.(string)) })
	h := axontest.Start(t, ctx, car)
	axontest.Tap(t, h, chassis.RequestNextName)
	for _, m := range []string{"a", "b", "c"} {
		axontest.Put(t, ctx, h, axon.InboxName, m)
	}
	axontest.Put(t, ctx, h, chassis.NextName, "1")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "1:a" {
		t.Fatalf("got %v, want 1:a", got)
	}
	axontest.Get(t, ctx, h, chassis.RequestNextName)
	axontest.Put(t, ctx, h, axon.InboxName, "d")
	for i, want := range []string{"2:b", "3:c", "4:d"} {
		axontest.Put(t, ctx, h, chassis.NextName, fmt.Sprint(i+2))
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %s", got, want)
		}
		axontest.Get(t, ctx, h, chassis.RequestNextName)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}

// TestCarouselProducerFinishedHandsOverBacklog: a ProducerFinished that
// comes while the child is still being handed its backlog waits for the
// hand-over, so the child finishes everything.
func TestCarouselProducerFinishedHandsOverBacklog(t *testing.T) {
	ctx := axontest.Context(t)
	asked := make(chan struct{}, 1)
	car := chassis.Carousel(func(any) axon.Node {
		asked <- struct{}{}
		return axontest.PassThrough("Narrow", 1)
	})
	h := axontest.Start(t, ctx, car)
	const n = 14
	for i := range n {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	axontest.Put(t, ctx, h, chassis.NextName, "go")
	<-asked
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	for i := range n {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	if sig := axontest.Get(t, ctx, h, axon.SignalName); sig != (axon.ProducerFinished{From: axontest.Tester}) {
		t.Errorf("signal carried %#v", sig)
	}
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// takeK forwards k messages and ends.
func takeK(name string, k, capacity int) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		for range k {
			select {
			case m := <-c.In(axon.InboxName):
				if err := c.Send(ctx, axon.OutboxName, m); err != nil {
					return err
				}
			case <-c.In(axon.ControlName):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}, axon.WithInbox(axon.InboxName, "messages to forward", axon.Capacity(capacity)))
}

// TestCarouselStreamAcrossChildren sends a stream into a Carousel whose
// children each forward a few messages and end, while a driver answers
// every requestNext with a "next": the stream comes out whole and in
// order, though it crossed many children and arrived at every stage of
// their swapping.
func TestCarouselStreamAcrossChildren(t *testing.T) {
	ctx := axontest.Context(t)
	const n = 5000
	made := 0
	car := chassis.Carousel(func(m any) axon.Node {
		made++
		k := m.(int)
		return takeK(fmt.Sprint("Take", k), k%5+1, k%7+1)
	})
	// Wire the driver as a sibling so that requestNext is linked from the
	// start.
	driver := axon.New("Driver", func(ctx context.Context, c *axon.Component) error {
		if err := c.Send(ctx, axon.OutboxName, 0); err != nil {
			return err
		}
		for i := 1; ; i++ {
			select {
			case <-c.In(axon.InboxName):
				if err := c.Send(ctx, axon.OutboxName, i); err != nil {
					return err
				}
			case <-c.In(axon.ControlName):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	g := chassis.Graphline(
		chassis.Nodes{"CAR": car, "DRIVER": driver},
		chassis.Links{
			{chassis.Self, "inbox"}:   {"CAR", "inbox"},
			{chassis.Self, "control"}: {"CAR", "control"},
			{"CAR", "outbox"}:         {chassis.Self, "outbox"},
			{"CAR", "requestNext"}:    {"DRIVER", "inbox"},
			{"DRIVER", "outbox"}:      {"CAR", "next"},
			{"CAR", "signal"}:         {"DRIVER", "control"},
		})
	h := axontest.Start(t, ctx, g)
	putErr := make(chan error, 1)
	go func() {
		for i := range n {
			if err := h.Put(ctx, axon.InboxName, i); err != nil {
				putErr <- fmt.Errorf("put %d: %w", i, err)
				return
			}
		}
		putErr <- nil
	}()
	for i := range n {
		got, err := h.Get(ctx, axon.OutboxName)
		if err != nil {
			select {
			case perr := <-putErr:
				t.Logf("producer: %v", perr)
			default:
			}
			t.Fatalf("message %d: %v\n%s", i, err, axon.Inspect(g).Mermaid())
		}
		if got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.Wait(t, h)
	t.Logf("%d messages through %d children", n, made)
}

func TestCarouselFactoryNilIsAnError(t *testing.T) {
	ctx := axontest.Context(t)
	car := chassis.Carousel(func(any) axon.Node { return nil })
	h := axontest.Start(t, ctx, car)
	axontest.Put(t, ctx, h, chassis.NextName, "nothing")
	err := h.Wait()
	var ce *axon.ComponentError
	if !errors.As(err, &ce) || ce.Component != car.String() {
		t.Fatalf("got %v, want an error naming the Carousel", err)
	}
}

// lazyChild reads nothing until its control says to stop. On a
// ProducerFinished it sends every message queued for it as
// "name:message", then passes the notice on; a ShutdownMicroprocess
// stops it without reading. What it finds on control goes to ctl. When
// stopping is non-nil, the child says so on it as it ends, then does not
// end before gate is closed (a child slow to tidy up, as in a defer).
func lazyChild(name string, ctl *log, stopping chan<- struct{}, gate <-chan struct{}) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		if stopping != nil {
			defer func() {
				stopping <- struct{}{}
				<-gate
			}()
		}
		echo := func(ctx context.Context, m any) error {
			return c.Send(ctx, axon.OutboxName, fmt.Sprintf("%s:%v", name, m))
		}
		for {
			select {
			case m := <-c.In(axon.ControlName):
				ctl.add(m)
				if stop, err := c.Control(ctx, m, echo); stop || err != nil {
					return err
				}
			case <-ctx.Done():
				// A ShutdownMicroprocess cancels the context as it lands.
				for _, m := range drainCtl(c) {
					ctl.add(m)
				}
				return ctx.Err()
			}
		}
	})
}

// lazyCarousel is a Carousel of lazyChild, each named after the message on
// next that made it. It notes the messages the factory was called with,
// in made, and each child's control log, in ctls; both are written only
// by the Carousel's goroutine, to be read once it has ended. A child
// found running when the factory is asked for the next is a problem.
// The child made from slow is slow to stop (see lazyChild).
type lazyCarousel struct {
	car      *axon.Component
	made     []any
	ctls     map[string]*log
	problems []string
	stopping chan struct{}
	gate     chan struct{}
	open     func() // closes gate; a test defers it, so that a failed test does not hang its cleanup
}

func newLazyCarousel(slow string) *lazyCarousel {
	lc := &lazyCarousel{ctls: map[string]*log{}, stopping: make(chan struct{}, 1), gate: make(chan struct{})}
	var open sync.Once
	lc.open = func() { open.Do(func() { close(lc.gate) }) }
	var prev *axon.Component
	lc.car = chassis.Carousel(func(m any) axon.Node {
		name := m.(string)
		lc.made = append(lc.made, m)
		if prev != nil && !axontest.IsClosed(prev.Done()) {
			lc.problems = append(lc.problems, fmt.Sprintf("factory asked for %s while %s runs", name, prev.Name()))
		}
		lc.ctls[name] = &log{}
		var stopping chan<- struct{}
		if name == slow {
			stopping = lc.stopping
		}
		prev = lazyChild(name, lc.ctls[name], stopping, lc.gate)
		return prev
	})
	return lc
}

// check checks, once the Carousel has ended, that the factory was called
// with want, in order, and that each child but the last was shut down by
// the Carousel and the last was handed last.
func (lc *lazyCarousel) check(t *testing.T, want []any, last any) {
	t.Helper()
	for _, p := range lc.problems {
		t.Error(p)
	}
	if !slices.Equal(lc.made, want) {
		t.Fatalf("factory called with %v, want %v", lc.made, want)
	}
	sm := axon.ShutdownMicroprocess{From: lc.car.Ref()}
	for i, m := range want {
		w := any(sm)
		if i == len(want)-1 {
			w = last
		}
		if got := lc.ctls[m.(string)].all(); !slices.Equal(got, []any{w}) {
			t.Errorf("child %v's control saw %v, want [%v]", m, got, w)
		}
	}
}

// TestCarouselQueuedNextsBeforeProducerFinished: "next" messages and a
// ProducerFinished are all queued before the Carousel starts. Every next
// makes its child, in order, each shut down for the next, and only then is
// the ProducerFinished handed to the last child (after what was queued for
// it) and passed on: none of the nexts is dropped.
func TestCarouselQueuedNextsBeforeProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	lc := newLazyCarousel("")
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, lc.car, chassis.NextName, "a", "b", "c")
	axontest.Preload(t, lc.car, axon.InboxName, 1, 2)
	axontest.Preload(t, lc.car, axon.ControlName, pf)
	h := axontest.Start(t, ctx, lc.car)
	for _, want := range []string{"c:1", "c:2"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	lc.check(t, []any{"a", "b", "c"}, pf)
}

// TestCarouselNextsQueuedBehindProducerFinished: while the Carousel is
// busy (retiring a child that is slow to stop), a ProducerFinished arrives
// on control and then more "next" messages. The Carousel handles every
// next queued before it acts on the ProducerFinished, which the last child
// gets, after everything the earlier ones left unread.
func TestCarouselNextsQueuedBehindProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	lc := newLazyCarousel("a")
	defer lc.open()
	pf := axon.ProducerFinished{From: axontest.Tester}
	h := axontest.Start(t, ctx, lc.car)
	axontest.Put(t, ctx, h, chassis.NextName, "a")
	axontest.Put(t, ctx, h, axon.InboxName, "w")
	axontest.Put(t, ctx, h, chassis.NextName, "b")
	<-lc.stopping // a is stopping, and the Carousel waits for it
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	axontest.Put(t, ctx, h, chassis.NextName, "c")
	axontest.Put(t, ctx, h, chassis.NextName, "d")
	lc.open()
	for _, want := range []string{"d:w", "d:x"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	lc.check(t, []any{"a", "b", "c", "d"}, pf)
}

// TestCarouselShutdownMicroprocessBeforeQueuedNexts: a
// ShutdownMicroprocess does not wait for "next" messages queued with it:
// the Carousel ends without making a child for any of them.
func TestCarouselShutdownMicroprocessBeforeQueuedNexts(t *testing.T) {
	t.Run("queued before start", func(t *testing.T) {
		ctx := axontest.Context(t)
		lc := newLazyCarousel("")
		sm := axon.ShutdownMicroprocess{From: axontest.Tester}
		axontest.Preload(t, lc.car, chassis.NextName, "a", "b")
		axontest.Preload(t, lc.car, axon.ControlName, sm)
		h := axontest.Start(t, ctx, lc.car)
		axontest.ExpectSignal(t, ctx, h, sm)
		axontest.Wait(t, h)
		lc.check(t, nil, nil)
	})
	t.Run("while a child stops", func(t *testing.T) {
		ctx := axontest.Context(t)
		lc := newLazyCarousel("a")
		defer lc.open()
		sm := axon.ShutdownMicroprocess{From: axontest.Tester}
		h := axontest.Start(t, ctx, lc.car)
		axontest.Put(t, ctx, h, chassis.NextName, "a")
		axontest.Put(t, ctx, h, chassis.NextName, "b")
		<-lc.stopping
		axontest.Put(t, ctx, h, axon.ControlName, sm)
		// Stopped, the Carousel may already refuse this one.
		if err := h.Put(ctx, chassis.NextName, "c"); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
			t.Fatalf("put to next: %v", err)
		}
		lc.open()
		axontest.ExpectSignal(t, ctx, h, sm)
		axontest.Wait(t, h)
		// a was asked to stop for b, and stopped; nothing was made after.
		lc.check(t, []any{"a"}, axon.ShutdownMicroprocess{From: lc.car.Ref()})
	})
}
