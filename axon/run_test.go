package axon_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// waiter blocks until its context ends, as a well-behaved idle component.
func waiter(name string) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		<-ctx.Done()
		return ctx.Err()
	})
}

func TestErrorShutsGraphDown(t *testing.T) {
	ctx := axontest.Context(t)
	boom := errors.New("boom")
	bad := axon.New("Faulty", func(context.Context, *axon.Component) error { return boom })
	root := axon.New("Root", nil, axon.WithChildren(waiter("W1"), bad, waiter("W2")))
	err := axon.Run(ctx, root)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	var ce *axon.ComponentError
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.Component, "Faulty#") {
		t.Fatalf("error does not name the component: %v", err)
	}
	if strings.Count(err.Error(), "component ") != 1 {
		t.Fatalf("the components that were told to stop were reported too: %v", err)
	}
}

func TestPanicReportedWithStack(t *testing.T) {
	ctx := axontest.Context(t)
	bad := axon.New("Panicky", func(context.Context, *axon.Component) error {
		var m map[string]int
		m["x"] = 1 // nil map write
		return nil
	})
	root := axon.New("Root", nil, axon.WithChildren(waiter("W"), bad))
	err := axon.Run(ctx, root)
	if !errors.Is(err, axon.ErrPanic) {
		t.Fatalf("got %v, want ErrPanic", err)
	}
	var ce *axon.ComponentError
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.Component, "Panicky#") || len(ce.Stack) == 0 {
		t.Fatalf("panic report lacks name or stack: %#v", ce)
	}
	if !strings.Contains(string(ce.Stack), "run_test.go") {
		t.Errorf("stack does not show the panicking code:\n%s", ce.Stack)
	}
}

func TestContextEndsEverything(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := axon.Start(ctx, axon.New("Root", nil, axon.WithChildren(waiter("A"), waiter("B"))))
	cancel()
	if err := h.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestHandleStop(t *testing.T) {
	h := axon.Start(context.Background(), axon.New("Root", nil, axon.WithChildren(waiter("A"))))
	h.Stop()
	if err := h.Wait(); err != nil {
		t.Fatalf("stopped graph reported %v", err)
	}
}

func TestStartTwiceIsAnError(t *testing.T) {
	ctx := axontest.Context(t)
	c := waiter("Once")
	h := axon.Start(ctx, c)
	if err := axon.Run(ctx, c); !errors.Is(err, axon.ErrAlreadyStarted) {
		t.Fatalf("second start: %v", err)
	}
	h.Stop()
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestParentEndsAfterChildren(t *testing.T) {
	ctx := axontest.Context(t)
	release := make(chan struct{})
	slow := axon.New("Slow", func(ctx context.Context, c *axon.Component) error {
		<-release
		return nil
	})
	quick := axon.New("Quick", func(context.Context, *axon.Component) error { return nil })
	root := axon.New("Root", nil, axon.WithChildren(quick, slow))
	h := axon.Start(ctx, root)
	<-quick.Done()
	select {
	case <-root.Done():
		t.Fatal("parent ended while a child was still running")
	default:
	}
	close(release)
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestAddChildWhileRunning(t *testing.T) {
	ctx := axontest.Context(t)
	root := waiter("Root")
	h := axon.Start(ctx, root)
	kid := axon.New("Kid", func(ctx context.Context, c *axon.Component) error {
		return c.Send(ctx, "outbox", "started")
	})
	if err := root.AddChild(kid); err != nil {
		t.Fatal(err)
	}
	sink := axon.New("Sink", nil)
	if err := axon.Link(kid, "outbox", sink, "inbox"); err != nil {
		t.Fatal(err)
	}
	if got := <-sink.In("inbox"); got != "started" {
		t.Fatalf("got %v", got)
	}
	<-kid.Done()
	if err := root.RemoveChild(kid); err != nil {
		t.Fatal(err)
	}
	if len(root.Children()) != 0 {
		t.Fatal("child not removed")
	}
	h.Stop()
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := root.AddChild(waiter("Late")); !errors.Is(err, axon.ErrEnded) {
		t.Fatalf("adding to an ended component: %v", err)
	}
}

// TestProducerFinishedAfterData: data already queued is delivered before a
// ProducerFinished that arrived on control, even when control is read
// first.
func TestProducerFinishedAfterData(t *testing.T) {
	ctx := axontest.Context(t)
	var got []any
	c := axon.New("Collector", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error { got = append(got, m); return nil })
	}, axon.WithInbox("inbox", "items", axon.Capacity(8)))
	// Queue the data and the notice before the component runs, so its first
	// select sees both ready.
	axontest.Preload(t, c, "inbox", 0, 1, 2, 3, 4, 5, 6, 7)
	axontest.Preload(t, c, "control", axon.ProducerFinished{From: axontest.Tester})
	h := axon.Start(ctx, c)
	msg, err := h.Get(ctx, "signal")
	if err != nil {
		t.Fatal(err)
	}
	pf, ok := msg.(axon.ProducerFinished)
	if !ok || pf.Origin() != axontest.Tester {
		t.Fatalf("signal carried %#v, want ProducerFinished from %v", msg, axontest.Tester)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 {
		t.Fatalf("got %v before finishing, want all 8", got)
	}
}

func TestShutdownMicroprocessStopsAtOnce(t *testing.T) {
	ctx := axontest.Context(t)
	handled := 0
	c := axon.New("Worker", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(context.Context, any) error { handled++; return nil })
	})
	axontest.Preload(t, c, "inbox", 0, 1, 2, 3, 4)
	axontest.Preload(t, c, "control", axon.ShutdownMicroprocess{From: axontest.Tester})
	h := axon.Start(ctx, c)
	msg, err := h.Get(ctx, "signal")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := msg.(axon.Shutdown); !ok {
		t.Fatalf("signal carried %#v", msg)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if handled != 0 {
		t.Fatalf("handled %d queued messages after ShutdownMicroprocess; want none", handled)
	}
}

func TestHandleGetAfterEnd(t *testing.T) {
	ctx := axontest.Context(t)
	c := axon.New("Once", func(ctx context.Context, c *axon.Component) error {
		return c.Send(ctx, "outbox", 42)
	})
	h := axon.Start(ctx, c)
	if got, err := h.Get(ctx, "outbox"); err != nil || got != 42 {
		t.Fatalf("got %v, %v", got, err)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx, "outbox"); !errors.Is(err, axon.ErrEnded) {
		t.Fatalf("Get after end: %v", err)
	}
	// Even with room in its inbox, an ended component takes nothing more:
	// the message would never be read.
	if err := h.Put(ctx, "inbox", 1); !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("Put into an ended component: %v, want ErrReceiverDone", err)
	}
	if err := h.TryPut("inbox", 1); !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("TryPut into an ended component: %v, want ErrReceiverDone", err)
	}
}

