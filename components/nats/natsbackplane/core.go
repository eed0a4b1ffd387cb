package natsbackplane

import (
	"context"
	"errors"
	"fmt"
	"sync"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
)

// runMax is the most messages a PublishTo (or the Backplane, for its
// own inbox) takes from its inbox to publish in one go: more than its
// inbox holds, so that it publishes what has queued, and nats.go writes
// it to the server in one write. It only bounds how long control waits
// to be looked at.
const runMax = 1024

// Outboxes of the deliverer, used by the Backplane's goroutine: what
// arrives on the Backplane's own "inbox" goes to the nats.Publisher on
// publishBox, and Finish tells it to finish on stopBox.
const (
	publishBox = "publish"
	stopBox    = "stop"
)

// coreLink is what NATS adds to a Backplane: one connection, on which
// PublishTo components publish from their own goroutines, and children
// of the Backplane on it: a nats.Publisher for what arrives on the
// Backplane's own "inbox", a nats.Subscriber on the backplane's subject,
// and a deliverer that hands what the nats.Subscriber receives to the
// subscribers. Local messages go round through the server too, so that
// every process sees one order per publisher. When the Backplane
// finishes, ProducerFinished goes down that chain: the nats.Publisher
// publishes what it holds and flushes the connection (after which what
// came back is with the nats.Subscriber), then the nats.Subscriber sends
// on what it has, then the deliverer delivers it.
type coreLink struct {
	*conn
	pub     *nats.PublisherComponent
	sub     *nats.SubscriberComponent
	deliver *axon.Component

	// mu is held for reading while a run of messages is published and
	// for writing to end publishing, so that nothing is published after
	// the Backplane's final flush.
	mu     sync.RWMutex
	closed bool
}

// openCore connects, starts the nats.Subscriber and the deliverer, and
// returns once the server has confirmed the subscription. If the server
// cannot be reached it waits for it, until ctx ends.
func openCore(ctx context.Context, t *transport, end *backplane.End) (backplane.Link, error) {
	c, err := dial(t, end)
	if err != nil {
		return nil, err
	}
	l := &coreLink{conn: c}
	opts := []nats.Option{nats.Conn(c.nc)}
	if c.codec != nil {
		opts = append(opts, nats.WithCodec(c.codec))
	}
	l.pub = nats.Publisher(c.subject, append(opts, nats.Name("Backplane.nats.Publisher"))...)
	l.sub = nats.Subscriber(c.subject, append(opts, nats.Name("Backplane.nats.Subscriber"))...)
	l.deliver = axon.New("Backplane.deliver", l.deliverMain,
		axon.WithInbox(axon.InboxName, "what the nats.Subscriber received, for the subscribers"),
		axon.WithOutbox(publishBox, "what arrives on the Backplane's inbox, for the nats.Publisher"),
		axon.WithOutbox(stopBox, "ProducerFinished for the nats.Publisher when the Backplane finishes", axon.Carries[axon.ProducerFinished]()),
	)
	if err := l.wire(end.Component()); err != nil {
		l.Close()
		return nil, fmt.Errorf("backplane %q: %w", end.Name(), err)
	}
	// Register only once NATS will deliver: a subscriber that finds the
	// Backplane then gets everything published after it joined.
	select {
	case <-l.sub.Subscribed():
		return l, nil
	case err := <-c.failed:
		l.Close()
		return nil, fmt.Errorf("backplane %q: %w before the subscription was confirmed", end.Name(), err)
	case <-l.sub.Done():
		l.Close()
		return nil, fmt.Errorf("backplane %q: %w: the NATS subscriber ended before its subscription was confirmed", end.Name(), backplane.ErrBackplaneEnded)
	case <-ctx.Done():
		l.Close()
		return nil, ctx.Err()
	}
}

// wire links the children (see coreLink), makes them children of bp,
// the Backplane, and passes their errors through to the Backplane's.
func (l *coreLink) wire(bp *axon.Component) error {
	return errors.Join(
		axon.Link(l.deliver, publishBox, l.pub, axon.InboxName),
		axon.Link(l.deliver, stopBox, l.pub, axon.ControlName),
		axon.Link(l.pub, axon.SignalName, l.sub, axon.ControlName),
		axon.Link(l.sub, axon.OutboxName, l.deliver, axon.InboxName),
		axon.Link(l.sub, axon.SignalName, l.deliver, axon.ControlName),
		bp.AddChild(l.pub),
		bp.AddChild(l.sub),
		bp.AddChild(l.deliver),
		axon.Link(l.pub, nats.ErrorsBox, bp, backplane.ErrorsBox),
		axon.Link(l.sub, nats.ErrorsBox, bp, backplane.ErrorsBox),
	)
}

