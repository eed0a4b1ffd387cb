package backplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// testCtx bounds a test so that a bug shows as a failure, not a hang.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// start runs n and stops it (if still running) when the test ends.
func start(t *testing.T, ctx context.Context, n axon.Node) *axon.Handle {
	t.Helper()
	h := axon.Start(ctx, n)
	t.Cleanup(func() { h.Stop(); _ = h.Wait() })
	return h
}

// subscribe starts a SubscribeTo and waits until it has joined.
func subscribe(t *testing.T, ctx context.Context, name string, opts ...Option) (*SubscribeToComponent, *axon.Handle) {
	t.Helper()
	s := SubscribeTo(name, opts...)
	h := start(t, ctx, s)
	select {
	case <-s.Joined():
	case <-h.Done():
		t.Fatalf("subscriber ended before joining: %v", h.Wait())
	case <-ctx.Done():
		t.Fatal("subscriber did not join")
	}
	return s, h
}

func put(t *testing.T, ctx context.Context, h *axon.Handle, box string, msgs ...any) {
	t.Helper()
	for _, m := range msgs {
		if err := h.Put(ctx, box, m); err != nil {
			t.Fatalf("put %v on %s: %v", m, box, err)
		}
	}
}

// get takes n messages from h's outbox.
func get(t *testing.T, ctx context.Context, h *axon.Handle, n int) []any {
	t.Helper()
	var got []any
	for range n {
		m, err := h.Get(ctx, axon.OutboxName)
		if err != nil {
			t.Fatalf("after %d messages %v: get: %v", len(got), got, err)
		}
		got = append(got, m)
	}
	return got
}

// getAll takes messages from h's outbox until it has ended.
func getAll(t *testing.T, ctx context.Context, h *axon.Handle) []any {
	t.Helper()
	var got []any
	for {
		m, err := h.Get(ctx, axon.OutboxName)
		if errors.Is(err, axon.ErrEnded) {
			return got
		}
		if err != nil {
			t.Fatalf("after %d messages: get: %v", len(got), err)
		}
		got = append(got, m)
	}
}

// getEach takes n messages from each handle's outbox, one from each in
// turn: with Block, a subscriber left unread holds the others back.
func getEach(t *testing.T, ctx context.Context, hs []*axon.Handle, n int) [][]any {
	t.Helper()
	got := make([][]any, len(hs))
	for range n {
		for i, h := range hs {
			got[i] = append(got[i], get(t, ctx, h, 1)...)
		}
	}
	return got
}

// putAsync puts msgs on h's inbox in the background; wait for the returned
// channel to be closed.
func putAsync(t *testing.T, ctx context.Context, h *axon.Handle, msgs ...any) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, m := range msgs {
			if err := h.Put(ctx, axon.InboxName, m); err != nil {
				t.Errorf("put %v: %v", m, err)
				return
			}
		}
	}()
	return done
}

func ints(from, to int) []any {
	var s []any
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func equal(a, b []any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b) && len(a) == len(b)
}

// finish sends a ProducerFinished to h's control and waits for h to end
// without error.
func finish(t *testing.T, ctx context.Context, h *axon.Handle) {
	t.Helper()
	put(t, ctx, h, axon.ControlName, axon.ProducerFinished{})
	if err := h.Wait(); err != nil {
		t.Fatalf("after ProducerFinished: %v", err)
	}
}

func TestFanOutToSeveralSubscribersInOrder(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	bp := start(t, ctx, Backplane(name))
	var subs []*axon.Handle
	for range 3 {
		_, h := subscribe(t, ctx, name)
		subs = append(subs, h)
	}
	pub := start(t, ctx, PublishTo(name))
	want := ints(0, 200)
	published := putAsync(t, ctx, pub, want...)
	for i, got := range getEach(t, ctx, subs, len(want)) {
		if !equal(got, want) {
			t.Errorf("subscriber %d got %v, want 0..199 in order", i, got)
		}
	}
	<-published
	finish(t, ctx, pub)
	finish(t, ctx, bp)
	for i, s := range subs {
		if got := getAll(t, ctx, s); len(got) != 0 {
			t.Errorf("subscriber %d got extra %v", i, got)
		}
		if err := s.Wait(); err != nil {
			t.Errorf("subscriber %d: %v", i, err)
		}
	}
}

