package simulate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/internet/simulate"
)

func TestLossReproducible(t *testing.T) {
	a := asInts(t, through(t, simulate.Loss(0.3, simulate.Seed(7)), ints(2000)))
	b := asInts(t, through(t, simulate.Loss(0.3, simulate.Seed(7)), ints(2000)))
	c := asInts(t, through(t, simulate.Loss(0.3, simulate.Seed(8)), ints(2000)))
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same output")
	}
	if !slices.IsSorted(a) {
		t.Fatal("Loss reordered messages")
	}
}

func TestEveryStagePassesEverythingAtZero(t *testing.T) {
	for _, s := range []*simulate.Stage{
		simulate.Loss(0), simulate.Duplicate(0),
		simulate.Reorder(1), simulate.Delay(0, 0), simulate.RateLimit(1e9),
	} {
		t.Run(s.Kind(), func(t *testing.T) {
			got := asInts(t, through(t, s, ints(100)))
			if !slices.Equal(got, ints(100)) {
				t.Fatalf("seed %d: got %v", s.Seed(), got)
			}
		})
	}
}

func TestTimedStagesDeliverHeldMessagesBeforeFinishing(t *testing.T) {
	for _, s := range []*simulate.Stage{
		simulate.Reorder(8, simulate.MaxHold(time.Hour)),
		simulate.Delay(time.Millisecond, time.Millisecond),
		simulate.RateLimit(100_000, simulate.Burst(10), simulate.Block()),
	} {
		t.Run(s.Kind(), func(t *testing.T) {
			got := asInts(t, through(t, s, ints(200)))
			slices.Sort(got)
			if !slices.Equal(got, ints(200)) {
				t.Fatalf("seed %d: got %v", s.Seed(), got)
			}
		})
	}
}
