package axon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
)

// runState is shared by every component started by one Run or Start.
type runState struct {
	parent context.Context         // the caller's context
	ctx    context.Context         // the run's own context, ended by Stop or a failure
	cancel context.CancelCauseFunc // with the cause: a failure, ErrStopped, or nil at the end
	root   *Component

	// unbatched: every message crosses on its own (the Unbatched option).
	unbatched bool
	logger    *slog.Logger // WithLogger's, or nil for slog's default
	services  *Registry    // WithServices's, or nil for Services

	mu     sync.Mutex
	errs   []error
	ctxErr error // the caller's context error when the graph ended, if any
}

func (rs *runState) fail(err error) {
	rs.mu.Lock()
	rs.errs = append(rs.errs, err)
	rs.mu.Unlock()
	rs.cancel(err)
}

// Run starts n with all its children and waits until every one has ended.
// It returns nil when the graph ended by itself; the errors of the
// components that failed (each a *ComponentError naming the component,
// joined with errors.Join), in which case the rest of the graph was shut
// down; or ctx's error if ctx ended first.
func Run(ctx context.Context, n Node, opts ...StartOption) error {
	return Start(ctx, n, opts...).Wait()
}

// Start starts n with all its children in the background and returns a
// Handle to drive it, stop it and wait for it.
//
// Options act before anything runs: Tapping links outboxes to the Handle
// so that Get sees even the first message sent on them.
//
// When the graph is shut down, its components' contexts end with a cause
// (context.Cause): the error of the component whose failure shut it down
// (a *ComponentError), ErrStopped after Handle.Stop, or the caller's
// context's own cause.
func Start(ctx context.Context, n Node, opts ...StartOption) *Handle {
	c := n.Core()
	rctx, cancel := context.WithCancelCause(ctx)
	rs := &runState{parent: ctx, ctx: rctx, cancel: cancel}
	h := &Handle{c: c, rs: rs}
	// failed makes h a Handle whose graph never ran, reporting err.
	failed := func(err error) *Handle {
		cancel(err)
		rs.errs = append(rs.errs, err)
		h.startErr = true
		return h
	}
	if p := c.Parent(); p != nil {
		return failed(fmt.Errorf("start %s: %w: it is a child of %s; start the graph's root", c, ErrBadLink, p))
	}
	if !c.Out(SignalName).Linked() {
		// Shutdown notices on an unlinked signal are dropped; link it
		// before anything runs so that Get(ctx, "signal") sees them.
		_, _ = h.inboxFor(SignalName)
	}
	for _, opt := range opts {
		if err := opt(h); err != nil {
			return failed(fmt.Errorf("start %s: %w", c, err))
		}
	}
	if err := c.start(rctx, rs, true); err != nil {
		return failed(err)
	}
	return h
}

// StartOption configures what Start does before the graph runs.
type StartOption func(*Handle) error

// Unbatched makes every message of the graph cross from one component to
// the next on its own, one channel element each, as a plain Go channel
// carries it. By default a component served by Serve may send what it
// produces from a run of queued input many messages to a crossing (see
// Component.Batch), which multiplies throughput where components are
// busy; handlers see one message at a time either way. Use Unbatched when
// a handler is slow and what it sends must reach the next component
// before it starts on the next message, or to measure the cost of a
// single crossing.
func Unbatched() StartOption {
	return func(h *Handle) error {
		h.rs.unbatched = true
		return nil
	}
}

// WithLogger makes l the logger of every component in the graph: what
// they log (errors reported with nowhere to go, ignored control messages)
// goes to l, as Component.Logger returns it. Without it they log to
// slog.Default(), looked up when they log. A program running several
// graphs can give each its own.
func WithLogger(l *slog.Logger) StartOption {
	return func(h *Handle) error {
		if l == nil {
			return fmt.Errorf("WithLogger: %w: nil logger", ErrConfig)
		}
		h.rs.logger = l
		return nil
	}
}

// WithServices makes r the registry of services for every component in
// the graph, as Component.Services returns it, in place of the
// process-wide Services: graphs given different registries can use the
// same service names without meeting.
func WithServices(r *Registry) StartOption {
	return func(h *Handle) error {
		if r == nil {
			return fmt.Errorf("WithServices: %w: nil registry", ErrConfig)
		}
		h.rs.services = r
		return nil
	}
}

