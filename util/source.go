package util

import (
	"context"
	"slices"

	"github.com/kamaelia-go/kamaelia/axon"
)

// DataSource sends each of items on "outbox", in order (each a T in an
// any), then sends ProducerFinished on "signal" and ends. It takes a copy
// of items, so the caller may reuse the slice.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  ShutdownMicroprocess: passed on at once, and the
//	              DataSource ends, even while it waits for room downstream;
//	              ProducerFinished: the DataSource still sends the rest of
//	              its items (they are what it has queued), then passes that
//	              ProducerFinished on instead of its own
//	outbox  (out) T: the items (declared, so Link refuses an inbox
//	              declared to take another type)
//	signal  (out) ProducerFinished after the last item (the one received on
//	              control, if any, else its own), or the ShutdownMicroprocess
//	              that stopped the DataSource
//
// If the component its outbox leads to has ended, the items left cannot be
// delivered: the DataSource ends with an error wrapping
// axon.ErrReceiverDone, and sends nothing on "signal".
func DataSource[T any](items []T) *axon.Component {
	s := &source[T]{items: slices.Clone(items)}
	return axon.New("DataSource", s.main,
		axon.WithInbox(axon.InboxName, "not used"),
		axon.WithOutbox(axon.OutboxName, "the items, in order", axon.Carries[T]()),
	)
}

// source is the state of a DataSource's main loop.
type source[T any] struct {
	items    []T
	finished any // the first ProducerFinished received on control
}

func (s *source[T]) main(ctx context.Context, c *axon.Component) error {
	out := c.Out(axon.OutboxName)
	for _, it := range s.items {
		if stop, err := s.checkControl(ctx, c); stop || err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := out.Send(ctx, it); err != nil {
			return err
		}
	}
	if stop, err := s.checkControl(ctx, c); stop || err != nil {
		return err
	}
	if s.finished != nil {
		return c.PassOn(ctx, s.finished)
	}
	return c.Finish(ctx)
}

// checkControl takes what is waiting on control, without waiting. It
// reports stop once a ShutdownMicroprocess has been passed on.
func (s *source[T]) checkControl(ctx context.Context, c *axon.Component) (stop bool, err error) {
	ctl := c.In(axon.ControlName)
	for {
		select {
		case msg := <-ctl:
			if axon.IsProducerFinished(msg) {
				if s.finished == nil {
					s.finished = msg
				}
				continue
			}
			if stop, err := c.Control(ctx, msg, nil); stop || err != nil {
				return true, err
			}
		default:
			return false, nil
		}
	}
}

// TriggeredSource sends msg on "outbox" each time a message (of any kind)
// arrives on "inbox".
//
// Boxes:
//
//	inbox   (in)  triggers; their content is ignored
//	control (in)  ProducerFinished: queued triggers are answered, then it
//	              is passed on and the TriggeredSource ends;
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) msg, once per trigger
//	signal  (out) the shutdown message that ended the TriggeredSource
func TriggeredSource[T any](msg T) *axon.Component {
	return axon.New("TriggeredSource", func(ctx context.Context, c *axon.Component) error {
		out, m := c.Out(axon.OutboxName), any(msg) // put in an any once
		return c.Serve(ctx, func(ctx context.Context, _ any) error {
			return out.Send(ctx, m)
		})
	},
		axon.WithInbox(axon.InboxName, "triggers; their content is ignored"),
		axon.WithOutbox(axon.OutboxName, "the fixed message, once per trigger", axon.Carries[T]()),
	)
}
