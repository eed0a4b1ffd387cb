package natsbackplane

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
)

// consumerBuffer is how many messages the nats.Subscriber of a
// SubscribeTo of a JetStream Backplane fetches ahead; its consumer lets
// twice that be unacknowledged, which bounds what the client holds when
// the graph stalls.
const consumerBuffer = nats.DefaultBuffer

// jsLink is what JetStream adds to a Backplane: one connection for the
// process's end of the backplane, the stream that keeps its messages,
// and the bookkeeping that lets the Backplane end after its publishers
// and subscribers have stopped using them.
type jsLink struct {
	*conn
	t      *transport
	stream string

	// ending is closed when the Backplane starts to end: publishers stop
	// waiting for acknowledgements and subscribers stop reading.
	ending chan struct{}
	mu     sync.Mutex
	ended  bool
	users  sync.WaitGroup // subscribers reading
}

// openJetStream connects, in the background as NATS does but without a
// reconnect buffer (see nats.JetStreamOptions), and makes sure the
// backplane's stream exists, trying again while the server cannot be
// reached, until ctx ends. An answer from the server refusing it
// (JetStream not enabled, a stream of that name with other subjects, no
// permission) is an error at once.
func openJetStream(ctx context.Context, t *transport, end *backplane.End) (backplane.Link, error) {
	c, err := dial(t, end, nats.JetStreamOptions()...)
	if err != nil {
		return nil, err
	}
	l := &jsLink{conn: c, t: t, stream: nats.StreamName(end.Name()), ending: make(chan struct{})}
	js, err := jetstream.New(c.nc)
	if err == nil {
		_, err = nats.EnsureStream(ctx, end.Component().Logger(), l.ending, js, l.stream, l.subject)
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("backplane %q: %w", end.Name(), err)
	}
	return l, nil
}

// enter records a subscriber that starts reading; false once the
// Backplane is ending.
func (l *jsLink) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return false
	}
	l.users.Add(1)
	return true
}

// Finish is Link.Finish: it makes publishers and subscribers stop, waits
// for the subscribers to have acknowledged what they handed on, and
// makes sure the server has had those acknowledgements. It may be called
// more than once.
func (l *jsLink) Finish(context.Context) error {
	l.mu.Lock()
	if !l.ended {
		l.ended = true
		close(l.ending)
	}
	l.mu.Unlock()
	l.users.Wait()
	if err := l.nc.FlushTimeout(nats.DefaultFlushTimeout); err != nil && !l.nc.IsClosed() {
		l.warn("backplane: final flush failed: acknowledgements may be lost, and messages delivered again",
			fmt.Errorf("%w: %w", nats.ErrFlush, err))
	}
	return nil
}

// Close is Link.Close.
func (l *jsLink) Close() {
	_ = l.Finish(context.Background())
	l.close()
}

// Publisher is Link.Publisher: each publisher publishes with message ids
// of its own.
func (l *jsLink) Publisher(id string, report func(error)) (backplane.Publishing, error) {
	ap, err := nats.NewAckedPublisher(l.nc, l.subject, nats.AckedPublisherConfig{
		ID: id, AckTimeout: l.t.ackTimeout, OnRetry: l.t.onRetry, Logger: l.end.Component().Logger(),
	})
	if err != nil {
		return nil, fmt.Errorf("backplane %q: %w", l.end.Name(), err)
	}
	return backplane.Publishes[*jetstream.PubAck](&jsPublisher{l: l, ap: ap, report: report}), nil
}

// jsPublisher publishes for one publisher (a PublishTo, or the
// Backplane for its own inbox) through an AckedPublisher of its own.
type jsPublisher struct {
	l      *jsLink
	ap     *nats.AckedPublisher
	report func(error)
}

func (p *jsPublisher) Publish(ctx context.Context, msgs []any) error {
	select {
	case <-p.l.ending:
		return backplane.ErrBackplaneEnded
	default:
	}
	for _, msg := range msgs {
		switch err := p.ended(p.ap.PublishValue(ctx, msg, p.l.codec, p.l.ending)); {
		case err == nil:
		case errors.Is(err, backplane.ErrBackplaneEnded), ctx.Err() != nil:
			return err
		default:
			p.report(fmt.Errorf("backplane %q: message not published: %w", p.l.end.Name(), err))
		}
	}
	return nil
}

