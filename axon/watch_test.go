package axon_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// within polls cond until it holds or d has passed.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// info returns the snapshot's entry for the component called name.
func info(t *testing.T, s axon.Snapshot, name string) axon.ComponentInfo {
	t.Helper()
	for _, c := range s.Components {
		if c.Ref.Name == name {
			return c
		}
	}
	t.Fatalf("no component %q in the snapshot", name)
	return axon.ComponentInfo{}
}

func box(t *testing.T, c axon.ComponentInfo, name string) axon.BoxInfo {
	t.Helper()
	for _, b := range append(c.Inboxes, c.Outboxes...) {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("%s has no box %q", c.Ref, name)
	return axon.BoxInfo{}
}

// TestMetricsOfAFullBox fills a 5-slot box whose reader is held back: it
// shows 5 queued of 5, 5 arrived and none taken; a sixth send waits and
// is counted as waiting; once the reader goes, all 6 are taken and
// counted as handled.
func TestMetricsOfAFullBox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release := make(chan struct{})
	slow := axon.New("Slow", func(ctx context.Context, c *axon.Component) error {
		<-release
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	}, axon.WithInbox(axon.InboxName, "held back", axon.Capacity(5)))
	h := axon.Start(ctx, slow)
	for i := range 5 {
		if err := h.Put(ctx, axon.InboxName, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.TryPut(axon.InboxName, 5); !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("sixth TryPut: %v, want ErrBoxFull", err)
	}
	in := info(t, axon.Inspect(slow), "Slow")
	b := box(t, in, axon.InboxName)
	if b.Queued != 5 || b.Capacity != 5 || b.Arrived != 5 || b.Taken != 0 || b.Waits != 0 {
		t.Fatalf("full box: %+v", b)
	}
	if in.State != axon.StateRunning || in.Handled != 0 {
		t.Fatalf("state %s handled %d", in.State, in.Handled)
	}
	sent := make(chan error, 1)
	go func() { sent <- h.Put(ctx, axon.InboxName, 5) }()
	within(t, 5*time.Second, "the sixth send counted as waiting", func() bool {
		return slow.Inbox(axon.InboxName).Waits() == 1
	})
	close(release)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "six messages handled", func() bool {
		c := info(t, axon.Inspect(slow), "Slow")
		return c.Handled == 6 && box(t, c, axon.InboxName).Taken == 6
	})
	if n := slow.Inbox(axon.InboxName).Waits(); n != 1 {
		t.Errorf("%d sends waited, want 1", n)
	}
	h.Stop()
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if s := info(t, axon.Inspect(slow), "Slow").State; s != axon.StateEnded {
		t.Errorf("state after stop %q, want %q", s, axon.StateEnded)
	}
}

// TestMetricsCountBatches sends n messages through a batched stage and
// checks that every one is counted in, taken and handled, though they
// crossed many at a time.
func TestMetricsCountBatches(t *testing.T) {
	const n = 10_000
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src := axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		err := c.Batch(ctx, func(ctx context.Context) error {
			for i := range n {
				if err := c.Send(ctx, axon.OutboxName, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.Finish(ctx)
	})
	stage := axon.New("Stage", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, m any) error { return c.Send(ctx, axon.OutboxName, m) })
	})
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	})
	root := axon.New("Root", nil, axon.WithChildren(src, stage, sink))
	for _, l := range [][2]*axon.Component{{src, stage}, {stage, sink}} {
		if err := axon.Link(l[0], axon.OutboxName, l[1], axon.InboxName); err != nil {
			t.Fatal(err)
		}
		if err := axon.Link(l[0], axon.SignalName, l[1], axon.ControlName); err != nil {
			t.Fatal(err)
		}
	}
	if err := axon.Run(ctx, root); err != nil {
		t.Fatal(err)
	}
	s := axon.Inspect(root)
	for _, name := range []string{"Stage", "Sink"} {
		c := info(t, s, name)
		b := box(t, c, axon.InboxName)
		if b.Arrived != n || b.Taken != n || c.Handled != n || b.Queued != 0 {
			t.Errorf("%s: arrived %d taken %d handled %d queued %d, want %d, %d, %d, 0", name, b.Arrived, b.Taken, c.Handled, b.Queued, n, n, n)
		}
		if c.State != axon.StateEnded {
			t.Errorf("%s state %q", name, c.State)
		}
	}
	if got := box(t, info(t, s, "Stage"), axon.OutboxName).Sent; got != n {
		t.Errorf("stage sent %d, want %d", got, n)
	}
}

