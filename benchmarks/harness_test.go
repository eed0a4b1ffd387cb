package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
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
	if !ok {
		return fmt.Errorf("message %d: got %v (%T), want a pointer to %d", t.n, m, m, t.n&payloadMask)
	}
	return t.takeInt(p)
}

// takeInt is take for the hand-written pipelines with typed channels.
func (t *tally) takeInt(p *int) error {
	if p == nil || *p != t.n&payloadMask {
		return fmt.Errorf("message %d: got %v, want a pointer to %d", t.n, p, t.n&payloadMask)
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

// The pipeline benchmarks use the components a user writes for the job:
// a producer that has its messages ready and sends them as one burst, 10
// PureTransformers that return what they are given, and a sink written
// with Serve. (passThrough, source and sink above serve the idle and
// backplane benchmarks.)

// burstSource sends n messages on "outbox" inside Batch, as a producer
// with a burst ready does, then ProducerFinished on "signal".
func burstSource(n int) *axon.Component {
	return axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		err := c.Batch(ctx, func(ctx context.Context) error {
			for i := range n {
				if err := out.Send(ctx, message(i)); err != nil {
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
}

// serveSink counts what arrives on "inbox" into t, checking the order,
// with Serve doing the rest.
func serveSink(t *tally) *axon.Component {
	return axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, t.take)
	})
}

func identity(m any) any { return m }

// transformers makes k PureTransformers that pass every message on
// unchanged.
func transformers(k int) []axon.Node {
	s := make([]axon.Node, k)
	for i := range s {
		s[i] = util.PureTransformer(identity)
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

// runFramework builds Pipeline(burstSource, k transformers, serveSink),
// the transformers wrapped in depth Pipelines if depth > 0, runs it to the
// end with opts, and returns how many messages reached the sink.
func runFramework(ctx context.Context, k, depth, n int, opts ...axon.StartOption) (int, error) {
	var t tally
	err := axon.Run(ctx, frameworkGraph(k, depth, n, &t), opts...)
	return t.n, err
}

// frameworkGraph is the graph runFramework runs, counting into t.
func frameworkGraph(k, depth, n int, t *tally) *axon.Component {
	nodes := []axon.Node{burstSource(n)}
	if depth > 0 {
		nodes = append(nodes, nest(depth, transformers(k)))
	} else {
		nodes = append(nodes, transformers(k)...)
	}
	nodes = append(nodes, serveSink(t))
	return chassis.Pipeline(nodes...)
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

// runRawRange is the pipeline as a Go programmer writes it for this job:
// source, k stages and sink as plain goroutines joined by typed channels
// of the framework's default capacity, each stage ranging over its input
// and closing its output at the end. Nothing watches a context: the
// source ends the stream by closing its channel, and the sink always
// reads to the end (after a disorder it only drains), so every goroutine
// ends. It returns how many messages reached the sink in order.
func runRawRange(k, n int) (int, error) {
	chans := make([]chan *int, k+1)
	for i := range chans {
		chans[i] = make(chan *int, axon.DefaultCapacity)
	}
	var (
		t   tally
		err error
		wg  sync.WaitGroup
	)
	wg.Go(func() { rangeSource(chans[0], n) })
	for i := range k {
		in, out := chans[i], chans[i+1]
		wg.Go(func() { rangeStage(in, out) })
	}
	wg.Go(func() { err = rangeSink(chans[k], &t) })
	wg.Wait()
	return t.n, err
}

func rangeSource(out chan<- *int, n int) {
	for i := range n {
		out <- message(i)
	}
	close(out)
}

func rangeStage(in <-chan *int, out chan<- *int) {
	for v := range in {
		out <- v
	}
	close(out)
}

// rangeSink counts what arrives into t, checking the order; after the
// first disorder it reads the rest without counting.
func rangeSink(in <-chan *int, t *tally) (err error) {
	for v := range in {
		if err == nil {
			err = t.takeInt(v)
		}
	}
	return err
}

// rawBatchSize is the most messages raw-batched passes in one channel
// element: half the default capacity, as the framework's batches into a
// default inbox (so a sender can fill one while its reader works through
// the last).
const rawBatchSize = max(axon.DefaultCapacity/2, 1)

// rawBatch is one element of the raw-batched pipeline.
type rawBatch struct{ msgs []*int }

var rawBatchPool = sync.Pool{New: func() any { return &rawBatch{msgs: make([]*int, 0, rawBatchSize)} }}

func getRawBatch() *rawBatch { return rawBatchPool.Get().(*rawBatch) }

func putRawBatch(b *rawBatch) {
	clear(b.msgs)
	b.msgs = b.msgs[:0]
	rawBatchPool.Put(b)
}

// runRawBatched is hand-written batching: the same goroutines as
// raw-range, but passing slices of up to rawBatchSize messages over
// channels of capacity 1, so that as many messages are in flight on each
// hop as in the framework's batched mode. Each stage takes every message
// of the slice it receives and appends it to a slice of its own from a
// pool, returning the one it received: the work per message a component
// does as it reads a batch and sends what it made of it.
func runRawBatched(k, n int) (int, error) {
	chans := make([]chan *rawBatch, k+1)
	for i := range chans {
		chans[i] = make(chan *rawBatch, 1)
	}
	var (
		t   tally
		err error
		wg  sync.WaitGroup
	)
	wg.Go(func() { batchedSource(chans[0], n) })
	for i := range k {
		in, out := chans[i], chans[i+1]
		wg.Go(func() { batchedStage(in, out) })
	}
	wg.Go(func() { err = batchedSink(chans[k], &t) })
	wg.Wait()
	return t.n, err
}

// batchedSource sends n messages in full slices (the last one may be
// short), as a producer with them all ready would.
func batchedSource(out chan<- *rawBatch, n int) {
	b := getRawBatch()
	for i := range n {
		b.msgs = append(b.msgs, message(i))
		if len(b.msgs) == rawBatchSize {
			out <- b
			b = getRawBatch()
		}
	}
	if len(b.msgs) > 0 {
		out <- b
	} else {
		putRawBatch(b)
	}
	close(out)
}

func batchedStage(in <-chan *rawBatch, out chan<- *rawBatch) {
	for b := range in {
		o := getRawBatch()
		for _, v := range b.msgs {
			o.msgs = append(o.msgs, v)
		}
		putRawBatch(b)
		out <- o
	}
	close(out)
}

// batchedSink counts every message of every slice into t, checking the
// order, as rangeSink does.
func batchedSink(in <-chan *rawBatch, t *tally) (err error) {
	for b := range in {
		for _, v := range b.msgs {
			if err == nil {
				err = t.takeInt(v)
			}
		}
		putRawBatch(b)
	}
	return err
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

// ---- one message at a time ----

// lonePipe is a running pipeline that carries one message at a time, for
// measuring latency.
type lonePipe struct {
	name string
	// trip puts m in at the front and waits for it at the end.
	trip func(ctx context.Context, m *int) error
	// stop ends the pipeline and waits until all of it has ended.
	stop func() error
}

// startFrameworkLone starts Pipeline(k transformers) with opts. A trip
// puts the message in with Handle.Put and takes it from the Pipeline's
// "outbox" with Handle.Get, as plain Go code driving a graph does.
func startFrameworkLone(ctx context.Context, name string, k int, opts ...axon.StartOption) *lonePipe {
	opts = append([]axon.StartOption{axon.Tapping(axon.OutboxName)}, opts...)
	h := axon.Start(ctx, chassis.Pipeline(transformers(k)...), opts...)
	return &lonePipe{
		name: name,
		trip: func(ctx context.Context, m *int) error {
			if err := h.Put(ctx, axon.InboxName, m); err != nil {
				return err
			}
			got, err := h.Get(ctx, axon.OutboxName)
			if err != nil {
				return err
			}
			if got != any(m) {
				return fmt.Errorf("got %v, want %p", got, m)
			}
			return nil
		},
		stop: func() error {
			h.Stop()
			return endWait(h)
		},
	}
}

// startRawLone starts k raw-range stages between two channels that a
// trip sends to and receives from.
func startRawLone(k int) *lonePipe {
	chans := make([]chan *int, k+1)
	for i := range chans {
		chans[i] = make(chan *int, axon.DefaultCapacity)
	}
	var wg sync.WaitGroup
	for i := range k {
		in, out := chans[i], chans[i+1]
		wg.Go(func() { rangeStage(in, out) })
	}
	in, out := chans[0], chans[k]
	return &lonePipe{
		name: "raw-range",
		trip: func(_ context.Context, m *int) error {
			in <- m
			if got := <-out; got != m {
				return fmt.Errorf("got %p, want %p", got, m)
			}
			return nil
		},
		stop: func() error {
			close(in)
			for range out {
			}
			wg.Wait()
			return nil
		},
	}
}

// tripTime times one trip of m through p. A message that has not come out
// after limit fails the trip: a lone message must never wait for others
// to join it.
func tripTime(p *lonePipe, m *int, limit time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	ctx.Done() // made now rather than while timing
	start := time.Now()
	err := p.trip(ctx, m)
	d := time.Since(start)
	if errors.Is(err, context.DeadlineExceeded) {
		return 0, fmt.Errorf("%s: a lone message did not come out within %v (held back?): %w", p.name, limit, err)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: lone message: %w", p.name, err)
	}
	return d, nil
}

// stopAll stops every pipe, returning their errors joined.
func stopAll(pipes []*lonePipe) error {
	var errs []error
	for _, p := range pipes {
		if err := p.stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// quantile is the q-quantile of xs (0 < q <= 1), by nearest rank.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

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
	for _, mode := range []struct {
		name string
		opts []axon.StartOption
	}{{"batched", nil}, {"unbatched", []axon.StartOption{axon.Unbatched()}}} {
		for _, depth := range []int{0, 1, 5} {
			t.Run(fmt.Sprintf("%s/depth%d", mode.name, depth), func(t *testing.T) {
				ctx := axontest.Context(t)
				const n = 3000
				got, err := runFramework(ctx, 10, depth, n, mode.opts...)
				if err != nil {
					t.Fatal(err)
				}
				if got != n {
					t.Fatalf("sink saw %d messages, want %d", got, n)
				}
			})
		}
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
	// n+3 and 1 leave a short last slice for raw-batched.
	for _, n := range []int{n + 3, 1, 0} {
		for name, run := range map[string]func(k, n int) (int, error){"range": runRawRange, "batched": runRawBatched} {
			got, err := run(10, n)
			if err != nil {
				t.Fatalf("%s, %d messages: %v", name, n, err)
			}
			if got != n {
				t.Fatalf("%s: sink saw %d messages, want %d", name, got, n)
			}
		}
	}
}

func TestRawSinksRejectDisorder(t *testing.T) {
	msgs := []*int{message(0), message(1), message(3), message(4)}
	ch := make(chan *int, len(msgs))
	for _, m := range msgs {
		ch <- m
	}
	close(ch)
	var tl tally
	if err := rangeSink(ch, &tl); err == nil || tl.n != 2 {
		t.Fatalf("rangeSink: got %v after %d messages, want an error after 2", err, tl.n)
	}
	bch := make(chan *rawBatch, 2)
	b1, b2 := getRawBatch(), getRawBatch()
	b1.msgs = append(b1.msgs, msgs[:2]...)
	b2.msgs = append(b2.msgs, msgs[2:]...)
	bch <- b1
	bch <- b2
	close(bch)
	tl = tally{}
	if err := batchedSink(bch, &tl); err == nil || tl.n != 2 {
		t.Fatalf("batchedSink: got %v after %d messages, want an error after 2", err, tl.n)
	}
}

// TestLonePipesDeliver checks that every latency contender carries a lone
// message through an idle pipeline at once: none is held back waiting for
// company.
func TestLonePipesDeliver(t *testing.T) {
	ctx := axontest.Context(t)
	pipes := []*lonePipe{
		startFrameworkLone(ctx, "framework", 10),
		startFrameworkLone(ctx, "framework-unbatched", 10, axon.Unbatched()),
		startRawLone(10),
	}
	for i := range 20 {
		for _, p := range pipes {
			time.Sleep(100 * time.Microsecond)
			if _, err := tripTime(p, message(i), 5*time.Second); err != nil {
				t.Error(err)
			}
		}
	}
	if err := stopAll(pipes); err != nil {
		t.Fatal(err)
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
