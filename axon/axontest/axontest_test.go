package axontest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// recorder is a testing.TB that notes failures instead of reporting them,
// so that the helpers' own failures can be checked. Fatalf ends the
// goroutine it is called on, as the real one does. Anything not overridden
// goes to the real test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	fatal    bool
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// record runs body against a recorder on a goroutine of its own, as a
// test runs, then runs the recorder's cleanups, last first.
func record(t *testing.T, body func(tb testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(r)
	}()
	<-done
	r.mu.Lock()
	cleanups := slices.Clone(r.cleanups)
	r.mu.Unlock()
	for _, f := range slices.Backward(cleanups) {
		f()
	}
	return r
}

// wantPass fails t if r recorded any failure.
func (r *recorder) wantPass(t *testing.T) {
	t.Helper()
	if len(r.errs) > 0 {
		t.Fatalf("the helper failed a test that should pass: %q", r.errs)
	}
}

// wantFatal fails t unless r recorded a fatal failure whose message holds
// every one of parts.
func (r *recorder) wantFatal(t *testing.T, parts ...string) {
	t.Helper()
	if !r.fatal || len(r.errs) != 1 {
		t.Fatalf("fatal %v with %q; want one fatal failure", r.fatal, r.errs)
	}
	for _, p := range parts {
		if !strings.Contains(r.errs[0], p) {
			t.Errorf("failure %q does not mention %q", r.errs[0], p)
		}
	}
}

// blocker waits for its context to end, then returns its error.
func blocker() *axon.Component {
	return axon.New("Blocker", func(ctx context.Context, c *axon.Component) error {
		<-ctx.Done()
		return ctx.Err()
	})
}

func TestContext(t *testing.T) {
	var ctx context.Context
	t.Run("inner", func(t *testing.T) {
		ctx = axontest.Context(t)
		deadline, ok := ctx.Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		// The deadline is far enough away that no working test meets it.
		if left := time.Until(deadline); left < 50*time.Second {
			t.Errorf("deadline only %v away", left)
		}
		t.Cleanup(func() {
			if err := ctx.Err(); err != nil {
				t.Errorf("the context ended (%v) before the test's own cleanups ran", err)
			}
		})
		if err := ctx.Err(); err != nil {
			t.Fatalf("context already ended: %v", err)
		}
	})
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("after the test: %v, want context.Canceled", err)
	}
}

func TestStartStopsAtCleanup(t *testing.T) {
	b := blocker()
	var h *axon.Handle
	r := record(t, func(tb testing.TB) {
		h = axontest.Start(tb, axontest.Context(t), b)
		if axontest.IsClosed(b.Done()) {
			tb.Fatalf("Blocker ended before the cleanup")
		}
	})
	r.wantPass(t)
	if !axontest.IsClosed(h.Done()) || !axontest.IsClosed(b.Done()) {
		t.Fatal("the graph was still running after the cleanup")
	}
}

// A failure the test did not look at is not reported by Start's cleanup:
// how a graph ends is for the test to check.
func TestStartLeavesErrorsToTheTest(t *testing.T) {
	boom := errors.New("boom")
	c := axon.New("Faulty", func(context.Context, *axon.Component) error { return boom })
	var h *axon.Handle
	r := record(t, func(tb testing.TB) {
		h = axontest.Start(tb, axontest.Context(t), c)
		<-h.Done()
	})
	r.wantPass(t)
	if err := h.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait: %v, want boom", err)
	}
}

func TestPutGet(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.Map("Double", func(m any) any { return m.(int) * 2 }))
	for i := range 3 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != 2*i {
			t.Fatalf("got %v, want %d", got, 2*i)
		}
	}
}

func TestPutFails(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.PassThrough("P", 1))
	reached := false
	r := record(t, func(tb testing.TB) {
		axontest.Put(tb, ctx, h, "nosuchbox", 1)
		reached = true
	})
	r.wantFatal(t, "put to nosuchbox", "no such box")
	if reached {
		t.Error("Put returned after failing")
	}
}

