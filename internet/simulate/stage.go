package simulate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Stage is one impairment: a component that takes messages on "inbox"
// and sends them on "outbox" damaged in one way. It embeds
// *axon.Component, so it is an axon.Node and fits between any two
// components. Every stage has these boxes:
//
//	inbox   (in)  messages of any type (the payload types, []byte,
//	              string, udp.Datagram, udp.Packet and pointers to them,
//	              are the ones Corrupt damages and RateLimit measures)
//	control (in)  ProducerFinished: what is queued in inbox is taken,
//	              messages held back are delivered (Delay and RateLimit
//	              at their times, Reorder at once), then the message is
//	              passed on signal. ShutdownMicroprocess: passed on at
//	              once; held messages are discarded (Stats.Discarded).
//	outbox  (out) the messages, damaged
//	errors  (out) *Error for a message the stage cannot work on (Corrupt
//	              given a non-payload). Sent without waiting; when the box
//	              is unlinked or full the error is logged (rate-limited).
//	signal  (out) the shutdown message, passed on unchanged
//
// Messages the stage does not drop are sent on with backpressure: a slow
// receiver slows the stage and, through it, the sender.
type Stage struct {
	*axon.Component
	kind     string
	seed     uint64
	rng      *rand.Rand
	clock    Clock
	eng      engine
	timed    bool // eng holds messages and needs the clock
	err      error
	stats    counters
	reporter *axon.Reporter
}

// engine is what differs between stages.
type engine interface {
	// push takes a message that arrived at now (zero if the stage is not
	// timed) and may send it (or others) on at once.
	push(ctx context.Context, s *Stage, now time.Time, msg any) error
	// due sends on what is due at now; finishing says a ProducerFinished
	// has come and the inbox is empty.
	due(ctx context.Context, s *Stage, now time.Time, finishing bool) error
	// next returns when something held next falls due.
	next() (time.Time, bool)
	// held returns how many messages are held back.
	held() int
	// full reports that the stage takes nothing more from inbox for now.
	full() bool
}

// counters are the live statistics.
type counters struct {
	in, out, dropped, duplicated, corrupted, reordered, delayed, held, discarded, unsupported, errors atomic.Uint64
}

// Stats counts what a stage (or a Link, added up) has done. Counters a
// stage has no use for stay 0.
type Stats struct {
	Stage       string // the kind of stage: "Loss", "Duplicate", ...; "Network" for a Link's sum
	In          uint64 // messages taken from inbox
	Out         uint64 // messages sent on outbox (copies included)
	Dropped     uint64 // messages lost on purpose (Loss) or tail-dropped from a full queue (RateLimit)
	Duplicated  uint64 // extra copies sent (Duplicate)
	Corrupted   uint64 // messages sent with bits flipped (Corrupt)
	Reordered   uint64 // messages sent ahead of one that came before them (Reorder, Delay)
	Delayed     uint64 // messages held back for any time (Reorder, Delay, RateLimit)
	Held        uint64 // messages held back now
	Discarded   uint64 // held messages thrown away on ShutdownMicroprocess or cancellation
	Unsupported uint64 // messages of a type the stage cannot damage, passed on unchanged (Corrupt)
	Errors      uint64 // errors reported on "errors"
}

// Stats returns the stage's counters now.
func (s *Stage) Stats() Stats {
	c := &s.stats
	return Stats{
		Stage: s.kind, In: c.in.Load(), Out: c.out.Load(), Dropped: c.dropped.Load(),
		Duplicated: c.duplicated.Load(), Corrupted: c.corrupted.Load(), Reordered: c.reordered.Load(),
		Delayed: c.delayed.Load(), Held: c.held.Load(), Discarded: c.discarded.Load(),
		Unsupported: c.unsupported.Load(), Errors: c.errors.Load(),
	}
}

// String formats the non-zero counters: "Loss in=100 out=81 dropped=19".
func (st Stats) String() string {
	var b strings.Builder
	b.WriteString(st.Stage)
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"in", st.In}, {"out", st.Out}, {"dropped", st.Dropped}, {"duplicated", st.Duplicated},
		{"corrupted", st.Corrupted}, {"reordered", st.Reordered}, {"delayed", st.Delayed},
		{"held", st.Held}, {"discarded", st.Discarded}, {"unsupported", st.Unsupported}, {"errors", st.Errors},
	} {
		if f.v != 0 || f.name == "in" || f.name == "out" {
			fmt.Fprintf(&b, " %s=%d", f.name, f.v)
		}
	}
	return b.String()
}

// Seed returns the seed of the stage's random numbers: the one given with
// the Seed option, or the one chosen for it. Log it when a run fails, so
// that it can be repeated.
func (s *Stage) Seed() uint64 { return s.seed }

// Kind returns the kind of stage: "Loss", "Duplicate", "Reorder",
// "Delay", "Corrupt" or "RateLimit".
func (s *Stage) Kind() string { return s.kind }

// Err returns the configuration error the stage will fail with when
// started (wrapping ErrConfig), or nil.
func (s *Stage) Err() error { return s.err }