// TestShutdownInterruptsBlockedSend: a component blocked sending on an
// unlinked outbox still stops on ShutdownMicroprocess, and the message is
// passed on its signal exactly once.
func TestShutdownInterruptsBlockedSend(t *testing.T) {
	ctx := axontest.Context(t)
	for _, useServe := range []bool{false, true} {
		blocked := make(chan struct{})
		c := axon.New("Stuck", func(ctx context.Context, c *axon.Component) error {
			if useServe {
				return c.Serve(ctx, func(ctx context.Context, m any) error {
					close(blocked)
					return c.Send(ctx, "outbox", m) // outbox unlinked: waits
				})
			}
			close(blocked)
			return c.Send(ctx, "outbox", "never linked")
		})
		h := axon.Start(ctx, c)
		if useServe {
			if err := h.Put(ctx, "inbox", "x"); err != nil {
				t.Fatal(err)
			}
		}
		<-blocked
		stop := axon.ShutdownMicroprocess{From: axontest.Tester}
		if err := h.Put(ctx, "control", stop); err != nil {
			t.Fatal(err)
		}
		if err := h.Wait(); err != nil {
			t.Fatalf("serve=%v: %v", useServe, err)
		}
		got, err := h.Get(ctx, "signal")
		if err != nil || got != stop {
			t.Fatalf("serve=%v: signal carried %v, %v", useServe, got, err)
		}
		if _, err := h.Get(ctx, "signal"); !errors.Is(err, axon.ErrEnded) {
			t.Fatalf("serve=%v: a second notice on signal: %v", useServe, err)
		}
	}
}

