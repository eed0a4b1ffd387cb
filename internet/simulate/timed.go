package simulate

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Reorder returns a stage that shuffles messages within a window of the
// given size: it holds up to window-1 messages and, each time one more
// arrives, sends a randomly chosen one of those it has. The guarantee:
//
//   - no message is overtaken by more than window-1 messages that came
//     after it, and none overtakes more than window-1 that came before
//     it, so each leaves at most window-1 places from where it came;
//   - no message is held longer than MaxHold (default DefaultMaxHold)
//     after it arrived, give or take the scheduler and as long as the
//     next component takes what is sent: when traffic stops,
//     what is held is sent on after that time rather than waiting for
//     more messages to push it out, so a request/response protocol
//     never deadlocks behind the window. Messages released together
//     this way are shuffled too, within the same bounds.
//
// A window of 1 changes nothing. On ProducerFinished what is held is sent
// at once (shuffled, within the bounds), then the ProducerFinished.
// Stats.Reordered counts messages sent ahead of an earlier one,
// Stats.Delayed those held back at all, Stats.Held those held now.
//
// With a full window the order depends only on the seed and the input;
// releases after MaxHold depend on timing as well, unless the stage runs
// on a ManualClock (WithClock).
//
// Boxes:
//
//	inbox   (in)  messages of any type
//	control (in)  ProducerFinished: what is queued in inbox is taken, what is held sent at
//	              once, then it is passed on. ShutdownMicroprocess: passed on at once;
//	              held messages are discarded (Stats.Discarded)
//	outbox  (out) every message, shuffled within the window
//	errors  (out) nothing (every stage declares it)
//	signal  (out) the shutdown message, unchanged
func Reorder(window int, opts ...Option) *Stage {
	o := newOptions(opts)
	var problems []string
	if window < 1 {
		problems = append(problems, fmt.Sprintf("reorder window %d: must be at least 1", window))
	}
	return newStage("Reorder", o, &reorder{window: window, maxHold: o.maxHold}, true, problems...)
}

type reorder struct {
	window  int
	maxHold time.Duration
	buf     []heldMsg // in the order they came
}

type heldMsg struct {
	msg       any
	at        time.Time // when it came
	overtaken int       // how many later messages have been sent before it
}

func (r *reorder) push(ctx context.Context, s *Stage, now time.Time, msg any) error {
	r.buf = append(r.buf, heldMsg{msg: msg, at: now})
	s.stats.held.Add(1)
	if len(r.buf) < r.window {
		s.stats.delayed.Add(1)
		return nil
	}
	sent, err := r.sendOne(ctx, s, len(r.buf))
	if err == nil && sent != len(r.buf) { // the newcomer stays behind
		s.stats.delayed.Add(1)
	}
	return err
}

// sendOne sends one of the first n held messages, chosen at random but
// never overtaking a message that has been overtaken window-1 times
// already. It returns the index it chose.
func (r *reorder) sendOne(ctx context.Context, s *Stage, n int) (int, error) {
	for i := range n {
		if r.buf[i].overtaken >= r.window-1 {
			n = i + 1
			break
		}
	}
	i := s.rng.IntN(n)
	m := r.buf[i].msg
	for j := range i {
		r.buf[j].overtaken++
	}
	if i > 0 {
		s.stats.reordered.Add(1)
	}
	r.buf[i] = heldMsg{}
	r.buf = append(r.buf[:i], r.buf[i+1:]...)
	s.stats.held.Add(^uint64(0))
	return i, s.emit(ctx, m)
}

func (r *reorder) due(ctx context.Context, s *Stage, now time.Time, finishing bool) error {
	for len(r.buf) > 0 {
		n := len(r.buf)
		if !finishing {
			n = 0
			for n < len(r.buf) && !r.buf[n].at.Add(r.maxHold).After(now) {
				n++
			}
			if n == 0 {
				return nil
			}
		}
		if _, err := r.sendOne(ctx, s, n); err != nil {
			return err
		}
	}
	return nil
}

func (r *reorder) next() (time.Time, bool) {
	if len(r.buf) == 0 {
		return time.Time{}, false
	}
	return r.buf[0].at.Add(r.maxHold), true
}

func (r *reorder) held() int  { return len(r.buf) }
func (r *reorder) full() bool { return false }