// Logger returns the logger of c's graph: the one given to Start or Run
// with WithLogger, else slog.Default() (also before c has started).
func (c *Component) Logger() *slog.Logger {
	if rs := c.runState(); rs != nil && rs.logger != nil {
		return rs.logger
	}
	return slog.Default()
}

// Services returns the service registry of c's graph: the one given to
// Start or Run with WithServices, else the process-wide Services (also
// before c has started).
func (c *Component) Services() *Registry {
	if rs := c.runState(); rs != nil && rs.services != nil {
		return rs.services
	}
	return Services
}

// runState returns the run c belongs to, or nil before it has started.
func (c *Component) runState() *runState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.run
}

// Tapping links each of the started component's outboxes named to the
// Handle before the graph runs, so that Handle.Get on them sees every
// message sent, the first included. Without it, Get makes its link when
// first called, and a message sent on an unlinked outbox before then
// waits (data) or, for boxes whose components report without waiting
// (such as "errors"), may be logged instead. Start fails if a box does not
// exist or is linked already.
func Tapping(outboxes ...string) StartOption {
	return func(h *Handle) error {
		for _, box := range outboxes {
			if _, err := h.inboxFor(box); err != nil {
				return err
			}
		}
		return nil
	}
}

// start launches c's children and main loop. root marks the component a
// Run or Start was given.
func (c *Component) start(parent context.Context, rs *runState, root bool) error {
	c.mu.Lock()
	if c.state != phaseBuilt {
		c.mu.Unlock()
		return &BoxError{Component: c.String(), Box: "", Op: "start", Err: ErrAlreadyStarted}
	}
	c.state = phaseRunning
	c.run = rs
	c.stateChanged()
	if root {
		rs.root = c
	}
	kids := slices.Clone(c.children)
	var buildErr error
	if c.rare != nil {
		buildErr = c.rare.buildErr
	}
	if buildErr != nil {
		kids = nil // nothing of a misdeclared component runs
	}
	c.liveKids = int32(len(kids))
	c.pending = int32(len(kids)) + 1
	if c.liveKids > 0 {
		c.kidsIdle = make(chan struct{})
	}
	c.mu.Unlock()
	// Begun outside c.mu: a parent that has ended cancels it at once,
	// and cancelling takes c.mu to reach the children.
	c.ctx.begin(parent)
	ctx := &c.ctx
	for _, k := range kids {
		if err := k.start(ctx, rs, false); err != nil {
			if !k.stoppedBeforeStart() {
				rs.fail(err)
			}
			c.childEnded()
		}
	}
	if buildErr != nil {
		c.failed(buildErr, nil)
		c.finishOne()
		return nil
	}
	if c.main == nil {
		c.finishOne()
		return nil
	}
	go c.runMain(ctx)
	return nil
}

func (c *Component) runMain(ctx context.Context) {
	// Kept small: a component's goroutine starts on a 2 KB stack, and
	// every byte here is one its main loop cannot use before the stack
	// has to grow.
	defer c.afterMain()
	if err := c.main(ctx, c); err != nil && !c.stoppedBy(ctx, err) {
		c.failed(err, nil)
	}
}

// afterMain runs when the main loop has returned or panicked: what arrives
// now would never be read, so the component refuses it from here on.
func (c *Component) afterMain() {
	if r := recover(); r != nil {
		c.failed(fmt.Errorf("%w: %v", ErrPanic, r), debug.Stack())
	}
	c.end()
	c.passOnInterrupt()
	c.finishOne()
}

// end marks c as taking no more messages and wakes senders blocked on its
// inboxes, so that they fail with ErrReceiverDone instead of waiting.
// Called when the main loop returns and again when all is done; only the
// first call does anything.
func (c *Component) end() {
	if c.ended.Swap(true) {
		return
	}
	ins, _ := c.allBoxes()
	for _, in := range ins {
		in.wake()
	}
}

