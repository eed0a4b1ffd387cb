package axon

import (
	"context"
	"slices"
	"sync/atomic"
	"time"
)

// compCtx is the context a component's main loop runs under. It lives
// inside the Component, so a component costs no allocation for it, and it
// makes its Done channel only if someone asks for one: Serve does not, it
// is woken by a nudge instead (see Component.nudge). It ends when the
// component is stopped or interrupted, when its parent's context ends, or
// when it has ended; cancelling it ends its children's, in the tree the
// components form, without a goroutine or a registration per component.
//
// It behaves as a context.Context made by context.WithCancel does:
// contexts derived from it end with it (through AfterFunc, which the
// context package uses for contexts it does not know), and Err says
// context.Canceled, or the parent's error when that ended it.
type compCtx struct {
	c      *Component
	parent context.Context // guarded by c.mu

	err  atomic.Pointer[error]         // why it ended; nil until then
	done atomic.Pointer[chan struct{}] // made on demand
	more *ctxMore                      // guarded by c.mu; made on demand
}

// ctxMore is what few component contexts need.
type ctxMore struct {
	after map[*afterFunc]struct{} // registered by AfterFunc, run at the end
	stop  func() bool             // a root's registration with its parent
}

type afterFunc struct{ f func() }

// ended reports whether the context has ended.
func (x *compCtx) ended() bool { return x.err.Load() != nil }

// moreLocked returns x.more, making it. Called with c.mu held.
func (x *compCtx) moreLocked() *ctxMore {
	if x.more == nil {
		x.more = &ctxMore{}
	}
	return x.more
}

// Deadline returns the parent's deadline.
func (x *compCtx) Deadline() (time.Time, bool) { return x.parentCtx().Deadline() }

// Value returns the parent's value for key.
func (x *compCtx) Value(key any) any { return x.parentCtx().Value(key) }

// parentCtx returns the parent, set when the component starts.
func (x *compCtx) parentCtx() context.Context {
	x.c.mu.Lock()
	defer x.c.mu.Unlock()
	if x.parent == nil {
		return context.Background()
	}
	return x.parent
}

// Err returns nil until the context ends, then why.
func (x *compCtx) Err() error {
	if p := x.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Done returns a channel closed when the context ends.
func (x *compCtx) Done() <-chan struct{} {
	for {
		if p := x.done.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if x.done.CompareAndSwap(nil, &ch) {
			// Ended meanwhile: the canceller may have looked for the
			// channel before it was here.
			if x.ended() {
				x.closeDone()
			}
			return ch
		}
	}
}

// AfterFunc arranges for f to run in a goroutine of its own once the
// context ends (at once if it has). It is how contexts derived from this
// one learn that it ended.
func (x *compCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	mu := &x.c.mu
	mu.Lock()
	if x.ended() {
		mu.Unlock()
		go f()
		return func() bool { return false }
	}
	m := x.moreLocked()
	if m.after == nil {
		m.after = make(map[*afterFunc]struct{})
	}
	m.after[a] = struct{}{}
	mu.Unlock()
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := m.after[a]; !ok {
			return false
		}
		delete(m.after, a)
		return true
	}
}

// begin readies the context of component c, to be started under parent.
// A parent that is another component's context ends this one through
// the component tree; any other is watched with context.AfterFunc.
func (x *compCtx) begin(parent context.Context) {
	mu := &x.c.mu
	mu.Lock()
	x.parent = parent
	ended := x.ended()
	mu.Unlock()
	if ended {
		return // stopped before it ran
	}
	if _, ours := parent.(*compCtx); ours {
		// The parent's cancel reaches this context through the
		// component tree; if it has already gone by, end now.
		if err := parent.Err(); err != nil {
			x.cancel(err)
		}
		return
	}
	if parent.Done() == nil {
		return // never ends
	}
	stop := context.AfterFunc(parent, func() { x.cancel(parent.Err()) })
	mu.Lock()
	if x.ended() {
		mu.Unlock()
		stop()
		return
	}
	x.moreLocked().stop = stop
	mu.Unlock()
}

// cancel ends the context with err, then its component's children's, and
// wakes the component's Serve if it waits. Every context in the subtree
// has ended before any of their components is woken: a component that
// sees a sibling stop (a send to it failing with ErrReceiverDone) then
// finds its own context ended too, and is taken as stopped, not failed.
func (x *compCtx) cancel(err error) {
	var one [1]*compCtx // a leaf, the common case, gathers itself alone
	for _, y := range x.endTree(nil, err, one[:0]) {
		y.wake()
	}
}

// endTree ends x with err, if p is nil or x's parent is p, then the
// contexts of its component's children, and appends those it ended to
// ends, x first, to be woken.
func (x *compCtx) endTree(p *compCtx, err error, ends []*compCtx) []*compCtx {
	c := x.c
	c.mu.Lock()
	if p != nil && x.parent != context.Context(p) || !x.err.CompareAndSwap(nil, &err) {
		c.mu.Unlock()
		return ends
	}
	kids := slices.Clone(c.children) // RemoveChild edits the slice in place
	c.mu.Unlock()
	ends = append(slices.Grow(ends, 1+len(kids)), x)
	for _, k := range kids {
		ends = k.ctx.endTree(x, err, ends)
	}
	return ends
}

// wake tells whoever waits on the ended context: its Done channel, the
// functions given to AfterFunc, and its component's Serve.
func (x *compCtx) wake() {
	c := x.c
	var after []*afterFunc
	var stop func() bool
	c.mu.Lock()
	if m := x.more; m != nil {
		for a := range m.after {
			after = append(after, a)
		}
		// A stop func still held finds nothing to take back.
		m.after, stop = nil, m.stop
		x.more = nil
	}
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	x.closeDone()
	for _, a := range after {
		go a.f()
	}
	c.nudge()
}

// closeDone closes the Done channel, if one was made, once.
func (x *compCtx) closeDone() {
	if p := x.done.Swap(&closedChan); p != nil && *p != closedChan {
		close(*p)
	}
}

// String names the context after its component, for debugging.
func (x *compCtx) String() string { return x.c.String() + ".ctx" }
