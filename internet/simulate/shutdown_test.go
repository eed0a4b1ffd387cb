package simulate_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
)

// stages returns one stage of each kind that holds what it is given (the
// stateless ones hold nothing), on clock.
func stages(clock simulate.Clock) []*simulate.Stage {
	c := simulate.WithClock(clock)
	return []*simulate.Stage{
		simulate.Loss(0.5, simulate.Seed(1)),
		simulate.Duplicate(0.5, simulate.Seed(1)),
		simulate.Corrupt(0.5, simulate.Seed(1)),
		simulate.Reorder(8, simulate.Seed(1), c),
		simulate.Delay(time.Hour, 0, simulate.Seed(1), c),
		simulate.RateLimit(1, simulate.Burst(1), simulate.Seed(1), c),
	}
}

func TestProducerFinishedPassesThrough(t *testing.T) {
	for _, s := range stages(simulate.NewManualClock(epoch)) {
		t.Run(s.Kind(), func(t *testing.T) {
			ctx := axontest.Context(t)
			h := axontest.Start(t, ctx, s)
			axontest.StopWith(t, ctx, h, &axon.ProducerFinished{From: axontest.Tester, Reason: errors.New("why")})
		})
	}
}

func TestShutdownMicroprocessDiscardsHeld(t *testing.T) {
	for _, s := range stages(simulate.NewManualClock(epoch)) {
		t.Run(s.Kind(), func(t *testing.T) {
			ctx := axontest.Context(t)
			h := axontest.Start(t, ctx, s)
			axontest.Tap(t, h, axon.OutboxName)
			for _, m := range []string{"a", "b", "c"} {
				axontest.Put(t, ctx, h, axon.InboxName, m)
			}
			waitFor(t, ctx, "messages taken", func() bool {
				st := s.Stats()
				return st.In == 3 && st.Out+st.Held+st.Dropped-st.Duplicated == 3
			})
			held := s.Stats().Held
			axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
			st := s.Stats()
			if st.Discarded != held || st.Held != 0 {
				t.Fatalf("held %d, then %v", held, st)
			}
			switch s.Kind() {
			case "Reorder", "Delay":
				if held != 3 {
					t.Fatalf("%s held %d of 3", s.Kind(), held)
				}
			case "RateLimit":
				if held != 2 { // one went on the burst
					t.Fatalf("RateLimit held %d of 3", held)
				}
			}
		})
	}
}

func TestShutdownMicroprocessWhileBlockedSending(t *testing.T) {
	ctx := axontest.Context(t)
	s := simulate.Duplicate(1, simulate.Seed(1))
	h := axontest.Start(t, ctx, s)
	// Nobody reads outbox: the stage waits in its send.
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	waitFor(t, ctx, "message taken", func() bool { return s.Stats().In == 1 })
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, sm)
	axontest.ExpectSignal(t, ctx, h, sm)
	axontest.Wait(t, h)
}

func TestProducerFinishedAfterQueuedMessages(t *testing.T) {
	// Messages and ProducerFinished all waiting when the stage starts:
	// the messages still come out first.
	for _, s := range stages(simulate.NewManualClock(epoch)) {
		if s.Kind() == "Delay" || s.Kind() == "RateLimit" {
			continue // they deliver at their times: see the Delay tests
		}
		t.Run(s.Kind(), func(t *testing.T) {
			ctx := axontest.Context(t)
			msgs := []any{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}
			axontest.Preload(t, s, axon.InboxName, msgs...)
			pf := axon.ProducerFinished{From: axontest.Tester}
			axontest.Preload(t, s, axon.ControlName, pf)
			h := axontest.Start(t, ctx, s)
			n := 0
			for {
				m, err := h.Get(ctx, axon.OutboxName)
				if errors.Is(err, axon.ErrEnded) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				_ = m
			}
			st := s.Stats()
			if st.In != 4 || uint64(n) != st.Out || st.Held != 0 || st.Discarded != 0 {
				t.Fatalf("%d out, stats %v", n, st)
			}
			axontest.ExpectSignal(t, ctx, h, pf)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, s := range []*simulate.Stage{
		simulate.Loss(-0.1), simulate.Loss(1.5), simulate.Duplicate(2), simulate.Corrupt(-1),
		simulate.Corrupt(0.1, simulate.Bits(0)), simulate.Reorder(0), simulate.Reorder(4, simulate.MaxHold(0)),
		simulate.Delay(-time.Second, 0), simulate.Delay(0, -1), simulate.RateLimit(0),
		simulate.RateLimit(100, simulate.Burst(-1)), simulate.RateLimit(100, simulate.Queue(0)),
		simulate.Delay(1, 1, simulate.WithClock(nil)),
	} {
		if !errors.Is(s.Err(), simulate.ErrConfig) {
			t.Fatalf("%s: Err() = %v, want ErrConfig", s.Kind(), s.Err())
		}
		err := axon.Run(axontest.Context(t), s)
		var ce *axon.ComponentError
		if !errors.Is(err, simulate.ErrConfig) || !errors.As(err, &ce) || ce.Component != s.String() {
			t.Fatalf("%s: ran with %v", s.Kind(), err)
		}
	}
	if err := simulate.Loss(0.5).Err(); err != nil {
		t.Fatalf("Loss(0.5): %v", err)
	}
}