func TestGetFails(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axon.New("Quiet", nil))
	axontest.Wait(t, h)
	reached := false
	r := record(t, func(tb testing.TB) {
		axontest.Get(tb, ctx, h, axon.OutboxName)
		reached = true
	})
	r.wantFatal(t, "get from outbox", axon.ErrEnded.Error())
	if reached {
		t.Error("Get returned after failing")
	}
}

// Tap links the outbox at once, without waiting for a message; what the
// component sends there later is read with Get.
func TestTap(t *testing.T) {
	ctx := axontest.Context(t)
	p := axontest.PassThrough("P", 1)
	h := axontest.Start(t, ctx, p)
	if p.Out(axon.OutboxName).Linked() {
		t.Fatal("outbox linked before Tap")
	}
	axontest.Tap(t, h, axon.OutboxName)
	if !p.Out(axon.OutboxName).Linked() {
		t.Fatal("Tap did not link the outbox")
	}
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "x" {
		t.Fatalf("got %v, want x", got)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
}

// Tap fails rather than take a message that is already waiting.
func TestTapFindsAMessage(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.PassThrough("P", 1))
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	<-h.Done() // the notice is waiting on signal
	r := record(t, func(tb testing.TB) { axontest.Tap(tb, h, axon.SignalName) })
	r.wantFatal(t, "tap signal", "tester")
}

func TestTapUnknownBox(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.PassThrough("P", 1))
	r := record(t, func(tb testing.TB) { axontest.Tap(tb, h, "nosuchbox") })
	r.wantFatal(t, "tap nosuchbox", "no such box")
}

func TestWait(t *testing.T) {
	ctx := axontest.Context(t)
	boom := errors.New("boom")
	bad := axontest.Start(t, ctx, axon.New("Faulty", func(context.Context, *axon.Component) error { return boom }))
	r := record(t, func(tb testing.TB) { axontest.Wait(tb, bad) })
	r.wantFatal(t, "graph ended with", "Faulty#", "boom")

	good := axontest.Start(t, ctx, axon.New("Fine", nil))
	record(t, func(tb testing.TB) { axontest.Wait(tb, good) }).wantPass(t)
}

func TestExpectSignal(t *testing.T) {
	ctx := axontest.Context(t)
	pf := axon.ProducerFinished{From: axontest.Tester}
	for _, tc := range []struct {
		name string
		want any
		pass bool
	}{
		{"same", pf, true},
		{"other", axon.ShutdownMicroprocess{From: axontest.Tester}, false},
		{"pointer", &pf, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := axontest.Start(t, ctx, axontest.PassThrough("P", 1))
			axontest.Put(t, ctx, h, axon.ControlName, pf)
			r := record(t, func(tb testing.TB) { axontest.ExpectSignal(tb, ctx, h, tc.want) })
			if tc.pass {
				r.wantPass(t)
			} else {
				r.wantFatal(t, "signal: got", "ProducerFinished")
			}
		})
	}
}

func TestExpectEnded(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.PassThrough("P", 4))
	axontest.Tap(t, h, axon.OutboxName)
	axontest.Put(t, ctx, h, axon.InboxName, "left over")
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	r := record(t, func(tb testing.TB) { axontest.ExpectEnded(tb, ctx, h, axon.OutboxName) })
	r.wantFatal(t, "get from outbox after the end", "left over")
	// That took the message: now the box has nothing more.
	record(t, func(tb testing.TB) { axontest.ExpectEnded(tb, ctx, h, axon.OutboxName) }).wantPass(t)
}

// ExpectEnded waits for the end rather than failing while the component
// still runs.
func TestExpectEndedWaits(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.PassThrough("P", 1))
	ended := make(chan *recorder, 1)
	go func() {
		ended <- record(t, func(tb testing.TB) { axontest.ExpectEnded(tb, ctx, h, axon.SignalName) })
	}()
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	// ExpectEnded was waiting when the notice came, so it takes it.
	(<-ended).wantFatal(t, "after the end", "tester")
}