func TestTwoPublishersKeepTheirOwnOrder(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	bp := start(t, ctx, Backplane(name))
	_, s1 := subscribe(t, ctx, name)
	_, s2 := subscribe(t, ctx, name)
	pubs := []*axon.Handle{start(t, ctx, PublishTo(name)), start(t, ctx, PublishTo(name))}
	const n = 100
	var done []<-chan struct{}
	for p, h := range pubs {
		var msgs []any
		for i := range n {
			msgs = append(msgs, fmt.Sprintf("%d:%d", p, i))
		}
		done = append(done, putAsync(t, ctx, h, msgs...))
	}
	for _, got := range getEach(t, ctx, []*axon.Handle{s1, s2}, 2*n) {
		next := [2]int{}
		for _, m := range got {
			var p, i int
			if _, err := fmt.Sscanf(m.(string), "%d:%d", &p, &i); err != nil {
				t.Fatalf("bad message %v: %v", m, err)
			}
			if i != next[p] {
				t.Fatalf("from publisher %d got %d, want %d (all: %v)", p, i, next[p], got)
			}
			next[p]++
		}
	}
	for _, d := range done {
		<-d
	}
	for _, p := range pubs {
		finish(t, ctx, p)
	}
	finish(t, ctx, bp)
}

func TestJoinAndLeaveWhileRunning(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	b := Backplane(name)
	bp := start(t, ctx, b)
	_, early := subscribe(t, ctx, name)
	pub := start(t, ctx, PublishTo(name))

	put(t, ctx, pub, axon.InboxName, ints(0, 10)...)
	// Once the early subscriber has 9, the backplane has taken 0..9.
	if got := get(t, ctx, early, 10); !equal(got, ints(0, 10)) {
		t.Fatalf("early subscriber got %v", got)
	}
	_, late := subscribe(t, ctx, name)
	if n, err := b.Subscribers(ctx); err != nil || n != 2 {
		t.Fatalf("Subscribers = %d, %v; want 2", n, err)
	}
	put(t, ctx, pub, axon.InboxName, ints(10, 20)...)
	if got := get(t, ctx, late, 10); !equal(got, ints(10, 20)) {
		t.Errorf("late subscriber got %v, want only 10..19", got)
	}
	if got := get(t, ctx, early, 10); !equal(got, ints(10, 20)) {
		t.Errorf("early subscriber got %v, want 10..19", got)
	}

	// The early one leaves; the backplane and the late one carry on.
	finish(t, ctx, early)
	if n, err := b.Subscribers(ctx); err != nil || n != 1 {
		t.Fatalf("after one left, Subscribers = %d, %v; want 1", n, err)
	}
	put(t, ctx, pub, axon.InboxName, ints(20, 30)...)
	if got := get(t, ctx, late, 10); !equal(got, ints(20, 30)) {
		t.Errorf("late subscriber got %v, want 20..29", got)
	}
	finish(t, ctx, pub)
	finish(t, ctx, bp)
	if got := getAll(t, ctx, late); len(got) != 0 {
		t.Errorf("late subscriber got extra %v", got)
	}
}

// With Block, a subscriber nobody reads holds the publisher back: what has
// been published but not received stays within the boxes' capacities.
func TestBlockHoldsThePublisherBack(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	bp := start(t, ctx, Backplane(name))
	s, slow := subscribe(t, ctx, name, Block())
	pub := start(t, ctx, PublishTo(name))

	const n = 2000
	var published atomic.Int64
	go func() {
		for i := range n {
			if err := pub.Put(ctx, axon.InboxName, i); err != nil {
				t.Errorf("put %d: %v", i, err)
				return
			}
			published.Add(1)
		}
	}()
	// In flight are at most what the boxes on the way hold (the
	// PublishTo's inbox and the Handle's) and the run the PublishTo has
	// in hand; n is more than five times that.
	const bound = axon.BurstCapacity + batchMax + axon.DefaultCapacity
	for i := range n {
		m, err := slow.Get(ctx, axon.OutboxName)
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		if m != i {
			t.Fatalf("got %v, want %d", m, i)
		}
		if ahead := published.Load() - int64(i+1); ahead > bound {
			t.Fatalf("publisher is %d messages ahead of the subscriber: not held back", ahead)
		}
	}
	if d := s.Dropped(); d != 0 {
		t.Errorf("Dropped = %d with Block", d)
	}
	finish(t, ctx, pub)
	finish(t, ctx, bp)
}

