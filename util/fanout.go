package util

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Fanout declares the named outboxes and sends each message arriving on
// "inbox" to every one of them, in the order named. Each send waits for
// room, so the slowest destination sets the pace.
//
// Boxes:
//
//	inbox   (in)  messages to copy
//	control (in)  ProducerFinished: queued messages are copied, then it is
//	              passed on and the Fanout ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) used only if named (it may be one of the outboxes)
//	<name>  (out) every message, for each name given
//	signal  (out) the shutdown message that ended the Fanout
//
// Naming no outbox, naming one twice, or naming "signal", "inbox" or
// "control" gives a Fanout that fails when run, with an error wrapping
// axon.ErrNoSuchBox (no names) or axon.ErrBoxExists.
func Fanout(outboxes ...string) *axon.Component {
	const name = "Fanout"
	if len(outboxes) == 0 {
		return axon.Invalid(name, fmt.Errorf("%s: %w: no outboxes named", name, axon.ErrNoSuchBox))
	}
	names := slices.Clone(outboxes)
	var opts []axon.Option
	for i, n := range names {
		switch {
		case n == axon.SignalName:
			// axon would let this redeclare "signal"; an inbox's name
			// ("inbox", "control") it refuses itself when Fanout runs.
			return axon.Invalid(name, fmt.Errorf("%s: outbox %q: %w: reserved for shutdown messages", name, n, axon.ErrBoxExists))
		case slices.Contains(names[:i], n):
			return axon.Invalid(name, fmt.Errorf("%s: outbox %q: %w: named twice", name, n, axon.ErrBoxExists))
		}
		opts = append(opts, axon.WithOutbox(n, "a copy of every message"))
	}
	opts = append(opts, axon.WithInbox(axon.InboxName, "messages to copy"))
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		outs := make([]*axon.Outbox, len(names))
		for i, n := range names {
			outs[i] = c.Out(n)
		}
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			for _, o := range outs {
				if err := o.Send(ctx, msg); err != nil {
					return err
				}
			}
			return nil
		})
	}, opts...)
}

// SplitterComponent is the component Splitter makes: an *axon.Component
// with methods to add and remove the sinks it copies messages to.
type SplitterComponent struct {
	*axon.Component

	// lock is a mutex that can be waited on with a context: it holds one
	// token while a message is being delivered or the sinks are changed.
	lock  chan struct{}
	sinks []*sink // guarded by lock
	next  int     // number for the next sink's outbox; guarded by lock
}

type sink struct {
	to    *axon.Component
	inbox string
	box   *axon.Outbox
}

// Splitter copies each message arriving on "inbox" to every sink: an
// inbox of some other component, added with AddSink and removed with
// RemoveSink, while the Splitter runs or before it starts (Kamaelia's
// Splitter, with its addsink and removesink requests). Copies go to the
// sinks one after another in the order they were added, each send waiting
// for room, so the slowest sink sets the pace and nothing is dropped.
//
// A message goes to the sinks present when the Splitter begins to deliver
// it (just after taking it from "inbox"). AddSink and RemoveSink wait
// until the delivery under way, if any, has finished, so a sink gets each
// message whole or not at all. A message taken while there are no sinks
// goes nowhere. A sink whose component has ended is dropped, with a log
// line, the first time the Splitter tries to deliver to it (or as soon as
// it ends, if the Splitter is waiting for room in it): that message, and
// every later one, goes to the other sinks only. The Splitter itself
// carries on.
//
// Boxes:
//
//	inbox    (in)  messages to copy
//	control  (in)  ProducerFinished: queued messages are copied, then it is
//	               passed on and the Splitter ends; ShutdownMicroprocess:
//	               passed on at once, and it ends, even in mid-delivery
//	outbox   (out) not used
//	sink:<n> (out) one per sink, added by AddSink, linked to the sink
//	signal   (out) the shutdown message that ended the Splitter
//
// The sinks are not sent the shutdown message; link "signal" (or the
// sinks' control) as the graph needs.
func Splitter() *SplitterComponent {
	s := &SplitterComponent{lock: make(chan struct{}, 1)}
	s.Component = axon.New("Splitter", s.main,
		axon.WithInbox(axon.InboxName, "messages to copy to every sink"),
		axon.WithOutbox(axon.OutboxName, "not used: messages go to the sinks"),
	)
	return s
}