func TestStopWith(t *testing.T) {
	ctx := axontest.Context(t)
	for _, msg := range []any{
		axon.ShutdownMicroprocess{From: axontest.Tester},
		axon.ProducerFinished{From: axontest.Tester},
		&axon.ShutdownMicroprocess{From: axontest.Tester},
	} {
		t.Run(fmt.Sprintf("%T", msg), func(t *testing.T) {
			c := axontest.PassThrough("P", 1)
			h := axontest.Start(t, ctx, c)
			record(t, func(tb testing.TB) { axontest.StopWith(tb, ctx, h, msg) }).wantPass(t)
			if !axontest.IsClosed(c.Done()) {
				t.Fatal("StopWith returned before the component ended")
			}
		})
	}
}

// StopWith fails for a component that passes the message on twice, and
// for one that fails as it stops.
func TestStopWithCatchesMisbehaviour(t *testing.T) {
	ctx := axontest.Context(t)
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		stop  func(ctx context.Context, c *axon.Component, msg any) error
		parts []string
	}{
		{"twice", func(ctx context.Context, c *axon.Component, msg any) error {
			if err := c.Send(ctx, axon.SignalName, msg); err != nil {
				return err
			}
			return c.Send(ctx, axon.SignalName, msg)
		}, []string{"get from signal after the end"}},
		{"failing", func(ctx context.Context, c *axon.Component, msg any) error {
			if err := c.PassOn(ctx, msg); err != nil {
				return err
			}
			return boom
		}, []string{"graph ended with", "boom"}},
		{"other notice", func(ctx context.Context, c *axon.Component, msg any) error {
			return c.Finish(ctx)
		}, []string{"signal: got", `"Sloppy"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := axon.New("Sloppy", func(ctx context.Context, c *axon.Component) error {
				select {
				case m := <-c.In(axon.ControlName):
					return tc.stop(ctx, c, m)
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			h := axontest.Start(t, ctx, c)
			// A ProducerFinished, unlike a ShutdownMicroprocess, leaves
			// the component's context alone, so it can misbehave at
			// leisure.
			r := record(t, func(tb testing.TB) {
				axontest.StopWith(tb, ctx, h, axon.ProducerFinished{From: axontest.Tester})
			})
			r.wantFatal(t, tc.parts...)
		})
	}
}

// Preloaded messages, data and a notice alike, are all waiting when the
// component starts: Serve hands every queued message to the handler
// before it acts on the ProducerFinished.
func TestPreload(t *testing.T) {
	ctx := axontest.Context(t)
	var got []any
	c := axon.New("Collector", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error { got = append(got, m); return nil })
	}, axon.WithInbox(axon.InboxName, "items", axon.Capacity(3)))
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, c, axon.InboxName, 1, "two", nil)
	axontest.Preload(t, c, axon.ControlName, pf)
	if n := c.Inbox(axon.InboxName).Len(); n != 3 {
		t.Fatalf("%d messages queued, want 3", n)
	}
	h := axontest.Start(t, ctx, c)
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	if want := []any{1, "two", nil}; !slices.Equal(got, want) {
		t.Fatalf("handled %v, want %v", got, want)
	}
}

func TestPreloadFails(t *testing.T) {
	c := axontest.PassThrough("P", 2)
	r := record(t, func(tb testing.TB) { axontest.Preload(tb, c, axon.InboxName, 1, 2, 3) })
	r.wantFatal(t, "preload inbox, message 3 of 3", "full")
	if n := c.Inbox(axon.InboxName).Len(); n != 2 {
		t.Fatalf("%d messages queued, want the 2 that fitted", n)
	}
	r = record(t, func(tb testing.TB) { axontest.Preload(tb, c, axon.OutboxName, 1) })
	r.wantFatal(t, "preload outbox")
}

func TestLinkToEnded(t *testing.T) {
	ctx := axontest.Context(t)
	p := axontest.PassThrough("P", 1)
	ended := axontest.LinkToEnded(t, p, axon.OutboxName)
	if !axontest.IsClosed(ended.Done()) {
		t.Fatal("the component returned has not ended")
	}
	h := axontest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	if err := h.Wait(); !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("Wait: %v, want ErrReceiverDone", err)
	}
	if n := ended.Inbox(axon.InboxName).Len(); n != 0 {
		t.Fatalf("%d messages reached the ended component", n)
	}
	r := record(t, func(tb testing.TB) { axontest.LinkToEnded(tb, p, "nosuchbox") })
	r.wantFatal(t, "nosuchbox", "no such box")
}

func TestIsClosed(t *testing.T) {
	ch := make(chan struct{})
	if axontest.IsClosed(ch) {
		t.Fatal("an open channel counted as closed")
	}
	close(ch)
	if !axontest.IsClosed(ch) {
		t.Fatal("a closed channel counted as open")
	}
}

// PassThrough keeps order through a narrow inbox, drains on
// ProducerFinished, and has the capacity asked for.
func TestPassThrough(t *testing.T) {
	ctx := axontest.Context(t)
	p := axontest.PassThrough("Narrow", 2)
	if n := p.Inbox(axon.InboxName).Cap(); n != 2 {
		t.Fatalf("capacity %d, want 2", n)
	}
	h := axontest.Start(t, ctx, p)
	const n = 20
	fed := make(chan error, 1)
	go func() {
		for i := range n {
			if err := h.Put(ctx, axon.InboxName, i); err != nil {
				fed <- err
				return
			}
		}
		fed <- h.Put(ctx, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	}()
	for i := range n {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	if err := <-fed; err != nil {
		t.Fatal(err)
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestMap(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, axontest.Map("Len", func(m any) any { return len(m.(string)) }))
	for _, s := range []string{"", "a", "abc"} {
		axontest.Put(t, ctx, h, axon.InboxName, s)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	for _, want := range []int{0, 1, 3} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
}

// A panic in Map's function is the component's failure.
func TestMapPanic(t *testing.T) {
	ctx := axontest.Context(t)
	m := axontest.Map("Bad", func(any) any { panic("no") })
	h := axontest.Start(t, ctx, m)
	axontest.Put(t, ctx, h, axon.InboxName, 1)
	var ce *axon.ComponentError
	if err := h.Wait(); !errors.Is(err, axon.ErrPanic) || !errors.As(err, &ce) || ce.Component != m.String() {
		t.Fatalf("Wait: %v, want a panic reported by %s", err, m)
	}
}

// Ten messages sent in one Batch reach a HandOffs in fewer hand-offs than
// messages, in order; one sent alone is a hand-off of one.
func TestHandOffs(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.NewHandOffs("Counter")
	src := axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		<-h.Ready()
		if err := c.Batch(ctx, func(ctx context.Context) error {
			for i := range 10 {
				if err := out.Send(ctx, i); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		return c.Finish(ctx)
	})
	if err := axon.Link(src, axon.OutboxName, h.Component(), axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(src, axon.SignalName, h.Component(), axon.ControlName); err != nil {
		t.Fatal(err)
	}
	hs := axontest.Start(t, ctx, src)
	hh := axontest.Start(t, ctx, h.Component())
	for i := range 10 {
		if got := axontest.Get(t, ctx, hh, axon.OutboxName); got != i {
			t.Fatalf("message %d: got %v", i, got)
		}
	}
	axontest.Wait(t, hs)
	if sig := axontest.Get(t, ctx, hh, axon.SignalName); !axon.IsProducerFinished(sig) {
		t.Fatalf("signal: %#v, want ProducerFinished", sig)
	}
	axontest.Wait(t, hh)
	n, handOffs, most := h.Count()
	if n != 10 || handOffs >= 10 || most < 2 || slices.Max(h.Sizes()) != most {
		t.Fatalf("Count() = %d messages in %d hand-offs, most %d (sizes %v); want 10 in fewer than 10", n, handOffs, most, h.Sizes())
	}
}

// The components axontest provides keep the shutdown rules.
func TestConformance(t *testing.T) {
	t.Run("PassThrough", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node { return axontest.PassThrough("P", 8) }, axontest.Feed(1, 2, 3, 4, 5, 6, 7, 8))
	})
	t.Run("Map", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node { return axontest.Map("M", func(m any) any { return m }) }, axontest.Feed(1, 2, 3))
	})
	t.Run("HandOffs", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node { return axontest.NewHandOffs("H").Component() }, axontest.Feed(1, 2, 3))
	})
}