// Delay returns a stage that delivers each message d after it arrived,
// plus or minus a jitter drawn uniformly from [-jitter, +jitter] (never
// before it arrived). Messages wait in a timer heap, not a goroutine
// each. Jitter larger than the gap between two messages reorders them
// (Stats.Reordered counts it); with KeepOrder a message never overtakes
// an earlier one, waiting for it if need be. Messages due at the same
// time leave in the order they came.
//
// On ProducerFinished the messages still waiting are delivered at their
// times, then the ProducerFinished is passed on. The output depends only
// on the seed and the input when the stage runs on a ManualClock.
//
// Boxes:
//
//	inbox   (in)  messages of any type
//	control (in)  ProducerFinished: what is queued in inbox is taken, held messages are
//	              delivered at their times, then it is passed on. ShutdownMicroprocess:
//	              passed on at once; held messages are discarded (Stats.Discarded)
//	outbox  (out) every message, when it is due
//	errors  (out) nothing (every stage declares it)
//	signal  (out) the shutdown message, unchanged
func Delay(d, jitter time.Duration, opts ...Option) *Stage {
	o := newOptions(opts)
	var problems []string
	if d < 0 {
		problems = append(problems, fmt.Sprintf("delay %v: must not be negative", d))
	}
	if jitter < 0 || jitter > math.MaxInt64/4 {
		problems = append(problems, fmt.Sprintf("jitter %v: must not be negative or absurdly large", jitter))
	}
	return newStage("Delay", o, &delay{d: d, jitter: jitter, ordered: o.ordered}, true, problems...)
}

type delay struct {
	d, jitter time.Duration
	ordered   bool
	waiting   timerHeap
	seq       uint64
	last      time.Time // latest time given, for KeepOrder
	order     orderTracker
}

func (dl *delay) push(_ context.Context, s *Stage, now time.Time, msg any) error {
	at := now.Add(dl.d)
	if dl.jitter > 0 {
		at = at.Add(time.Duration(s.rng.Int64N(2*int64(dl.jitter)+1)) - dl.jitter)
	}
	if at.Before(now) {
		at = now
	}
	if dl.ordered && at.Before(dl.last) {
		at = dl.last
	}
	dl.last = at
	dl.waiting.push(timed{at: at, seq: dl.seq, msg: msg})
	dl.seq++
	s.stats.held.Add(1)
	if at.After(now) {
		s.stats.delayed.Add(1)
	}
	return nil
}

func (dl *delay) due(ctx context.Context, s *Stage, now time.Time, _ bool) error {
	for len(dl.waiting) > 0 && !dl.waiting[0].at.After(now) {
		t := dl.waiting.pop()
		s.stats.held.Add(^uint64(0))
		if dl.order.sent(t.seq) {
			s.stats.reordered.Add(1)
		}
		if err := s.emit(ctx, t.msg); err != nil {
			return err
		}
	}
	return nil
}

func (dl *delay) next() (time.Time, bool) {
	if len(dl.waiting) == 0 {
		return time.Time{}, false
	}
	return dl.waiting[0].at, true
}

func (dl *delay) held() int  { return len(dl.waiting) }
func (dl *delay) full() bool { return false }

// timed is a message waiting in a Delay.
type timed struct {
	at  time.Time
	seq uint64
	msg any
}

// timerHeap orders waiting messages by time, then by arrival: a binary
// heap kept by hand, so that pushing a message allocates nothing.
type timerHeap []timed

func (h timerHeap) less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}

