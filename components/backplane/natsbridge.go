package backplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

	// mu is held for reading while a message is published and for
	// writing to end publishing, so that nothing is published after the
	// Backplane's final flush.
	mu     sync.RWMutex
	closed bool
}

// dialNATS connects to cfg's server for the backplane called name. It
// does not fail or wait when the server is down: the connection keeps
// trying in the background until it is closed.
func dialNATS(name string, cfg config) (*natsLink, error) {
	opts := append(nats.DefaultOptions("backplane", name),
		natsgo.Name("kamaelia backplane "+name),
		natsgo.RetryOnFailedConnect(true),
	)
	nc, err := natsgo.Connect(cfg.natsURL, append(opts, cfg.natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("backplane %q: %w: %s: %w", name, ErrNoBackplane, cfg.natsURL, err)
	}
	return &natsLink{name: name, nc: nc, subject: nats.Subject(name), codec: cfg.codec}, nil
}

// publish publishes msg, then up to batchMax-1 more that more has at
// once, on the connection. A message that cannot be published (of a type
// it cannot send, or that the codec refuses) is given to report and
// skipped; once the Backplane has ended publishing fails with
// ErrBackplaneEnded.
func (l *natsLink) publish(msg any, more func() (any, bool), report func(error)) error {
	// Errors are collected under the lock and reported after it, so
	// that a slow report does not hold up endPublishing.
	var errs []error
	err := l.publishBatch(msg, more, &errs)
	for _, e := range errs {
		report(e)
	}
	return err
}

// publishBatch is publish's work, under the read lock taken once for the
// batch. Messages not published add their error to errs.
func (l *natsLink) publishBatch(msg any, more func() (any, bool), errs *[]error) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for n := 1; ; n++ {
		if data, err := nats.Payload(msg, l.codec); err != nil {
			*errs = append(*errs, fmt.Errorf("backplane %q: message not published: %w", l.name, err))
		} else if l.closed {
			return ErrBackplaneEnded
		} else if err := l.nc.Publish(l.subject, data); err != nil {
			if errors.Is(err, natsgo.ErrConnectionClosed) {
				return fmt.Errorf("%w: %w", ErrBackplaneEnded, err)
			}
			*errs = append(*errs, fmt.Errorf("backplane %q: message not published: %w: %w", l.name, nats.ErrPublish, err))
		}
		if n == batchMax || more == nil {
			return nil
		}
		var ok bool
		if msg, ok = more(); !ok {
			return nil
		}
	}
}

// endPublishing makes later publishes fail with ErrBackplaneEnded, once
// those under way have been handed to the connection.
func (l *natsLink) endPublishing() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

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

	// nats.go's delivery goroutine for the subscription calls handle for
	// each message in turn, and handle hands it to the subscribers: no
	// goroutine of the Backplane's own stands between NATS and them.
	// nats.go holds up to nats.DefaultBuffer messages for it and drops
	// what arrives beyond that.
	var (
		drops    nats.Drops
		received int // used by handle only
	)
	checkDrops := func(sub *natsgo.Subscription) {
		if n := drops.Check(sub); n > 0 {
			b.report(fmt.Errorf("backplane %q: %d messages dropped by NATS, a subscriber was behind: %w: %w", b.name, n, nats.ErrSlowConsumer, natsgo.ErrSlowConsumer))
		}
	}
	handle := func(m *natsgo.Msg) {
		if received++; received%nats.DropCheckEvery == 0 {
			checkDrops(m.Sub)
		}
		var msg any = m.Data
		if l.codec != nil {
			v, err := l.codec.Decode(m.Data)
			if err != nil {
				b.report(fmt.Errorf("backplane %q: message dropped: %w: %w", b.name, nats.ErrDecode, err))
				return
			}
			msg = v
		}
		// It fails only once the Backplane is ending.
		_ = b.fan.deliver(ctx, msg, nil)
	}
	sub, err := nc.Subscribe(l.subject, handle)
	if err == nil {
		err = sub.SetPendingLimits(nats.DefaultBuffer, -1)
	}
	if err != nil {
		return fail(fmt.Errorf("%w: %w", nats.ErrSubscribe, err))
	}
	defer checkDrops(sub)

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

	in, ctl := c.In(axon.InboxName), c.In(axon.ControlName)
	more := queued(in)
	for {
		select {
		case msg := <-in:
			if err := l.publish(msg, more, b.report); err != nil {
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
			// Publish what is queued; once the server has answered a
			// flush, it has sent back everything this connection
			// published (the answer follows it), so deliver what has
			// arrived (a barrier runs once nats.go has handed over what
			// it held before it), then end.
			if err := drain(ctx, in, func(_ context.Context, msg any) error { return l.publish(msg, nil, b.report) }); err != nil {
				return fail(err)
			}
			l.endPublishing()
			if err := nc.FlushTimeout(nats.DefaultFlushTimeout); err != nil {
				slog.Warn("backplane: final flush failed: messages may be lost", "backplane", b.name, "error", fmt.Errorf("%w: %w", nats.ErrFlush, err))
			}
			delivered := make(chan struct{})
			if err := nc.Barrier(func() { close(delivered) }); err == nil {
				select {
				case <-delivered:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			_ = sub.Unsubscribe()
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
