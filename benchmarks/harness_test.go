package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// The messages are pointers into a fixed table, so sending one allocates
// nothing and the sink can check that they arrive in order: message i
// points at payload[i&payloadMask], which holds i&payloadMask.
const payloadMask = 1<<10 - 1

var payload = func() *[payloadMask + 1]int {
	var p [payloadMask + 1]int
	for i := range p {
		p[i] = i
	}
	return &p
}()

func message(i int) *int { return &payload[i&payloadMask] }

// tally is what a sink saw: how many messages, checked for order.
type tally struct{ n int }

// take counts one message, failing if it is not the one expected next.
func (t *tally) take(_ context.Context, m any) error {
	p, ok := m.(*int)
	if !ok || *p != t.n&payloadMask {
		return fmt.Errorf("message %d: got %v, want a pointer to %d", t.n, m, t.n&payloadMask)
	}
	t.n++
	return nil
}

// ---- framework side ----

// passThrough is a component that forwards every message from "inbox" to
// "outbox", stopping on either shutdown message like every component. If
// started is not nil it is called once the main loop is running, just
// before it first waits.
//
// Boxes:
//
//	inbox   (in)  any message, forwarded unchanged
//	control (in)  ProducerFinished (forward what is queued, pass on, end) or
//	              ShutdownMicroprocess (pass on, end)
//	outbox  (out) the messages from inbox, in order
//	signal  (out) the shutdown message that ended it
func passThrough(started func()) *axon.Component {
	return axon.New("Stage", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		if started != nil {
			started()
		}
		// Serve is what a component author writes: the framework's own
		// receive loop, shutdown handling included.
		return c.Serve(ctx, out.Send)
	})
}

// source sends n messages on "outbox", then ProducerFinished on "signal".
func source(n int) *axon.Component {
	return axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		for i := range n {
			if err := out.Send(ctx, message(i)); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

// sink counts what arrives on "inbox" into t until told to stop.
func sink(t *tally) *axon.Component {
	return axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		in, ctl := c.In(axon.InboxName), c.In(axon.ControlName)
		done := ctx.Done()
		for {
			select {
			case m := <-in:
				if err := t.take(ctx, m); err != nil {
					return err
				}
			case m := <-ctl:
				if stop, err := c.Control(ctx, m, t.take); stop || err != nil {
					return err
				}
			case <-done:
				return ctx.Err()
			}
		}
	})
}

// stages makes k pass-through components.
func stages(k int) []axon.Node {
	s := make([]axon.Node, k)
	for i := range s {
		s[i] = passThrough(nil)
	}
	return s
}

// nest wraps nodes in depth Pipelines, one inside the other.
func nest(depth int, nodes []axon.Node) axon.Node {
	n := axon.Node(chassis.Pipeline(nodes...))
	for range depth - 1 {
		n = chassis.Pipeline(n)
	}
	return n
}

// runFramework builds Pipeline(source, k stages, sink), the stages wrapped
// in depth Pipelines if depth > 0, runs it to the end, and returns how many
// messages reached the sink.
func runFramework(ctx context.Context, k, depth, n int) (int, error) {
	var t tally
	nodes := []axon.Node{source(n)}
	if depth > 0 {
		nodes = append(nodes, nest(depth, stages(k)))
	} else {
		nodes = append(nodes, stages(k)...)
	}
	nodes = append(nodes, sink(&t))
	err := axon.Run(ctx, chassis.Pipeline(nodes...))
	return t.n, err
}

// ---- hand-written side ----

// The baseline is what a careful programmer writes without the framework:
// one goroutine per stage, joined by channels of the framework's default
// capacity, every send and receive also watching ctx, end of stream
// signalled by closing the channel.

func rawSource(ctx context.Context, out chan<- any, n int) {
	defer close(out)
	done := ctx.Done()
	for i := range n {
		select {
		case out <- message(i):
		case <-done:
			return
		}
	}
}

func rawStage(ctx context.Context, in <-chan any, out chan<- any) {
	defer close(out)
	done := ctx.Done()
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- m:
			case <-done:
				return
			}
		case <-done:
			return
		}
	}
}

// rawStageTuned is rawStage with one trick more: it first tries a send
// that cannot block, and only when the next channel is full falls back to
// the select that also watches ctx. Outbox.Send does the same; this
// baseline shows what that trick alone is worth.
func rawStageTuned(ctx context.Context, in <-chan any, out chan<- any) {
	defer close(out)
	done := ctx.Done()
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- m:
				continue
			default:
			}
			select {
			case out <- m:
			case <-done:
				return
			}
		case <-done:
			return
		}
	}
}

