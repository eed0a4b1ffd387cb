package benchmarks

import (
	"context"
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// typedTarget is issue 12's target: the typed pipeline at least this
// fraction of the untyped one's rate.
const typedTarget = 0.98

// typedSink counts what arrives on "inbox", declared to carry *int, into
// t, through ServeAs.
func typedSink(t *tally) *axon.Component {
	return axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return axon.ServeAs(ctx, c, func(_ context.Context, p *int) error { return t.takeInt(p) })
	}, axon.WithInbox(axon.InboxName, "the messages", axon.Carries[*int]()))
}

// runTyped is runFramework with the typed forms: burstSource, k
// util.Map[*int, *int] stages that return what they are given, and a
// sink written with ServeAs.
func runTyped(ctx context.Context, k, n int) (int, error) {
	var t tally
	nodes := []axon.Node{burstSource(n)}
	for range k {
		nodes = append(nodes, util.Map(func(p *int) *int { return p }))
	}
	nodes = append(nodes, typedSink(&t))
	err := axon.Run(ctx, chassis.Pipeline(nodes...))
	return t.n, err
}

// intSource sends n ints, each at least 256 (smaller ones are put into
// an any without allocating, by the runtime's table of them), in Batch.
func intSource(n int) *axon.Component {
	ints := make([]int, n)
	for i := range ints {
		ints[i] = 1000 + i
	}
	return axontest.Burst("Source", ints...)
}

// runTypedInts carries ints through k util.Map[int, int] stages to a
// ServeAs sink that checks their order.
func runTypedInts(ctx context.Context, k, n int) (int, error) {
	got := 0
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return axon.ServeAs(ctx, c, func(_ context.Context, v int) error {
			if v != 1000+got {
				return fmt.Errorf("message %d: got %d", got, v)
			}
			got++
			return nil
		})
	}, axon.WithInbox(axon.InboxName, "numbers", axon.Carries[int]()))
	nodes := []axon.Node{intSource(n)}
	for range k {
		nodes = append(nodes, util.Map(func(v int) int { return v }))
	}
	nodes = append(nodes, sink)
	err := axon.Run(ctx, chassis.Pipeline(nodes...))
	return got, err
}

var (
	typedPointers = contender{"typed", func(ctx context.Context, n int) (int, error) { return runTyped(ctx, pipelineStages, n) }}
	typedInts     = contender{"typed-ints", func(ctx context.Context, n int) (int, error) { return runTypedInts(ctx, pipelineStages, n) }}
)

// BenchmarkTyped10 puts pipeline10's framework side (PureTransformers,
// a Serve sink) beside the same pipeline built from the typed forms
// (util.Map, ServeAs), in the same rounds, and counts the allocations of
// ints carried through the typed pipeline.
func BenchmarkTyped10(b *testing.B) {
	ctx := context.Background()
	res, err := compare(ctx, max(b.N, minRounds), roundMsgs, framework(0, false), typedPointers)
	if err != nil {
		b.Fatal(err)
	}
	ratio, lo, hi := res.ratio(1, 0)
	ints, err := allocsMedian(ctx, typedInts, 1_000, 1<<20, 3)
	if err != nil {
		b.Fatal(err)
	}
	ptrs, err := allocsMedian(ctx, typedPointers, 1_000, 1<<20, 3)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(ints.marginal, "int-allocs/msg")
	report(b, "typed10: typed (Map, ServeAs) %s Mmsg/s, untyped (PureTransformer, Serve) %s Mmsg/s, typed/untyped %.2f (%d rounds %.2f..%.2f; target >= %.2f %s)",
		mega(res.rate(1)), mega(res.rate(0)), ratio, res.n(), lo, hi, typedTarget, verdict(ratio, typedTarget))
	report(b, "typed10 allocations: pointers %.4f marginal allocs/msg; ints (>= 256) %.4f marginal allocs/msg, %.4f per hop (median of 3 runs) (target 0: %s)",
		ptrs.marginal, ints.marginal, ints.marginal/float64(pipelineStages+1), verdictAtMost(ints.marginal, zeroAllocs))
}

// The typed contenders deliver every message in order.
func TestTypedContendersDeliver(t *testing.T) {
	for _, c := range []contender{typedPointers, typedInts} {
		n, err := c.run(context.Background(), 5000)
		if err != nil || n != 5000 {
			t.Errorf("%s: %d delivered, %v; want 5000", c.name, n, err)
		}
	}
}