// TestCancelBusyChainReportsNoFailures: cancelling a graph while data is
// flowing stops components in no particular order; a sender blocked on a
// neighbour that stopped first must not be reported as failing.
func TestCancelBusyChainReportsNoFailures(t *testing.T) {
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		src := axon.New("Flood", func(ctx context.Context, c *axon.Component) error {
			out := c.Out("outbox")
			for i := 0; ; i++ {
				if err := out.Send(ctx, i); err != nil {
					return err
				}
			}
		})
		nodes := []*axon.Component{src}
		for range 5 {
			nodes = append(nodes, axon.New("Stage", func(ctx context.Context, c *axon.Component) error {
				return c.Serve(ctx, c.Out("outbox").Send)
			}, axon.WithInbox("inbox", "numbers", axon.Capacity(1))))
		}
		root := axon.New("Root", nil)
		for i, n := range nodes {
			if err := root.AddChild(n); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				if err := axon.Link(nodes[i-1], "outbox", n, "inbox"); err != nil {
					t.Fatal(err)
				}
			}
		}
		h := axon.Start(ctx, root)
		for src.Out("outbox").Sent() < 5 { // data is flowing and backing up (about 10 fit)
			runtime.Gosched()
		}
		cancel()
		if err := h.Wait(); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "component ") {
			t.Fatalf("got %v, want only context.Canceled", err)
		}
	}
}

func TestStartChildIsAnError(t *testing.T) {
	ctx := axontest.Context(t)
	kid := waiter("Kid")
	root := axon.New("Root", nil, axon.WithChildren(kid))
	if err := axon.Run(ctx, kid); !errors.Is(err, axon.ErrBadLink) || !strings.Contains(err.Error(), "Root#") {
		t.Fatalf("starting a child on its own: %v", err)
	}
	// A child stopped before its graph starts simply counts as ended.
	kid.Stop()
	if err := axon.Run(ctx, root); err != nil {
		t.Fatalf("graph with a child stopped before start: %v", err)
	}
}

func TestWithChildrenReportsBadChild(t *testing.T) {
	kid := waiter("Kid")
	_ = axon.New("First", nil, axon.WithChildren(kid))
	second := axon.New("Second", nil, axon.WithChildren(kid))
	err := axon.Run(axontest.Context(t), second)
	if !errors.Is(err, axon.ErrBadLink) || !strings.Contains(err.Error(), "Second#") || !strings.Contains(err.Error(), "First#") {
		t.Fatalf("got %v; want an error naming both parents", err)
	}
}

