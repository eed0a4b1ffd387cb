package benchmarks

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

const (
	// watchPeriod is how often the watched contenders sample their graph:
	// ten times as often as the live page does (observe.Period, 250 ms),
	// and several times within each 200,000-message round.
	watchPeriod = 25 * time.Millisecond
	// stressPeriod samples far oftener than any viewer would, to show
	// what reading costs when it is overdone (informative).
	stressPeriod  = 5 * time.Millisecond
	watchedTarget = 0.97 // watched over plain
)

// watched is framework(0, unbatched) with an axon.Watch reading every
// box's metrics each period while it runs.
func watched(unbatched bool, period time.Duration) contender {
	name := fmt.Sprintf("framework-watched-%v", period)
	var opts []axon.StartOption
	if unbatched {
		name = fmt.Sprintf("framework-unbatched-watched-%v", period)
		opts = append(opts, axon.Unbatched())
	}
	return contender{name, func(ctx context.Context, n int) (int, error) {
		var t tally
		g := frameworkGraph(pipelineStages, 0, n, &t)
		wctx, cancel := context.WithCancel(ctx)
		events := axon.Watch(wctx, g, period)
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for range events {
			}
		}()
		err := axon.Run(ctx, g, opts...)
		cancel()
		<-drained
		return t.n, err
	}}
}

// BenchmarkPipeline10Watched runs the 10-stage pipeline of
// BenchmarkPipeline10 with its metrics read (a Watch sampling every
// watchPeriod, as the live page or a Prometheus scrape would, only
// oftener) and without, batched and Unbatched, rounds rotating, and
// reports watched over plain; and, for information, batched with a
// sample every stressPeriod. The counters themselves are always kept
// (there is no switch to turn them off): what this measures is reading
// them; what keeping them costs shows in BenchmarkPipeline10's ratios.
func BenchmarkPipeline10Watched(b *testing.B) {
	const plain, watch, stress, plainU, watchU = 0, 1, 2, 3, 4
	res, err := compare(context.Background(), max(b.N, minRounds), roundMsgs,
		framework(0, false), watched(false, watchPeriod), watched(false, stressPeriod), framework(0, true), watched(true, watchPeriod))
	if err != nil {
		b.Fatal(err)
	}
	ratio, lo, hi := res.ratio(watch, plain)
	ratioU, loU, hiU := res.ratio(watchU, plainU)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(res.rate(plain), "framework-msgs/s")
	b.ReportMetric(res.rate(watch), "framework-watched-msgs/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(ratioU, "unbatched-ratio")
	report(b, "pipeline10 watched: framework %s Mmsg/s, watched every %v %s Mmsg/s, watched/plain %.3f (%d rounds %.2f..%.2f; ratio of medians %.3f; target >= %.2f %s)",
		mega(res.rate(plain)), watchPeriod, mega(res.rate(watch)), ratio, res.n(), lo, hi, res.rate(watch)/res.rate(plain), watchedTarget, verdict(ratio, watchedTarget))
	report(b, "pipeline10 watched unbatched: framework-unbatched %s Mmsg/s, watched every %v %s Mmsg/s, watched/plain %.3f (rounds %.2f..%.2f; ratio of medians %.3f; target >= %.2f %s)",
		mega(res.rate(plainU)), watchPeriod, mega(res.rate(watchU)), ratioU, loU, hiU, res.rate(watchU)/res.rate(plainU), watchedTarget, verdict(ratioU, watchedTarget))
	report(b, "pipeline10 watched every %v (informative): %s Mmsg/s, /plain %s",
		stressPeriod, mega(res.rate(stress)), ratioText(res, stress, plain))
}
