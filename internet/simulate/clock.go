package simulate

import (
	"context"
	"sync"
	"time"
)

// Clock is what the timed stages (Delay, RateLimit, Reorder) read the time
// from and set their timer with. RealClock is the default; ManualClock is
// for tests and simulations that must not depend on the machine's speed.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends on its channel when the clock
	// reaches at (at once if it already has).
	NewTimer(at time.Time) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	// C returns the channel the timer sends the time on when it fires.
	C() <-chan time.Time
	// Reset makes the timer fire when the clock reaches at instead,
	// discarding a firing not yet received.
	Reset(at time.Time)
	// Stop stops the timer, discarding a firing not yet received.
	Stop()
}

// RealClock returns the clock of the time package.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(at time.Time) Timer { return realTimer{time.NewTimer(time.Until(at))} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Reset(at time.Time)  { t.t.Reset(time.Until(at)) }
func (t realTimer) Stop()               { t.t.Stop() }

// ManualClock is a Clock whose time moves only when Advance or Set moves
// it, firing the timers that fall due. With one, Delay, RateLimit and
// Reorder give the same output for the same seed and input however fast
// the machine runs them. It is safe for concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  map[*manualTimer]struct{} // armed timers
	changed chan struct{}             // closed and replaced when timers change
}

// NewManualClock returns a ManualClock showing start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, timers: map[*manualTimer]struct{}{}, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and fires every timer that falls due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	t := c.now.Add(d)
	c.mu.Unlock()
	c.Set(t)
}

// Set moves the clock to t (never backwards: an earlier t is ignored) and
// fires every timer that falls due.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	for tm := range c.timers {
		if !tm.at.After(c.now) {
			c.fireLocked(tm)
		}
	}
}

// Timers returns how many timers are armed: set and not yet fired or
// stopped.
func (c *ManualClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// NextTimer returns when the earliest armed timer fires, if any is armed.
func (c *ManualClock) NextTimer() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	found := false
	for t := range c.timers {
		if !found || t.at.Before(first) {
			first, found = t.at, true
		}
	}
	return first, found
}

// WaitForTimers waits until at least n timers are armed, or ctx ends.
func (c *ManualClock) WaitForTimers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		armed, ch := len(c.timers), c.changed
		c.mu.Unlock()
		if armed >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NewTimer returns a timer that fires when the clock reaches at.
func (c *ManualClock) NewTimer(at time.Time) Timer {
	t := &manualTimer{clock: c, ch: make(chan time.Time, 1)}
	t.Reset(at)
	return t
}

func (c *ManualClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *ManualClock) fireLocked(t *manualTimer) {
	delete(c.timers, t)
	select {
	case t.ch <- c.now:
	default:
	}
	c.notifyLocked()
}

type manualTimer struct {
	clock *ManualClock
	at    time.Time
	ch    chan time.Time
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

func (t *manualTimer) Reset(at time.Time) {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drain()
	t.at = at
	if !at.After(c.now) {
		c.fireLocked(t)
		return
	}
	c.timers[t] = struct{}{}
	c.notifyLocked()
}

func (t *manualTimer) Stop() {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drain()
	if _, ok := c.timers[t]; ok {
		delete(c.timers, t)
		c.notifyLocked()
	}
}

func (t *manualTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
