package axon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// Shutdown is implemented by the two shutdown messages (as values and as
// pointers), so one type switch or assertion catches both.
type Shutdown interface {
	// Origin names the component that first sent the message.
	Origin() Ref
	isShutdown()
}

// ProducerFinished says the sender has produced everything it will: the
// receiver should finish what is queued in its inbox, pass the message on
// its signal outbox and end. It travels from a component's "signal" to the
// next one's "control".
//
// Reason says why the producer finished when that was not simply the end
// of its data: a network connection that was reset, a file that could not
// be read. It is nil for a normal end. Components pass the message on as
// they received it, so the reason reaches the end of a pipeline.
type ProducerFinished struct {
	From   Ref   // the component that finished first
	Reason error // why, when it was not a normal end; nil otherwise
}

// ShutdownMicroprocess tells the receiver to stop at once, passing the
// message on, without working through what is queued. Delivering it to a
// running component's "control" cancels that component's context, so even
// a main loop blocked in a Send stops; if the main loop returns without
// passing the message on, the runner passes it on "signal" for it.
type ShutdownMicroprocess struct {
	From Ref // the component (or Handle) that asked for the shutdown
}

// Origin returns the component that sent the message.
func (m ProducerFinished) Origin() Ref { return m.From }

// Origin returns the component that sent the message.
func (m ShutdownMicroprocess) Origin() Ref { return m.From }

func (ProducerFinished) isShutdown()     {}
func (ShutdownMicroprocess) isShutdown() {}

// IsProducerFinished reports whether msg is a ProducerFinished, as a value
// or a pointer.
func IsProducerFinished(msg any) bool {
	switch msg.(type) {
	case ProducerFinished, *ProducerFinished:
		return true
	}
	return false
}

// IsShutdownMicroprocess reports whether msg is a ShutdownMicroprocess, as
// a value or a pointer.
func IsShutdownMicroprocess(msg any) bool {
	switch msg.(type) {
	case ShutdownMicroprocess, *ShutdownMicroprocess:
		return true
	}
	return false
}

// Serve is the main loop most components want. It calls handle with each
// message arriving on "inbox", in order, and returns:
//
//   - on ProducerFinished arriving on "control": after handing every
//     message already queued in "inbox" to handle, then passing the
//     ProducerFinished on "signal";
//   - on ShutdownMicroprocess on "control": at once, after passing it on,
//     leaving what is queued in "inbox" unhandled (control is looked at
//     before each message, so a busy inbox does not delay it);
//   - with handle's error, if it returns one;
//   - with ctx's error when ctx ends.
//
// Other messages on "control" are logged and ignored.
//
// Unless the graph runs Unbatched, the context Serve passes to handle lets
// the component's sends cross many at a time (see Batch): what handle
// sends while more input is queued may be held until that input is
// handled, and is put in before Serve waits for more, before any
// shutdown message goes out, and before Serve returns. A handler that
// must wait for a reply to what it sent calls Flush first.
func (c *Component) Serve(ctx context.Context, handle func(ctx context.Context, msg any) error) error {
	return c.ServeThen(ctx, handle, nil)
}

// ServeThen is Serve for a component with something to do once its
// backlog is handled and before ProducerFinished is passed on: atEnd runs
// between the two (a decoder reporting a truncated last frame, a chunker
// sending its short last piece). An error from atEnd ends the component,
// and nothing is passed on.
func (c *Component) ServeThen(ctx context.Context, handle func(ctx context.Context, msg any) error, atEnd func(ctx context.Context) error) error {
	return c.serve(ctx, &serveFuncs{handle: handle, atEnd: atEnd})
}

// serveRaw is Serve's loop for an inbox read one message per element:
// in an Unbatched graph, or when the box was already read raw.
func (c *Component) serveRaw(ctx context.Context, handle func(ctx context.Context, msg any) error, atEnd func(ctx context.Context) error) error {
	in, ctl, done := c.In(InboxName), c.In(ControlName), ctx.Done()
	for {
		msg, fromCtl, err := next(in, ctl, done)
		switch {
		case err != nil:
			return ctx.Err()
		case fromCtl:
			if stop, err := c.control(ctx, msg, &serveFuncs{handle: handle, atEnd: atEnd}); stop || err != nil {
				return err
			}
		default:
			if err := handle(ctx, msg); err != nil {
				return err
			}
		}
	}
}

