package benchmarks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

const (
	pipelineStages = 10      // pass-through stages between source and sink
	nestDepth      = 5       // Pipelines wrapped round the stages in the nested case
	roundMsgs      = 200_000 // messages per timed run
	minRounds      = 40      // timed runs of each contender (more with -benchtime=Nx, N > 40)
	ratioTarget    = 0.95    // nested over flat
	headlineTarget = 10      // framework (batched) over raw-range
	perMsgTarget   = 1.0     // framework-unbatched over raw-range

	latencySamples = 2000                   // lone messages timed per contender (more with -benchtime=Nx)
	latencyWarmup  = 100                    // lone messages per contender before timing
	latencyIdle    = 300 * time.Microsecond // pause before each lone message, so the pipeline is idle
	latencyLimit   = 2 * time.Second        // a lone message taking longer fails the benchmark
	latencyTarget  = 1.5                    // framework over raw-range, medians
)

// framework is the Pipeline of burstSource, the transformers (nested depth
// deep if depth > 0) and serveSink, run with the default settings
// (batched) or Unbatched.
func framework(depth int, unbatched bool) contender {
	name := "framework"
	if depth > 0 {
		name = fmt.Sprintf("nested%d", depth)
	}
	var opts []axon.StartOption
	if unbatched {
		name += "-unbatched"
		opts = append(opts, axon.Unbatched())
	}
	return contender{name, func(ctx context.Context, n int) (int, error) {
		return runFramework(ctx, pipelineStages, depth, n, opts...)
	}}
}

var (
	rawRange   = contender{"raw-range", func(_ context.Context, n int) (int, error) { return runRawRange(pipelineStages, n) }}
	rawBatched = contender{"raw-batched", func(_ context.Context, n int) (int, error) { return runRawBatched(pipelineStages, n) }}
	raw        = contender{"raw", func(ctx context.Context, n int) (int, error) { return runRaw(ctx, pipelineStages, n, rawStage) }}
	rawTuned   = contender{"raw-tuned", func(ctx context.Context, n int) (int, error) { return runRaw(ctx, pipelineStages, n, rawStageTuned) }}
	rawFast    = contender{"raw-fast", func(ctx context.Context, n int) (int, error) { return runRaw(ctx, pipelineStages, n, rawStageFast) }}
)

// verdict says whether a figure that should be at least target is.
func verdict(x, target float64) string {
	if x >= target {
		return "met"
	}
	return "MISSED"
}

// verdictAtMost says whether a figure that should be at most limit is.
func verdictAtMost(x, limit float64) string { return verdict(-x, -limit) }

// zeroAllocs is the marginal allocs/msg below which a run counts as
// allocation-free: under one allocation per thousand messages, which is
// what the runtime's own background work can add.
const zeroAllocs = 0.001

// ratioText formats the per-round ratio of contenders i and j: median,
// rounds' range, ratio of the medians.
func ratioText(res rounds, i, j int) string {
	med, lo, hi := res.ratio(i, j)
	return fmt.Sprintf("%.2f (rounds %.2f..%.2f; ratio of medians %.2f)", med, lo, hi, res.rate(i)/res.rate(j))
}

