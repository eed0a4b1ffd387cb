package chassis_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

var errFlaky = errors.New("flaky stage failed")

// schedule decides, call by call, whether a stage's handler fails: at the
// calls it was given, whatever the message, so that a retry (the next
// call) succeeds.
type schedule struct {
	calls  atomic.Int64
	fail   map[int64]bool
	panics map[int64]bool // of those, the ones that panic rather than return errFlaky
}

// newSchedule picks failures distinct calls out of the first calls, no
// two adjacent, about half of them panics.
func newSchedule(seed uint64, calls, failures int) *schedule {
	rng := rand.New(rand.NewPCG(seed, 15))
	s := &schedule{fail: map[int64]bool{}, panics: map[int64]bool{}}
	for len(s.fail) < failures {
		i := rng.Int64N(int64(calls))
		if s.fail[i] || s.fail[i-1] || s.fail[i+1] {
			continue
		}
		s.fail[i] = true
		if rng.IntN(2) == 0 {
			s.panics[i] = true
		}
	}
	return s
}

// next is called once per handler call: it fails as scheduled.
func (s *schedule) next() error {
	i := s.calls.Add(1) - 1
	switch {
	case s.panics[i]:
		panic(fmt.Sprintf("flaky stage panics at call %d", i))
	case s.fail[i]:
		return fmt.Errorf("call %d: %w", i, errFlaky)
	}
	return nil
}

// flaky makes instances of a stage that passes each message on, failing
// as fail says.
func flaky(fail func(msg any) error) func() axon.Node {
	return func() axon.Node {
		return axon.New("Flaky", func(ctx context.Context, c *axon.Component) error {
			out := c.Out(axon.OutboxName)
			return c.Serve(ctx, func(ctx context.Context, msg any) error {
				if err := fail(msg); err != nil {
					return err
				}
				return out.Send(ctx, msg)
			})
		})
	}
}

// numbers sends 0..n-1, then ProducerFinished.
func numbers(n int) *axon.Component {
	msgs := make([]any, n)
	for i := range msgs {
		msgs[i] = i
	}
	return axontest.Burst("Numbers", msgs...)
}

// collector notes in a log what arrives on its inbox, until
// ProducerFinished.
func collector(name string) (*axon.Component, *log) {
	l := &log{}
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			l.add(msg)
			return nil
		})
	}), l
}

// streamThrough runs n numbers through sup and returns what came out and
// what sup reported dropped, with how long it took.
func streamThrough(t *testing.T, n int, sup *chassis.SupervisorComponent) (out []any, dropped []*chassis.DroppedError, took time.Duration) {
	t.Helper()
	ctx := axontest.Context(t)
	sink, sunk := collector("Sink")
	drops, drop := collector("Drops")
	events, evs := collector("Events")
	g := chassis.Graphline(
		chassis.Nodes{"SRC": numbers(n), "SUP": sup, "SINK": sink, "DROPS": drops, "EVENTS": events},
		chassis.Links{
			{"SRC", "outbox"}:      {"SUP", "inbox"},
			{"SRC", "signal"}:      {"SUP", "control"},
			{"SUP", "outbox"}:      {"SINK", "inbox"},
			{"SUP", "signal"}:      {"SINK", "control"},
			{"SUP", "errors"}:      {"DROPS", "inbox"},
			{"SINK", "signal"}:     {"DROPS", "control"},
			{"SUP", "supervision"}: {"EVENTS", "inbox"},
			{"DROPS", "signal"}:    {"EVENTS", "control"},
		})
	start := time.Now()
	if err := axon.Run(ctx, g); err != nil {
		t.Fatalf("run: %v", err)
	}
	took = time.Since(start)
	for _, m := range drop.all() {
		d, ok := m.(*chassis.DroppedError)
		if !ok {
			t.Fatalf("errors: got %T %v, want *chassis.DroppedError", m, m)
		}
		dropped = append(dropped, d)
	}
	failed := 0
	for _, m := range evs.all() {
		if e := m.(chassis.Event); e.Kind == chassis.Failed {
			failed++
		}
	}
	if st := sup.Status()[0]; failed != st.Failures {
		t.Fatalf("%d failed events, %d failures in Status", failed, st.Failures)
	}
	return sunk.all(), dropped, took
}