// TestFailedState: a component whose main loop returns an error is
// "failed", and so reported even after it has ended.
func TestFailedState(t *testing.T) {
	bad := axon.New("Bad", func(context.Context, *axon.Component) error { return errors.New("boom") })
	if err := axon.Run(context.Background(), bad); err == nil {
		t.Fatal("Run: no error")
	}
	if s := info(t, axon.Inspect(bad), "Bad").State; s != axon.StateFailed {
		t.Errorf("state %q, want %q", s, axon.StateFailed)
	}
}

// TestPaths: a child is named by what its parent calls it, else by its
// own name, with "#n" telling same-named siblings apart.
func TestPaths(t *testing.T) {
	idle := func(name string) *axon.Component { return axon.New(name, nil) }
	a, b, c, d := idle("Worker"), idle("Worker"), idle("Worker"), idle("Leaf")
	inner := axon.New("Inner", nil)
	if err := inner.AddNamedChild("left", d); err != nil {
		t.Fatal(err)
	}
	root := axon.New("Root", nil)
	for _, k := range []*axon.Component{a, b, inner} {
		if err := root.AddChild(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.AddNamedChild("Worker", c); err != nil {
		t.Fatal(err)
	}
	want := map[*axon.Component]string{root: "Root", a: "Root/Worker", b: "Root/Worker#2", inner: "Root/Inner", d: "Root/Inner/left", c: "Root/Worker#3"}
	for k, p := range want {
		if got := k.Path(); got != p {
			t.Errorf("%s: path %q, want %q", k, got, p)
		}
	}
	for _, ci := range axon.Inspect(root).Components {
		if ci.Path != want[findIn(want, ci.Ref)] {
			t.Errorf("snapshot: %s path %q", ci.Ref, ci.Path)
		}
	}
}

func findIn(m map[*axon.Component]string, r axon.Ref) *axon.Component {
	for k := range m {
		if k.Ref() == r {
			return k
		}
	}
	return nil
}

// carouselLike is a parent that adds a short-lived child on each message
// to its inbox, named "child", and removes it once it has ended: enough of
// a Carousel for axon's own tests.
func carouselLike() *axon.Component {
	return axon.New("Host", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			k := axon.New(fmt.Sprint(m), func(context.Context, *axon.Component) error { return nil })
			if err := c.AddNamedChild("child", k); err != nil {
				return err
			}
			select {
			case <-k.Done():
			case <-ctx.Done():
				return ctx.Err()
			}
			return c.RemoveChild(k)
		})
	})
}