func (p *jsPublisher) Flush(ctx context.Context) error {
	return p.ended(p.ap.Flush(ctx, p.l.ending))
}

func (p *jsPublisher) Oldest() (<-chan *jetstream.PubAck, <-chan error) { return p.ap.Oldest() }

func (p *jsPublisher) Answered(ctx context.Context, err error) error {
	return p.ended(p.ap.Answered(ctx, p.l.ending, err))
}

// ended turns a publisher stopped by the Backplane's end, or by its
// connection closing, into ErrBackplaneEnded.
func (p *jsPublisher) ended(err error) error {
	if errors.Is(err, nats.ErrStopped) || errors.Is(err, nats.ErrClosed) {
		return fmt.Errorf("%w: %w", backplane.ErrBackplaneEnded, err)
	}
	return err
}

func (p *jsPublisher) Close()       { p.ap.Close() }
func (p *jsPublisher) Limit() int   { return runMax }
func (p *jsPublisher) Pending() int { return p.ap.Pending() }

// Subscribe is Link.Subscribe: the SubscribeTo c runs a nats.Subscriber
// in the durable mode on the Backplane's connection, as its child, whose
// outbox is c's, and forwards its errors to the Backplane's "errors". It
// stops the child on ProducerFinished, ShutdownMicroprocess and the
// Backplane's end; the child gives back what it had fetched and not
// sent on, and flushes its acknowledgements.
func (l *jsLink) Subscribe(ctx context.Context, c *axon.Component, s backplane.Subscription) (bool, error) {
	if s.DropOldest > 0 {
		return true, fmt.Errorf("SubscribeTo: backplane %q: %w: DropOldest does not apply to a JetStream Backplane, whose subscribers lose nothing", s.Backplane, backplane.ErrBadOption)
	}
	if !l.enter() {
		return true, c.Finish(ctx)
	}
	defer l.users.Done()
	opts := []nats.Option{nats.Conn(l.nc), nats.JetStream(l.stream), nats.Buffer(consumerBuffer), nats.Name("SubscribeTo.nats.Subscriber")}
	if s.Durable != "" {
		opts = append(opts, nats.Consumer(s.Durable))
	}
	if l.codec != nil {
		opts = append(opts, nats.WithCodec(l.codec))
	}
	sub := nats.Subscriber(l.subject, opts...)
	errs := axon.New("SubscribeTo.errors", func(ctx context.Context, fc *axon.Component) error {
		return fc.Serve(ctx, func(_ context.Context, msg any) error {
			if err, ok := msg.(error); ok {
				l.end.Report(fmt.Errorf("backplane %q: %w", s.Backplane, err))
			}
			return nil
		})
	}, axon.WithInbox(axon.InboxName, "the errors of the SubscribeTo's nats.Subscriber", axon.Carries[error]()))
	err := errors.Join(
		axon.Link(sub, nats.ErrorsBox, errs, axon.InboxName),
		c.AddChild(sub),
		c.AddChild(errs),
		axon.Link(sub, axon.OutboxName, c, axon.OutboxName),
	)
	stop := func() {
		sub.Stop()
		errs.Stop()
		<-sub.Done()
		<-errs.Done()
	}
	defer stop()
	if err != nil {
		return true, fmt.Errorf("SubscribeTo: backplane %q: %w", s.Backplane, err)
	}
	subscribed, ctl := sub.Subscribed(), c.In(axon.ControlName)
	for {
		select {
		case <-subscribed:
			subscribed = nil
			s.Joined()
		case msg := <-ctl:
			if !axon.IsProducerFinished(msg) && !axon.IsShutdownMicroprocess(msg) {
				_, _ = c.Control(ctx, msg, nil) // logs and ignores it
				continue
			}
			stop()
			return true, c.PassOn(ctx, msg)
		case <-l.ending:
			stop()
			return true, c.Finish(ctx)
		case <-sub.Done():
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, fmt.Errorf("SubscribeTo: backplane %q: %w: its nats.Subscriber ended", s.Backplane, backplane.ErrBackplaneEnded)
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
}