// BenchmarkPipeline10 moves pointer messages from a source through 10
// pass-through stages to a sink: as a chassis.Pipeline of the components
// a user writes (batched by default, and Unbatched), as plain goroutines
// ranging over typed channels (raw-range, the headline baseline), as
// hand-written goroutines passing slices (raw-batched), and as the three
// older hand-written baselines that watch ctx on every send and receive.
// It reports each one's median rate and the ratios between them.
func BenchmarkPipeline10(b *testing.B) {
	const (
		fw = iota
		fwU
		rRange
		rBatched
		r
		rTuned
		rFast
	)
	res, err := compare(context.Background(), max(b.N, minRounds), roundMsgs,
		framework(0, false), framework(0, true), rawRange, rawBatched, raw, rawTuned, rawFast)
	if err != nil {
		b.Fatal(err)
	}
	headline, hlLo, hlHi := res.ratio(fw, rRange)
	perMsg, pmLo, pmHi := res.ratio(fwU, rRange)
	b.ReportMetric(0, "ns/op")
	for i, name := range []string{"framework", "framework-unbatched", "raw-range", "raw-batched", "raw", "raw-tuned", "raw-fast"} {
		b.ReportMetric(res.rate(i), name+"-msgs/s")
	}
	b.ReportMetric(headline, "ratio")
	b.ReportMetric(perMsg, "unbatched-ratio")
	vsBatched, _, _ := res.ratio(fw, rBatched)
	b.ReportMetric(vsBatched, "ratio-vs-batched")
	rawGain, _, _ := res.ratio(rBatched, rRange)
	b.ReportMetric(rawGain, "raw-batched-ratio")
	for _, x := range []struct {
		j    int
		unit string
	}{{r, "ratio-vs-raw"}, {rTuned, "ratio-vs-tuned"}, {rFast, "ratio-vs-fast"}} {
		v, _, _ := res.ratio(fw, x.j)
		b.ReportMetric(v, x.unit)
	}
	report(b, "pipeline10: framework %s Mmsg/s, raw-range %s Mmsg/s, framework/raw-range %.2f (%d rounds %.2f..%.2f; ratio of medians %.2f; target >= %d %s)",
		mega(res.rate(fw)), mega(res.rate(rRange)), headline, res.n(), hlLo, hlHi, res.rate(fw)/res.rate(rRange), headlineTarget, verdict(headline, headlineTarget))
	report(b, "pipeline10: framework-unbatched %s Mmsg/s, framework-unbatched/raw-range %.2f (rounds %.2f..%.2f; ratio of medians %.2f; target >= %.1f %s)",
		mega(res.rate(fwU)), perMsg, pmLo, pmHi, res.rate(fwU)/res.rate(rRange), perMsgTarget, verdict(perMsg, perMsgTarget))
	report(b, "pipeline10: raw-batched %s Mmsg/s (slices of %d); framework/raw-batched %s; raw-batched/raw-range %s (informative)",
		mega(res.rate(rBatched)), rawBatchSize, ratioText(res, fw, rBatched), ratioText(res, rBatched, rRange))
	report(b, "pipeline10 secondary: raw %s, raw-tuned %s, raw-fast %s Mmsg/s; framework/raw %s; framework/raw-tuned %s; framework/raw-fast %s; framework-unbatched/raw-fast %s",
		mega(res.rate(r)), mega(res.rate(rTuned)), mega(res.rate(rFast)), ratioText(res, fw, r), ratioText(res, fw, rTuned), ratioText(res, fw, rFast), ratioText(res, fwU, rFast))
}