// deliverMain is the deliverer's main loop: it hands what the
// nats.Subscriber sends, a run (what crossed in one batch) at a time, to
// the Backplane's subscribers, until the nats.Subscriber passes on its
// shutdown message, and then what it had sent before.
func (l *coreLink) deliverMain(ctx context.Context, c *axon.Component) error {
	r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	deliver := func(msgs []any) error {
		err := l.end.Deliver(ctx, msgs)
		if errors.Is(err, backplane.ErrBackplaneEnded) {
			return nil // ending: what is left goes nowhere
		}
		return err
	}
	for {
		select {
		case e := <-r.C():
			if err := deliver(r.Open(e)); err != nil {
				return err
			}
		case msg := <-ctl:
			for msgs := r.Next(); msgs != nil; msgs = r.Next() {
				if err := deliver(msgs); err != nil {
					return err
				}
			}
			return c.PassOn(ctx, msg)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Publisher is Link.Publisher: a PublishTo publishes on the connection
// itself; the Backplane hands what arrives on its inbox to the
// nats.Publisher.
func (l *coreLink) Publisher(id string, report func(error)) (backplane.Publishing, error) {
	if id == l.end.Component().ID().String() {
		return backplane.Publishes[struct{}](forwarder{out: l.deliver.Out(publishBox)}), nil
	}
	return backplane.Publishes[struct{}](corePublisher{l: l, report: report}), nil
}

// Subscribe is Link.Subscribe: subscribers join the Backplane.
func (l *coreLink) Subscribe(context.Context, *axon.Component, backplane.Subscription) (bool, error) {
	return false, nil
}

// Finish ends publishing and sends ProducerFinished down the chain of
// children: the nats.Publisher flushes the connection (the server's
// answer follows everything this connection published, so the messages
// that came back are then with the nats.Subscriber; a failure is
// reported on "errors"), then the nats.Subscriber sends on what it has.
// Finish returns once the deliverer has handed that to the subscribers.
func (l *coreLink) Finish(ctx context.Context) error {
	l.endPublishing()
	if err := l.deliver.Out(stopBox).Send(ctx, axon.ProducerFinished{}); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
		return err
	}
	select {
	case <-l.deliver.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the children, then closes the connection.
func (l *coreLink) Close() {
	l.endPublishing()
	for _, child := range []*axon.Component{l.pub.Component, l.sub.Component, l.deliver} {
		child.Stop()
	}
	for _, child := range []*axon.Component{l.pub.Component, l.sub.Component, l.deliver} {
		<-child.Done()
	}
	l.close()
}

// endPublishing makes later publishes fail with ErrBackplaneEnded, once
// those under way have been handed to the connection.
func (l *coreLink) endPublishing() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// forwarder hands what arrives on the Backplane's inbox to the
// nats.Publisher, a run in one batch, from the Backplane's goroutine.
type forwarder struct {
	backplane.Unanswered
	out *axon.Outbox
}

func (f forwarder) Publish(ctx context.Context, msgs []any) error { return f.out.SendAll(ctx, msgs) }
func (forwarder) Limit() int                                      { return runMax }

// corePublisher publishes for one publisher on the link's connection:
// once handed to the connection, a message is as safe as it will be.
type corePublisher struct {
	backplane.Unanswered
	l      *coreLink
	report func(error)
}

// Publish publishes msgs, in order, taking the lock once for the lot. A
// message that cannot be published is reported and skipped; once the
// Backplane has ended publishing fails with ErrBackplaneEnded.
func (p corePublisher) Publish(_ context.Context, msgs []any) error {
	// Errors are collected under the lock and reported after it, so
	// that a slow report does not hold up endPublishing.
	var errs []error
	err := p.publishLocked(msgs, &errs)
	for _, e := range errs {
		p.report(fmt.Errorf("backplane %q: message not published: %w", p.l.end.Name(), e))
	}
	return err
}

func (p corePublisher) publishLocked(msgs []any, errs *[]error) error {
	l := p.l
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return backplane.ErrBackplaneEnded
	}
	for _, msg := range msgs {
		if err := nats.Publish(l.nc, l.subject, msg, l.codec); err != nil {
			if errors.Is(err, natsgo.ErrConnectionClosed) {
				return fmt.Errorf("%w: %w", backplane.ErrBackplaneEnded, err)
			}
			*errs = append(*errs, err)
		}
	}
	return nil
}

func (corePublisher) Limit() int { return runMax }