// tally checks that delivered and dropped together are 0..n-1, each once,
// and delivered in order; it returns how many were lost, duplicated and
// out of order.
func tally(n int, delivered []any, dropped []*chassis.DroppedError) (lost, dup, reordered int) {
	seen := make([]int, n)
	last := -1
	for _, m := range delivered {
		i := m.(int)
		seen[i]++
		if i < last {
			reordered++
		}
		last = i
	}
	for _, d := range dropped {
		seen[d.Msg.(int)]++
	}
	for _, k := range seen {
		switch {
		case k == 0:
			lost++
		case k > 1:
			dup += k - 1
		}
	}
	return lost, dup, reordered
}

const (
	streamLen      = 100_000
	streamFailures = 10_000
)

// TestSuperviseRetryLosesNothing: 10^5 numbered messages through a stage
// that panics or fails at 10,000 random calls; with Retry each failed
// message is handled again by the next instance, so all arrive, once, in
// order.
func TestSuperviseRetryLosesNothing(t *testing.T) {
	sch := newSchedule(1, streamLen, streamFailures)
	sup := chassis.Supervise(chassis.Child{Make: flaky(func(any) error { return sch.next() })},
		chassis.Intensity(streamFailures, time.Hour), chassis.Backoff(0, 0))
	out, dropped, took := streamThrough(t, streamLen, sup)
	lost, dup, reordered := tally(streamLen, out, dropped)
	st := sup.Status()[0]
	t.Logf("retry: %d messages, %d failures (%d panics): delivered %d, lost %d, duplicated %d, reordered %d, reported %d, instances %d, in %s",
		streamLen, st.Failures, len(sch.panics), len(out), lost, dup, reordered, len(dropped), st.Instances, took.Round(time.Millisecond))
	if len(out) != streamLen || lost != 0 || dup != 0 || reordered != 0 || len(dropped) != 0 {
		t.Fatalf("want all %d delivered in order and none dropped", streamLen)
	}
	if st.Failures != streamFailures || st.Instances != streamFailures+1 {
		t.Fatalf("status %+v: want %d failures and %d instances", st, streamFailures, streamFailures+1)
	}
}

// TestSuperviseDropReportsExactlyTheFailed: with Drop, the message in hand
// at each failure is reported with its error, and the rest arrive in
// order.
func TestSuperviseDropReportsExactlyTheFailed(t *testing.T) {
	sch := newSchedule(2, streamLen, streamFailures)
	var mu sync.Mutex
	failedOn := map[int]bool{}
	sup := chassis.Supervise(chassis.Child{InHand: chassis.Drop, Make: flaky(func(m any) (err error) {
		defer func() {
			r := recover()
			if err != nil || r != nil {
				mu.Lock()
				failedOn[m.(int)] = true
				mu.Unlock()
			}
			if r != nil {
				panic(r)
			}
		}()
		return sch.next()
	})}, chassis.Intensity(streamFailures, time.Hour), chassis.Backoff(0, 0))
	out, dropped, took := streamThrough(t, streamLen, sup)
	lost, dup, reordered := tally(streamLen, out, dropped)
	t.Logf("drop: %d messages, %d failures: delivered %d, lost %d, duplicated %d, reordered %d, reported %d, in %s",
		streamLen, len(failedOn), len(out), lost, dup, reordered, len(dropped), took.Round(time.Millisecond))
	if lost != 0 || dup != 0 || reordered != 0 {
		t.Fatalf("want each message delivered or dropped, once, in order")
	}
	if len(dropped) != streamFailures || len(failedOn) != streamFailures {
		t.Fatalf("dropped %d, failed on %d: want %d each", len(dropped), len(failedOn), streamFailures)
	}
	for _, d := range dropped {
		if !failedOn[d.Msg.(int)] {
			t.Fatalf("dropped %v, which did not fail", d.Msg)
		}
		if !errors.Is(d, chassis.ErrDropped) || !errors.Is(d, errFlaky) && !errors.Is(d, axon.ErrPanic) || errors.Is(d, chassis.ErrPoison) {
			t.Fatalf("dropped error %v: want ErrDropped and the stage's error, not ErrPoison", d)
		}
	}
}

