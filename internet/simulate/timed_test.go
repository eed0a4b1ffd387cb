package simulate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
)

// overtakes returns, for a permutation got of 0..n-1, how many later
// messages overtook each message (came out before it), and how many
// earlier messages each one overtook.
func overtakes(got []int) (by, over []int) {
	n := len(got)
	tree := make([]int, n+1) // Fenwick tree over values already out
	add := func(i int) {
		for i++; i <= n; i += i & -i {
			tree[i]++
		}
	}
	below := func(i int) int { // how many values < i are out
		s := 0
		for ; i > 0; i -= i & -i {
			s += tree[i]
		}
		return s
	}
	by, over = make([]int, n), make([]int, n)
	for pos, v := range got {
		smaller := below(v)
		by[v] = pos - smaller // later messages already out
		over[v] = v - smaller // earlier messages not yet out
		add(v)
	}
	return by, over
}

func TestReorderBound(t *testing.T) {
	const n = 3000
	for _, window := range []int{1, 2, 3, 8, 32} {
		for _, seed := range []uint64{1, 2, 3} {
			// The clock never moves, so only the window releases messages.
			clock := simulate.NewManualClock(epoch)
			s := simulate.Reorder(window, simulate.Seed(seed), simulate.WithClock(clock))
			got := asInts(t, through(t, s, ints(n)))
			if err := isPermutation(got, n); err != nil {
				t.Fatalf("window %d seed %d: %v", window, seed, err)
			}
			by, over := overtakes(got)
			if m := slices.Max(by); m > window-1 {
				t.Fatalf("window %d seed %d: a message was overtaken by %d", window, seed, m)
			} else if window > 1 && m != window-1 {
				t.Fatalf("window %d seed %d: the bound is never reached (max %d): too little reordering", window, seed, m)
			}
			if m := slices.Max(over); m > window-1 {
				t.Fatalf("window %d seed %d: a message overtook %d", window, seed, m)
			}
			for pos, v := range got {
				if d := pos - v; d > window-1 || d < -(window-1) {
					t.Fatalf("window %d seed %d: message %d came out at %d", window, seed, v, pos)
				}
			}
			st := s.Stats()
			if window == 1 && (st.Reordered != 0 || !slices.IsSorted(got)) {
				t.Fatalf("window 1 reordered: %v", st)
			}
			if window > 1 && (st.Reordered < n/4 || st.Held != 0 || st.In != n || st.Out != n) {
				t.Fatalf("window %d seed %d: stats %v", window, seed, st)
			}
		}
	}
}

func TestReorderReproducible(t *testing.T) {
	run := func(seed uint64) []int {
		clock := simulate.NewManualClock(epoch)
		return asInts(t, through(t, simulate.Reorder(5, simulate.Seed(seed), simulate.WithClock(clock)), ints(500)))
	}
	a, b, c := run(9), run(9), run(10)
	if !slices.Equal(a, b) {
		t.Fatal("seed 9 twice: different orders")
	}
	if slices.Equal(a, c) {
		t.Fatal("seeds 9 and 10: the same order")
	}
}

// A request/response exchange: one message at a time, each waiting for
// the last to arrive. A window that waited for more traffic would hang.
func TestReorderReleasesHeldMessagesWhenTrafficStops(t *testing.T) {
	ctx := axontest.Context(t)
	s := simulate.Reorder(16, simulate.MaxHold(time.Millisecond), simulate.Seed(1))
	h := axontest.Start(t, ctx, s)
	for i := range 20 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	if st := s.Stats(); st.Delayed != 20 || st.Out != 20 {
		t.Fatalf("stats %v", st)
	}
}