// newStage builds a stage of kind around eng. problems are configuration
// errors found by the constructor, added to the options' own.
func newStage(kind string, o *options, eng engine, timed bool, problems ...string) *Stage {
	s := &Stage{kind: kind, clock: o.clock, eng: eng, timed: timed}
	s.seed = o.seed
	if !o.seeded {
		s.seed = rand.Uint64()
	}
	s.rng = rand.New(rand.NewPCG(s.seed, mix(s.seed)))
	s.Component = axon.New(kind, s.main,
		axon.WithInbox(axon.InboxName, "messages to pass on, damaged"),
		axon.WithOutbox(axon.OutboxName, "the messages, damaged"),
		axon.WithOutbox(ErrorsBox, "*simulate.Error for a message the stage cannot work on", axon.Carries[*Error]()))
	s.reporter = axon.NewReporter(s.Component, ErrorsBox)
	if bad := o.refuse(kind); bad != "" {
		problems = append(problems, bad)
	}
	if all := append(problems, o.problems...); len(all) > 0 {
		s.err = &Error{Component: s.String(), Box: "config", Op: "configure",
			Err: fmt.Errorf("%w: %s", ErrConfig, strings.Join(all, "; "))}
		s.FailOnStart(s.err)
	}
	return s
}

// mix is SplitMix64's finaliser: it spreads a seed into an unrelated
// value, for PCG's second word and for the seeds of a Link's stages.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// emit sends msg on "outbox", waiting for room. It is counted before it
// goes, so that whoever has received it already sees it in Stats; a send
// that fails takes the count back.
func (s *Stage) emit(ctx context.Context, msg any) error {
	s.stats.out.Add(1)
	if err := s.Out(axon.OutboxName).Send(ctx, msg); err != nil {
		s.stats.out.Add(^uint64(0))
		return err
	}
	return nil
}

// main is every stage's loop: take messages, let the engine act on them,
// wake when the engine has something due, and finish as the control
// messages say.
func (s *Stage) main(ctx context.Context, c *axon.Component) error {
	in, ctl := c.In(axon.InboxName), c.In(axon.ControlName)
	var (
		timer    Timer
		armed    bool      // timer is set and has not fired
		armedAt  time.Time // for when
		finished any       // the ProducerFinished, once it has come
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if s.timed {
			if err := s.eng.due(ctx, s, s.clock.Now(), finished != nil && len(in) == 0); err != nil {
				return s.stopped(err)
			}
		}
		if finished != nil && len(in) == 0 && s.eng.held() == 0 {
			return c.PassOn(ctx, finished)
		}
		take := in
		if s.eng.full() || (finished != nil && len(in) == 0) {
			take = nil
		}
		// One timer, set for the earliest held message; left alone while
		// that does not change (the common case for Delay).
		switch at, ok := s.eng.next(); {
		case ok && timer == nil:
			timer, armed, armedAt = s.clock.NewTimer(at), true, at
		case ok && (!armed || !at.Equal(armedAt)):
			timer.Reset(at)
			armed, armedAt = true, at
		case !ok && armed:
			timer.Stop()
			armed = false
		}
		var wake <-chan time.Time
		if armed {
			wake = timer.C()
		}
		select {
		case msg := <-take:
			var now time.Time // when it came, for the timed stages
			if s.timed {
				now = s.clock.Now()
			}
			s.stats.in.Add(1)
			if err := s.eng.push(ctx, s, now, msg); err != nil {
				return s.stopped(err)
			}
		case msg := <-ctl:
			switch {
			case axon.IsProducerFinished(msg):
				finished = msg
			case axon.IsShutdownMicroprocess(msg):
				s.discard()
				return c.PassOn(ctx, msg)
			default:
				c.Logger().Warn("ignored message on control", "component", s.String(), "box", axon.ControlName, "type", fmt.Sprintf("%T", msg))
			}
		case <-wake:
			armed = false
		case <-ctx.Done():
			s.discard()
			return ctx.Err()
		}
	}
}

// stopped counts held messages as discarded when the loop ends early.
func (s *Stage) stopped(err error) error {
	s.discard()
	return err
}

// discard counts whatever is still held as thrown away.
func (s *Stage) discard() {
	if n := s.eng.held(); n > 0 {
		s.stats.discarded.Add(uint64(n))
		s.stats.held.Store(0)
	}
}

// stateless is the engine part shared by stages that hold nothing.
type stateless struct{}

func (stateless) due(context.Context, *Stage, time.Time, bool) error { return nil }
func (stateless) next() (time.Time, bool)                            { return time.Time{}, false }
func (stateless) held() int                                          { return 0 }
func (stateless) full() bool                                         { return false }

// checkProbability reports p outside [0, 1] as a problem.
func checkProbability(name string, p float64) []string {
	if !(p >= 0 && p <= 1) {
		return []string{fmt.Sprintf("%s probability %v: must be from 0 to 1", name, p)}
	}
	return nil
}