// rawStageFast is the hand-written stage with both of the tricks Serve and
// Outbox.Send use: take waiting data without a select, and try the send
// that cannot block before falling back to the select that watches ctx.
// It is the fastest plain-channel stage we know how to write, so the
// ratio against it is the honest ceiling of what the framework adds.
func rawStageFast(ctx context.Context, in <-chan any, out chan<- any) {
	defer close(out)
	done := ctx.Done()
	for {
		var m any
		var ok bool
		select {
		case m, ok = <-in:
		default:
			select {
			case m, ok = <-in:
			case <-done:
				return
			}
		}
		if !ok {
			return
		}
		select {
		case out <- m:
			continue
		default:
		}
		select {
		case out <- m:
		case <-done:
			return
		}
	}
}

func rawSink(ctx context.Context, in <-chan any, t *tally) error {
	done := ctx.Done()
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return nil
			}
			if err := t.take(ctx, m); err != nil {
				return err
			}
		case <-done:
			return ctx.Err()
		}
	}
}

// runRaw runs source, k copies of stage and sink as plain goroutines and
// returns how many messages reached the sink.
func runRaw(ctx context.Context, k, n int, stage func(ctx context.Context, in <-chan any, out chan<- any)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chans := make([]chan any, k+1)
	for i := range chans {
		chans[i] = make(chan any, axon.DefaultCapacity)
	}
	var (
		t   tally
		err error
		wg  sync.WaitGroup
	)
	wg.Go(func() { rawSource(ctx, chans[0], n) })
	for i := range k {
		in, out := chans[i], chans[i+1]
		wg.Go(func() { stage(ctx, in, out) })
	}
	wg.Go(func() {
		if err = rawSink(ctx, chans[k], &t); err != nil {
			cancel()
		}
	})
	wg.Wait()
	return t.n, err
}

// ---- comparing ----

// contender is one side of a comparison: it moves n messages and returns
// how many arrived.
type contender struct {
	name string
	run  func(ctx context.Context, n int) (int, error)
}

// timed runs c once with n messages after a GC, and returns messages per
// second.
func timed(ctx context.Context, c contender, n int) (float64, error) {
	runtime.GC()
	start := time.Now()
	got, err := c.run(ctx, n)
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.name, err)
	}
	if got != n {
		return 0, fmt.Errorf("%s: %d of %d messages arrived", c.name, got, n)
	}
	return float64(n) / d.Seconds(), nil
}

// rounds is what compare measured: rates[i][r] is contender i's rate in
// msgs/s in round r.
type rounds struct{ rates [][]float64 }

// n is the number of rounds.
func (r rounds) n() int { return len(r.rates[0]) }

// rate is contender i's median rate.
func (r rounds) rate(i int) float64 { return median(r.rates[i]) }

// ratio returns the median, lowest and highest of the per-round ratios of
// contender i's rate to contender j's. Both ran in the same round, one
// after the other, so a ratio is not disturbed by slow drift.
func (r rounds) ratio(i, j int) (med, lo, hi float64) {
	rs := make([]float64, len(r.rates[i]))
	for k := range rs {
		rs[k] = r.rates[i][k] / r.rates[j][k]
	}
	return median(rs), slices.Min(rs), slices.Max(rs)
}

// compare runs every contender once per round, for n rounds of msgs
// messages each, after a shorter warm-up of each. The order rotates from
// round to round so that no contender always goes first or last.
func compare(ctx context.Context, n, msgs int, cs ...contender) (rounds, error) {
	for _, c := range cs {
		if _, err := timed(ctx, c, msgs/10); err != nil {
			return rounds{}, err
		}
	}
	rates, err := rotate(len(cs), n, func(i int) (float64, error) { return timed(ctx, cs[i], msgs) })
	if err != nil {
		return rounds{}, err
	}
	return rounds{rates: rates}, nil
}

// rotate runs each of k contenders once per round, for n rounds, with
// run(i) running contender i; the order rotates from round to round so
// that no contender always goes first or last. res[i][r] is contender
// i's result in round r. The first error ends it.
func rotate[T any](k, n int, run func(i int) (T, error)) ([][]T, error) {
	res := make([][]T, k)
	for r := range n {
		for j := range k {
			i := (j + r) % k
			x, err := run(i)
			if err != nil {
				return nil, err
			}
			res[i] = append(res[i], x)
		}
	}
	return res, nil
}

// valuesOf is f of each run.
func valuesOf[T any](runs []T, f func(T) float64) []float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return xs
}

// ratesOf is the rounds of runs, rate giving each run's rate.
func ratesOf[T any](runs [][]T, rate func(T) float64) rounds {
	r := rounds{rates: make([][]float64, len(runs))}
	for i := range runs {
		r.rates[i] = valuesOf(runs[i], rate)
	}
	return r
}