// BenchmarkPipelineNested5 runs the same 10 stages wrapped in 5 Pipelines,
// one inside the other, beside the flat Pipeline, and reports nested over
// flat, for the default (batched) framework and for Unbatched.
// Passthroughs are resolved when links are made, so nesting should cost
// nothing per message. A second flat batched Pipeline runs as a control:
// its ratio to the first shows how finely this machine can tell two equal
// contenders apart.
func BenchmarkPipelineNested5(b *testing.B) {
	const (
		nested = iota
		flat
		ctl
		nestedU
		flatU
	)
	control := framework(0, false)
	control.name = "flat-control"
	res, err := compare(context.Background(), max(b.N, minRounds), roundMsgs,
		framework(nestDepth, false), framework(0, false), control, framework(nestDepth, true), framework(0, true))
	if err != nil {
		b.Fatal(err)
	}
	ratio, lo, hi := res.ratio(nested, flat)
	ratioU, loU, hiU := res.ratio(nestedU, flatU)
	ctlRatio, _, _ := res.ratio(ctl, flat)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(res.rate(nested), "nested-msgs/s")
	b.ReportMetric(res.rate(flat), "flat-msgs/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(ctlRatio, "control-ratio")
	b.ReportMetric(res.rate(nestedU), "nested-unbatched-msgs/s")
	b.ReportMetric(res.rate(flatU), "flat-unbatched-msgs/s")
	b.ReportMetric(ratioU, "unbatched-ratio")
	report(b, "nested5: nested %s Mmsg/s, flat %s Mmsg/s, ratio %.2f (%d rounds %.2f..%.2f; ratio of medians %.2f; target >= %.2f %s); control flat/flat %s",
		mega(res.rate(nested)), mega(res.rate(flat)), ratio, res.n(), lo, hi, res.rate(nested)/res.rate(flat), ratioTarget, verdict(ratio, ratioTarget), ratioText(res, ctl, flat))
	report(b, "nested5 unbatched: nested %s Mmsg/s, flat %s Mmsg/s, ratio %.2f (rounds %.2f..%.2f; ratio of medians %.2f; target >= %.2f %s)",
		mega(res.rate(nestedU)), mega(res.rate(flatU)), ratioU, loU, hiU, res.rate(nestedU)/res.rate(flatU), ratioTarget, verdict(ratioU, ratioTarget))
}

// BenchmarkLatency10 times a lone message through an idle 10-stage
// pipeline: Pipeline(10 transformers) started once with the default
// settings, fed with Handle.Put and read with Handle.Get, against 10
// raw-range goroutines fed and read by plain channel operations. Before
// each message the pipelines are left idle for a while, so every stage
// is waiting when the message arrives. The contenders take turns, the
// order rotating; Unbatched is timed too, for information.
func BenchmarkLatency10(b *testing.B) {
	ctx := context.Background()
	pipes := []*lonePipe{
		startFrameworkLone(ctx, "framework", pipelineStages),
		startRawLone(pipelineStages),
		startFrameworkLone(ctx, "framework-unbatched", pipelineStages, axon.Unbatched()),
	}
	const fw, rRange, fwU = 0, 1, 2
	samples := max(b.N, latencySamples)
	seq := 0
	trip := func(i int) (float64, error) {
		time.Sleep(latencyIdle)
		seq++
		d, err := tripTime(pipes[i], message(seq), latencyLimit)
		return float64(d) / float64(time.Microsecond), err
	}
	_, err := rotate(len(pipes), latencyWarmup, trip)
	var us [][]float64
	if err == nil {
		us, err = rotate(len(pipes), samples, trip)
	}
	if err = errors.Join(err, stopAll(pipes)); err != nil {
		b.Fatal(err)
	}
	med := func(i int) float64 { return median(us[i]) }
	p90 := func(i int) float64 { return quantile(us[i], 0.9) }
	ratio := med(fw) / med(rRange)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(med(fw), "framework-median-us")
	b.ReportMetric(p90(fw), "framework-p90-us")
	b.ReportMetric(med(rRange), "raw-range-median-us")
	b.ReportMetric(p90(rRange), "raw-range-p90-us")
	b.ReportMetric(med(fwU), "framework-unbatched-median-us")
	b.ReportMetric(ratio, "ratio")
	report(b, "latency10: framework median %.1f us (p90 %.1f), raw-range median %.1f us (p90 %.1f), framework/raw-range %.2f (p90s %.2f; %d lone messages each; target <= %.1f %s); framework-unbatched median %.1f us (p90 %.1f), /raw-range %.2f",
		med(fw), p90(fw), med(rRange), p90(rRange), ratio, p90(fw)/p90(rRange), samples, latencyTarget, verdictAtMost(ratio, latencyTarget), med(fwU), p90(fwU), med(fwU)/med(rRange))
}

// allocRun is the heap activity of one run.
type allocRun struct {
	msgs           int
	mallocs, bytes uint64
}

// measureAllocs runs c with n messages and counts every heap allocation
// made in the process meanwhile (set-up and tear-down included).
func measureAllocs(ctx context.Context, c contender, n int) (allocRun, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := c.run(ctx, n)
	runtime.ReadMemStats(&after)
	if err != nil {
		return allocRun{}, fmt.Errorf("%s: %w", c.name, err)
	}
	if got != n {
		return allocRun{}, fmt.Errorf("%s: %d of %d messages arrived", c.name, got, n)
	}
	return allocRun{msgs: n, mallocs: after.Mallocs - before.Mallocs, bytes: after.TotalAlloc - before.TotalAlloc}, nil
}

// allocFigures is one contender's allocation count per message: over a
// long run, and at the margin (the difference between a long and a short
// run, which cancels set-up and tear-down).
type allocFigures struct {
	perMsg, marginal, bytesPerMsg float64
	setup                         uint64 // allocations of the short run
}

func allocsOf(ctx context.Context, c contender, short, long int) (allocFigures, error) {
	s, err := measureAllocs(ctx, c, short)
	if err != nil {
		return allocFigures{}, err
	}
	l, err := measureAllocs(ctx, c, long)
	if err != nil {
		return allocFigures{}, err
	}
	return allocFigures{
		perMsg:      float64(l.mallocs) / float64(l.msgs),
		marginal:    (float64(l.mallocs) - float64(s.mallocs)) / float64(l.msgs-s.msgs),
		bytesPerMsg: float64(l.bytes) / float64(l.msgs),
		setup:       s.mallocs,
	}, nil
}

// allocsMedian is allocsOf run trials times, with the figures of the run
// whose marginal count is the median: a collection or a pool refilled
// during one long run moves its margin by a few hundred allocations,
// enough to read as 0.002 per message.
func allocsMedian(ctx context.Context, c contender, short, long, trials int) (allocFigures, error) {
	figs := make([]allocFigures, trials)
	for i := range figs {
		var err error
		if figs[i], err = allocsOf(ctx, c, short, long); err != nil {
			return allocFigures{}, err
		}
	}
	slices.SortFunc(figs, func(a, b allocFigures) int { return cmp.Compare(a.marginal, b.marginal) })
	return figs[trials/2], nil
}

// sendAllocs counts the allocations of one Outbox.Send of a pointer to a
// linked inbox with room, and the receive that empties it again.
func sendAllocs() (float64, error) {
	from, to := axon.New("From", nil), axon.New("To", nil)
	if err := axon.Link(from, axon.OutboxName, to, axon.InboxName); err != nil {
		return 0, err
	}
	ctx := context.Background()
	out, in := from.Out(axon.OutboxName), to.In(axon.InboxName)
	var sendErr error
	n := testing.AllocsPerRun(10_000, func() {
		if err := out.Send(ctx, message(1)); err != nil {
			sendErr = err
		}
		<-in
	})
	return n, sendErr
}

// BenchmarkAllocsPerMessage counts heap allocations per pointer message
// through the framework pipelines (flat batched, flat Unbatched, nested
// batched) and the hand-written ones, and for a single Outbox.Send on its
// own.
func BenchmarkAllocsPerMessage(b *testing.B) {
	const short, long = 1_000, 1 << 20
	ctx := context.Background()
	cs := []contender{framework(0, false), framework(0, true), framework(nestDepth, false), rawRange, rawBatched, raw}
	const fw, fwU, nested, rRange, rBatched, r = 0, 1, 2, 3, 4, 5
	figs := make([]allocFigures, len(cs))
	var send float64
	for range b.N {
		for i, c := range cs {
			var err error
			if figs[i], err = allocsOf(ctx, c, short, long); err != nil {
				b.Fatal(err)
			}
		}
		var err error
		if send, err = sendAllocs(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(figs[fw].perMsg, "allocs/msg")
	b.ReportMetric(figs[fw].marginal, "marginal-allocs/msg")
	b.ReportMetric(figs[fw].bytesPerMsg, "B/msg")
	b.ReportMetric(figs[fwU].perMsg, "unbatched-allocs/msg")
	b.ReportMetric(figs[fwU].marginal, "unbatched-marginal-allocs/msg")
	b.ReportMetric(figs[nested].perMsg, "nested-allocs/msg")
	b.ReportMetric(figs[rRange].perMsg, "raw-range-allocs/msg")
	b.ReportMetric(figs[rBatched].perMsg, "raw-batched-allocs/msg")
	b.ReportMetric(figs[r].perMsg, "raw-allocs/msg")
	b.ReportMetric(send, "send-allocs/op")
	worst := max(figs[fw].marginal, figs[fwU].marginal)
	report(b, "allocs: framework %.4f allocs/msg (%.3f B/msg) over %d msgs, marginal %.4f allocs/msg, set-up+tear-down %d allocs; framework-unbatched %.4f allocs/msg, marginal %.4f, set-up+tear-down %d; nested5 %.4f allocs/msg, marginal %.4f; raw-range %.4f, raw-batched %.4f, raw %.4f allocs/msg; one Outbox.Send %.0f allocs (target 0 marginal per msg, batched and unbatched: %s)",
		figs[fw].perMsg, figs[fw].bytesPerMsg, long, figs[fw].marginal, figs[fw].setup,
		figs[fwU].perMsg, figs[fwU].marginal, figs[fwU].setup,
		figs[nested].perMsg, figs[nested].marginal,
		figs[rRange].perMsg, figs[rBatched].perMsg, figs[r].perMsg, send, verdictAtMost(worst, zeroAllocs))
}
