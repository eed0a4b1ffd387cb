package util

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ErrBadInterval is wrapped by the error of a Cycle given an interval
// that is not positive.
var ErrBadInterval = errors.New("interval must be positive")

// Linger passes each message arriving on "inbox" to "outbox" unchanged,
// and holds a ProducerFinished arriving on "control" back for d before
// passing it on "signal" and ending. Placed on the path a producer's
// notice takes, it lets what follows run on for d after the producer has
// finished: a UDP peer whose input has ended keeps receiving replies for a
// while, say. Messages arriving on "inbox" meanwhile are still passed on.
// With d < 0 the notice is held until Linger is stopped some other way
// (ShutdownMicroprocess, or its context).
//
// Boxes:
//
//	inbox   (in)  messages to pass on
//	control (in)  ProducerFinished: held for d (a second one is dropped),
//	              then what is queued in "inbox" is passed on, the
//	              ProducerFinished passed on "signal", and Linger ends;
//	              ShutdownMicroprocess: passed on at once, and it ends,
//	              dropping a ProducerFinished it holds
//	outbox  (out) the messages from "inbox", unchanged
//	signal  (out) the ProducerFinished, d after it arrived, or the
//	              ShutdownMicroprocess that stopped Linger
func Linger(d time.Duration) *axon.Component {
	return axon.New("Linger", func(ctx context.Context, c *axon.Component) error {
		in, ctl, out := c.In(axon.InboxName), c.In(axon.ControlName), c.Out(axon.OutboxName)
		var (
			held  any              // the ProducerFinished being held
			timer *time.Timer      // running while one is held, if d >= 0
			due   <-chan time.Time // timer's channel, once set
		)
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		control := func(ctx context.Context, msg any) (stop bool, err error) {
			if !axon.IsProducerFinished(msg) {
				return c.Control(ctx, msg, nil)
			}
			if held == nil {
				held = msg
				if d >= 0 {
					timer = time.NewTimer(d)
					due = timer.C
				}
			}
			return false, nil
		}
		for {
			if stop, again, err := controlFirst(ctx, ctl, control); stop {
				return err
			} else if again {
				continue
			}
			select {
			case msg := <-in:
				if err := out.Send(ctx, msg); err != nil {
					return err
				}
			case msg := <-ctl:
				if stop, err := control(ctx, msg); stop || err != nil {
					return err
				}
			case <-due:
				// What the producer sent before its notice goes first.
				_, err := c.Control(ctx, held, func(ctx context.Context, msg any) error {
					return out.Send(ctx, msg)
				})
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	},
		axon.WithInbox(axon.InboxName, "messages to pass on"),
		axon.WithOutbox(axon.OutboxName, "the messages, unchanged"),
	)
}

// Cycle sends its items on "outbox" in turn, going back to the first
// after the last: the first at once, and the next each time every has
// passed, until it is stopped. It is Kamaelia's DestinationSelector when
// its items are destinations for a TargettedPeer's "target":
//
//	util.Cycle(time.Second, "server1.com:1500", "server3.com:1500")
//
// If sending an item has to wait (backpressure), the ticks that pass
// meanwhile are dropped, not saved up. With no items it sends nothing.
// If what "outbox" leads to has ended, Cycle sends ProducerFinished on
// "signal" and ends without an error: unlike a DataSource's, its items
// are not lost, as they would only repeat for ever.
// An every that is not positive makes Cycle fail when started, with an
// error wrapping ErrBadInterval.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  ProducerFinished or ShutdownMicroprocess: passed on at
//	              once, and Cycle ends (it has nothing queued to finish)
//	outbox  (out) the items, in turn
//	signal  (out) the shutdown message that ended Cycle, or its own
//	              ProducerFinished if its receiver ended
func Cycle[T any](every time.Duration, items ...T) *axon.Component {
	items = slices.Clone(items)
	c := axon.New("Cycle", func(ctx context.Context, c *axon.Component) error {
		ctl, out := c.In(axon.ControlName), c.Out(axon.OutboxName)
		tick := time.NewTicker(every)
		defer tick.Stop()
		control := func(ctx context.Context, msg any) (bool, error) {
			return c.Control(ctx, msg, nil)
		}
		next, due := 0, len(items) > 0 // the first goes at once
		for {
			if stop, again, err := controlFirst(ctx, ctl, control); stop {
				return err
			} else if again {
				continue
			}
			if due {
				err := out.Send(ctx, items[next])
				if errors.Is(err, axon.ErrReceiverDone) {
					// Nobody will ever want another item.
					return c.Finish(ctx)
				}
				if err != nil {
					return err
				}
				next, due = (next+1)%len(items), false
			}
			select {
			case <-tick.C:
				due = len(items) > 0
			case msg := <-ctl:
				if stop, err := control(ctx, msg); stop || err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	},
		axon.WithInbox(axon.InboxName, "not used"),
		axon.WithOutbox(axon.OutboxName, "the items, in turn, one each interval", axon.Carries[T]()),
	)
	if every <= 0 {
		c.FailOnStart(fmt.Errorf("%s: every %v: %w", c, every, ErrBadInterval))
	}
	return c
}

// Take passes the first n messages arriving on "inbox" to "outbox",
// unchanged, then sends ProducerFinished on "signal" and ends: it makes an
// endless stream a finite one, so that a graph waiting for a known number
// of answers ends once they have come. Messages after the n-th are left
// unread. With n < 1 it ends at once.
//
// Boxes:
//
//	inbox   (in)  messages
//	control (in)  ProducerFinished: queued messages are passed on (up to n
//	              in all), then it is passed on and Take ends;
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) the first n messages, unchanged
//	signal  (out) a ProducerFinished of its own after the n-th message, or
//	              the shutdown message that ended Take
func Take(n int) *axon.Component {
	return axon.New("Take", func(ctx context.Context, c *axon.Component) error {
		in, ctl, out := c.In(axon.InboxName), c.In(axon.ControlName), c.Out(axon.OutboxName)
		left := n
		pass := func(ctx context.Context, msg any) error {
			left--
			return out.Send(ctx, msg)
		}
		control := func(ctx context.Context, msg any) (stop bool, err error) {
			if !axon.IsProducerFinished(msg) {
				return c.Control(ctx, msg, nil)
			}
			for left > 0 {
				// A ShutdownMicroprocess arriving meanwhile cancels ctx.
				if err := ctx.Err(); err != nil {
					return true, err
				}
				m, ok := tryTake(in)
				if !ok {
					break
				}
				if err := pass(ctx, m); err != nil {
					return true, err
				}
			}
			return true, c.PassOn(ctx, msg)
		}
		for left > 0 {
			if stop, again, err := controlFirst(ctx, ctl, control); stop {
				return err
			} else if again {
				continue
			}
			select {
			case msg := <-in:
				if err := pass(ctx, msg); err != nil {
					return err
				}
			case msg := <-ctl:
				if stop, err := control(ctx, msg); stop || err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return c.Finish(ctx)
	},
		axon.WithInbox(axon.InboxName, "messages"),
		axon.WithOutbox(axon.OutboxName, "the first n messages, unchanged"),
	)
}
