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
)

// Carousel runs one child at a time, made by factory from each message
// that arrives on "next". A child still running when the next message
// comes is shut down (ShutdownMicroprocess) and has ended before its
// replacement starts. While a child runs the Carousel's "inbox" and
// "outbox" pass through to it; what arrives on "inbox" between children
// waits and goes to the next child.
//
// Boxes:
//
//	inbox       (in)  passed to the current child's "inbox"
//	next        (in)  a message for factory; each starts a new child
//	control     (in)  ProducerFinished: the current child is asked to
//	                  finish, then the Carousel ends; ShutdownMicroprocess:
//	                  the child is stopped and the Carousel ends
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
		var cur *axon.Component
		for {
			var curDone <-chan struct{}
			if cur != nil {
				curDone = cur.Done()
			}
			select {
			case msg := <-next:
				if err := retire(ctx, c, cur, axon.ShutdownMicroprocess{From: c.Ref()}); err != nil {
					return err
				}
				cur = nil
				n := factory(msg)
				if n == nil {
					return fmt.Errorf("carousel factory returned no component for %T on %q", msg, NextName)
				}
				if err := adopt(c, n); err != nil {
					return err
				}
				cur = n.Core()
			case <-curDone:
				if err := c.RemoveChild(cur); err != nil {
					return err
				}
				cur = nil
				if rn := c.Out(RequestNextName); rn.Linked() {
					if err := rn.Send(ctx, c.Ref()); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
						return err
					}
				}
			case msg := <-ctl:
				if _, ok := msg.(axon.Shutdown); !ok {
					continue
				}
				if err := retire(ctx, c, cur, msg); err != nil {
					return err
				}
				return c.PassOn(ctx, msg)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	},
		axon.WithInbox(axon.InboxName, "passed to the current child's inbox"),
		axon.WithInbox(NextName, "messages for the factory; each starts a new child"),
		axon.WithOutbox(axon.OutboxName, "what the current child sends"),
		axon.WithOutbox(RequestNextName, "the Carousel's Ref, when a child ends by itself"),
		axon.WithOutbox(childCtlName, "shutdown messages for the current child"),
	)
}

// adopt starts n as the swapped-in child of c: c's inbox and outbox pass
// through to it and c's childControl outbox feeds its control.
func adopt(c *axon.Component, n axon.Node) error {
	if err := c.AddChild(n); err != nil {
		return err
	}
	if err := axon.Link(c, axon.InboxName, n, axon.InboxName); err != nil {
		return err
	}
	if err := axon.Link(n, axon.OutboxName, c, axon.OutboxName); err != nil {
		return err
	}
	return axon.Link(c, childCtlName, n, axon.ControlName)
}

// retire hands the current child (if any) the shutdown message msg, waits
// for it to end and detaches it, so that nothing of it outlives the swap.
func retire(ctx context.Context, c, cur *axon.Component, msg any) error {
	if cur == nil {
		return nil
	}
	if err := c.Send(ctx, childCtlName, msg); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
		return err
	}
	select {
	case <-cur.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.RemoveChild(cur)
}

// Seq runs its children one after another, each starting when the one
// before it has ended (Kamaelia's Seq). While a child runs, the Seq's
// "inbox" and "outbox" pass through to it.
//
// Boxes:
//
//	inbox   (in)  passed to the current child's "inbox"
//	control (in)  ShutdownMicroprocess stops the current child and ends the
//	              Seq; ProducerFinished is handed to the current child and to
//	              every later one as it starts
//	outbox  (out) what the current child sends
//	signal  (out) ProducerFinished when the last child has ended, or the
//	              ShutdownMicroprocess that stopped the Seq
func Seq(children ...axon.Node) *axon.Component {
	return axon.New("Seq", func(ctx context.Context, c *axon.Component) error {
		ctl := c.In(axon.ControlName)
		var finished any // a ProducerFinished received, handed to each child
		for _, n := range children {
			if err := adopt(c, n); err != nil {
				return err
			}
			cur := n.Core()
			if finished != nil {
				if err := c.Send(ctx, childCtlName, finished); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
					return err
				}
			}
		wait:
			for {
				select {
				case <-cur.Done():
					if err := c.RemoveChild(cur); err != nil {
						return err
					}
					break wait
				case msg := <-ctl:
					switch msg.(type) {
					case axon.ShutdownMicroprocess, *axon.ShutdownMicroprocess:
						if err := retire(ctx, c, cur, msg); err != nil {
							return err
						}
						return c.PassOn(ctx, msg)
					case axon.ProducerFinished, *axon.ProducerFinished:
						finished = msg
						if err := c.Send(ctx, childCtlName, msg); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
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
		axon.WithInbox(axon.InboxName, "passed to the current child's inbox"),
		axon.WithOutbox(axon.OutboxName, "what the current child sends"),
		axon.WithOutbox(childCtlName, "shutdown messages for the current child"),
	)
}

// PAR runs its children side by side (Kamaelia's PAR) and merges what they
// send.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  handed to every child
//	outbox  (out) what any child sends on its "outbox", in arrival order
//	signal  (out) ProducerFinished when every child has ended
func PAR(children ...axon.Node) *axon.Component {
	var opts []axon.Option
	var fanout []string
	for i := range children {
		box := fmt.Sprintf("control:%d", i)
		fanout = append(fanout, box)
		opts = append(opts, axon.WithOutbox(box, fmt.Sprintf("hands child %d what arrives on control", i)))
	}
	p := axon.New("PAR", func(ctx context.Context, c *axon.Component) error {
		return supervise(ctx, c, fanout, true)
	}, opts...)
	for i, n := range children {
		if err := p.AddChild(n); err != nil {
			return failed("PAR", err)
		}
		if err := axon.Link(n, axon.OutboxName, p, axon.OutboxName); err != nil {
			return failed("PAR", err)
		}
		if err := axon.Link(p, fanout[i], n, axon.ControlName); err != nil {
			return failed("PAR", err)
		}
	}
	return p
}