func TestReorderMaxHoldOnManualClock(t *testing.T) {
	ctx := axontest.Context(t)
	clock := simulate.NewManualClock(epoch)
	s := simulate.Reorder(16, simulate.MaxHold(10*time.Millisecond), simulate.Seed(4), simulate.WithClock(clock))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, axon.OutboxName)
	for i := range 5 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	waitFor(t, ctx, "5 messages held", func() bool { return s.Stats().Held == 5 })
	if err := clock.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if at, _ := clock.NextTimer(); !at.Equal(epoch.Add(10 * time.Millisecond)) {
		t.Fatalf("timer set for %v, want MaxHold after the first message", at.Sub(epoch))
	}
	clock.Advance(10*time.Millisecond - 1)
	if st := s.Stats(); st.Out != 0 || st.Held != 5 {
		t.Fatalf("before MaxHold: %v", st)
	}
	clock.Advance(1)
	got := asInts(t, getAll(t, ctx, h, 5))
	if err := isPermutation(got, 5); err != nil {
		t.Fatal(err)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

func TestDelayReproducibleOnManualClock(t *testing.T) {
	run := func(seed uint64, opts ...simulate.Option) ([]int, simulate.Stats) {
		clock := simulate.NewManualClock(epoch)
		opts = append(opts, simulate.Seed(seed), simulate.WithClock(clock))
		s := simulate.Delay(10*time.Millisecond, 5*time.Millisecond, opts...)
		ctx := axontest.Context(t)
		h := axontest.Start(t, ctx, s)
		axontest.Tap(t, h, axon.OutboxName)
		for i := range 200 {
			axontest.Put(t, ctx, h, axon.InboxName, i)
		}
		waitFor(t, ctx, "200 messages held", func() bool { return s.Stats().Held == 200 })
		if err := clock.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		at, _ := clock.NextTimer()
		if d := at.Sub(epoch); d < 5*time.Millisecond || d > 15*time.Millisecond {
			t.Fatalf("first message due after %v, want 10ms ± 5ms", d)
		}
		clock.Set(at.Add(-1))
		if st := s.Stats(); st.Out != 0 || st.Held != 200 {
			t.Fatalf("before the first is due: %v", st)
		}
		clock.Advance(15 * time.Millisecond)
		got := asInts(t, getAll(t, ctx, h, 200))
		axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
		if err := isPermutation(got, 200); err != nil {
			t.Fatal(err)
		}
		return got, s.Stats()
	}
	a, st := run(1)
	b, _ := run(1)
	c, _ := run(2)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatal("order does not follow the seed")
	}
	// All came at the same instant: the jitter alone orders them.
	if st.Reordered == 0 || slices.IsSorted(a) {
		t.Fatalf("jitter reordered nothing: %v", st)
	}
	if st.Delayed != 200 {
		t.Fatalf("stats %v", st)
	}
	kept, st := run(1, simulate.KeepOrder())
	if !slices.IsSorted(kept) || st.Reordered != 0 {
		t.Fatalf("KeepOrder: %v, %v", kept, st)
	}
}

