package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
)

// The durable (JetStream) mode of Publisher and Subscriber.

// Defaults of a Subscriber's consumer in the durable mode.
const (
	// DefaultAckWait is how long the server waits for a delivered
	// message's acknowledgement before delivering it again.
	DefaultAckWait = 30 * time.Second
	// DefaultInactive is how long the server keeps the consumer of a
	// Subscriber without Consumer once nobody reads it.
	DefaultInactive = 10 * time.Minute
)

// JetStream makes a Publisher publish into, and a Subscriber read from,
// the NATS JetStream stream called stream (the server must have JetStream
// enabled): durably, so that nothing is lost or delivered twice while the
// server restarts. The stream is made, on the component's subject, with
// file storage and interest retention, if there is none (see
// EnsureStream). A connection the component makes has no reconnect
// buffer (JetStreamOptions); give one made the same way with Conn.
// See Publisher and Subscriber for what each does in this mode.
func JetStream(stream string) Option {
	return func(c *config) {
		if stream == "" {
			c.err = fmt.Errorf("%w: JetStream: empty stream name", ErrConfig)
		}
		c.stream = stream
	}
}

// Consumer makes a Subscriber given JetStream read through the durable
// consumer called name (any string; see ConsumerName): the server keeps
// what arrives for it while it is gone, and a Subscriber of the same
// name later resumes at the first message not yet acknowledged. Without
// it a Subscriber's consumer is its own and is forgotten DefaultInactive
// after it stops reading.
func Consumer(name string) Option {
	return func(c *config) {
		if name == "" {
			c.err = fmt.Errorf("%w: Consumer: empty name", ErrConfig)
		}
		c.consumer = name
	}
}

// durable is a Publisher's main in the durable mode: each message gets
// an id of the Publisher's and is kept, up to DefaultAckWindow, until the
// server acknowledges storing it, and published again, in order, if the
// acknowledgement fails.
func (p *PublisherComponent) durable(ctx context.Context, c *axon.Component, nc *natsgo.Conn) error {
	fail := func(op string, err error) error {
		return boxError(c.String(), "connection", op, p.natsError(err))
	}
	if _, err := ensureStream(ctx, c, nc, p.cfg.stream, p.subject); err != nil {
		return fail("stream", err)
	}
	ap, err := NewAckedPublisher(nc, p.subject, AckedPublisherConfig{ID: c.ID().String(), Logger: c.Logger()})
	if err != nil {
		return fail("configure", err)
	}
	defer ap.Close()
	publish := func(m any) error {
		err := ap.PublishValue(ctx, m, p.cfg.codec, nil)
		switch {
		case err == nil:
			p.published.Add(1)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrEncode):
			p.report(c, "encode", err)
		case errors.Is(err, ErrBadMessage), errors.Is(err, ErrPublish):
			p.report(c, "publish", err)
		default:
			return fail("publish", err)
		}
		return nil
	}
	r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	for {
		acked, failed := ap.Oldest()
		select {
		case e := <-r.C():
			for _, m := range r.Open(e) {
				if err := publish(m); err != nil {
					return err
				}
			}
		case <-acked:
			if err := ap.Answered(ctx, nil, nil); err != nil {
				return fail("publish", err)
			}
		case err := <-failed:
			if err := ap.Answered(ctx, nil, err); err != nil {
				return fail("publish", err)
			}
		case msg := <-ctl:
			if !axon.IsProducerFinished(msg) && !axon.IsShutdownMicroprocess(msg) {
				_, _ = c.Control(ctx, msg, nil) // logs and ignores it
				continue
			}
			if axon.IsProducerFinished(msg) {
				if err := c.Drain(ctx, func(_ context.Context, m any) error { return publish(m) }); err != nil {
					return err
				}
				fctx, cancel := context.WithTimeout(ctx, p.cfg.flushAfter)
				err := ap.Flush(fctx, nil)
				cancel()
				if err != nil {
					p.report(c, "flush", fmt.Errorf("%w: %d messages not stored: %w", ErrFlush, ap.Pending(), err))
				}
			}
			return c.PassOn(ctx, msg)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ensureStream makes sure stream exists for subject, trying again while
// the server cannot be reached (see EnsureStream), and returns the
// JetStream context it used, for c.
func ensureStream(ctx context.Context, c *axon.Component, nc *natsgo.Conn, stream, subject string) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStream, err)
	}
	if _, err := EnsureStream(ctx, c.Logger(), nil, js, stream, subject); err != nil {
		return nil, err
	}
	return js, nil
}