// A message that fails again when retried is a poison message: reported
// once, and the stream goes on.
func TestSupervisePoisonMessageReportedOnce(t *testing.T) {
	sup := chassis.Supervise(chassis.Child{Make: flaky(func(m any) error {
		if m == 500 {
			return errFlaky
		}
		return nil
	})}, chassis.Intensity(2, time.Minute), chassis.Backoff(0, 0))
	out, dropped, _ := streamThrough(t, 1000, sup)
	if lost, dup, reordered := tally(1000, out, dropped); lost != 0 || dup != 0 || reordered != 0 || len(out) != 999 {
		t.Fatalf("delivered %d: lost %d, duplicated %d, reordered %d; want all but one, in order", len(out), lost, dup, reordered)
	}
	if len(dropped) != 1 || dropped[0].Msg != 500 || !dropped[0].Poison || !errors.Is(dropped[0], chassis.ErrPoison) || !errors.Is(dropped[0], errFlaky) {
		t.Fatalf("dropped %v: want message 500 once, as poison, wrapping the stage's error", dropped)
	}
	if st := sup.Status()[0]; st.Failures != 2 || st.Instances != 3 {
		t.Fatalf("status %+v: want 2 failures, 3 instances", st)
	}
}

// worker makes instances of a child that records its starts and stops in
// log and fails when it is sent "fail".
func worker(name string, l *log) func() axon.Node {
	return func() axon.Node {
		return axon.New(name, func(ctx context.Context, c *axon.Component) error {
			l.add(name + " start")
			defer l.add(name + " stop")
			return c.Serve(ctx, func(ctx context.Context, msg any) error {
				if msg == "fail" {
					return errFlaky
				}
				return nil
			})
		})
	}
}

// startsAndStops waits for l to hold n entries after the first from and
// returns those. Stops are made one at a time, so their order is kept;
// the starts after them are sorted, since the children's goroutines run
// their first lines in no set order.
func startsAndStops(l *log, from, n int) []string {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		all := l.all()
		if len(all) < from+n && time.Now().After(deadline) {
			return []string{fmt.Sprint("only ", all)}
		}
		if len(all) >= from+n {
			var s []string
			for _, e := range all[from : from+n] {
				s = append(s, e.(string))
			}
			i := slices.IndexFunc(s, func(e string) bool { return strings.HasSuffix(e, "start") })
			slices.Sort(s[max(i, 0):])
			return s
		}
	}
}

// expectEvents reads events from the supervisor's "supervision" box and
// checks them against want ("B failed", "A restarted", ...).
func expectEvents(t *testing.T, ctx context.Context, h *axon.Handle, want ...string) []chassis.Event {
	t.Helper()
	var got []chassis.Event
	for _, w := range want {
		e, ok := axontest.Get(t, ctx, h, chassis.SupervisionBox).(chassis.Event)
		if !ok || e.Child+" "+e.Kind.String() != w {
			t.Fatalf("event %v: want %q", e, w)
		}
		got = append(got, e)
	}
	return got
}

