package chassis

import (
	"context"
	"errors"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Box names used by Carousel and Seq.
const (
	NextName        = "next"
	RequestNextName = "requestNext"
	childCtlName    = "childControl"
	childInName     = "childInbox"
)

// Carousel runs one child at a time, made by factory from each message
// that arrives on "next". A child still running when the next message
// comes is shut down (ShutdownMicroprocess) and has ended before its
// replacement starts. What arrives on "inbox" is forwarded to the current
// child; what the child sends on its "outbox" leaves through the
// Carousel's.
//
// The Carousel loses nothing it is given: what arrives on "inbox" between
// children waits for the next child, and whatever a child leaves unread in
// its inbox when it ends (by itself or because it was replaced) goes to
// the next child, ahead of anything newer. Unlike the other chassis, the
// Carousel forwards its inbox itself rather than passing it through, so
// that senders always deliver to the Carousel, never to a child that is
// being swapped out.
//
// Boxes:
//
//	inbox       (in)  forwarded, in order, to the current child's "inbox"
//	next        (in)  a message for factory; each starts a new child
//	control     (in)  ProducerFinished: first every message already
//	                  queued on "next" starts its child, in turn, as above;
//	                  then the current child is handed everything queued
//	                  for it and asked to finish, and the Carousel ends
//	                  when it has. ShutdownMicroprocess: at once, even with
//	                  messages queued on "next" (none of them starts a
//	                  child), the child is stopped and the Carousel ends.
//	                  Messages still waiting for a child when the Carousel
//	                  ends are dropped.
//	outbox      (out) what the current child sends on its "outbox"
//	requestNext (out) the Carousel's own Ref, each time a child ends by
//	                  itself (sent only if linked)
//	signal      (out) the shutdown message, when the Carousel ends
//
// A factory that returns nil starts no child; the Carousel reports an
// error naming the message.
func Carousel(factory func(msg any) axon.Node) *axon.Component {
	return axon.New("Carousel", func(ctx context.Context, c *axon.Component) error {
		next, ctl := c.In(NextName), c.In(axon.ControlName)
		s := &slot{c: c}
		defer s.stopForward()
		// replace retires the current child, if any, and starts the one
		// factory makes from msg, unless the Carousel was stopped
		// meanwhile.
		replace := func(msg any) error {
			if err := s.retire(ctx, axon.ShutdownMicroprocess{From: c.Ref()}); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			n := factory(msg)
			if !isNode(n) {
				return fmt.Errorf("carousel factory returned no component for %T on %q", msg, NextName)
			}
			return s.adopt(ctx, n)
		}
		// end ends the Carousel on msg, a shutdown message from control.
		// A ProducerFinished waits until nothing is queued on next: each
		// message there starts its child first, so none is dropped. A
		// ShutdownMicroprocess waits for nothing, and one that comes
		// meanwhile ends the Carousel in the ProducerFinished's stead.
		end := func(msg any) error {
			for axon.IsProducerFinished(msg) {
				if m := shutdownWaiting(ctl); axon.IsShutdownMicroprocess(m) {
					msg = m
					break
				}
				m, ok := axon.TryReceive(next)
				if !ok {
					break
				}
				if err := replace(m); err != nil {
					return err
				}
			}
			if err := s.retire(ctx, msg); err != nil {
				return err
			}
			return c.PassOn(ctx, msg)
		}
		for {
			select {
			case msg := <-next:
				// Control may have a message waiting too (Go's select
				// picks either): a ShutdownMicroprocess there wins over
				// msg, a ProducerFinished waits behind it.
				stop := shutdownWaiting(ctl)
				if axon.IsShutdownMicroprocess(stop) {
					return end(stop)
				}
				if err := replace(msg); err != nil {
					return err
				}
				if stop != nil {
					return end(stop)
				}
			case <-s.done():
				if err := s.release(); err != nil {
					return err
				}
				if rn := c.Out(RequestNextName); rn.Linked() {
					if err := rn.Send(ctx, c.Ref()); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
						return err
					}
				}
			case msg := <-ctl:
				if _, ok := msg.(axon.Shutdown); ok {
					return end(msg)
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	},
		axon.WithInbox(axon.InboxName, "forwarded to the current child's inbox"),
		axon.WithInbox(NextName, "messages for the factory; each starts a new child"),
		axon.WithOutbox(axon.OutboxName, "what the current child sends"),
		axon.WithOutbox(RequestNextName, "the Carousel's Ref, when a child ends by itself"),
		axon.WithOutbox(childCtlName, "shutdown messages for the current child"),
		axon.WithOutbox(childInName, "what arrives on inbox, for the current child"),
	)
}

func isNode(n axon.Node) bool { return n != nil && n.Core() != nil }

// shutdownWaiting takes a message waiting on ctl, if there is one, and
// returns it if it is a shutdown message; anything else found there is
// ignored, as the Carousel's loop ignores it, and nil is returned.
func shutdownWaiting(ctl <-chan any) any {
	m, ok := axon.TryReceive(ctl)
	if _, shutdown := m.(axon.Shutdown); !ok || !shutdown {
		return nil
	}
	return m
}

// slot holds the one running child of a Carousel or Seq and forwards the
// owner's inbox to it.
//
// A forwarder goroutine runs while there is a child: it sends the backlog
// (messages older than anything in the owner's inbox: left unread by an
// earlier child, or taken by an earlier forwarder and not delivered), then
// everything that arrives on the owner's inbox, through the owner's
// childInbox outbox. The forwarder is the only sender on childInbox and is
// always stopped before the child is detached, so whatever it did not
// deliver, and whatever the child did not read, is known and kept, in
// order, for the next child.
type slot struct {
	c       *axon.Component
	cur     *axon.Component
	backlog []any

	stop  context.CancelFunc // stops the forwarder; nil when none runs
	flush chan struct{}      // closed to make the forwarder finish what is queued and stop
	rest  chan []any         // the forwarder's undelivered messages, when it stops
}

// done returns the current child's Done channel, or nil with no child.
func (s *slot) done() <-chan struct{} {
	if s.cur == nil {
		return nil
	}
	return s.cur.Done()
}

// adopt starts n as the child: the owner's outbox passes through from it,
// childControl feeds its control and childInbox its inbox, and the
// forwarder starts.
func (s *slot) adopt(ctx context.Context, n axon.Node) error {
	c := s.c
	// Every child in turn is "child" in the Carousel's path, so that its
	// metrics go on under one name from one child to the next.
	if err := c.AddNamedChild("child", n); err != nil {
		return err
	}
	s.cur = n.Core()
	if err := axon.Link(n, axon.OutboxName, c, axon.OutboxName); err != nil {
		return err
	}
	if err := axon.Link(c, childCtlName, n, axon.ControlName); err != nil {
		return err
	}
	if err := axon.Link(c, childInName, n, axon.InboxName); err != nil {
		return err
	}
	fctx, cancel := context.WithCancel(ctx)
	s.stop, s.flush, s.rest = cancel, make(chan struct{}), make(chan []any, 1)
	go func(backlog []any, flush <-chan struct{}, rest chan<- []any) {
		rest <- forward(fctx, c.In(axon.InboxName), c.Out(childInName), backlog, flush)
	}(s.backlog, s.flush, s.rest)
	s.backlog = nil
	return nil
}

// forward sends backlog and then whatever arrives on in through out, until
// ctx ends, a send fails (the child ended), or flush is closed and in has
// nothing more queued. It returns what it did not deliver, oldest first.
func forward(ctx context.Context, in <-chan any, out *axon.Outbox, backlog []any, flush <-chan struct{}) []any {
	for i, m := range backlog {
		if out.Send(ctx, m) != nil {
			return backlog[i:]
		}
	}
	for {
		select {
		case m := <-in:
			if out.Send(ctx, m) != nil {
				return []any{m}
			}
		case <-flush:
			for {
				select {
				case m := <-in:
					if out.Send(ctx, m) != nil {
						return []any{m}
					}
				default:
					return nil
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// stopForward stops the forwarder, if one runs, and keeps what it did not
// deliver.
func (s *slot) stopForward() {
	if s.stop == nil {
		return
	}
	s.stop()
	s.collect()
}

// flushForward lets the forwarder deliver everything queued for the child
// now, then stops it. It returns when the child has it all, has ended, or
// ctx has ended.
func (s *slot) flushForward() {
	if s.stop == nil {
		return
	}
	close(s.flush)
	s.collect()
}

func (s *slot) collect() {
	s.backlog = append(s.backlog, <-s.rest...)
	s.stop()
	s.stop, s.flush, s.rest = nil, nil, nil
}

// release detaches the child once it has ended, keeping what it left
// unread in its inbox for the next child, ahead of what the forwarder
// still held.
func (s *slot) release() error {
	s.stopForward()
	k := s.cur
	q := k.Inbox(axon.InboxName).Final() // where the child's input queued, before its links go
	if err := s.c.RemoveChild(k); err != nil {
		return err
	}
	s.cur = nil
	if q == nil {
		return nil
	}
	if left := q.TakeAll(); len(left) > 0 {
		s.backlog = append(left, s.backlog...)
	}
	return nil
}

// retire hands the current child (if any) the shutdown message msg, waits
// for it to end and releases it, so that nothing of it outlives the swap.
// A ProducerFinished asks the child to finish its work, so the child is
// first handed everything queued for it.
func (s *slot) retire(ctx context.Context, msg any) error {
	if s.cur == nil {
		return nil
	}
	if axon.IsProducerFinished(msg) {
		s.flushForward()
	} else {
		s.stopForward()
	}
	if err := s.c.Send(ctx, childCtlName, msg); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
		return err
	}
	select {
	case <-s.cur.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.release()
}

// Seq runs its children one after another, each starting when the one
// before it has ended (Kamaelia's Seq). What arrives on the Seq's "inbox"
// is forwarded to the current child, and what a child leaves unread goes to
// the next, as in a Carousel; the current child's "outbox" leaves through
// the Seq's.
//
// Boxes:
//
//	inbox   (in)  forwarded, in order, to the current child's "inbox"
//	control (in)  ShutdownMicroprocess stops the current child and ends the
//	              Seq; ProducerFinished is handed to the current child
//	              (after everything queued for it) and to every later one
//	              as it starts
//	outbox  (out) what the current child sends
//	signal  (out) ProducerFinished when the last child has ended, or the
//	              ShutdownMicroprocess that stopped the Seq
func Seq(children ...axon.Node) *axon.Component {
	return axon.New("Seq", func(ctx context.Context, c *axon.Component) error {
		ctl := c.In(axon.ControlName)
		s := &slot{c: c}
		defer s.stopForward()
		var finished any // a ProducerFinished received, handed to each child
		finish := func() error {
			s.flushForward()
			if err := c.Send(ctx, childCtlName, finished); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
				return err
			}
			return nil
		}
		// Children start late; catch what would stop one from starting
		// before any runs.
		for i, n := range children {
			if !isNode(n) {
				return fmt.Errorf("seq: child %d: %w: nil component", i, axon.ErrBadLink)
			}
			if p := n.Core().Parent(); p != nil {
				return fmt.Errorf("seq: child %d %s: %w: it is already a child of %s", i, n.Core(), axon.ErrBadLink, p)
			}
		}
		for _, n := range children {
			if err := s.adopt(ctx, n); err != nil {
				return err
			}
			if finished != nil {
				if err := finish(); err != nil {
					return err
				}
			}
			for s.cur != nil {
				select {
				case <-s.done():
					if err := s.release(); err != nil {
						return err
					}
				case msg := <-ctl:
					switch {
					case axon.IsShutdownMicroprocess(msg):
						if err := s.retire(ctx, msg); err != nil {
							return err
						}
						return c.PassOn(ctx, msg)
					case axon.IsProducerFinished(msg):
						finished = msg
						if err := finish(); err != nil {
							return err
						}
					}
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return c.Finish(ctx)
	},
		axon.WithInbox(axon.InboxName, "forwarded to the current child's inbox"),
		axon.WithOutbox(axon.OutboxName, "what the current child sends"),
		axon.WithOutbox(childCtlName, "shutdown messages for the current child"),
		axon.WithOutbox(childInName, "what arrives on inbox, for the current child"),
	)
}