// TestWatchMissesNoShortLivedComponent: a watcher that attaches to a
// running graph gets its snapshot first, then, though it samples only
// once an hour, every child that came and went: added, running, ended,
// removed, in that order.
func TestWatchMissesNoShortLivedComponent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	host := carouselLike()
	h := axon.Start(ctx, host)
	defer func() {
		h.Stop()
		_ = h.Wait()
	}()
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	events := axon.Watch(wctx, host, time.Hour)
	first := <-events
	if first.Kind != axon.EventSnapshot || info(t, *first.Graph, "Host").State != axon.StateRunning {
		t.Fatalf("first event %v, want a snapshot with Host running", first.Kind)
	}
	const children = 3
	for i := range children {
		if err := h.Put(ctx, axon.InboxName, fmt.Sprintf("k%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for len(got) < 4*children {
		select {
		case e := <-events:
			switch e.Kind {
			case axon.EventAdded:
				if e.Path != "Host/child" || e.Parent != host.Ref() {
					t.Errorf("added %s at %q under %s", e.Ref, e.Path, e.Parent)
				}
				got = append(got, "added "+e.Ref.Name)
			case axon.EventRemoved:
				got = append(got, "removed "+e.Ref.Name)
			case axon.EventState:
				got = append(got, e.State+" "+e.Ref.Name)
			case axon.EventSample, axon.EventSnapshot:
				t.Fatalf("unexpected %v", e.Kind)
			}
		case <-ctx.Done():
			t.Fatalf("timed out; events so far %q", got)
		}
	}
	for i := range children {
		k := fmt.Sprintf("k%d", i)
		want := []string{"added " + k, "running " + k, "ended " + k, "removed " + k}
		for j, w := range want {
			if got[4*i+j] != w {
				t.Fatalf("events %q, want %q for child %d", got, want, i)
			}
		}
	}
	wcancel()
	for range events { // closed once the watch has stopped
	}
}

// TestWatchSamplesAndLinks: samples arrive periodically, carrying the
// metrics, and links made in the watched graph are reported; those of
// another graph are not.
func TestWatchSamplesAndLinks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	root := axon.New("Root", nil)
	a, b := axon.New("A", nil), axon.New("B", nil)
	if err := root.AddChild(a); err != nil {
		t.Fatal(err)
	}
	if err := root.AddChild(b); err != nil {
		t.Fatal(err)
	}
	events := axon.Watch(ctx, root, 5*time.Millisecond)
	if e := <-events; e.Kind != axon.EventSnapshot || len(e.Graph.Components) != 3 {
		t.Fatalf("first event %v with %d components", e.Kind, len(e.Graph.Components))
	}
	other1, other2 := axon.New("X", nil), axon.New("Y", nil)
	if err := axon.Link(other1, axon.OutboxName, other2, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(a, axon.OutboxName, b, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	if err := a.Out(axon.OutboxName).TrySend("hello"); err != nil {
		t.Fatal(err)
	}
	var linked, sampled bool
	for !linked || !sampled {
		select {
		case e := <-events:
			switch e.Kind {
			case axon.EventLinked:
				if e.Link.From != a.Ref() || e.Link.To != b.Ref() || e.Link.FromBox != axon.OutboxName {
					t.Fatalf("linked %+v", e.Link)
				}
				linked = true
			case axon.EventSample:
				if linked && box(t, info(t, *e.Graph, "B"), axon.InboxName).Queued == 1 {
					sampled = true
				}
			}
		case <-ctx.Done():
			t.Fatalf("timed out: linked %v sampled %v", linked, sampled)
		}
	}
	cancel()
	for range events {
	}
}

// TestArrivedFollowsRoutes: an inbox counts what arrives through every
// route that ends in it, passthroughs included, and keeps the count when
// a route moves away.
func TestArrivedFollowsRoutes(t *testing.T) {
	src := axon.New("Src", nil)
	x, y := axon.New("X", nil), axon.New("Y", nil)
	outer := axon.New("Outer", nil, axon.WithInbox(axon.InboxName, "to Y", axon.PassthroughOnly()))
	if err := outer.AddChild(y); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(outer, axon.InboxName, y, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	send := func(n int) {
		t.Helper()
		for i := range n {
			if err := src.Out(axon.OutboxName).TrySend(i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := axon.Link(src, axon.OutboxName, x, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	send(3)
	if err := axon.Unlink(src, axon.OutboxName); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(src, axon.OutboxName, outer, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	send(2)
	if got := x.Inbox(axon.InboxName).Arrived(); got != 3 {
		t.Errorf("X arrived %d, want 3", got)
	}
	if got := y.Inbox(axon.InboxName).Arrived(); got != 2 {
		t.Errorf("Y (through Outer's passthrough) arrived %d, want 2", got)
	}
	if got := x.Inbox(axon.InboxName).Taken(); got != 0 {
		t.Errorf("X taken %d, want 0", got)
	}
	<-x.In(axon.InboxName)
	if got := x.Inbox(axon.InboxName).Taken(); got != 1 {
		t.Errorf("X taken %d after one receive, want 1", got)
	}
}