// Each strategy restarts the siblings OTP's does: stopped in reverse
// order, started again in order.
func TestSupervisorStrategies(t *testing.T) {
	for _, tc := range []struct {
		strategy chassis.Strategy
		events   []string
		log      []string
	}{
		{chassis.OneForOne, []string{"B failed", "B restarted"}, []string{"B stop", "B start"}},
		{chassis.OneForAll, []string{"B failed", "A restarted", "B restarted", "C restarted"}, []string{"B stop", "C stop", "A stop", "A start", "B start", "C start"}},
		{chassis.RestForOne, []string{"B failed", "B restarted", "C restarted"}, []string{"B stop", "C stop", "B start", "C start"}},
	} {
		t.Run(tc.strategy.String(), func(t *testing.T) {
			ctx := axontest.Context(t)
			l := &log{}
			var kids []chassis.Child
			links := chassis.Links{}
			for _, n := range []string{"A", "B", "C"} {
				kids = append(kids, chassis.Child{Make: worker(n, l), InHand: chassis.Drop})
				links[chassis.Box{chassis.Self, n}] = chassis.Box{n, axon.InboxName}
			}
			sup := chassis.Supervisor(kids, links, chassis.WithStrategy(tc.strategy), chassis.Intensity(5, time.Minute), chassis.Backoff(0, 0))
			h := axontest.Start(t, ctx, sup, axon.Tapping(chassis.SupervisionBox))
			expectEvents(t, ctx, h, "A started", "B started", "C started")
			if got := startsAndStops(l, 0, 3); !slices.Equal(got, []string{"A start", "B start", "C start"}) {
				t.Fatalf("started %v, want each once", got)
			}
			axontest.Put(t, ctx, h, "B", "fail")
			ev := expectEvents(t, ctx, h, tc.events...)
			if !errors.Is(ev[0].Err, errFlaky) {
				t.Fatalf("failed event %v: want the child's error", ev[0])
			}
			for _, e := range ev[1:] {
				if !errors.Is(e.Err, errFlaky) || e.Instance != 2 {
					t.Fatalf("restarted event %v: want instance 2, because of B's failure", e)
				}
			}
			if got := startsAndStops(l, 3, len(tc.log)); !slices.Equal(got, tc.log) {
				t.Fatalf("stops and starts %v, want %v", got, tc.log)
			}
			axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
		})
	}
}

// More restarts within the period than the intensity allows end the
// supervisor with an error wrapping ErrGaveUp and the child's failure; by
// default (OTP's 1 in 5 seconds) the second failure does.
func TestSupervisorGivesUp(t *testing.T) {
	for _, tc := range []struct {
		opts     []chassis.SupervisorOption
		failures int
	}{
		{nil, 2},
		{[]chassis.SupervisorOption{chassis.Intensity(3, time.Minute), chassis.Backoff(time.Millisecond, 2*time.Millisecond)}, 4},
	} {
		ctx := axontest.Context(t)
		sup := chassis.Supervise(chassis.Child{Name: "Stage", Make: flaky(func(any) error { return errFlaky })}, tc.opts...)
		h := axontest.Start(t, ctx, sup, axon.Tapping(chassis.SupervisionBox))
		go func() {
			for i := range 10 {
				if h.Put(ctx, axon.InboxName, i) != nil {
					return
				}
			}
		}()
		events := []string{"Stage started"}
		for range tc.failures - 1 {
			events = append(events, "Stage failed", "Stage restarted")
		}
		events = append(events, "Stage failed", "Stage gave up")
		expectEvents(t, ctx, h, events...)
		err := h.Wait()
		var ce *axon.ComponentError
		if !errors.Is(err, chassis.ErrGaveUp) || !errors.Is(err, errFlaky) || !errors.As(err, &ce) || ce.Component != sup.String() {
			t.Fatalf("supervisor ended with %v: want a ComponentError naming it, wrapping ErrGaveUp and the stage's error", err)
		}
	}
}