// failed reports the component's failure to its run, which shuts the
// graph down.
func (c *Component) failed(err error, stack []byte) {
	c.mu.Lock()
	c.broke = true
	c.stateChanged()
	c.mu.Unlock()
	c.run.fail(&ComponentError{Component: c.String(), Err: err, Stack: stack})
}

// stoppedBy reports whether err is just the component doing as it was
// told: its context (or its whole graph's) ended, and err says so, or says
// that a neighbour it was sending to stopped first. Cancellation reaches
// a graph's components in no set order, so the graph's own context is
// looked at too: it is always cancelled before any component's. So are
// the ancestors' (a container told to stop ends its own context before
// its children's).
func (c *Component) stoppedBy(ctx context.Context, err error) bool {
	if ctx.Err() == nil && c.run.ctx.Err() == nil && !c.ancestorStopped() {
		return false
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrReceiverDone)
}

// ancestorStopped reports whether the context of a component c is inside
// has ended.
func (c *Component) ancestorStopped() bool {
	for p := c.parent; p != nil; p = p.parent {
		if p.ctx.ended() {
			return true
		}
	}
	return false
}

// markStop records msg, a ShutdownMicroprocess about to be put in c's
// control box, as the one that stops c, before it lands: a main loop that
// takes it and returns without passing it on then leaves the pass-on to
// the runner, which must already know of it. It reports whether it
// recorded msg (c is running and had no stop message yet).
func (c *Component) markStop(msg any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != phaseRunning || c.rare != nil && c.rare.stopMsg != nil {
		return false
	}
	c.rareLocked().stopMsg = msg
	return true
}

// unmarkStop forgets a stop message recorded by markStop whose delivery
// failed.
func (c *Component) unmarkStop() {
	c.mu.Lock()
	if c.rare != nil {
		c.rare.stopMsg = nil
	}
	c.mu.Unlock()
}

// interrupt is called when a ShutdownMicroprocess has been delivered to
// c's control box: a running component's context is cancelled at once.
// The cancel comes after the message has landed, so a main loop woken by
// the cancel finds the message in its box.
func (c *Component) interrupt(msg any) {
	c.mu.Lock()
	if c.state != phaseRunning {
		c.mu.Unlock()
		return
	}
	if r := c.rareLocked(); r.stopMsg == nil {
		r.stopMsg = msg
	}
	c.mu.Unlock()
	c.halted.Store(true)
	c.ctx.cancel(context.Canceled)
}

// passOnInterrupt passes on the ShutdownMicroprocess that interrupted c,
// if c's main loop did not get to pass it on itself. It uses the run's
// context, since c's own has been cancelled.
func (c *Component) passOnInterrupt() {
	c.mu.Lock()
	var msg any
	if c.rare != nil {
		msg = c.rare.stopMsg
	}
	c.mu.Unlock()
	if msg != nil && !c.passedOn.Load() {
		_ = c.PassOn(c.run.ctx, msg)
	}
}

// finishOne marks the main loop or one child as finished.
func (c *Component) finishOne() {
	c.mu.Lock()
	c.pending--
	if c.pending > 0 {
		c.mu.Unlock()
		return
	}
	c.state = phaseDone
	c.stateChanged()
	parent := c.parent // does not change while c runs
	rs := c.run
	var done chan struct{}
	if c.rare != nil {
		done = c.rare.done
	}
	c.mu.Unlock()
	c.end()
	c.ctx.cancel(context.Canceled)
	if rs.root == c {
		// The graph has ended: note whether the caller's context had, and
		// release the run's context, before anyone waiting is woken.
		rs.mu.Lock()
		rs.ctxErr = rs.parent.Err()
		rs.mu.Unlock()
		rs.cancel(nil)
	}
	if done != nil {
		close(done)
	}
	if parent != nil {
		parent.childEnded()
	}
}

func (c *Component) childEnded() {
	c.mu.Lock()
	c.liveKids--
	if c.liveKids == 0 && c.kidsIdle != nil {
		close(c.kidsIdle)
	}
	c.mu.Unlock()
	c.finishOne()
}

// AddChild makes n a child of c. If c is running, n starts at once under
// c's context; otherwise it starts when c does. c does not end before all
// its children have. A node can have one parent.
func (c *Component) AddChild(n Node) error {
	return c.AddNamedChild("", n)
}