func (h *timerHeap) push(t timed) {
	*h = append(*h, t)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *timerHeap) pop() timed {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = timed{}
	q = q[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q.less(l, small) {
			small = l
		}
		if r < len(q) && q.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}

// orderTracker tells whether a message, numbered in arrival order, leaves
// ahead of one that came before it.
type orderTracker struct {
	low   uint64              // the earliest message not yet sent
	ahead map[uint64]struct{} // later messages already sent
}

// sent records message seq as sent and reports whether an earlier one is
// still to go.
func (o *orderTracker) sent(seq uint64) bool {
	if seq != o.low {
		if o.ahead == nil {
			o.ahead = map[uint64]struct{}{}
		}
		o.ahead[seq] = struct{}{}
		return true
	}
	o.low++
	for {
		if _, ok := o.ahead[o.low]; !ok {
			return false
		}
		delete(o.ahead, o.low)
		o.low++
	}
}

// RateLimit returns a stage that acts as a link of the given bandwidth,
// in bytes a second: a token bucket holding at most Burst bytes (default
// 10 ms at the rate, and at least MinBurst) pays for each message as it
// leaves. A message's size is its payload's length for []byte, string,
// udp.Datagram, udp.Packet, pointers to them and Sizers; any other
// message counts as 1 byte. A message larger than the burst leaves when
// the bucket is full, leaving it in debt.
//
// Messages that cannot leave yet wait, in order, in a queue of Queue
// messages (default DefaultQueue). One arriving to a full queue is
// dropped and counted in Stats.Dropped (tail drop, like a router); with
// Block the stage stops taking from "inbox" instead, so the sender waits.
//
// On ProducerFinished the queue is delivered at the rate, then the
// ProducerFinished is passed on.
//
// Boxes:
//
//	inbox   (in)  messages of any type
//	control (in)  ProducerFinished: what is queued in inbox is taken, the queue is
//	              delivered at the rate, then it is passed on. ShutdownMicroprocess:
//	              passed on at once; queued messages are discarded (Stats.Discarded)
//	outbox  (out) the messages not dropped, in order, at the rate
//	errors  (out) nothing (every stage declares it)
//	signal  (out) the shutdown message, unchanged
func RateLimit(bytesPerSecond float64, opts ...Option) *Stage {
	o := newOptions(opts)
	var problems []string
	if !(bytesPerSecond > 0) || math.IsInf(bytesPerSecond, 1) {
		problems = append(problems, fmt.Sprintf("rate %v bytes/s: must be positive and finite", bytesPerSecond))
	}
	burst := o.burst
	if burst == 0 {
		burst = max(bytesPerSecond/100, MinBurst)
	}
	return newStage("RateLimit", o, &rateLimit{rate: bytesPerSecond, burst: burst, limit: o.queue, block: o.block}, true, problems...)
}

type rateLimit struct {
	rate, burst float64
	limit       int
	block       bool
	queue       []any
	tokens      float64
	last        time.Time
	started     bool
}

// refill adds the tokens earned since the last look.
func (r *rateLimit) refill(now time.Time) {
	if !r.started {
		r.tokens, r.last, r.started = r.burst, now, true
		return
	}
	if dt := now.Sub(r.last); dt > 0 {
		r.tokens = min(r.burst, r.tokens+dt.Seconds()*r.rate)
		r.last = now
	}
}

// affords reports whether a message of n bytes may leave now.
func (r *rateLimit) affords(n int) bool {
	return r.tokens >= float64(n) || r.tokens >= r.burst
}

func (r *rateLimit) push(ctx context.Context, s *Stage, now time.Time, msg any) error {
	r.refill(now)
	if len(r.queue) == 0 {
		if n := size(msg); r.affords(n) {
			r.tokens -= float64(n)
			return s.emit(ctx, msg)
		}
	}
	if len(r.queue) >= r.limit {
		s.stats.dropped.Add(1)
		return nil
	}
	r.queue = append(r.queue, msg)
	s.stats.held.Add(1)
	s.stats.delayed.Add(1)
	return nil
}

func (r *rateLimit) due(ctx context.Context, s *Stage, now time.Time, _ bool) error {
	r.refill(now)
	for len(r.queue) > 0 {
		n := size(r.queue[0])
		if !r.affords(n) {
			return nil
		}
		r.tokens -= float64(n)
		m := r.queue[0]
		r.queue[0] = nil
		r.queue = r.queue[1:]
		s.stats.held.Add(^uint64(0))
		if err := s.emit(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (r *rateLimit) next() (time.Time, bool) {
	if len(r.queue) == 0 {
		return time.Time{}, false
	}
	need := min(float64(size(r.queue[0])), r.burst) - r.tokens
	if need <= 0 {
		return r.last, true
	}
	return r.last.Add(time.Duration(math.Ceil(need / r.rate * float64(time.Second)))), true
}

func (r *rateLimit) held() int  { return len(r.queue) }
func (r *rateLimit) full() bool { return r.block && len(r.queue) >= r.limit }
