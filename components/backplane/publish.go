package backplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// PublishTo makes a component that publishes everything arriving on its
// "inbox" to the Backplane called name, to reach every subscriber of it,
// in order. It looks the Backplane up when it starts, waiting up to one
// second (DefaultWait; see Wait) for one to be registered, and fails with
// an error wrapping ErrNoBackplane naming name if none is. Messages that
// arrive before then wait in its inbox. It takes the option Wait.
//
// A PublishTo publishes from its own goroutine, taking what has queued
// in its inbox a run at a time: it hands the run to the Backplane's
// subscribers itself (taking its turn with the Backplane's other
// publishers, so each subscriber gets one order), or, with a NATS
// Backplane, publishes it on the Backplane's connection, which sends it
// to the server in one write. With Block subscribers it waits while any
// of them has no room.
//
// Boxes:
//
//	inbox   (in)  messages to publish; it holds 256
//	              (axon.BurstCapacity: with a Transport, what has
//	              queued goes to the server in one write)
//	control (in)  ProducerFinished: what is queued is published, then it
//	              is passed on and the PublishTo ends (the Backplane
//	              carries on); ShutdownMicroprocess: passed on, and it
//	              ends at once
//	outbox  (out) not used
//	errors  (out) error: a message that could not be published through
//	              the Backplane's Transport (NATS: a type it cannot send,
//	              a codec error), which is skipped; sent without waiting,
//	              logged when unlinked
//	signal  (out) the shutdown message that ended it, or a
//	              ProducerFinished of its own if its Backplane ended
//
// With a Transport that acknowledges what it stores (JetStream), a
// PublishTo keeps what is not yet acknowledged and publishes it again,
// in order, when an acknowledgement fails; beyond its window it waits,
// and its inbox fills, so a slow or absent server holds its producers
// back. On ProducerFinished it waits until everything is stored before
// passing the message on.
//
// If its Backplane ends, an idle PublishTo passes on a ProducerFinished
// and ends; one holding messages it can no longer deliver fails with an
// error wrapping ErrBackplaneEnded.
func PublishTo(name string, opts ...Option) *axon.Component {
	cfg, cfgErr := configure("PublishTo", opts, forLookup)
	c := axon.New("PublishTo", func(ctx context.Context, c *axon.Component) error {
		h, err := find(ctx, c, name, cfg.wait)
		if err != nil {
			return fmt.Errorf("PublishTo: %w", err)
		}
		errs := axon.NewReporter(c, ErrorsBox)
		report := func(err error) { errs.Report(fmt.Errorf("%s: inbox: %w", c, err)) }
		pub, err := h.publisher(c.ID().String(), report)
		if err != nil {
			return fmt.Errorf("PublishTo: %w", err)
		}
		defer pub.close()
		return pub.publishTo(ctx, c, name, h)
	},
		axon.WithInbox(axon.InboxName, "messages to publish", axon.Capacity(axon.BurstCapacity)),
		axon.WithOutbox(axon.OutboxName, "not used"),
		axon.WithOutbox(ErrorsBox, "errors: messages that could not be published (NATS); it carries on", axon.Carries[error]()),
	)
	if cfgErr != nil {
		c.FailOnStart(cfgErr)
	}
	return c
}

// publishTo is a PublishTo's main loop once it has found h, its
// Backplane, publishing through p.
func (p publishing[A]) publishTo(ctx context.Context, c *axon.Component, name string, h hub) error {
	pub := p.p
	r, ctl, gone := c.Reader(axon.InboxName), c.In(axon.ControlName), h.done()
	failed := func(err error) error {
		if errors.Is(err, ErrBackplaneEnded) {
			return fmt.Errorf("PublishTo: backplane %q: messages were not published: %w", name, err)
		}
		return err
	}
	publishRun := func(msgs []any) error { return failed(pub.Publish(ctx, msgs)) }
	var run []any
	for {
		acked, nacked := pub.Oldest()
		select {
		case msg := <-ctl:
			if axon.IsProducerFinished(msg) {
				if err := drainRuns(r, &run, pub.Limit(), publishRun); err != nil {
					return err
				}
				if err := failed(pub.Flush(ctx)); err != nil {
					return err
				}
			}
			if stop, err := c.Control(ctx, msg, nil); stop || err != nil {
				return err
			}
		case e := <-r.C():
			// This and what else is waiting, up to the Backplane's run
			// limit (batchMax, or the Transport's): control is
			// looked at again soon, and a ShutdownMicroprocess has
			// cancelled ctx already.
			run = takeRun(r, r.Open(e), run, pub.Limit())
			err := publishRun(run)
			clear(run)
			if err != nil {
				return err
			}
		case <-acked:
			if err := failed(pub.Answered(ctx, nil)); err != nil {
				return err
			}
		case err := <-nacked:
			// JetStream: published again until stored, even while
			// nothing more arrives.
			if err := failed(pub.Answered(ctx, err)); err != nil {
				return err
			}
		case <-gone:
			if n := r.Len() + pub.Pending(); n > 0 {
				return fmt.Errorf("PublishTo: backplane %q: %w: %d messages were not published", name, ErrBackplaneEnded, n)
			}
			c.Logger().Debug("backplane ended: publisher finishing", "component", c.String(), "backplane", name)
			return c.Finish(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