// serve is Serve's loop. It hands a tended component to serveTended,
// which comes back with the handler wrapped, and a box read raw (or an
// Unbatched graph) to serveRaw; the rest of it is the loop for an inbox
// it reads in batches, handing the handler a scope so that what it sends
// crosses in batches too. While idle it waits on its inbox alone, in a
// small frame: a message on control or the end of ctx wakes it with a
// nudge (see Component.nudge), so an idle component holds one waiting
// receive, not a select over three channels. The scope is made when the
// first work arrives. (The dispatch is written here rather than in a
// frame of its own above the loops: every frame under an idle
// component's wait counts against the idle target.)
func (c *Component) serve(ctx context.Context, f *serveFuncs) error {
	if !f.tended {
		if t := c.tending(); t != nil {
			return c.serveTended(ctx, t, f)
		}
	}
	if !c.batching() || c.defIn.ch == nil || !c.defIn.claimBatched() {
		return c.serveRaw(ctx, f.handle, f.atEnd)
	}
	in := &c.defIn
	ctl := c.In(ControlName)
	if ctx != context.Context(&c.ctx) {
		// A context of the caller's own: have its end nudge us too.
		stop := context.AfterFunc(ctx, c.nudge)
		defer stop()
	}
	var s *scope
	for {
		if err := ctx.Err(); err != nil {
			return c.endServe(s, err)
		}
		if p := in.spill; p != nil {
			// The rest of a batch an earlier reader of the box stopped
			// in (a main loop restarted in place): older than anything
			// in the channel, so it comes first.
			in.spill = nil
			if s == nil {
				s = newScope(ctx, c, in)
			}
			if stop, err := c.work(s, p, false, f); stop || err != nil {
				return c.endServe(s, err)
			}
			continue
		}
		// Mark the wait first: a control message or the end of ctx from
		// here on sends a nudge, so looking at control and at the
		// context once more is enough. (The look at the top of the loop
		// came before the mark: a stop between the two sent no nudge.)
		in.st.Or(stParked)
		if err := cmp.Or(ctx.Err(), c.ctx.Err()); err != nil {
			in.st.And(^uint64(stParked))
			return c.endServe(s, err)
		}
		var e any
		var fromCtl bool
		if len(ctl) > 0 {
			e, fromCtl = TryReceive(ctl)
		}
		if !fromCtl && s != nil {
			// Put in what is held only now, just before waiting, so that
			// the component it wakes runs in this one's place.
			if err := s.flush(); err != nil {
				in.st.And(^uint64(stParked))
				return c.endServe(s, err)
			}
		}
		if !fromCtl {
			e = <-in.ch
		}
		in.st.And(^uint64(stParked))
		if !fromCtl {
			if _, ok := e.(nudge); ok {
				continue
			}
			if ctx.Err() != nil || c.halted.Load() {
				// Stopped, or a ShutdownMicroprocess came with it: what
				// was taken stays in the box, unhandled.
				in.putBack(e)
				return c.endServe(s, ctx.Err())
			}
		}
		if s == nil {
			s = newScope(ctx, c, in)
		}
		if stop, err := c.work(s, e, fromCtl, f); stop || err != nil {
			return c.endServe(s, err)
		}
	}
}

// endServe closes Serve's scope, if it made one, putting in what it
// holds, and leaves the inbox for the next reader.
func (c *Component) endServe(s *scope, err error) error {
	if s != nil {
		if ferr := s.close(); err == nil {
			err = ferr
		}
	}
	c.defIn.unclaim()
	return err
}