func (s *SplitterComponent) acquire(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *SplitterComponent) release() { <-s.lock }

func (s *SplitterComponent) main(ctx context.Context, c *axon.Component) error {
	return c.Serve(ctx, func(ctx context.Context, msg any) error {
		if err := s.acquire(ctx); err != nil {
			return err
		}
		defer s.release()
		for i := 0; i < len(s.sinks); {
			sk := s.sinks[i]
			err := sk.box.Send(ctx, msg)
			switch {
			case err == nil:
				i++
			case errors.Is(err, axon.ErrReceiverDone) && ctx.Err() == nil:
				c.Logger().Warn("splitter dropped a sink that has ended", "component", c.String(), "sink", sk.to.String()+"."+sk.inbox)
				if err := s.dropLocked(sk); err != nil {
					return err
				}
			default:
				return err
			}
		}
		return nil
	})
}

// AddSink makes n's inbox a sink of the Splitter. It may be called from
// any goroutine, before the Splitter starts or while it runs; it waits
// (until ctx ends) for a delivery under way to finish. Adding the same
// inbox twice is an error wrapping axon.ErrAlreadyLinked; an inbox that
// cannot be linked gives the linker's error.
func (s *SplitterComponent) AddSink(ctx context.Context, n axon.Node, inbox string) error {
	if n == nil {
		return fmt.Errorf("%s: add sink: %w: nil component", s, axon.ErrBadLink)
	}
	to := n.Core()
	if err := s.acquire(ctx); err != nil {
		return fmt.Errorf("%s: add sink %s.%s: %w", s, to, inbox, err)
	}
	defer s.release()
	if s.findLocked(to, inbox) != nil {
		return fmt.Errorf("%s: add sink %s.%s: %w", s, to, inbox, axon.ErrAlreadyLinked)
	}
	name := fmt.Sprintf("sink:%d", s.next)
	box, err := s.AddOutbox(name, "copies for "+to.String()+"."+inbox)
	if err != nil {
		return fmt.Errorf("%s: add sink %s.%s: %w", s, to, inbox, err)
	}
	if err := axon.Link(s, name, to, inbox); err != nil {
		_ = s.RemoveOutbox(name)
		return fmt.Errorf("%s: add sink %s.%s: %w", s, to, inbox, err)
	}
	s.next++
	s.sinks = append(s.sinks, &sink{to: to, inbox: inbox, box: box})
	return nil
}

// RemoveSink stops the Splitter copying to n's inbox. It may be called
// from any goroutine, before the Splitter starts or while it runs; it waits
// (until ctx ends) for a delivery under way to finish, so the sink gets
// that message before it goes. Removing an inbox that is not a sink is an
// error wrapping axon.ErrNotLinked.
func (s *SplitterComponent) RemoveSink(ctx context.Context, n axon.Node, inbox string) error {
	if n == nil {
		return fmt.Errorf("%s: remove sink: %w: nil component", s, axon.ErrNotLinked)
	}
	to := n.Core()
	if err := s.acquire(ctx); err != nil {
		return fmt.Errorf("%s: remove sink %s.%s: %w", s, to, inbox, err)
	}
	defer s.release()
	sk := s.findLocked(to, inbox)
	if sk == nil {
		return fmt.Errorf("%s: remove sink %s.%s: %w", s, to, inbox, axon.ErrNotLinked)
	}
	if err := s.dropLocked(sk); err != nil {
		return fmt.Errorf("%s: remove sink %s.%s: %w", s, to, inbox, err)
	}
	return nil
}

// Sinks returns how many sinks the Splitter has, waiting (until ctx ends)
// for a delivery under way to finish.
func (s *SplitterComponent) Sinks(ctx context.Context) (int, error) {
	if err := s.acquire(ctx); err != nil {
		return 0, fmt.Errorf("%s: sinks: %w", s, err)
	}
	defer s.release()
	return len(s.sinks), nil
}

func (s *SplitterComponent) findLocked(to *axon.Component, inbox string) *sink {
	for _, sk := range s.sinks {
		if sk.to == to && sk.inbox == inbox {
			return sk
		}
	}
	return nil
}

// dropLocked removes a sink and its outbox (which unlinks it).
func (s *SplitterComponent) dropLocked(sk *sink) error {
	s.sinks = slices.DeleteFunc(s.sinks, func(x *sink) bool { return x == sk })
	return s.RemoveOutbox(sk.box.Name())
}