// With DropOldest, publishing never waits for a subscriber nobody reads:
// it drops the oldest messages and counts them, and keeps the newest.
func TestDropOldestDropsAndCounts(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	bp := start(t, ctx, Backplane(name))
	s, slow := subscribe(t, ctx, name, DropOldest(4))
	_, fast := subscribe(t, ctx, name)
	pub := start(t, ctx, PublishTo(name))

	// 1000 messages pass the fast subscriber, read as they come, while
	// nobody reads the slow one: with Block this would never finish.
	const n = 1000
	go func() {
		for i := range n {
			if err := pub.Put(ctx, axon.InboxName, i); err != nil {
				t.Errorf("put %d: %v", i, err)
				return
			}
		}
	}()
	if got := get(t, ctx, fast, n); !equal(got, ints(0, n)) {
		t.Fatalf("fast subscriber got %v", got)
	}
	finish(t, ctx, pub)
	finish(t, ctx, bp)

	got := getAll(t, ctx, slow)
	if err := slow.Wait(); err != nil {
		t.Fatal(err)
	}
	d := s.Dropped()
	if d == 0 {
		t.Errorf("nothing dropped")
	}
	if len(got)+int(d) != n {
		t.Errorf("received %d + dropped %d != %d published", len(got), d, n)
	}
	// One in hand, 4 queued, and what the subscriber's own boxes hold:
	// the rest must have been dropped.
	if len(got) > 1+4+2*axon.DefaultCapacity {
		t.Errorf("received %d: more than the queue can hold", len(got))
	}
	prev := -1
	for _, m := range got {
		if m.(int) <= prev {
			t.Fatalf("out of order: %v", got)
		}
		prev = m.(int)
	}
	if prev != n-1 {
		t.Errorf("last received %d, want the newest, %d", prev, n-1)
	}
}

