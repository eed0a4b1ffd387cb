package backplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kamaelia-go/kamaelia/axon"
)

// toBackplane is PublishTo's private outbox, linked to its Backplane.
const toBackplane = "backplane"

// PublishTo makes a component that publishes everything arriving on its
// "inbox" to the Backplane called name, to reach every subscriber of it,
// in order. It looks the Backplane up when it starts, waiting up to one
// second (DefaultWait; see Wait) for one to be registered, and fails with
// an error wrapping ErrNoBackplane naming name if none is. Messages that
// arrive before then wait in its inbox. It takes the option Wait.
//
// Boxes:
//
//	inbox     (in)  messages to publish
//	control   (in)  ProducerFinished: what is queued is published, then it
//	                is passed on and the PublishTo ends (the Backplane
//	                carries on); ShutdownMicroprocess: passed on, and it
//	                ends at once
//	outbox    (out) not used
//	backplane (out) private: linked to the Backplane's inbox
//	signal    (out) the shutdown message that ended it, or a
//	                ProducerFinished of its own if its Backplane ended
//
// If its Backplane ends, an idle PublishTo passes on a ProducerFinished
// and ends; one holding messages it can no longer deliver fails with an
// error wrapping ErrBackplaneEnded.
func PublishTo(name string, opts ...Option) *axon.Component {
	cfg, cfgErr := configure("PublishTo", opts, forLookup)
	c := axon.New("PublishTo", func(ctx context.Context, c *axon.Component) error {
		return publish(ctx, c, name, cfg)
	},
		axon.WithInbox(axon.InboxName, "messages to publish"),
		axon.WithOutbox(axon.OutboxName, "not used"),
		axon.WithOutbox(toBackplane, "private: linked to the Backplane's inbox"),
	)
	if cfgErr != nil {
		c.FailOnStart(cfgErr)
	}
	return c
}

func publish(ctx context.Context, c *axon.Component, name string, cfg config) error {
	h, err := find(ctx, name, cfg.wait)
	if err != nil {
		return fmt.Errorf("PublishTo: %w", err)
	}
	node, inbox := h.input()
	if err := axon.Link(c, toBackplane, node, inbox); err != nil {
		return fmt.Errorf("PublishTo: backplane %q: %w", name, err)
	}
	defer func() { _ = axon.Unlink(c, toBackplane) }()

	out := c.Out(toBackplane)
	forward := func(ctx context.Context, msg any) error {
		if err := out.Send(ctx, msg); err != nil {
			if errors.Is(err, axon.ErrReceiverDone) && ctx.Err() == nil {
				return fmt.Errorf("PublishTo: backplane %q: %w: a message was not published: %w", name, ErrBackplaneEnded, err)
			}
			return err
		}
		return nil
	}
	in, ctl, gone := c.In(axon.InboxName), c.In(axon.ControlName), h.done()
	for {
		select {
		case msg := <-ctl:
			if stop, err := c.Control(ctx, msg, forward); stop || err != nil {
				return err
			}
		case msg := <-in:
			if err := forward(ctx, msg); err != nil {
				return err
			}
		case <-gone:
			if n := len(in); n > 0 {
				return fmt.Errorf("PublishTo: backplane %q: %w: %d messages were not published", name, ErrBackplaneEnded, n)
			}
			slog.Debug("backplane ended: publisher finishing", "component", c.String(), "backplane", name)
			return c.Finish(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