func TestDelayHonoursTimes(t *testing.T) {
	ctx := axontest.Context(t)
	clock := simulate.NewManualClock(epoch)
	s := simulate.Delay(50*time.Millisecond, 0, simulate.WithClock(clock))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, axon.OutboxName)
	for i := range 3 {
		axontest.Put(t, ctx, h, axon.InboxName, i)
		waitFor(t, ctx, "message held", func() bool { return s.Stats().Held == uint64(i+1) })
		clock.Advance(10 * time.Millisecond) // the i'th message came at 10ms*i
	}
	// The clock shows 30ms; message i is due at 50ms + 10ms*i.
	for i := range 3 {
		if err := clock.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		want := epoch.Add(50*time.Millisecond + time.Duration(i)*10*time.Millisecond)
		if at, _ := clock.NextTimer(); !at.Equal(want) {
			t.Fatalf("message %d due at %v, want %v", i, at.Sub(epoch), want.Sub(epoch))
		}
		clock.Set(want)
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	// ProducerFinished waits for nothing more: all delivered.
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

func TestDelayFinishesAfterDelivering(t *testing.T) {
	ctx := axontest.Context(t)
	clock := simulate.NewManualClock(epoch)
	s := simulate.Delay(time.Second, 0, simulate.WithClock(clock))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, axon.OutboxName)
	axontest.Put(t, ctx, h, axon.InboxName, "late")
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	if err := clock.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if axontest.IsClosed(h.Done()) || s.Stats().Out != 0 {
		t.Fatal("finished before delivering")
	}
	clock.Advance(time.Second)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "late" {
		t.Fatalf("got %v", got)
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
}

func TestRateLimitTailDrop(t *testing.T) {
	ctx := axontest.Context(t)
	clock := simulate.NewManualClock(epoch)
	s := simulate.RateLimit(1000, simulate.Burst(100), simulate.Queue(5), simulate.WithClock(clock))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, axon.OutboxName)
	msg := func(i int) []byte { b := make([]byte, 100); b[0] = byte(i); return b }
	for i := range 12 {
		axontest.Put(t, ctx, h, axon.InboxName, msg(i))
	}
	waitFor(t, ctx, "12 messages in", func() bool { st := s.Stats(); return st.Out+st.Held+st.Dropped == 12 })
	// The first used the whole burst; five wait; six were dropped.
	if st := s.Stats(); st.Out != 1 || st.Held != 5 || st.Dropped != 6 || st.Delayed != 5 {
		t.Fatalf("stats %v", st)
	}
	if err := clock.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if at, _ := clock.NextTimer(); !at.Equal(epoch.Add(100 * time.Millisecond)) {
		t.Fatalf("next message due at %v, want 100ms (100 bytes at 1000 B/s)", at.Sub(epoch))
	}
	got := getAll(t, ctx, h, 1)
	for len(got) < 6 { // one more every 100ms: the burst holds only one
		if err := clock.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		at, _ := clock.NextTimer()
		if want := epoch.Add(time.Duration(len(got)) * 100 * time.Millisecond); !at.Equal(want) {
			t.Fatalf("message %d due at %v, want %v", len(got), at.Sub(epoch), want.Sub(epoch))
		}
		clock.Set(at)
		got = append(got, axontest.Get(t, ctx, h, axon.OutboxName))
	}
	for i, m := range got {
		if b := m.([]byte); b[0] != byte(i) {
			t.Fatalf("message %d is %d", i, b[0])
		}
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

func TestRateLimitBlock(t *testing.T) {
	ctx := axontest.Context(t)
	clock := simulate.NewManualClock(epoch)
	s := simulate.RateLimit(10, simulate.Burst(3), simulate.Queue(2), simulate.Block(), simulate.WithClock(clock))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, axon.OutboxName)
	for i := range 10 { // ints count one byte each
		axontest.Put(t, ctx, h, axon.InboxName, i)
	}
	// Three go at once on the burst, two wait; the rest stay in the inbox.
	waitFor(t, ctx, "queue full", func() bool { st := s.Stats(); return st.Out == 3 && st.Held == 2 })
	if err := clock.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.In != 5 || st.Dropped != 0 {
		t.Fatalf("stats %v: took more than the queue holds", st)
	}
	var got []int
	got = append(got, asInts(t, getAll(t, ctx, h, 3))...)
	for len(got) < 10 {
		if err := clock.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		at, _ := clock.NextTimer()
		clock.Set(at)
		got = append(got, axontest.Get(t, ctx, h, axon.OutboxName).(int))
	}
	if !slices.Equal(got, ints(10)) {
		t.Fatalf("got %v", got)
	}
	if st := s.Stats(); st.Dropped != 0 || st.In != 10 {
		t.Fatalf("stats %v", st)
	}
	if !clock.Now().Equal(epoch.Add(700 * time.Millisecond)) {
		t.Fatalf("7 bytes after the burst took %v at 10 B/s", clock.Now().Sub(epoch))
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

func TestRateLimitLargeMessage(t *testing.T) {
	ctx := axontest.Context(t)
	clock := simulate.NewManualClock(epoch)
	s := simulate.RateLimit(100, simulate.Burst(10), simulate.WithClock(clock))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, axon.OutboxName)
	axontest.Put(t, ctx, h, axon.InboxName, make([]byte, 50)) // bigger than the burst: goes on a full bucket
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	if got := axontest.Get(t, ctx, h, axon.OutboxName); len(got.([]byte)) != 50 {
		t.Fatalf("got %v", got)
	}
	// The bucket is 40 bytes in debt: "x" needs 41 bytes' time.
	if err := clock.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if at, _ := clock.NextTimer(); !at.Equal(epoch.Add(410 * time.Millisecond)) {
		t.Fatalf("due at %v, want 410ms", at.Sub(epoch))
	}
	clock.Advance(410 * time.Millisecond)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "x" {
		t.Fatalf("got %v", got)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

// On the real clock with a tiny MaxHold, messages leave both because the
// window is full and because their time is up; the bound holds for both.
func TestReorderBoundWithReleases(t *testing.T) {
	const n, window = 5000, 6
	s := simulate.Reorder(window, simulate.MaxHold(time.Microsecond))
	got := asInts(t, through(t, s, ints(n)))
	if err := isPermutation(got, n); err != nil {
		t.Fatalf("seed %d: %v", s.Seed(), err)
	}
	by, over := overtakes(got)
	if slices.Max(by) > window-1 || slices.Max(over) > window-1 {
		t.Fatalf("seed %d: overtaken by up to %d, overtaking up to %d", s.Seed(), slices.Max(by), slices.Max(over))
	}
}

// Everything on, on the real clock: what goes in comes out, lost,
// duplicated or damaged as counted, and the ProducerFinished after it.
func TestNetworkEverythingOn(t *testing.T) {
	const n = 3000
	l := simulate.Network(simulate.Config{
		Rate: 50e6, Queue: 1000, Loss: 0.1, Duplicate: 0.1, Corrupt: 0.1, Reorder: 5,
		Delay: 200 * time.Microsecond, Jitter: 200 * time.Microsecond,
	})
	in := make([][]byte, n)
	for i := range in {
		in[i] = []byte{byte(i >> 8), byte(i), 0xAA, 0x55}
	}
	got := through(t, l, in)
	st := l.Stats()
	if st.Held != 0 || st.Discarded != 0 || st.In != n {
		t.Fatalf("seed %d: stats %v", l.Seed(), st)
	}
	if uint64(len(got)) != st.Out || st.Out != st.In-st.Dropped+st.Duplicated {
		t.Fatalf("seed %d: %d out, stats %v", l.Seed(), len(got), st)
	}
	damaged := 0
	for _, m := range got {
		b := m.([]byte)
		if b[2] != 0xAA || b[3] != 0x55 || int(b[0])<<8|int(b[1]) >= n {
			damaged++
		}
	}
	if uint64(damaged) > st.Corrupted || st.Corrupted == 0 || st.Reordered == 0 {
		t.Fatalf("seed %d: %d visibly damaged, stats %v", l.Seed(), damaged, st)
	}
	for i, b := range in {
		if b[2] != 0xAA || b[3] != 0x55 || int(b[0])<<8|int(b[1]) != i {
			t.Fatalf("seed %d: input %d changed", l.Seed(), i)
		}
	}
}
