package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

const (
	pipelineStages = 10      // pass-through stages between source and sink
	nestDepth      = 5       // Pipelines wrapped round the stages in the nested case
	roundMsgs      = 200_000 // messages per timed run
	minRounds      = 40      // timed runs of each contender (more with -benchtime=Nx, N > 40)
	ratioTarget    = 0.95
)

func framework(depth int) contender {
	name := "framework"
	if depth > 0 {
		name = fmt.Sprintf("nested%d", depth)
	}
	return contender{name, func(ctx context.Context, n int) (int, error) {
		return runFramework(ctx, pipelineStages, depth, n)
	}}
}

var (
	raw      = contender{"raw", func(ctx context.Context, n int) (int, error) { return runRaw(ctx, pipelineStages, n, rawStage) }}
	rawTuned = contender{"raw-tuned", func(ctx context.Context, n int) (int, error) { return runRaw(ctx, pipelineStages, n, rawStageTuned) }}
	rawFast  = contender{"raw-fast", func(ctx context.Context, n int) (int, error) { return runRaw(ctx, pipelineStages, n, rawStageFast) }}
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

// BenchmarkPipeline10 moves pointer messages from a source through 10
// pass-through stages to a sink: as a chassis.Pipeline of components, as 10
// hand-written goroutines joined by channels, as the same goroutines using
// a non-blocking send first, and as the same using both a non-blocking
// receive and send first (the tricks the framework uses). It reports each
// one's median rate and the framework's rate over each baseline's.
func BenchmarkPipeline10(b *testing.B) {
	res, err := compare(context.Background(), max(b.N, minRounds), roundMsgs, framework(0), raw, rawTuned, rawFast)
	if err != nil {
		b.Fatal(err)
	}
	fw, r, rt, rf := res.rate(0), res.rate(1), res.rate(2), res.rate(3)
	ratio, lo, hi := res.ratio(0, 1)
	ratioT, loT, hiT := res.ratio(0, 2)
	ratioF, loF, hiF := res.ratio(0, 3)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(fw, "framework-msgs/s")
	b.ReportMetric(r, "raw-msgs/s")
	b.ReportMetric(rt, "raw-tuned-msgs/s")
	b.ReportMetric(rf, "raw-fast-msgs/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(ratioT, "ratio-vs-tuned")
	b.ReportMetric(ratioF, "ratio-vs-fast")
	report(b, "pipeline10: framework %s Mmsg/s, raw %s Mmsg/s, ratio %.2f (%d rounds %.2f..%.2f; ratio of medians %.2f; target >= %.2f %s); raw-tuned %s Mmsg/s, ratio %.2f (rounds %.2f..%.2f; ratio of medians %.2f); raw-fast %s Mmsg/s, ratio %.2f (rounds %.2f..%.2f; ratio of medians %.2f)",
		mega(fw), mega(r), ratio, res.n(), lo, hi, fw/r, ratioTarget, verdict(ratio, ratioTarget), mega(rt), ratioT, loT, hiT, fw/rt, mega(rf), ratioF, loF, hiF, fw/rf)
}

// BenchmarkPipelineNested5 runs the same 10 stages wrapped in 5 Pipelines,
// one inside the other, beside the flat Pipeline, and reports nested over
// flat. Passthroughs are resolved when links are made, so nesting should
// cost nothing per message. A second flat Pipeline runs as a control: its
// ratio to the first shows how finely this machine can tell two equal
// contenders apart.
func BenchmarkPipelineNested5(b *testing.B) {
	control := framework(0)
	control.name = "flat-control"
	res, err := compare(context.Background(), max(b.N, minRounds), roundMsgs, framework(nestDepth), framework(0), control)
	if err != nil {
		b.Fatal(err)
	}
	nested, flat, ctl := res.rate(0), res.rate(1), res.rate(2)
	ratio, lo, hi := res.ratio(0, 1)
	ctlRatio, ctlLo, ctlHi := res.ratio(2, 1)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(nested, "nested-msgs/s")
	b.ReportMetric(flat, "flat-msgs/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(ctlRatio, "control-ratio")
	report(b, "nested5: nested %s Mmsg/s, flat %s Mmsg/s, ratio %.2f (%d rounds %.2f..%.2f; ratio of medians %.2f; target >= %.2f %s); control flat/flat %.2f (rounds %.2f..%.2f; ratio of medians %.2f)",
		mega(nested), mega(flat), ratio, res.n(), lo, hi, nested/flat, ratioTarget, verdict(ratio, ratioTarget), ctlRatio, ctlLo, ctlHi, ctl/flat)
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
// through the flat and nested framework pipelines and the hand-written
// one, and for a single Outbox.Send on its own.
func BenchmarkAllocsPerMessage(b *testing.B) {
	const short, long = 1_000, 1 << 20
	ctx := context.Background()
	var fw, nested, r allocFigures
	var send float64
	for range b.N {
		var err error
		if fw, err = allocsOf(ctx, framework(0), short, long); err != nil {
			b.Fatal(err)
		}
		if nested, err = allocsOf(ctx, framework(nestDepth), short, long); err != nil {
			b.Fatal(err)
		}
		if r, err = allocsOf(ctx, raw, short, long); err != nil {
			b.Fatal(err)
		}
		if send, err = sendAllocs(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(fw.perMsg, "allocs/msg")
	b.ReportMetric(fw.marginal, "marginal-allocs/msg")
	b.ReportMetric(fw.bytesPerMsg, "B/msg")
	b.ReportMetric(nested.perMsg, "nested-allocs/msg")
	b.ReportMetric(r.perMsg, "raw-allocs/msg")
	b.ReportMetric(send, "send-allocs/op")
	report(b, "allocs: framework %.4f allocs/msg (%.3f B/msg) over %d msgs, marginal %.4f allocs/msg, set-up+tear-down %d allocs; nested5 %.4f allocs/msg; raw %.4f allocs/msg; one Outbox.Send %.0f allocs (target 0 per msg: %s)",
		fw.perMsg, fw.bytesPerMsg, long, fw.marginal, fw.setup, nested.perMsg, r.perMsg, send, verdictAtMost(fw.marginal, zeroAllocs))
}