// A publisher still holding messages when its backplane ends fails,
// rather than losing them quietly.
func TestPublisherHoldingMessagesWhenTheBackplaneEnds(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	bp := start(t, ctx, Backplane(name))
	subscribe(t, ctx, name) // never read: everything backs up
	pub := start(t, ctx, PublishTo(name))
	// Put until a Put has to wait: the publisher's inbox is then full,
	// and with nobody reading the subscriber it stays full.
	for i := 0; ; i++ {
		pctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err := pub.Put(pctx, axon.InboxName, i)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	put(t, ctx, bp, axon.ControlName, axon.ShutdownMicroprocess{})
	if err := bp.Wait(); err != nil {
		t.Fatalf("backplane: %v", err)
	}
	if err := pub.Wait(); !errors.Is(err, ErrBackplaneEnded) || !strings.Contains(err.Error(), name) {
		t.Fatalf("publisher: %v, want ErrBackplaneEnded naming %q", err, name)
	}
}

// A subscriber that holds the backplane back can still leave, and the
// others then get everything.
func TestStuckSubscriberCanLeave(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	b := Backplane(name)
	bp := start(t, ctx, b)
	_, stuck := subscribe(t, ctx, name) // never read
	_, fast := subscribe(t, ctx, name)
	pub := start(t, ctx, PublishTo(name))
	const n = 300 // far more than the stuck one's boxes hold
	published := putAsync(t, ctx, pub, ints(0, n)...)
	// Its outbox leads nowhere, so the backplane's first hand-over to it
	// waits: the fast one, which joined later and is read all along, gets
	// nothing until the stuck one leaves. Wait until the backplane is held
	// (a delivery holds the lock that Subscribers waits for).
	fastGot := make(chan []any, 1)
	go func() {
		var got []any
		defer func() { fastGot <- got }()
		for range n {
			m, err := fast.Get(ctx, axon.OutboxName)
			if err != nil {
				t.Errorf("fast subscriber, after %d messages: %v", len(got), err)
				return
			}
			got = append(got, m)
		}
	}()
	for {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := b.Subscribers(sctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	put(t, ctx, stuck, axon.ControlName, axon.ShutdownMicroprocess{})
	if err := stuck.Wait(); err != nil {
		t.Fatalf("stuck subscriber: %v", err)
	}
	if got := <-fastGot; !equal(got, ints(0, n)) {
		t.Errorf("fast subscriber got %v, want 0..%d in order", got, n-1)
	}
	<-published
	if k, err := b.Subscribers(ctx); err != nil || k != 1 {
		t.Errorf("Subscribers = %d, %v; want 1", k, err)
	}
	finish(t, ctx, pub)
	finish(t, ctx, bp)
}

func TestDuplicateNameIsAnError(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	start(t, ctx, Backplane(name))
	subscribe(t, ctx, name) // the first has registered once this joins

	err := axon.Run(ctx, Backplane(name))
	if !errors.Is(err, axon.ErrServiceExists) {
		t.Fatalf("second backplane: %v, want ErrServiceExists", err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name %q", err, name)
	}
	// The first is still registered and working.
	if _, err := axon.Services.Lookup(name); err != nil {
		t.Errorf("first backplane lost its name: %v", err)
	}
}

func TestMissingBackplaneFailsAfterTheWait(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	for _, n := range []axon.Node{
		PublishTo(name, Wait(20*time.Millisecond)),
		SubscribeTo(name, Wait(20*time.Millisecond)),
		SubscribeTo(name, Wait(0)),
	} {
		err := axon.Run(ctx, n)
		if !errors.Is(err, ErrNoBackplane) {
			t.Errorf("%s: %v, want ErrNoBackplane", n.Core(), err)
			continue
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
}

func TestSubscriberWaitsForALateBackplane(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	s := SubscribeTo(name, Wait(time.Minute))
	sh := start(t, ctx, s)
	pub := start(t, ctx, PublishTo(name, Wait(time.Minute)))
	put(t, ctx, pub, axon.InboxName, "early") // queued until it finds one
	select {
	case <-s.Joined():
		t.Fatal("joined a backplane that does not exist")
	default:
	}
	bp := start(t, ctx, Backplane(name))
	<-s.Joined()
	// The publisher may have linked before the subscriber joined, so
	// "early" may be lost to it; "late" is sent after both.
	put(t, ctx, pub, axon.InboxName, "late")
	for {
		m := get(t, ctx, sh, 1)[0]
		if m == "late" {
			break
		}
		if m != "early" {
			t.Fatalf("got %v", m)
		}
	}
	finish(t, ctx, pub)
	finish(t, ctx, bp)
}

func TestNameHeldByAnotherServiceIsNotABackplane(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	other := axon.New("Other", nil)
	if err := axon.Services.Register(name, other, axon.InboxName); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = axon.Services.Deregister(name) }()
	err := axon.Run(ctx, SubscribeTo(name, Wait(time.Minute)))
	if !errors.Is(err, ErrNoBackplane) || !strings.Contains(err.Error(), "not a backplane") && !strings.Contains(err.Error(), "Other") {
		t.Fatalf("got %v, want ErrNoBackplane naming the other service", err)
	}
}

func TestBadOptions(t *testing.T) {
	ctx := testCtx(t)
	for name, n := range map[string]axon.Node{
		"DropOldest(0)":         SubscribeTo("x", DropOldest(0)),
		"Backplane with Wait":   Backplane("x", Wait(time.Second)),
		"PublishTo with Block":  PublishTo("x", Block()),
		"empty backplane name":  Backplane(""),
		"nil option":            SubscribeTo("x", nil),
		"PublishTo DropOldest":  PublishTo("x", DropOldest(3)),
		"Backplane DropOldest":  Backplane("x", DropOldest(3)),
		"SubscribeTo negative ": SubscribeTo("x", DropOldest(-1)),
	} {
		if err := axon.Run(ctx, n); !errors.Is(err, ErrBadOption) {
			t.Errorf("%s: %v, want ErrBadOption", name, err)
		}
	}
}

func TestBackplaneDeregistersWhenItEnds(t *testing.T) {
	ctx := testCtx(t)
	name := t.Name()
	for range 2 { // the second time, the name is free again
		bp := axon.Start(ctx, Backplane(name))
		subscribe(t, ctx, name) // returns once registered
		if _, err := axon.Services.Lookup(name); err != nil {
			t.Fatalf("not registered: %v", err)
		}
		finish(t, ctx, bp)
		if _, err := axon.Services.Lookup(name); !errors.Is(err, axon.ErrNoService) {
			t.Fatalf("after the end, lookup: %v", err)
		}
	}
}

func TestShutdown(t *testing.T) {
	t.Run("publisher's ProducerFinished ends only the publisher", func(t *testing.T) {
		ctx := testCtx(t)
		name := t.Name()
		bp := start(t, ctx, Backplane(name))
		_, sub := subscribe(t, ctx, name)
		p1 := start(t, ctx, PublishTo(name))
		p2 := start(t, ctx, PublishTo(name))
		put(t, ctx, p1, axon.InboxName, "a", "b")
		put(t, ctx, p1, axon.ControlName, axon.ProducerFinished{})
		// What it held is published before it passes the message on (a
		// PublishTo hands messages to the subscribers itself, so read
		// them: with Block it waits for room).
		if got := get(t, ctx, sub, 2); !equal(got, []any{"a", "b"}) {
			t.Errorf("got %v, want a b", got)
		}
		sig, err := p1.Get(ctx, axon.SignalName)
		if err != nil || !axon.IsProducerFinished(sig) {
			t.Fatalf("publisher signal: %v, %v", sig, err)
		}
		if err := p1.Wait(); err != nil {
			t.Fatal(err)
		}
		put(t, ctx, p2, axon.InboxName, "c")
		if got := get(t, ctx, sub, 1); !equal(got, []any{"c"}) {
			t.Errorf("got %v after a b, want c", got)
		}
		finish(t, ctx, p2)
		finish(t, ctx, bp)
	})
	t.Run("backplane's ProducerFinished finishes subscribers and idle publishers", func(t *testing.T) {
		ctx := testCtx(t)
		name := t.Name()
		bp := start(t, ctx, Backplane(name))
		s, sub := subscribe(t, ctx, name)
		pub := start(t, ctx, PublishTo(name))
		put(t, ctx, pub, axon.InboxName, ints(0, 5)...)
		get(t, ctx, sub, 5) // all published
		put(t, ctx, bp, axon.ControlName, axon.ProducerFinished{})
		if m, err := bp.Get(ctx, axon.SignalName); err != nil || !axon.IsProducerFinished(m) {
			t.Errorf("backplane signal: %v, %v", m, err)
		}
		m, err := sub.Get(ctx, axon.SignalName)
		if pf, ok := m.(axon.ProducerFinished); err != nil || !ok || pf.From != s.Ref() {
			t.Errorf("subscriber signal: %#v, %v; want its own ProducerFinished", m, err)
		}
		if m, err := pub.Get(ctx, axon.SignalName); err != nil || !axon.IsProducerFinished(m) {
			t.Errorf("publisher signal: %v, %v", m, err)
		}
		for _, h := range []*axon.Handle{bp, sub, pub} {
			if err := h.Wait(); err != nil {
				t.Errorf("%s: %v", h.Component(), err)
			}
		}
	})
	t.Run("subscriber's ProducerFinished", func(t *testing.T) {
		ctx := testCtx(t)
		name := t.Name()
		b := Backplane(name)
		bp := start(t, ctx, b)
		_, sub := subscribe(t, ctx, name)
		pub := start(t, ctx, PublishTo(name))
		put(t, ctx, pub, axon.InboxName, "x")
		// Read it, or its Send would (rightly) wait for a reader.
		if got := get(t, ctx, sub, 1); !equal(got, []any{"x"}) {
			t.Fatalf("got %v", got)
		}
		put(t, ctx, sub, axon.ControlName, axon.ProducerFinished{})
		if m, err := sub.Get(ctx, axon.SignalName); err != nil || !axon.IsProducerFinished(m) {
			t.Errorf("subscriber signal: %v, %v", m, err)
		}
		if err := sub.Wait(); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Subscribers(ctx); err != nil || n != 0 {
			t.Errorf("Subscribers = %d, %v; want 0", n, err)
		}
		finish(t, ctx, pub)
		finish(t, ctx, bp)
	})
	t.Run("ShutdownMicroprocess is passed on", func(t *testing.T) {
		ctx := testCtx(t)
		name := t.Name()
		b := Backplane(name)
		bp := start(t, ctx, b)
		_, sub := subscribe(t, ctx, name, DropOldest(2))
		pub := start(t, ctx, PublishTo(name))
		for _, h := range []*axon.Handle{sub, pub, bp} {
			put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{})
			if m, err := h.Get(ctx, axon.SignalName); err != nil || !axon.IsShutdownMicroprocess(m) {
				t.Errorf("%s signal: %v, %v", h.Component(), m, err)
			}
			if err := h.Wait(); err != nil {
				t.Errorf("%s: %v", h.Component(), err)
			}
			if h == sub {
				if n, err := b.Subscribers(ctx); err != nil || n != 0 {
					t.Errorf("Subscribers = %d, %v; want 0", n, err)
				}
			}
		}
	})
}

// Two graphs given registries of their own each have a backplane called
// "shared" without meeting (in one registry the second would be refused
// with axon.ErrServiceExists), and axon.Services holds neither.
func TestBackplanePerGraphRegistry(t *testing.T) {
	ctx := testCtx(t)
	for i := range 2 {
		reg := &axon.Registry{}
		sub := SubscribeTo("shared")
		h := axon.Start(ctx, axon.New("Root", nil, axon.WithChildren(Backplane("shared"), sub)), axon.WithServices(reg))
		t.Cleanup(func() { h.Stop(); _ = h.Wait() })
		select {
		case <-sub.Joined():
		case <-h.Done():
			t.Fatalf("graph %d ended: %v", i, h.Wait())
		case <-ctx.Done():
			t.Fatal("subscriber did not join")
		}
		if _, err := reg.Lookup("shared"); err != nil {
			t.Fatalf("graph %d's registry: %v", i, err)
		}
	}
	if _, err := axon.Services.Lookup("shared"); err == nil {
		t.Error("a backplane of a graph with its own registry is in axon.Services")
	}
}