// A main loop that takes a ShutdownMicroprocess from control and returns
// nil leaves the pass-on to the runner: it must go out on signal every
// time, however the main loop and the sender's goroutine interleave.
func TestShutdownTakenAndLeftToTheRunnerIsPassedOn(t *testing.T) {
	for i := range 2000 {
		c := axon.New("Quits", func(ctx context.Context, c *axon.Component) error {
			<-c.In(axon.ControlName)
			return nil
		})
		h := axon.Start(context.Background(), c)
		stop := axon.ShutdownMicroprocess{From: axon.Ref{Name: "test"}}
		if err := h.Put(context.Background(), axon.ControlName, stop); err != nil {
			t.Fatalf("run %d: put: %v", i, err)
		}
		got, err := h.Get(context.Background(), axon.SignalName)
		if err != nil || got != any(stop) {
			t.Fatalf("run %d: signal gave %v, %v; want the ShutdownMicroprocess", i, got, err)
		}
		if err := h.Wait(); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}

// A component is named by its name and the first eight hex digits of its
// uuid, as the uuid prints them.
func TestComponentStringIsNameAndShortID(t *testing.T) {
	for range 100 {
		c := axon.New("Named", nil)
		if want := "Named#" + c.ID().String()[:8]; c.String() != want {
			t.Fatalf("String() = %q, want %q", c.String(), want)
		}
	}
}

// A component's error that already names it is not prefixed with its
// name twice.
func TestComponentErrorNamesTheComponentOnce(t *testing.T) {
	var c *axon.Component
	c = axon.New("Named", func(ctx context.Context, _ *axon.Component) error {
		return fmt.Errorf("%s: inbox: it went wrong", c)
	})
	err := axon.Run(context.Background(), c)
	want := "component " + c.String() + ": inbox: it went wrong"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// An error about one of a component's boxes, as Component.BoxError makes
// it, is named once too: "component Name#id.box: ...".
func TestComponentErrorNamesTheBoxOnce(t *testing.T) {
	opErr := errors.New("read: it went wrong")
	c := axon.New("Named", func(ctx context.Context, c *axon.Component) error {
		return c.BoxError("socket", opErr)
	})
	err := axon.Run(context.Background(), c)
	want := "component " + c.String() + ".socket: read: it went wrong"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	var be *axon.BoxError
	if !errors.As(err, &be) || be.Box != "socket" || !errors.Is(err, opErr) {
		t.Errorf("%v: want a *BoxError about socket, wrapping the main loop's error", err)
	}
}

// domainError stands for a package's own error type, which keeps only
// its domain's fields and leaves the component and box to a BoxError.
type domainError struct {
	Op, Addr string
	Err      error
}

func (e *domainError) Error() string { return e.Op + " to " + e.Addr + ": " + e.Err.Error() }
func (e *domainError) Unwrap() error { return e.Err }

// Component.BoxError names the component and the box, first, and lets
// the error it wraps say what was attempted; errors.As finds either.
func TestComponentBoxError(t *testing.T) {
	refused := errors.New("connection refused")
	c := axon.New("Peer", nil)
	err := error(c.BoxError(axon.InboxName, &domainError{Op: "send", Addr: "127.0.0.1:9", Err: refused}))
	if want := c.String() + ".inbox: send to 127.0.0.1:9: connection refused"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	var be *axon.BoxError
	if !errors.As(err, &be) || be.Component != c.String() || be.Box != axon.InboxName || be.Op != "" {
		t.Errorf("errors.As *BoxError: %#v, want Component %q, Box inbox, no Op", be, c)
	}
	var de *domainError
	if !errors.As(err, &de) || de.Op != "send" {
		t.Errorf("errors.As *domainError: %#v", de)
	}
	if !errors.Is(err, refused) {
		t.Error("errors.Is does not find the reason")
	}
}

// ServeThen runs atEnd after the backlog and before ProducerFinished is
// passed on.
func TestServeThen(t *testing.T) {
	var order []string
	c := axon.New("Ends", func(ctx context.Context, c *axon.Component) error {
		return c.ServeThen(ctx, func(_ context.Context, m any) error {
			order = append(order, m.(string))
			return nil
		}, func(ctx context.Context) error {
			order = append(order, "end")
			return nil
		})
	})
	h := axon.Start(context.Background(), c)
	for _, m := range []string{"a", "b"} {
		if err := h.Put(context.Background(), axon.InboxName, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Put(context.Background(), axon.ControlName, axon.ProducerFinished{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(context.Background(), axon.SignalName); err != nil {
		t.Fatal(err)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "a b end" {
		t.Fatalf("order %q, want \"a b end\"", got)
	}
}

// A ShutdownMicroprocess to a container ends all its children's contexts
// before it wakes any: a child that sees a sibling stopped (a send to it
// failing with ErrReceiverDone, say) finds its own context ended too,
// and so is taken as stopped, not failed.
func TestStopEndsEveryChildsContextBeforeWakingAny(t *testing.T) {
	const n = 40
	for range 20 {
		ctxs := make([]context.Context, n)
		started := make(chan struct{}, n)
		var mu sync.Mutex
		early := 0 // siblings seen running by a woken child
		kids := make([]axon.Node, n)
		for i := range kids {
			kids[i] = axon.New(fmt.Sprint("K", i), func(ctx context.Context, c *axon.Component) error {
				ctxs[i] = ctx
				started <- struct{}{}
				<-ctx.Done()
				for _, o := range ctxs {
					if o.Err() == nil {
						mu.Lock()
						early++
						mu.Unlock()
					}
				}
				return ctx.Err()
			})
		}
		ctx := axontest.Context(t)
		h := axontest.Start(t, ctx, axon.New("Box", nil, axon.WithChildren(kids...)))
		for range n {
			<-started
		}
		axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{})
		if err := h.Wait(); err != nil {
			t.Fatal(err)
		}
		if early > 0 {
			t.Fatalf("children woken while their siblings' contexts had not ended (%d seen)", early)
		}
	}
}

// A Serve that is stopped just as it goes to wait for its first message
// still ends: the end of its context between its last look and its wait
// must wake it.
func TestServeStoppedAsItParksEnds(t *testing.T) {
	for i := range 3000 {
		c := axon.New("Idle", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(context.Context, any) error { return nil })
		})
		h := axon.Start(context.Background(), c)
		for range i % 200 { // stop at a different point of its start each time
			runtime.Gosched()
		}
		h.Stop()
		select {
		case <-h.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: a Serve stopped as it started never ended", i)
		}
	}
}
