package simulate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/util"
)

// run sends items through stage and prints what comes out, one per line.
func run[T any](stage axon.Node, items ...T) {
	ctx := context.Background()
	h := axon.Start(ctx, chassis.Pipeline(util.DataSource(items), stage))
	for {
		m, err := h.Get(ctx, axon.OutboxName)
		if err != nil {
			break
		}
		if b, ok := m.([]byte); ok {
			m = fmt.Sprintf("%q", b)
		}
		fmt.Println(m)
	}
	if err := h.Wait(); err != nil {
		fmt.Println(err)
	}
}

func ExampleLoss() {
	loss := simulate.Loss(0.5, simulate.Seed(4))
	run(loss, "a", "b", "c", "d", "e", "f")
	fmt.Println(loss.Stats())
	// Output:
	// b
	// c
	// d
	// Loss in=6 out=3 dropped=3
}

func ExampleDuplicate() {
	dup := simulate.Duplicate(0.5, simulate.Seed(3))
	run(dup, "a", "b", "c", "d")
	fmt.Println(dup.Stats())
	// Output:
	// a
	// a
	// b
	// b
	// c
	// d
	// d
	// Duplicate in=4 out=7 duplicated=3
}

func ExampleCorrupt() {
	corrupt := simulate.Corrupt(1, simulate.Seed(1))
	msg := []byte("hello")
	run(corrupt, msg)
	fmt.Printf("sender's buffer: %q\n", msg)
	// Output:
	// "hdllo"
	// sender's buffer: "hello"
}

func ExampleReorder() {
	// On a clock that never moves, only the window releases messages, so
	// the order depends on the seed alone.
	clock := simulate.NewManualClock(time.Unix(0, 0))
	reorder := simulate.Reorder(3, simulate.Seed(1), simulate.WithClock(clock))
	run(reorder, 1, 2, 3, 4, 5, 6, 7, 8)
	fmt.Println(reorder.Stats())
	// Output:
	// 3
	// 1
	// 4
	// 2
	// 6
	// 8
	// 5
	// 7
	// Reorder in=8 out=8 reordered=4 delayed=6
}

func ExampleDelay() {
	delay := simulate.Delay(2*time.Millisecond, 0)
	run(delay, "a", "b", "c")
	fmt.Println(delay.Stats().Delayed, "delayed")
	// Output:
	// a
	// b
	// c
	// 3 delayed
}

func ExampleRateLimit() {
	// A 1 MB/s link; Block slows the sender rather than dropping.
	link := simulate.RateLimit(1e6, simulate.Block())
	run(link, []byte("one"), []byte("two"), []byte("three"))
	st := link.Stats()
	fmt.Println(st.Out, "out,", st.Dropped, "dropped")
	// Output:
	// "one"
	// "two"
	// "three"
	// 3 out, 0 dropped
}

func ExampleNetwork() {
	net := simulate.Network(simulate.Config{Loss: 0.2, Duplicate: 0.1, Reorder: 3, Seed: 2,
		Clock: simulate.NewManualClock(time.Unix(0, 0))})
	run(net, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	for _, st := range net.StageStats() {
		fmt.Println(st)
	}
	// Output:
	// 2
	// 3
	// 1
	// 3
	// 8
	// 10
	// 4
	// 9
	// Loss in=10 out=7 dropped=3
	// Duplicate in=7 out=8 duplicated=1
	// Reorder in=8 out=8 reordered=4 delayed=7
}

func ExampleManualClock() {
	// A Delay on a manual clock delivers only when the clock is moved on.
	ctx := context.Background()
	clock := simulate.NewManualClock(time.Unix(0, 0))
	delay := simulate.Delay(10*time.Millisecond, 0, simulate.WithClock(clock))
	h := axon.Start(ctx, delay)
	_ = h.Put(ctx, axon.InboxName, "hello")
	_ = clock.WaitForTimers(ctx, 1) // the message is in, its timer set
	at, _ := clock.NextTimer()
	fmt.Println("due after", at.Sub(clock.Now()))
	clock.Advance(10 * time.Millisecond)
	m, _ := h.Get(ctx, axon.OutboxName)
	fmt.Println(m)
	h.Stop()
	_ = h.Wait()
	// Output:
	// due after 10ms
	// hello
}
