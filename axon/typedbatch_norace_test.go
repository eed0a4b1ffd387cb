//go:build !race

// The race detector drops a share of what goes into a sync.Pool, so
// allocations are only counted without it: `make test` runs this file
// in a pass of its own.

package axon_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Ints of 256 and more, sent with Sender[int] and served with
// ServeAs[int], cross a chain without an allocation per message: the
// count grows by less than one per thousand messages between a short
// run and a long one (start-up costs cancel out).
func TestTypedIntsAllocateNothing(t *testing.T) {
	run := func(n int) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		k := newIntSink()
		if err := axon.Run(context.Background(), chain(t, intBurst(n, 1000), intPass("A"), intPass("B"), intPass("C"), k.comp)); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		wantRun(t, k.got, n, 1000)
		return after.Mallocs - before.Mallocs
	}
	const short, long = 1_000, 400_000
	best := 1.0
	for range 3 { // the least of three: a collection mid-run refills pools
		s, l := run(short), run(long)
		best = min(best, (float64(l)-float64(s))/float64(long-short))
	}
	// k.got grows by appending: about 30 allocations over the long run.
	if best > 0.001 {
		t.Fatalf("%.4f allocations per message through 4 hops, want none", best)
	}
	t.Logf("%.5f allocations per message through 4 hops", best)
}
