package simulate

import (
	"math/rand/v2"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// Config describes a simulated network path for Network. A zero field
// turns its impairment off; the zero Config passes everything through
// unchanged.
type Config struct {
	Rate      float64       // link bandwidth in bytes a second (RateLimit); 0: unlimited
	Queue     int           // RateLimit's queue, in messages; 0: DefaultQueue
	Block     bool          // RateLimit slows the sender when its queue is full instead of dropping
	Loss      float64       // probability a message is dropped (Loss)
	Duplicate float64       // probability a message is sent twice (Duplicate)
	Corrupt   float64       // probability a message has a bit flipped (Corrupt)
	Reorder   int           // reordering window (Reorder); 0 or 1: off
	MaxHold   time.Duration // Reorder's MaxHold; 0: DefaultMaxHold
	Delay     time.Duration // one-way delay (Delay)
	Jitter    time.Duration // uniform jitter around Delay
	Seed      uint64        // seed every stage's seed is derived from; 0: chosen at random
	Clock     Clock         // clock for the timed stages; nil: the real time
}

// Salts that tell the stages' seeds apart, so that turning one stage on
// or off does not change the others' random numbers.
const (
	saltRate uint64 = iota + 1
	saltLoss
	saltDuplicate
	saltCorrupt
	saltReorder
	saltDelay
)

// StageSeed returns the seed Network gives the stage of the given kind
// ("Loss", "Duplicate", ...) for the network seed seed, so that one
// stage of a failing run can be rebuilt on its own.
func StageSeed(seed uint64, kind string) uint64 {
	salt := map[string]uint64{"RateLimit": saltRate, "Loss": saltLoss, "Duplicate": saltDuplicate,
		"Corrupt": saltCorrupt, "Reorder": saltReorder, "Delay": saltDelay, "Pass": 0}[kind]
	return mix(seed ^ mix(salt))
}

// Link is a simulated network path: a Pipeline of the stages its Config
// turns on. It embeds *axon.Component, so it is an axon.Node.
//
// The stages come in the order a packet meets the troubles on a real
// path:
//
//	RateLimit -> Loss -> Duplicate -> Corrupt -> Reorder -> Delay
//
// the bottleneck link's queue first (its tail drops are congestion loss),
// then random loss on the way, duplication of what survived, damage (to
// one copy of a duplicate or both), reordering, and the propagation delay
// with its jitter last.
//
// Boxes:
//
//	inbox   (in)  messages of any type, to the first stage
//	control (in)  ProducerFinished: passed down the stages, each
//	              delivering what it holds first; ShutdownMicroprocess:
//	              passed down at once
//	outbox  (out) what survives, from the last stage
//	errors  (out) *Error from the Corrupt stage (a message it cannot
//	              damage), when there is one
//	signal  (out) the shutdown message, from the last stage
type Link struct {
	*axon.Component
	seed   uint64
	stages []*Stage
}

// Network returns a Link applying the impairments cfg turns on. Each
// stage's seed is StageSeed(seed, kind), where seed is cfg.Seed or, if
// that is 0, one chosen at random (Link.Seed reports it). A parameter out
// of range makes the Link fail when started; Err reports it before.
func Network(cfg Config) *Link {
	l := &Link{seed: cfg.Seed}
	if l.seed == 0 {
		l.seed = rand.Uint64()
	}
	opts := func(kind string, more ...Option) []Option {
		o := append([]Option{Seed(StageSeed(l.seed, kind))}, more...)
		if cfg.Clock != nil {
			o = append(o, WithClock(cfg.Clock))
		}
		return o
	}
	if cfg.Rate != 0 {
		var q []Option
		if cfg.Queue != 0 {
			q = append(q, Queue(cfg.Queue))
		}
		if cfg.Block {
			q = append(q, Block())
		}
		l.stages = append(l.stages, RateLimit(cfg.Rate, opts("RateLimit", q...)...))
	}
	if cfg.Loss != 0 {
		l.stages = append(l.stages, Loss(cfg.Loss, opts("Loss")...))
	}
	if cfg.Duplicate != 0 {
		l.stages = append(l.stages, Duplicate(cfg.Duplicate, opts("Duplicate")...))
	}
	var corrupt *Stage
	if cfg.Corrupt != 0 {
		corrupt = Corrupt(cfg.Corrupt, opts("Corrupt")...)
		l.stages = append(l.stages, corrupt)
	}
	if cfg.Reorder > 1 || cfg.Reorder < 0 {
		var h []Option
		if cfg.MaxHold != 0 {
			h = append(h, MaxHold(cfg.MaxHold))
		}
		l.stages = append(l.stages, Reorder(cfg.Reorder, opts("Reorder", h...)...))
	}
	if cfg.Delay != 0 || cfg.Jitter != 0 {
		l.stages = append(l.stages, Delay(cfg.Delay, cfg.Jitter, opts("Delay")...))
	}
	if len(l.stages) == 0 {
		l.stages = append(l.stages, pass(opts("Pass")...))
	}
	nodes := make([]axon.Node, len(l.stages))
	for i, s := range l.stages {
		nodes[i] = s
	}
	p := chassis.Pipeline(nodes...)
	l.Component = p
	if _, err := p.AddOutbox(ErrorsBox, "*simulate.Error from the Corrupt stage", axon.Carries[*Error]()); err != nil {
		p.FailOnStart(err)
	} else if corrupt != nil {
		if err := axon.Link(corrupt, ErrorsBox, p, ErrorsBox); err != nil {
			p.FailOnStart(err)
		}
	}
	return l
}

// pass is a stage that changes nothing: the body of a Link with every
// impairment off.
func pass(opts ...Option) *Stage {
	return newStage("Pass", newOptions(opts), &loss{}, false)
}

// Seed returns the seed the stages' seeds were derived from.
func (l *Link) Seed() uint64 { return l.seed }

// Stages returns the link's stages, in order.
func (l *Link) Stages() []*Stage { return append([]*Stage(nil), l.stages...) }

// Err returns the first stage's configuration error, or nil.
func (l *Link) Err() error {
	for _, s := range l.stages {
		if s.err != nil {
			return s.err
		}
	}
	return nil
}

// Stats adds up the stages' counters: In is what the first stage took,
// Out what the last sent, the others are sums. Stats.Stage is "Network".
func (l *Link) Stats() Stats {
	sum := Stats{Stage: "Network"}
	for i, s := range l.stages {
		st := s.Stats()
		if i == 0 {
			sum.In = st.In
		}
		if i == len(l.stages)-1 {
			sum.Out = st.Out
		}
		sum.Dropped += st.Dropped
		sum.Duplicated += st.Duplicated
		sum.Corrupted += st.Corrupted
		sum.Reordered += st.Reordered
		sum.Delayed += st.Delayed
		sum.Held += st.Held
		sum.Discarded += st.Discarded
		sum.Unsupported += st.Unsupported
		sum.Errors += st.Errors
	}
	return sum
}

// StageStats returns each stage's counters, in order.
func (l *Link) StageStats() []Stats {
	out := make([]Stats, len(l.stages))
	for i, s := range l.stages {
		out[i] = s.Stats()
	}
	return out
}
