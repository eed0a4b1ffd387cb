package backplane

import (
	"context"
	"errors"
	"fmt"
	"sync"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/nats"
)

// natsLink is what the NATS option adds to a Backplane: one connection
// for the process's end of the backplane, on which PublishTo components
// publish from their own goroutines and the Backplane receives. Local
// messages go round through the server too, so that every process sees
// one order per publisher.
type natsLink struct {
	name    string
	nc      *natsgo.Conn
	subject string
	codec   nats.Codec

	// mu is held for reading while a run of messages is published and
	// for writing to end publishing, so that nothing is published after
	// the Backplane's final flush.
	mu     sync.RWMutex
	closed bool
}

// dialNATS connects to cfg's server for the backplane called name. It
// does not fail or wait when the server is down: the connection keeps
// trying in the background until it is closed.
func dialNATS(name string, cfg config) (*natsLink, error) {
	nc, err := connect(name, cfg)
	if err != nil {
		return nil, err
	}
	return &natsLink{name: name, nc: nc, subject: nats.Subject(name), codec: cfg.codec}, nil
}

// connect opens the connection of the backplane called name to cfg's
// server, with extra options before the user's, in the background: it
// keeps trying while the server is down, until it is closed.
func connect(name string, cfg config, extra ...natsgo.Option) (*natsgo.Conn, error) {
	opts := append(nats.DefaultOptions("backplane", name), extra...)
	opts = append(opts, natsgo.Name("kamaelia backplane "+name), natsgo.RetryOnFailedConnect(true))
	nc, err := natsgo.Connect(cfg.natsURL, append(opts, cfg.natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("backplane %q: %w: %s: %w", name, ErrNoBackplane, cfg.natsURL, err)
	}
	return nc, nil
}

// publish publishes msgs, in order, on the connection, taking the lock
// once for the lot. A message that cannot be published (of a type it
// cannot send, or that the codec refuses) is given to report and
// skipped; once the Backplane has ended publishing fails with
// ErrBackplaneEnded.
func (l *natsLink) publish(msgs []any, report func(error)) error {
	// Errors are collected under the lock and reported after it, so
	// that a slow report does not hold up endPublishing.
	var errs []error
	err := l.publishLocked(msgs, &errs)
	for _, e := range errs {
		report(e)
	}
	return err
}

// publishLocked is publish's work, under the read lock. Messages not
// published add their error to errs.
func (l *natsLink) publishLocked(msgs []any, errs *[]error) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrBackplaneEnded
	}
	for _, msg := range msgs {
		data, err := nats.Payload(msg, l.codec)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("backplane %q: message not published: %w", l.name, err))
			continue
		}
		if err := l.nc.Publish(l.subject, data); err != nil {
			if errors.Is(err, natsgo.ErrConnectionClosed) {
				return fmt.Errorf("%w: %w", ErrBackplaneEnded, err)
			}
			*errs = append(*errs, fmt.Errorf("backplane %q: message not published: %w: %w", l.name, nats.ErrPublish, err))
		}
	}
	return nil
}

// endPublishing makes later publishes fail with ErrBackplaneEnded, once
// those under way have been handed to the connection.
func (l *natsLink) endPublishing() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// natsRunMax is the most messages a PublishTo (or the Backplane, for its
// own inbox) takes from its inbox to publish in one go on a NATS
// Backplane: more than its inbox holds, so that it publishes what has
// queued, and nats.go writes it to the server in one write. It only
// bounds how long control waits to be looked at.
const natsRunMax = 1024