// waitQuiet waits until count reaches want or has stood still for quiet
// (since since, at first), polling every millisecond, and returns when
// it last moved.
func waitQuiet(count *atomic.Int64, want int64, quiet time.Duration, since time.Time) time.Time {
	last, lastAt := int64(-1), since
	for {
		n := count.Load()
		if n != last {
			last, lastAt = n, time.Now()
		}
		if n >= want || time.Since(lastAt) >= quiet {
			return lastAt
		}
		time.Sleep(time.Millisecond)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// mega formats a rate in millions.
func mega(x float64) string { return fmt.Sprintf("%.2f", x/1e6) }

// ---- idle components ----

// memInUse is the heap and stack memory in use after a full collection.
func memInUse() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse
}

// idleResult is what idleFramework or idleRaw measured.
type idleResult struct {
	Startup     time.Duration // from the first New until every main loop runs
	Heap, Stack int64         // growth of memory in use while they idle
	Stop        time.Duration // from Stop until the graph has ended
}

func (r idleResult) perComponent(count int) float64 {
	return float64(r.Heap+r.Stack) / float64(count)
}

// idleFramework starts count idle pass-through components, as children of
// one container or as one Pipeline, measures them, stops them and waits
// until all have ended.
func idleFramework(ctx context.Context, count int, asPipeline bool) (idleResult, error) {
	var r idleResult
	heap0, stack0 := memInUse()
	var started sync.WaitGroup
	started.Add(count)
	begin := time.Now()
	kids := make([]axon.Node, count)
	for i := range kids {
		kids[i] = passThrough(started.Done)
	}
	var root *axon.Component
	if asPipeline {
		root = chassis.Pipeline(kids...)
	} else {
		root = axon.New("Root", nil, axon.WithChildren(kids...))
	}
	h := axon.Start(ctx, root)
	started.Wait()
	r.Startup = time.Since(begin)
	heap1, stack1 := memInUse()
	r.Heap, r.Stack = int64(heap1)-int64(heap0), int64(stack1)-int64(stack0)
	begin = time.Now()
	h.Stop()
	err := h.Wait()
	r.Stop = time.Since(begin)
	runtime.KeepAlive(root)
	return r, err
}

// idleRaw starts count goroutines, each blocked in a select on its own
// channel (of the framework's default inbox capacity) and a shared stop
// channel, measures them, and stops them.
func idleRaw(count int) idleResult {
	var r idleResult
	heap0, stack0 := memInUse()
	stop := make(chan struct{})
	var started, ended sync.WaitGroup
	started.Add(count)
	begin := time.Now()
	for range count {
		in := make(chan any, axon.DefaultCapacity)
		ended.Go(func() {
			started.Done()
			select {
			case <-in:
			case <-stop:
			}
		})
	}
	started.Wait()
	r.Startup = time.Since(begin)
	heap1, stack1 := memInUse()
	r.Heap, r.Stack = int64(heap1)-int64(heap0), int64(stack1)-int64(stack0)
	begin = time.Now()
	close(stop)
	ended.Wait()
	r.Stop = time.Since(begin)
	return r
}

// ---- tests of the harness itself (they run under plain go test) ----

func TestFrameworkPipelineDelivers(t *testing.T) {
	for _, depth := range []int{0, 1, 5} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) {
			ctx := axontest.Context(t)
			const n = 3000
			got, err := runFramework(ctx, 10, depth, n)
			if err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Fatalf("sink saw %d messages, want %d", got, n)
			}
		})
	}
}

func TestRawPipelineDelivers(t *testing.T) {
	ctx := axontest.Context(t)
	const n = 3000
	for name, stage := range map[string]func(context.Context, <-chan any, chan<- any){"plain": rawStage, "tuned": rawStageTuned, "fast": rawStageFast} {
		got, err := runRaw(ctx, 10, n, stage)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != n {
			t.Fatalf("%s: sink saw %d messages, want %d", name, got, n)
		}
	}
}

func TestSinkRejectsDisorder(t *testing.T) {
	var tl tally
	if err := tl.take(context.Background(), message(0)); err != nil {
		t.Fatal(err)
	}
	if err := tl.take(context.Background(), message(2)); err == nil {
		t.Fatal("out-of-order message accepted")
	}
	if err := tl.take(context.Background(), 1); err == nil {
		t.Fatal("message of the wrong type accepted")
	}
}

func TestFrameworkPipelineStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runFramework(ctx, 10, 0, 1<<20)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestIdleStartStop(t *testing.T) {
	ctx := axontest.Context(t)
	for _, asPipeline := range []bool{false, true} {
		if _, err := idleFramework(ctx, 500, asPipeline); err != nil {
			t.Fatalf("pipeline=%v: %v", asPipeline, err)
		}
	}
	idleRaw(500)
}
