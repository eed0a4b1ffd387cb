package axon

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
)

// Tending is what a supervisor (chassis.Supervisor) sets on a component
// whose main loop it runs again, in place, after a failure: the
// component, its boxes, its links and what is queued in its inboxes stay,
// and a fresh main loop takes them over. See Component.Tend.
//
// A Tending belongs to the goroutine that runs the component's main loop;
// the supervisor reads and writes it only between main loops.
type Tending struct {
	// Retry holds messages for the handler of Serve (or ServeThen) to
	// handle before anything is taken from "inbox": those an earlier main
	// loop had in hand when it failed or was stopped. Serve takes each
	// from the front as it hands it over, so what is left when Serve
	// returns was never handed to the handler.
	Retry []any
	// Control holds a shutdown message an earlier main loop took from
	// "control" and failed to act on (its handler failed while draining
	// the inbox for a ProducerFinished). Serve acts on it after Retry,
	// before it reads anything else. Serve sets it when that happens.
	Control any

	retrying bool // a message from Retry is in hand
}

// HandlerError is what Serve and ServeThen return on a tended component
// (see Component.Tend) when the handler fails: it carries the message the
// handler had in hand, so that a supervisor can give it to the next main
// loop or report it. errors.Is and errors.As see through it to the
// handler's own error; for a panic that error wraps ErrPanic.
type HandlerError struct {
	Component string // readable name and short id
	Msg       any    // the message the handler was handling
	Err       error  // what the handler returned, or the panic
	Stack     []byte // the goroutine's stack, for a panic
	// Retried is true when Msg was handed over again from Tending.Retry,
	// after an earlier main loop had failed on it.
	Retried bool
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("%s: handling %T: %v", e.Component, e.Msg, e.Err)
}

func (e *HandlerError) Unwrap() error { return e.Err }

// Tend marks c as tended by a supervisor that runs main loops against it
// one after another (nil removes the mark). While it is marked, Serve and
// ServeThen:
//
//   - first hand the handler the messages in t.Retry, in order;
//   - run every call of the handler under a recover, so that a panic
//     leaves the inbox, the batch being read and what the handler's sends
//     hold in order, exactly as a returned error does;
//   - return a *HandlerError carrying the message in hand when the
//     handler fails.
//
// Messages the main loop had taken from a batch but not yet handed over
// stay at the head of the inbox for the next Serve.
func (c *Component) Tend(t *Tending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t == nil && c.rare == nil {
		return
	}
	c.rareLocked().tend = t
}

// tending returns the mark Tend set, or nil.
func (c *Component) tending() *Tending {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rare == nil {
		return nil
	}
	return c.rare.tend
}

// serveTended is Serve (ServeThen) on a tended component, kept out of
// Serve's own frame, which an idle component waits under.
func (c *Component) serveTended(ctx context.Context, t *Tending, f *serveFuncs) error {
	handle, stop, err := c.tended(ctx, t, f.handle, f.atEnd)
	if stop || err != nil {
		return err
	}
	return c.serve(ctx, &serveFuncs{handle: handle, atEnd: f.atEnd, tended: true})
}

// tended prepares Serve on a tended component: it returns handle wrapped
// as Tend says, after handing it the messages to retry and acting on a
// shutdown message left over. stop or an error ends Serve before it
// reads anything.
func (c *Component) tended(ctx context.Context, t *Tending, handle func(ctx context.Context, msg any) error, atEnd func(ctx context.Context) error) (guarded func(ctx context.Context, msg any) error, stop bool, err error) {
	guarded = func(ctx context.Context, msg any) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = &HandlerError{Component: c.String(), Msg: msg, Err: fmt.Errorf("%w: %v", ErrPanic, r), Stack: debug.Stack(), Retried: t.retrying}
			}
		}()
		if err := handle(ctx, msg); err != nil {
			return &HandlerError{Component: c.String(), Msg: msg, Err: err, Retried: t.retrying}
		}
		return nil
	}
	for len(t.Retry) > 0 {
		if err := ctx.Err(); err != nil {
			return guarded, true, err
		}
		m := t.Retry[0]
		t.Retry = t.Retry[1:]
		t.retrying = true
		err := guarded(ctx, m)
		t.retrying = false
		if err != nil {
			return guarded, true, err
		}
	}
	if m := t.Control; m != nil {
		t.Control = nil
		stop, err = c.control(ctx, m, &serveFuncs{handle: guarded, atEnd: atEnd})
	}
	return guarded, stop, err
}

// untaken keeps msg, a shutdown message from control that c failed to
// act on, for the next main loop, if c is tended.
func (c *Component) untaken(msg any) {
	if t := c.tending(); t != nil {
		t.Control = msg
	}
}

// Main returns the main loop c was made with, or nil for a container. A
// supervisor runs a fresh instance's main loop against boxes that outlive
// it (see Tend); a main loop used that way must work on the component it
// is given, not on one it captured.
func (c *Component) Main() MainFunc { return c.main }

// PassedOn reports whether c has passed a shutdown notice on "signal" (or
// dropped it because "signal" led nowhere): it has finished, and a
// supervisor must not start its main loop again.
func (c *Component) PassedOn() bool { return c.passedOn.Load() }

// CarriesType is Carries for a type known only at run time: declaring a
// box like another component's (Inbox.Type, Outbox.Type). A nil t
// declares no type.
func CarriesType(t reflect.Type) BoxOption {
	return func(s *boxSpec) { s.typ = t }
}