// runNATS is a Backplane's main with the NATS option: it subscribes to
// the backplane's subject with a handler that delivers what arrives to
// the subscribers, registers once the server has confirmed the
// subscription, then publishes what arrives on "inbox" until it is told
// to stop.
func (b *BackplaneComponent) runNATS(ctx context.Context, c *axon.Component) error {
	l, err := dialNATS(b.name, b.cfg)
	if err != nil {
		return err
	}
	b.nats = l
	defer l.nc.Close()
	defer l.endPublishing()
	nc := l.nc
	status := nc.StatusChanged(natsgo.CONNECTED, natsgo.CLOSED)
	defer nc.RemoveStatusListener(status)
	fail := func(err error) error { return fmt.Errorf("backplane %q: %w", b.name, err) }

	// nats.go's delivery goroutine for the subscription calls rx.handle
	// for each message in turn, and rx hands them to the subscribers, a
	// run at a time: no goroutine of the Backplane's own stands between
	// NATS and them. nats.go holds up to nats.DefaultBuffer messages for
	// it and drops what arrives beyond that.
	rx := &receiver{b: b, ctx: ctx}
	sub, err := nc.Subscribe(l.subject, rx.handle)
	if err == nil {
		err = sub.SetPendingLimits(nats.DefaultBuffer, -1)
	}
	if err != nil {
		return fail(fmt.Errorf("%w: %w", nats.ErrSubscribe, err))
	}
	defer rx.checkDrops(sub)

	// Register only once NATS will deliver: a subscriber that finds the
	// Backplane then gets everything published after it joined. If the
	// server cannot be reached, try again each time the connection is
	// back.
	for nc.FlushTimeout(nats.DefaultFlushTimeout) != nil {
		select {
		case st := <-status:
			if st == natsgo.CLOSED {
				return fail(fmt.Errorf("%w: the NATS connection closed before the subscription was confirmed", ErrBackplaneEnded))
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	unregister, err := register(b.name, b)
	if err != nil {
		return err
	}
	defer unregister()

	return publishInbox(ctx, c, plainPublisher{b, b.report}, status, fail, func() error {
		// Once the server has answered a flush, it has sent back
		// everything this connection published (the answer follows
		// it), so deliver what has arrived (a barrier runs once nats.go
		// has handed over what it held before it), then end.
		l.endPublishing()
		if err := nc.FlushTimeout(nats.DefaultFlushTimeout); err != nil {
			b.Logger().Warn("backplane: final flush failed: messages may be lost", "backplane", b.name, "error", fmt.Errorf("%w: %w", nats.ErrFlush, err))
		}
		delivered := make(chan struct{})
		// The subscription is the connection's only one, so the
		// barrier runs on its delivery goroutine, after its last
		// message: rx may deliver what it holds from there.
		barrier := func() {
			rx.flush()
			close(delivered)
		}
		if err := nc.Barrier(barrier); err == nil {
			select {
			case <-delivered:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		_ = sub.Unsubscribe()
		return nil
	})
}

// publishInbox is the main loop of every Backplane, local or shared: it
// publishes what arrives on c's "inbox" through pub, a run at a time,
// and takes the answers about what it published as they come, so that
// what failed is published again even while nothing more arrives. On
// ProducerFinished it publishes what is queued, waits for pub, calls
// finish and passes the message on; ShutdownMicroprocess is passed on
// at once. It fails (through fail) when the connection reports it has
// closed for good on status (nil for a local Backplane).
func publishInbox(ctx context.Context, c *axon.Component, pub runPublisher, status <-chan natsgo.Status, fail func(error) error, finish func() error) error {
	r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	var run []any
	publishRun := func(msgs []any) error { return pub.publish(ctx, msgs) }
	for {
		acked, failed := pub.oldest()
		select {
		case e := <-r.C():
			run = takeRun(r, r.Open(e), run, pub.limit())
			err := publishRun(run)
			clear(run)
			if err != nil {
				return fail(err)
			}
		case <-acked:
			if err := pub.answered(ctx, nil); err != nil {
				return fail(err)
			}
		case err := <-failed:
			if err := pub.answered(ctx, err); err != nil {
				return fail(err)
			}
		case msg := <-ctl:
			if axon.IsShutdownMicroprocess(msg) {
				return c.PassOn(ctx, msg)
			}
			if !axon.IsProducerFinished(msg) {
				_, _ = c.Control(ctx, msg, nil) // logs and ignores it
				continue
			}
			if err := drainRuns(r, &run, pub.limit(), publishRun); err != nil {
				return fail(err)
			}
			if err := pub.flush(ctx); err != nil {
				return fail(err)
			}
			if err := finish(); err != nil {
				return err
			}
			return c.PassOn(ctx, msg)
		case st := <-status:
			if st == natsgo.CLOSED {
				// Given up by nats.go (a finite MaxReconnects among the
				// NATS options).
				return fail(fmt.Errorf("%w: the NATS connection closed", ErrBackplaneEnded))
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// receiver hands what arrives from NATS for a Backplane to its
// subscribers. nats.go's delivery goroutine for the subscription is the
// only one to use it.
type receiver struct {
	b   *BackplaneComponent
	ctx context.Context // the Backplane's

	drops    nats.Drops
	received int   // messages handled
	run      []any // taken, not yet delivered
	ahead    int   // messages nats.go is known to have waiting after this one
}

// handle takes one message from nats.go. It keeps it with those before
// it while nats.go has more for the subscription waiting, so that a run
// of them reaches the subscribers in one delivery; a message is held
// only until the next call, which nats.go makes at once. How many are
// waiting is asked once per run: those counted then are sure to come.
func (rx *receiver) handle(m *natsgo.Msg) {
	if rx.ahead > 0 {
		rx.ahead-- // m is one of them
	}
	if rx.received++; rx.received%nats.DropCheckEvery == 0 {
		rx.checkDrops(m.Sub)
	}
	var msg any = m.Data
	if codec := rx.b.nats.codec; codec != nil {
		v, err := codec.Decode(m.Data)
		if err != nil {
			// Reported after the messages before it have gone on.
			rx.flush()
			rx.b.report(fmt.Errorf("backplane %q: message dropped: %w: %w", rx.b.name, nats.ErrDecode, err))
			return
		}
		msg = v
	}
	rx.run = append(rx.run, msg)
	if len(rx.run) < batchMax {
		if rx.ahead == 0 {
			rx.ahead = waitingAfter(m.Sub)
		}
		if rx.ahead > 0 {
			return
		}
	}
	rx.flush()
}

// waitingAfter returns how many messages nats.go has waiting for sub
// after the one being handled, which its count includes until the
// handler returns.
func waitingAfter(sub *natsgo.Subscription) int {
	n, _, err := sub.Pending()
	if err != nil || n < 1 {
		return 0
	}
	return n - 1
}

// flush delivers the run to the subscribers. Delivery fails only once
// the Backplane is ending, and then the run is let go.
func (rx *receiver) flush() {
	if len(rx.run) == 0 {
		return
	}
	_ = rx.b.fan.deliver(rx.ctx, rx.run)
	clear(rx.run)
	rx.run = rx.run[:0]
}

// checkDrops reports the messages nats.go has dropped for sub since the
// last report.
func (rx *receiver) checkDrops(sub *natsgo.Subscription) {
	if n := rx.drops.Check(sub); n > 0 {
		rx.b.report(fmt.Errorf("backplane %q: %d messages dropped by NATS, a subscriber was behind: %w: %w", rx.b.name, n, nats.ErrSlowConsumer, natsgo.ErrSlowConsumer))
	}
}
