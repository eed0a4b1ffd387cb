package backplane

import (
	"context"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Transport shares a Backplane's messages with Backplanes of the same
// name elsewhere (other processes, other machines) through something
// outside the process, such as a NATS server. A Backplane given one
// with Via opens it when it starts; without one a Backplane is its
// process's alone. This package has no transport of its own, so that a
// program using only the in-process Backplane links no client library:
// package natsbackplane (components/nats/natsbackplane) has NATS and
// NATS JetStream ones.
//
// What a transport must do, in short: its Publisher publishes what each
// publisher (a PublishTo, or the Backplane for its own "inbox") hands
// it, and what arrives from elsewhere, local messages included, is
// handed to End.Deliver, a run at a time, in one order; or, for a
// transport that keeps messages for each subscriber (JetStream), its
// Subscribe runs the SubscribeTo components itself.
type Transport interface {
	// Open connects end, the Backplane that is starting, from its main
	// loop, and returns once the Backplane may be found by name: a
	// subscriber that joins from then on gets everything published
	// after it joined. It fails with an error naming the Backplane (one
	// wrapping ErrBadOption for a transport misconfigured); it gives up
	// with ctx's error when ctx ends.
	Open(ctx context.Context, end *End) (Link, error)
}

// Link is a Transport's end of one running Backplane.
type Link interface {
	// Publisher returns what the publisher called id (a PublishTo's
	// component id, or the Backplane's) publishes through. A message it
	// cannot publish (a type it cannot send, say) is given to report
	// and skipped. Make it with Publishes.
	Publisher(id string, report func(error)) (Publishing, error)
	// Subscribe runs the main loop of c, a SubscribeTo, if the link
	// delivers to each subscriber itself (JetStream: through a consumer
	// of its own), and returns ok true with what the main loop returns.
	// With ok false, the SubscribeTo joins the Backplane's subscribers,
	// to be handed what End.Deliver is given (and a Durable name is
	// refused).
	Subscribe(ctx context.Context, c *axon.Component, s Subscription) (ok bool, err error)
	// Failed returns a channel on which the link says it has failed for
	// good (its connection closed, and will not come back): the Backplane
	// fails with that error.
	Failed() <-chan error
	// Finish is called when the Backplane has been told ProducerFinished,
	// once what was queued in its inbox has been published and flushed
	// and no publisher publishes any more: it waits until what is on its
	// way back to this Backplane's subscribers has been delivered.
	Finish(ctx context.Context) error
	// Close lets go of what the link holds. It is called once, when the
	// Backplane ends.
	Close()
}

// Subscription is what a Link needs to run a SubscribeTo of its own
// (see Link.Subscribe).
type Subscription struct {
	Backplane  string // the Backplane's name
	Durable    string // the name given with Durable; "" without it
	DropOldest int    // the n of DropOldest; 0 with Block
	// Joined is to be called once the SubscribeTo is reading: what is
	// published from then on reaches it (SubscribeToComponent.Joined).
	Joined func()
}

// End is the Backplane a Transport serves, as Transport.Open is given it.
type End struct {
	b *BackplaneComponent
}

// Name returns the Backplane's name.
func (e *End) Name() string { return e.b.name }

// Component returns the Backplane's component: a transport may add
// children to it (they end with it) and boxes, and use its logger.
func (e *End) Component() *axon.Component { return e.b.Component }

// Deliver hands msgs, a run of messages that arrived through the
// transport, to every subscriber that has joined, in order (see
// Backplane). It waits, with ctx, while a subscriber with Block has no
// room, and fails with ErrBackplaneEnded once the Backplane has ended.
// One goroutine at a time should deliver, so that every subscriber sees
// one order.
func (e *End) Deliver(ctx context.Context, msgs []any) error { return e.b.fan.deliver(ctx, msgs) }

// Report sends err on the Backplane's "errors" outbox without waiting,
// prefixed with the Backplane's name (or logs it; see axon.Reporter).
func (e *End) Report(err error) { e.b.report(err) }

// Via makes a Backplane share its messages through t (see Transport).
// PublishTo and SubscribeTo are used unchanged. It applies to Backplane
// only; a nil t makes the Backplane fail at start with ErrBadOption.
func Via(t Transport) Option {
	return func(c *config) {
		c.used |= forBackplane
		if t == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: Via(nil)", ErrBadOption))
			return
		}
		c.transport = t
	}
}

// Publisher publishes what publishers hand it through a Transport. A is
// what the answer about a message not yet safe comes as (for JetStream
// the server's acknowledgement); a transport that has nothing to wait for
// returns nil channels from Oldest.
type Publisher[A any] interface {
	// Publish publishes msgs, in order, from the publisher's own
	// goroutine, until ctx (the publisher's) ends. Once the Backplane has
	// ended it fails with ErrBackplaneEnded; a message it cannot publish
	// it gives to the report it was made with, and goes on.
	Publish(ctx context.Context, msgs []any) error
	// Flush waits until what was published is safe (JetStream: stored).
	Flush(ctx context.Context) error
	// Limit is the most messages a publisher hands Publish at once.
	Limit() int
	// Pending is how many messages published are not yet safe.
	Pending() int
	// Oldest returns the channels on which the answer about the oldest
	// message not yet safe comes, to be given to Answered; nil if there
	// is none, or nothing to wait for.
	Oldest() (<-chan A, <-chan error)
	// Answered takes that answer (err nil: safe), and publishes again
	// what failed.
	Answered(ctx context.Context, err error) error
	// Close lets go of what the publisher holds.
	Close()
}

// Publishing is a Publisher as a Link hands it to the Backplane and its
// publishers: made with Publishes.
type Publishing interface {
	// publishTo is a PublishTo's main loop, publishing through this.
	publishTo(ctx context.Context, c *axon.Component, name string, h hub) error
	// publishInbox is a Backplane's main loop (see publishInbox).
	publishInbox(ctx context.Context, c *axon.Component, failed <-chan error, fail func(error) error, finish func() error) error
	// close lets go of the Publisher.
	close()
}

// Publishes makes p a Publishing, for Link.Publisher to return.
func Publishes[A any](p Publisher[A]) Publishing { return publishing[A]{p} }

type publishing[A any] struct{ p Publisher[A] }

func (p publishing[A]) close() { p.p.Close() }

// localPublisher publishes to a Backplane without a transport: it hands
// each run to the subscribers itself.
type localPublisher struct {
	Unanswered
	fan *fanout
}

func (p localPublisher) Publish(ctx context.Context, msgs []any) error {
	return p.fan.deliver(ctx, msgs)
}

func (localPublisher) Limit() int { return batchMax }

// Unanswered gives a Publisher with nothing to wait for (a message is as
// safe as it will be once handed over) the methods about answers: Flush,
// Pending, Oldest, Answered and Close, which do nothing. Embed it.
type Unanswered struct{}

// Flush returns nil at once.
func (Unanswered) Flush(context.Context) error { return nil }

// Pending returns 0.
func (Unanswered) Pending() int { return 0 }

// Oldest returns nil channels: there is nothing to wait for.
func (Unanswered) Oldest() (<-chan struct{}, <-chan error) { return nil, nil }

// Answered returns nil: it is never called.
func (Unanswered) Answered(context.Context, error) error { return nil }

// Close does nothing.
func (Unanswered) Close() {}