// work handles e (from "control" if fromCtl, else an element of "inbox")
// and then whatever else is queued, until nothing is: then it returns,
// for Serve to put in what the scope holds and wait. stop is true when a
// shutdown message ends the component.
func (c *Component) work(s *scope, e any, fromCtl bool, f *serveFuncs) (stop bool, err error) {
	in := &c.defIn
	ctl := c.In(ControlName)
	for {
		if fromCtl {
			if stop, err := c.control(s, e, f); stop || err != nil {
				return true, err
			}
		} else if typed, err := serveTypedElem(f.typed, s, in, e); typed || err != nil {
			if err != nil {
				return true, err
			}
		} else if m, ok := in.accept(e); ok {
			if err := f.handle(s, m); err != nil {
				return true, err
			}
			// The rest of a batch. Control and ctx are looked at once
			// per element; within a batch, a ShutdownMicroprocess
			// (which interrupts the component) is looked for before
			// each message.
			if p := in.spill; p != nil {
				if err := serveSpill(c, s, in, p, f.handle, nil); err != nil {
					return true, err
				}
			}
		}
		if err := s.Err(); err != nil {
			return true, err
		}
		// An empty box is passed over on its length, without the lock a
		// receive takes; what arrives after the look is found by Serve's
		// wait.
		var ok bool
		if len(ctl) > 0 {
			if e, ok = TryReceive(ctl); ok {
				fromCtl = true
				continue
			}
		}
		fromCtl = false
		if len(in.ch) == 0 {
			return false, nil
		}
		if e, ok = TryReceive(in.ch); ok {
			if c.halted.Load() {
				in.putBack(e)
				return true, s.Err()
			}
			continue
		}
		return false, nil // nothing more queued
	}
}

// serveFuncs are what Serve's batched loop calls: handle and atEnd as
// ServeThen has them, and for ServeAs the handler's typed side. One
// pointer to them keeps the frame an idle component waits in small.
type serveFuncs struct {
	handle func(ctx context.Context, msg any) error
	atEnd  func(ctx context.Context) error
	typed  typedServer
	tended bool // handle is wrapped as Tend says already
}

// serveTypedElem hands th element e if it is a typed batch of th's type
// (typed): ServeAs, without opening it into anys.
func serveTypedElem(th typedServer, s *scope, in *Inbox, e any) (typed bool, err error) {
	if th == nil {
		return false, nil
	}
	return th.serve(s, in, e)
}

// serveSpill hands handle the rest of batch p, which in is reading. The
// position is kept in locals, and written back to in only if the loop
// stops early, so that the next reader (Drain, a restarted Serve) goes on
// from there: the reader's own bookkeeping stays off the cache line that
// senders write.
//
// For ServeAs, T is the handler's type and a message that is not a T is
// handed to as instead (which reports it); for Serve, T is any and as nil.
func serveSpill[T any](c *Component, s *scope, in *Inbox, p *batch, handle func(ctx context.Context, msg T) error, as func(ctx context.Context, c *Component, msg any) (T, bool)) error {
	msgs := p.msgs
	for i := p.at; i < len(msgs); i++ {
		if c.halted.Load() {
			p.at = i
			return s.Context.Err()
		}
		m := msgs[i]
		msgs[i] = nil
		if i == len(msgs)-1 {
			p.at = i + 1
			in.spillDone(p)
		}
		v, ok := m.(T)
		if !ok && as != nil {
			if v, ok = as(s, c, m); !ok {
				continue
			}
		}
		if err := handle(s, v); err != nil {
			if i < len(msgs)-1 {
				p.at = i + 1
			}
			return err
		}
	}
	return nil
}

// Flush puts into their destinations the messages that sends made with
// ctx are holding (see Batch), for a handler about to wait for an answer
// to them. With any other context it does nothing.
func Flush(ctx context.Context) error {
	if s, ok := ctx.Value(scopeKey{}).(*scope); ok {
		return s.flush()
	}
	return nil
}

// next waits for a message on in or ctl, or for done. Being stopped comes
// first, then control, so a busy inbox delays neither; waiting data is
// taken without the cost of a full select. Each empty channel is looked at
// without taking its lock.
func next(in, ctl <-chan any, done <-chan struct{}) (msg any, fromCtl bool, err error) {
	select {
	case <-done:
		return nil, false, context.Canceled
	default:
	}
	// An empty box is passed over with a plain load of its length, which
	// costs less than a receive that finds nothing; the receive itself
	// still never waits, in case something else took the message.
	if len(ctl) > 0 {
		select {
		case msg = <-ctl:
			return msg, true, nil
		default:
		}
	}
	if len(in) > 0 {
		select {
		case msg = <-in:
			return msg, false, nil
		default:
		}
	}
	select {
	case msg = <-in:
		return msg, false, nil
	case msg = <-ctl:
		return msg, true, nil
	case <-done:
		return nil, false, context.Canceled
	}
}