// Stopping a supervisor while it waits to restart a child ends it at
// once: by its context, by a ShutdownMicroprocess passed through to the
// child (Supervise), and by one on its own control (Supervisor). The
// failed event carries the panic's stack.
func TestSupervisorStopsDuringBackoff(t *testing.T) {
	panicky := flaky(func(any) error { panic("stage panics") })
	for _, how := range []string{"context", "child control", "own control"} {
		t.Run(how, func(t *testing.T) {
			ctx := axontest.Context(t)
			opts := []chassis.SupervisorOption{chassis.Backoff(time.Hour, time.Hour)}
			var sup *chassis.SupervisorComponent
			in := axon.InboxName
			if how == "own control" {
				sup = chassis.Supervisor([]chassis.Child{{Name: "Stage", Make: panicky}}, chassis.Links{{chassis.Self, "in"}: {"Stage", "inbox"}}, opts...)
				in = "in"
			} else {
				sup = chassis.Supervise(chassis.Child{Name: "Stage", Make: panicky}, opts...)
			}
			h := axontest.Start(t, ctx, sup, axon.Tapping(chassis.SupervisionBox))
			axontest.Put(t, ctx, h, in, 1)
			ev := expectEvents(t, ctx, h, "Stage started", "Stage failed")
			if !errors.Is(ev[1].Err, axon.ErrPanic) || len(ev[1].Stack) == 0 {
				t.Fatalf("failed event %v: want the panic, with its stack", ev[1])
			}
			stopped := make(chan error, 1)
			start := time.Now()
			if how == "context" {
				h.Stop()
				go func() { stopped <- h.Wait() }()
			} else {
				go func() {
					stopped <- h.Put(ctx, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
				}()
			}
			select {
			case err := <-stopped:
				if err != nil {
					t.Fatalf("stop: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("not stopped after 10 s of an hour's backoff")
			}
			if how != "context" {
				axontest.ExpectSignal(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
				axontest.Wait(t, h)
			}
			if st := sup.Status()[0]; st.Instances != 1 || st.Failures != 1 {
				t.Fatalf("status %+v: want 1 instance, 1 failure, no restart", st)
			}
			t.Logf("stopped during backoff in %s", time.Since(start).Round(time.Microsecond))
		})
	}
}

// Restart types, as OTP's: a permanent child is started again even after
// returning by itself, a transient one only after a failure, a temporary
// one never. A child that is not started again passes on a
// ProducerFinished saying why, so that the stream after it ends too.
func TestSuperviseRestartTypes(t *testing.T) {
	// quitter returns nil on "quit" and fails on "fail", passing nothing on.
	quitter := func() axon.Node {
		return axon.New("Stage", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(ctx context.Context, msg any) error {
				switch msg {
				case "quit":
					return axon.ErrEnded // not a handler failure: see below
				case "fail":
					return errFlaky
				}
				return c.Send(ctx, axon.OutboxName, msg)
			})
		})
	}
	// Serve reports a handler's error; a main loop that ends by itself
	// returns nil, as this wrapper does for "quit".
	stage := func() axon.Node {
		inner := quitter().Core()
		return axon.New("Stage", func(ctx context.Context, c *axon.Component) error {
			if err := inner.Main()(ctx, c); err != nil && !errors.Is(err, axon.ErrEnded) {
				return err
			}
			return nil
		})
	}
	for _, tc := range []struct {
		restart chassis.Restart
		msg     string
		again   bool // started again
	}{
		{chassis.Permanent, "quit", true},
		{chassis.Permanent, "fail", true},
		{chassis.Transient, "quit", false},
		{chassis.Transient, "fail", true},
		{chassis.Temporary, "quit", false},
		{chassis.Temporary, "fail", false},
	} {
		ctx := axontest.Context(t)
		sup := chassis.Supervise(chassis.Child{Make: stage, Restart: tc.restart}, chassis.Intensity(3, time.Minute), chassis.Backoff(0, 0))
		h := axontest.Start(t, ctx, sup, axon.Tapping(chassis.SupervisionBox))
		axontest.Put(t, ctx, h, axon.InboxName, tc.msg)
		if tc.again {
			axontest.Put(t, ctx, h, axon.InboxName, "after")
		}
		events := []string{"Stage started"}
		if tc.msg == "fail" {
			events = append(events, "Stage failed")
		}
		if !tc.again {
			expectEvents(t, ctx, h, append(events, "Stage ended")...)
			pf, ok := axontest.Get(t, ctx, h, axon.SignalName).(axon.ProducerFinished)
			if !ok || pf.From != sup.Status()[0].Ref || (tc.msg == "fail") != errors.Is(pf.Reason, errFlaky) {
				t.Fatalf("%v after %q: signal %v, want ProducerFinished from the child, with the failure as Reason", tc.restart, tc.msg, pf)
			}
			axontest.Wait(t, h)
			continue
		}
		expectEvents(t, ctx, h, append(events, "Stage restarted")...)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "after" {
			t.Fatalf("%v after %q: got %v, want the next message", tc.restart, tc.msg, got)
		}
		axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	}
}

// A child that does not stop within the shutdown timeout is reported,
// naming it, rather than holding the supervisor's own end for ever.
func TestSupervisorReportsChildThatWillNotStop(t *testing.T) {
	ctx := axontest.Context(t)
	release, running := make(chan struct{}), make(chan struct{})
	stubborn := func() axon.Node {
		return axon.New("Stubborn", func(ctx context.Context, c *axon.Component) error {
			close(running)
			<-release // ignores ctx until the test lets it go
			return nil
		})
	}
	sup := chassis.Supervise(chassis.Child{Make: stubborn}, chassis.ShutdownTimeout(20*time.Millisecond))
	h := axontest.Start(t, ctx, sup, axon.Tapping(chassis.SupervisionBox))
	expectEvents(t, ctx, h, "Stubborn started")
	// Started says the instance was handed to its slot; stopped before
	// the slot takes it, it would never run, and nothing would be stuck.
	select {
	case <-running:
	case <-ctx.Done():
		t.Fatal("the instance never ran")
	}
	h.Stop()
	time.AfterFunc(200*time.Millisecond, func() { close(release) })
	if err := h.Wait(); !errors.Is(err, chassis.ErrStopTimeout) || !strings.Contains(err.Error(), "Stubborn") {
		t.Fatalf("ended with %v: want ErrStopTimeout naming the child", err)
	}
}

// A sibling stopped by OneForAll in the middle of a message hands it to
// its next instance first, and what was queued behind it follows: a
// restart caused by another child loses nothing either.
func TestSupervisorSiblingKeepsItsMessageInHand(t *testing.T) {
	ctx := axontest.Context(t)
	l := &log{}
	var instances atomic.Int32
	busy := make(chan struct{}, 1)
	slow := func() axon.Node {
		n := instances.Add(1)
		return axon.New("Slow", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(ctx context.Context, msg any) error {
				if n == 1 && msg == "x" {
					busy <- struct{}{}
					<-ctx.Done() // stopped in the middle of x
					return ctx.Err()
				}
				l.add(fmt.Sprintf("%v by %d", msg, n))
				return nil
			})
		})
	}
	sup := chassis.Supervisor([]chassis.Child{
		{Make: worker("A", &log{}), InHand: chassis.Drop},
		{Make: slow},
	}, chassis.Links{{chassis.Self, "a"}: {"A", "inbox"}, {chassis.Self, "slow"}: {"Slow", "inbox"}},
		chassis.WithStrategy(chassis.OneForAll), chassis.Intensity(5, time.Minute), chassis.Backoff(0, 0))
	h := axontest.Start(t, ctx, sup, axon.Tapping(chassis.SupervisionBox))
	expectEvents(t, ctx, h, "A started", "Slow started")
	axontest.Put(t, ctx, h, "slow", "x")
	axontest.Put(t, ctx, h, "slow", "y")
	<-busy
	axontest.Put(t, ctx, h, "a", "fail")
	expectEvents(t, ctx, h, "A failed", "A restarted", "Slow restarted")
	for deadline := time.Now().Add(10 * time.Second); len(l.all()) < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := l.all(); !slices.Equal(got, []any{"x by 2", "y by 2"}) {
		t.Fatalf("handled %v, want x then y, by the second instance", got)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
}

// A child the supervisor cannot run in place is reported when the
// supervisor runs, naming it.
func TestSupervisorRefusesWhatItCannotRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() axon.Node
	}{
		{"no Make", nil},
		{"nil component", func() axon.Node { return nil }},
		{"container", func() axon.Node { return chassis.Pipeline(axon.New("Inner", nil)) }},
	} {
		err := axon.Run(axontest.Context(t), chassis.Supervise(chassis.Child{Name: "Stage", Make: tc.make}))
		if !errors.Is(err, axon.ErrBadLink) || !strings.Contains(err.Error(), `"Stage"`) {
			t.Errorf("%s: ran with %v, want ErrBadLink naming the child", tc.name, err)
		}
	}
}
