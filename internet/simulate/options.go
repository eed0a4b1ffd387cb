package simulate

import (
	"fmt"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Option configures a stage. Seed and WithClock apply to every stage;
// the others to the stages their documentation names. An option that does
// not apply to the stage it is given to (Bits given to Loss, say) is a
// configuration error that names it, reported by Err and when the stage
// starts, as a value out of range is.
type Option func(*options)

type options struct {
	axon.OptionSet
	seed     uint64
	seeded   bool
	clock    Clock
	maxHold  time.Duration
	bits     int
	burst    float64
	queue    int
	block    bool
	ordered  bool
	problems []string
}

// Defaults.
const (
	// DefaultMaxHold is how long Reorder holds a message at most when no
	// more traffic comes to push it out of the window.
	DefaultMaxHold = 5 * time.Millisecond
	// DefaultQueue is how many messages RateLimit queues before it drops
	// (or, with Block, stops taking more).
	DefaultQueue = 64
	// MinBurst is the smallest default burst of RateLimit, in bytes.
	MinBurst = 1500
)

func newOptions(opts []Option) *options {
	o := &options{maxHold: DefaultMaxHold, bits: 1, queue: DefaultQueue}
	for _, f := range opts {
		if f != nil {
			f(o)
		}
	}
	if o.clock == nil {
		o.clock = RealClock()
	}
	return o
}

// stageOptions are the options each kind of stage takes beyond Seed and
// WithClock.
var stageOptions = map[string][]string{
	"Corrupt":   {"Bits"},
	"Reorder":   {"MaxHold"},
	"Delay":     {"KeepOrder"},
	"RateLimit": {"Burst", "Queue", "Block"},
}

// refuse returns the complaint about an option given to a stage of kind
// that does not take it, or "".
func (o *options) refuse(kind string) string {
	return o.Unapplied(kind, append([]string{"Seed", "WithClock"}, stageOptions[kind]...)...)
}

func (o *options) bad(format string, args ...any) {
	o.problems = append(o.problems, fmt.Sprintf(format, args...))
}

// Seed sets the seed of the stage's random numbers (a math/rand/v2 PCG),
// so that a run can be repeated: the same seed and the same input
// sequence give the same output sequence (for Delay, RateLimit and
// Reorder's hold time, also the same times: see WithClock). Without it a
// random seed is chosen; Stage.Seed reports the seed in use either way.
func Seed(seed uint64) Option {
	return func(o *options) { o.Mark("Seed"); o.seed, o.seeded = seed, true }
}

// WithClock sets the clock that Delay, RateLimit and Reorder read and
// set timers on. The default is the real time; a *ManualClock makes their
// timing, and so their output, depend on the seed and the input alone.
func WithClock(c Clock) Option {
	return func(o *options) {
		o.Mark("WithClock")
		if c == nil {
			o.bad("WithClock(nil)")
			return
		}
		o.clock = c
	}
}

// MaxHold bounds how long Reorder holds a message (default
// DefaultMaxHold): a message still held that long after it arrived is
// released even if no later message comes to push it out, so a protocol
// that waits for an answer before sending more never deadlocks. It must
// be positive.
func MaxHold(d time.Duration) Option {
	return func(o *options) {
		o.Mark("MaxHold")
		if d <= 0 {
			o.bad("MaxHold(%v): must be positive", d)
			return
		}
		o.maxHold = d
	}
}

// Bits sets how many bits Corrupt flips in each message it damages
// (default 1). Distinct bits are chosen; a payload with fewer bits has
// all of them flipped. It must be at least 1.
func Bits(n int) Option {
	return func(o *options) {
		o.Mark("Bits")
		if n < 1 {
			o.bad("Bits(%d): must be at least 1", n)
			return
		}
		o.bits = n
	}
}

// Burst sets RateLimit's bucket size in bytes: how much may go at once
// after the link has been idle. The default is what the rate carries in
// 10 ms, and at least MinBurst. A message larger than the burst goes when
// the bucket is full and leaves it in debt.
func Burst(bytes float64) Option {
	return func(o *options) {
		o.Mark("Burst")
		if !(bytes > 0) {
			o.bad("Burst(%v): must be positive", bytes)
			return
		}
		o.burst = bytes
	}
}

// Queue sets how many messages RateLimit holds while they wait for the
// link (default DefaultQueue). Without Block, a message that arrives to a
// full queue is dropped and counted (tail drop, as a router does). It
// must be at least 1.
func Queue(n int) Option {
	return func(o *options) {
		o.Mark("Queue")
		if n < 1 {
			o.bad("Queue(%d): must be at least 1", n)
			return
		}
		o.queue = n
	}
}

// Block makes RateLimit stop taking messages from "inbox" while its queue
// is full, so the sender is slowed (backpressure) instead of losing
// messages.
func Block() Option {
	return func(o *options) { o.Mark("Block"); o.block = true }
}

// KeepOrder makes Delay deliver messages in the order they came: a
// message whose jittered time falls before that of an earlier message
// waits for it.
func KeepOrder() Option {
	return func(o *options) { o.Mark("KeepOrder"); o.ordered = true }
}