// durable is a Subscriber's main in the durable mode: it reads the stream
// through a consumer of its own (durable with Consumer), sends each run
// on "outbox" in one Batch and acknowledges it once it is in the next
// component's inbox, leaving out redeliveries it has sent on already.
func (s *SubscriberComponent) durable(ctx context.Context, c *axon.Component, nc *natsgo.Conn) error {
	fail := func(op string, err error) error {
		return boxError(c.String(), "connection", op, s.natsError(err))
	}
	js, err := ensureStream(ctx, c, nc, s.cfg.stream, s.subject)
	if err != nil {
		return fail("stream", err)
	}
	rd, err := OpenReader(ctx, c.Logger(), nil, nc, js, s.cfg.stream, ReaderSpec{
		Filter: s.subject, Durable: s.cfg.consumer, ID: c.ID().String(), Buffer: s.cfg.buffer,
	})
	if err != nil {
		return fail("subscribe", fmt.Errorf("%w: %w", ErrSubscribe, err))
	}
	close(s.subscribed)
	bad := func(err error) {
		s.report(ctx, c, axon.OutboxName, "decode", 1, err)
	}
	msg, err := rd.Deliver(ctx, c, c.Out(axon.OutboxName), batchMax, s.cfg.codec, bad, nil)
	rd.Stop() // gives back what it had not sent on
	if ferr := nc.FlushTimeout(s.cfg.flushAfter); ferr != nil && err == nil {
		s.report(ctx, c, axon.ControlName, "flush", 0, fmt.Errorf("%w: acknowledgements: %w", ErrFlush, ferr))
	}
	if err != nil {
		return err
	}
	return c.PassOn(ctx, msg)
}

// ReaderSpec says what consumer OpenReader reads through.
type ReaderSpec struct {
	Filter  string        // the subject to read, if not all the stream's
	Durable string        // the durable consumer's name (see ConsumerName); "" for one of the reader's own
	ID      string        // names the reader's own consumer ("anon-" ID)
	Buffer  int           // messages fetched ahead; twice that may be unacknowledged
	AckWait time.Duration // the server's wait for an acknowledgement (DefaultAckWait if 0)
}

// OpenReader makes the consumer spec describes on stream, through js on
// nc (or takes the durable one of that name, updated), trying again
// while the server cannot be reached (see Retry, with log and stop), and
// starts reading it with a StreamReader. The consumer delivers what
// arrives from now on (a durable one that exists resumes where it was)
// and acknowledges with AckAll; one of the reader's own is forgotten
// DefaultInactive after nobody reads it.
func OpenReader(ctx context.Context, log *slog.Logger, stop <-chan struct{}, nc *natsgo.Conn, js jetstream.JetStream, stream string, spec ReaderSpec) (*StreamReader, error) {
	spec.Buffer = max(spec.Buffer, 1)
	log = cmp.Or(log, slog.Default())
	cc := jetstream.ConsumerConfig{
		FilterSubject: spec.Filter,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       cmp.Or(spec.AckWait, DefaultAckWait),
		MaxAckPending: 2 * spec.Buffer,
	}
	if spec.Durable != "" {
		cc.Durable = ConsumerName(spec.Durable)
	} else {
		cc.Name, cc.InactiveThreshold = "anon-"+spec.ID, DefaultInactive
	}
	var cons jetstream.Consumer
	err := Retry(ctx, log, stop, func() error {
		var err error
		cons, err = js.CreateOrUpdateConsumer(ctx, stream, cc)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrStopped) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: consumer %s: %w", ErrStream, cmp.Or(cc.Durable, cc.Name), err)
	}
	return ReadStream(nc, log, cons, spec.Buffer, func(err error) {
		log.Debug("nats: consumer", "stream", stream, "consumer", cmp.Or(cc.Durable, cc.Name), "error", err)
	})
}
