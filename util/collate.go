package util

import (
	"context"
	"errors"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ErrTooMany is wrapped by the error of a Collate that was given more
// items than its MaxItems limit lets it hold.
var ErrTooMany = errors.New("too many items to hold")

// CollateOption configures Collate.
type CollateOption func(*collateConfig)

type collateConfig struct {
	limit int // most items held; 0 for no limit
}

// MaxItems limits a Collate to holding n items. When it holds n and
// another arrives, it drops nothing: it fails with an error that names
// it and its "inbox" and wraps ErrTooMany. n < 1 means no limit, the
// default.
func MaxItems(n int) CollateOption {
	return func(c *collateConfig) { c.limit = max(n, 0) }
}

// Collate holds every message arriving on "inbox", in the order they
// arrive, and sends them all as one []any on "outbox" when a
// ProducerFinished arrives: Kamaelia's Collate. It is a way to turn a
// stream into a single message, say to sort it or count it.
//
// Boxes:
//
//	inbox   (in)  the items to gather
//	control (in)  ProducerFinished: what is still queued in "inbox" is
//	              added, the []any is sent on "outbox", then the
//	              message is passed on and Collate ends;
//	              ShutdownMicroprocess: passed on at once, and Collate
//	              ends without sending what it holds
//	outbox  (out) one []any of everything held, in arrival order; empty
//	              (length 0, not nil) if nothing arrived
//	signal  (out) the shutdown message that ended Collate
//
// The slice sent belongs to the receiver: Collate does not touch it
// again.
//
// Unlike Kamaelia's Collate, a ShutdownMicroprocess does not make it send
// what it holds: in axon a ShutdownMicroprocess means stop now, and
// delivering one cancels a running component's context, so Collate could
// not send reliably anyway. Send ProducerFinished to get the items. A
// ShutdownMicroprocess that comes after a ProducerFinished, while Collate
// is still waiting to deliver, stops it just the same: nothing is sent,
// and only the ShutdownMicroprocess is passed on.
//
// Collate holds everything until the end, so an endless or very large
// stream grows its memory without bound. Give MaxItems to make it fail
// instead once it holds a given number of items.
func Collate(opts ...CollateOption) *axon.Component {
	var cfg collateConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return axon.New("Collate", func(ctx context.Context, c *axon.Component) error {
		return collate(ctx, c, cfg.limit)
	},
		axon.WithInbox(axon.InboxName, "items to gather"),
		axon.WithOutbox(axon.OutboxName, "everything gathered, in arrival order, once ProducerFinished arrives", axon.Carries[[]any]()),
	)
}

// collate is Collate's main loop.
func collate(ctx context.Context, c *axon.Component, limit int) error {
	in, ctl := c.In(axon.InboxName), c.In(axon.ControlName)
	held := []any{}
	hold := func(m any) error {
		if limit > 0 && len(held) >= limit {
			return fmt.Errorf("%s: %w: one more arrived while holding %d (MaxItems)", c.Inbox(axon.InboxName), ErrTooMany, limit)
		}
		held = append(held, m)
		return nil
	}
	for {
		var msg any
		// Control first, so that a busy inbox does not delay it.
		select {
		case msg = <-ctl:
		default:
			select {
			case m := <-in:
				if err := hold(m); err != nil {
					return err
				}
				continue
			case msg = <-ctl:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !axon.IsProducerFinished(msg) {
			// ShutdownMicroprocess is passed on; anything else is
			// logged and ignored.
			if stop, err := c.Control(ctx, msg, nil); stop || err != nil {
				return err
			}
			continue
		}
		if err := c.Drain(ctx, func(_ context.Context, m any) error { return hold(m) }); err != nil {
			return err
		}
		// A ShutdownMicroprocess arriving since the ProducerFinished has
		// cancelled ctx: it wins, and nothing is sent.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.Out(axon.OutboxName).Send(ctx, held); err != nil {
			return err
		}
		return c.PassOn(ctx, msg)
	}
}