// Control acts on a message received from "control", for main loops that
// select over boxes of their own. For ProducerFinished it first hands every
// message already queued in "inbox" to drain (which may be nil to discard
// them deliberately), then passes the message on "signal" and returns
// stop=true. For ShutdownMicroprocess it passes the message on and returns
// stop=true. Anything else is logged and stop is false.
func (c *Component) Control(ctx context.Context, msg any, drain func(ctx context.Context, msg any) error) (stop bool, err error) {
	return c.control(ctx, msg, &serveFuncs{handle: drain})
}

// control is Control for Serve: f.handle drains, f.atEnd runs after the
// drain and before the pass on (ServeThen), and typed batches go to
// f.typed (ServeAs) as they do while serving.
func (c *Component) control(ctx context.Context, msg any, f *serveFuncs) (stop bool, err error) {
	switch {
	case IsProducerFinished(msg):
		if f.handle != nil {
			if err := c.drain(ctx, f.handle, f.typed); err != nil {
				c.untaken(msg)
				return true, err
			}
		}
		if f.atEnd != nil {
			if err := f.atEnd(ctx); err != nil {
				c.untaken(msg)
				return true, err
			}
		}
		return true, c.PassOn(ctx, msg)
	case IsShutdownMicroprocess(msg):
		return true, c.PassOn(ctx, msg)
	}
	c.Logger().Warn("ignored message on control", "component", c.String(), "box", ControlName, "type", fmt.Sprintf("%T", msg))
	return false, nil
}

// Drain hands every message already queued in "inbox" to handle, in
// order, without waiting for more: what a component does with its backlog
// when ProducerFinished arrives, before it passes the message on. It
// stops with ctx's error if ctx ends meanwhile (a ShutdownMicroprocess
// arriving mid-drain cancels it, so the component stops at once and the
// runner passes that on), or with handle's error.
func (c *Component) Drain(ctx context.Context, handle func(ctx context.Context, msg any) error) error {
	return c.drain(ctx, handle, nil)
}

// drain is Drain handing the typed batches of th's type (and batches it
// walks itself) to th, when ctx is Serve's scope: ServeAs's backlog is not
// opened into anys.
func (c *Component) drain(ctx context.Context, handle func(ctx context.Context, msg any) error, th typedServer) error {
	in, done := &c.defIn, ctx.Done()
	s, _ := ctx.(*scope)
	if s == nil || s.in != in {
		th = nil
	}
	batched := in.st.Load()&stMode == stBatched
	var raw <-chan any
	if !batched {
		raw = c.In(InboxName)
	}
	for {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		var m any
		var ok bool
		switch {
		case batched && th != nil && in.spill == nil:
			var e any
			if e, ok = TryReceive(in.ch); !ok {
				return nil
			}
			if typed, err := th.serve(s, in, e); typed || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			if m, ok = in.accept(e); !ok {
				continue // a nudge
			}
		case batched:
			m, ok = in.take()
		default:
			m, ok = TryReceive(raw)
		}
		if !ok {
			return nil
		}
		if err := handle(ctx, m); err != nil {
			return err
		}
	}
}

// PassOn sends a shutdown message on "signal". Shutdown messages are
// notices rather than data: if "signal" leads nowhere, or the component it
// leads to has already ended, the notice is dropped and PassOn returns nil.
// Otherwise it waits like Send.
func (c *Component) PassOn(ctx context.Context, msg any) error {
	sig := c.Out(SignalName)
	if !sig.Linked() {
		c.passedOn.Store(true)
		return nil
	}
	if err := sig.Send(ctx, msg); err != nil && !errors.Is(err, ErrReceiverDone) {
		return err
	}
	c.passedOn.Store(true)
	return nil
}

// Finish sends a ProducerFinished from c on "signal", as PassOn does: the
// end of a producer's main loop.
func (c *Component) Finish(ctx context.Context) error {
	return c.PassOn(ctx, ProducerFinished{From: c.Ref()})
}

// TryReceive takes a message from ch if one is waiting, without waiting:
// for main loops that look at a box before they select on it.
func TryReceive(ch <-chan any) (any, bool) {
	select {
	case m := <-ch:
		return m, true
	default:
		return nil, false
	}
}
