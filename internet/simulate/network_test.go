package simulate_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
)

func kinds(l *simulate.Link) []string {
	var k []string
	for _, s := range l.Stages() {
		k = append(k, s.Kind())
	}
	return k
}

func TestNetworkOff(t *testing.T) {
	l := simulate.Network(simulate.Config{})
	if got := kinds(l); !slices.Equal(got, []string{"Pass"}) {
		t.Fatalf("stages %v", got)
	}
	if got := asInts(t, through(t, l, ints(100))); !slices.Equal(got, ints(100)) {
		t.Fatalf("got %v", got)
	}
	if st := l.Stats(); st.In != 100 || st.Out != 100 || st.Stage != "Network" {
		t.Fatalf("stats %v", st)
	}
}

func TestNetworkOrderAndSeeds(t *testing.T) {
	cfg := simulate.Config{Rate: 1e6, Loss: 0.1, Duplicate: 0.1, Corrupt: 0.1, Reorder: 4, Delay: time.Millisecond, Jitter: time.Millisecond, Seed: 42}
	l := simulate.Network(cfg)
	want := []string{"RateLimit", "Loss", "Duplicate", "Corrupt", "Reorder", "Delay"}
	if got := kinds(l); !slices.Equal(got, want) {
		t.Fatalf("stages %v, want %v", got, want)
	}
	seeds := map[uint64]bool{}
	for _, s := range l.Stages() {
		if s.Seed() != simulate.StageSeed(42, s.Kind()) {
			t.Fatalf("%s seed %d, want StageSeed", s.Kind(), s.Seed())
		}
		seeds[s.Seed()] = true
	}
	if len(seeds) != len(want) {
		t.Fatal("stages share seeds")
	}
	// Turning stages off leaves the others' seeds alone.
	only := simulate.Network(simulate.Config{Loss: 0.1, Seed: 42})
	if only.Stages()[0].Seed() != l.Stages()[1].Seed() {
		t.Fatal("Loss's seed depends on which other stages are on")
	}
	if l.Seed() != 42 {
		t.Fatalf("Seed() = %d", l.Seed())
	}
	if r := simulate.Network(simulate.Config{Loss: 0.1}); r.Seed() == 0 || r.Stages()[0].Seed() != simulate.StageSeed(r.Seed(), "Loss") {
		t.Fatalf("random seed %d not reported", r.Seed())
	}
}

func TestNetworkReproducible(t *testing.T) {
	run := func(seed uint64) ([]int, *simulate.Link) {
		l := simulate.Network(simulate.Config{Loss: 0.2, Duplicate: 0.05, Reorder: 4, Seed: seed,
			Clock: simulate.NewManualClock(epoch)})
		return asInts(t, through(t, l, ints(2000))), l
	}
	a, l := run(5)
	b, _ := run(5)
	c, _ := run(6)
	if !slices.Equal(a, b) {
		t.Fatalf("seed %d twice: different output", l.Seed())
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds: same output")
	}
	st := l.Stats()
	per := l.StageStats()
	if st.In != 2000 || st.Out != uint64(len(a)) || st.Dropped != per[0].Dropped || st.Duplicated != per[1].Duplicated {
		t.Fatalf("stats %v from %v", st, per)
	}
	if st.Dropped < 340 || st.Dropped > 460 || st.Duplicated < 50 || st.Duplicated > 110 || st.Reordered == 0 {
		t.Fatalf("seed %d: stats %v", l.Seed(), st)
	}
	if uint64(len(a)) != 2000-st.Dropped+st.Duplicated {
		t.Fatalf("%d out, stats %v", len(a), st)
	}
}

func TestNetworkErrorsBox(t *testing.T) {
	ctx := axontest.Context(t)
	l := simulate.Network(simulate.Config{Corrupt: 1, Seed: 1})
	h := axontest.Start(t, ctx, l)
	axontest.Tap(t, h, simulate.ErrorsBox)
	axontest.Put(t, ctx, h, axon.InboxName, 7)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != 7 {
		t.Fatalf("got %v", got)
	}
	if e, ok := axontest.Get(t, ctx, h, simulate.ErrorsBox).(*simulate.Error); !ok || !errors.Is(e, simulate.ErrBadMessage) {
		t.Fatalf("errors: %v", e)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

func TestNetworkConfigError(t *testing.T) {
	l := simulate.Network(simulate.Config{Loss: 0.1, Duplicate: 3})
	if !errors.Is(l.Err(), simulate.ErrConfig) {
		t.Fatalf("Err() = %v", l.Err())
	}
	if err := axon.Run(axontest.Context(t), l); !errors.Is(err, simulate.ErrConfig) {
		t.Fatalf("ran with %v", err)
	}
}

// An option that a stage does not take is a configuration error naming
// it, as a value out of range is.
func TestStageRefusesOptionsThatDoNotApply(t *testing.T) {
	for _, s := range []*simulate.Stage{
		simulate.Loss(0.1, simulate.Bits(2)),
		simulate.Delay(time.Millisecond, 0, simulate.Queue(3)),
		simulate.Reorder(4, simulate.KeepOrder()),
	} {
		err := s.Err()
		if !errors.Is(err, simulate.ErrConfig) || !strings.Contains(err.Error(), "does not apply") || strings.Count(err.Error(), "bad configuration") != 1 {
			t.Errorf("%s: Err() = %v, want one ErrConfig saying which option does not apply", s.Name(), err)
		}
	}
	if err := simulate.RateLimit(1e6, simulate.Seed(1), simulate.Queue(3), simulate.Block(), simulate.Burst(2000)).Err(); err != nil {
		t.Errorf("RateLimit with options that apply: %v", err)
	}
}