// AddNamedChild is AddChild giving the child a name in c: the step of
// its path (see Component.Path) that would otherwise be its own name.
// Graphline names each child by its key in Nodes, Carousel its current
// child "child". An empty name keeps the child's own.
func (c *Component) AddNamedChild(name string, n Node) error {
	k := n.Core()
	if k == c {
		return fmt.Errorf("add child %s to itself: %w", c, ErrBadLink)
	}
	linkMu.Lock()
	if k.parent != nil {
		linkMu.Unlock()
		return fmt.Errorf("add child %s to %s: %w: it is already a child of %s", k, c, ErrBadLink, k.parent)
	}
	for a := c.parent; a != nil; a = a.parent {
		if a == k {
			linkMu.Unlock()
			return fmt.Errorf("add child %s to %s: %w: %s is its ancestor", k, c, ErrBadLink, k)
		}
	}
	c.mu.Lock()
	if c.state == phaseDone {
		c.mu.Unlock()
		linkMu.Unlock()
		return fmt.Errorf("add child %s to %s: %w", k, c, ErrEnded)
	}
	k.parent = c
	k.label = name
	c.children = append(c.children, k)
	running := c.state == phaseRunning
	var ctx context.Context
	if running {
		if c.liveKids == 0 {
			c.kidsIdle = make(chan struct{})
		}
		c.liveKids++
		c.pending++
		ctx = &c.ctx
	}
	rs := c.run
	c.mu.Unlock()
	notifyAdded(c, k)
	linkMu.Unlock()
	if running {
		if err := k.start(ctx, rs, false); err != nil {
			c.childEnded()
			return err
		}
	}
	return nil
}

// RemoveChild detaches a child that has ended (or never started) and
// removes every link into or out of its boxes. A running child is refused:
// stop it and wait for Done first.
func (c *Component) RemoveChild(n Node) error {
	k := n.Core()
	linkMu.Lock()
	defer linkMu.Unlock()
	if k.parent != c {
		return fmt.Errorf("remove child %s from %s: %w: not its child", k, c, ErrBadLink)
	}
	k.mu.Lock()
	st := k.state
	k.mu.Unlock()
	if st == phaseRunning {
		return fmt.Errorf("remove child %s from %s: %w: still running", k, c, ErrBoxInUse)
	}
	unlinkAll(k.allBoxes())
	notifyRemoved(k)
	k.parent = nil
	k.label = ""
	c.mu.Lock()
	c.children = slices.DeleteFunc(c.children, func(x *Component) bool { return x == k })
	c.mu.Unlock()
	return nil
}

// stoppedBeforeStart reports whether Stop ended c before it ever ran: a
// child stopped that way simply counts as ended when its parent starts.
func (c *Component) stoppedBeforeStart() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == phaseDone && c.run == nil
}

// Stop ends the component and its children at once, by cancelling their
// context. A component that never started is marked ended.
func (c *Component) Stop() {
	c.mu.Lock()
	switch c.state {
	case phaseBuilt:
		c.state = phaseDone
		c.stateChanged()
		if c.rare != nil && c.rare.done != nil {
			close(c.rare.done)
		}
		c.mu.Unlock()
		c.end()
		return
	case phaseRunning:
		c.mu.Unlock()
		c.ctx.cancel(context.Canceled)
		return
	}
	c.mu.Unlock()
}

// Done returns a channel closed once the component's main loop and all its
// children have ended.
func (c *Component) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rare == nil || c.rare.done == nil {
		if c.state == phaseDone {
			return closedChan
		}
		c.rareLocked().done = make(chan struct{})
	}
	return c.rare.done
}

// Running reports whether the component has started and not yet ended.
func (c *Component) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == phaseRunning
}

// ChildrenDone returns a channel closed when none of the children added so
// far is still running. A main loop of a component with children (a
// Graphline, say) waits on it to learn that they have all finished.
func (c *Component) ChildrenDone() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.liveKids == 0 || c.kidsIdle == nil {
		return closedChan
	}
	return c.kidsIdle
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()
