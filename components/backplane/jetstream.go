package backplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/nats"
)

// Tuning of the durable (JetStream) mode.
const (
	// consumerBuffer is how many messages a SubscribeTo of a JetStream
	// Backplane keeps ready for its outbox, and asks nats.go to fetch
	// ahead; the consumer lets twice that be unacknowledged, which bounds
	// what the client holds when the graph stalls.
	consumerBuffer = 1024
)

// jsLink is what the JetStream option adds to a Backplane: one
// connection for the process's end of the backplane, the stream that
// keeps its messages, and the bookkeeping that lets the Backplane end
// after its publishers and subscribers have stopped using them.
type jsLink struct {
	name    string
	log     *slog.Logger // the Backplane's graph's
	nc      *natsgo.Conn
	js      jetstream.JetStream
	subject string
	stream  string
	cfg     config

	// ending is closed when the Backplane starts to end: publishers stop
	// waiting for acknowledgements and subscribers stop reading.
	ending chan struct{}
	mu     sync.Mutex
	ended  bool
	users  sync.WaitGroup // subscribers reading
}

// dialJetStream connects to cfg's server for the backplane called name,
// in the background as dialNATS does, without a reconnect buffer (see
// nats.JetStreamOptions).
func dialJetStream(name string, cfg config) (*jsLink, error) {
	nc, err := connect(name, cfg, nats.JetStreamOptions()...)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("backplane %q: %w", name, err)
	}
	return &jsLink{
		name: name, nc: nc, js: js, subject: nats.Subject(name), stream: nats.StreamName(name),
		cfg: cfg, ending: make(chan struct{}),
	}, nil
}

// ensureStream makes sure the backplane's stream exists, trying again
// while the server cannot be reached, until ctx ends. An answer from the
// server refusing it (JetStream not enabled, a stream of that name with
// other subjects, no permission) is an error at once.
func (l *jsLink) ensureStream(ctx context.Context) error {
	err := nats.Retry(ctx, l.ending, func() error {
		_, err := nats.EnsureStream(ctx, l.js, l.stream, l.subject)
		return err
	})
	if err != nil {
		return fmt.Errorf("backplane %q: %w", l.name, err)
	}
	return nil
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

// end makes publishers and subscribers stop, waits for the subscribers
// to have acknowledged what they handed on, and makes sure the server
// has had those acknowledgements. It may be called more than once.
func (l *jsLink) end() {
	l.mu.Lock()
	if !l.ended {
		l.ended = true
		close(l.ending)
	}
	l.mu.Unlock()
	l.users.Wait()
	if err := l.nc.FlushTimeout(nats.DefaultFlushTimeout); err != nil && !l.nc.IsClosed() {
		l.log.Warn("backplane: final flush failed: acknowledgements may be lost, and messages delivered again",
			"backplane", l.name, "error", fmt.Errorf("%w: %w", nats.ErrFlush, err))
	}
}

// jsPublisher publishes for one publisher (a PublishTo, or the
// Backplane for its own inbox) with message ids of its own.
type jsPublisher struct {
	l      *jsLink
	ap     *nats.AckedPublisher
	report func(error)
}

func (l *jsLink) publisher(id string, report func(error)) (*jsPublisher, error) {
	ap, err := nats.NewAckedPublisher(l.nc, l.subject, nats.AckedPublisherConfig{
		ID: id, AckTimeout: l.cfg.ackTimeout, OnRetry: l.cfg.onRetry,
	})
	if err != nil {
		return nil, fmt.Errorf("backplane %q: %w", l.name, err)
	}
	return &jsPublisher{l: l, ap: ap, report: report}, nil
}

func (p *jsPublisher) publish(ctx context.Context, msgs []any) error {
	select {
	case <-p.l.ending:
		return ErrBackplaneEnded
	default:
	}
	for _, msg := range msgs {
		data, err := nats.Payload(msg, p.l.cfg.codec)
		if err == nil {
			err = p.ap.Publish(ctx, data, p.l.ending)
		}
		switch err = p.ended(err); {
		case err == nil:
		case errors.Is(err, ErrBackplaneEnded), ctx.Err() != nil:
			return err
		default:
			p.report(fmt.Errorf("backplane %q: message not published: %w", p.l.name, err))
		}
	}
	return nil
}

func (p *jsPublisher) flush(ctx context.Context) error {
	return p.ended(p.ap.Flush(ctx, p.l.ending))
}

func (p *jsPublisher) oldest() (<-chan *jetstream.PubAck, <-chan error) { return p.ap.Oldest() }

func (p *jsPublisher) answered(ctx context.Context, err error) error {
	return p.ended(p.ap.Answered(ctx, p.l.ending, err))
}

// ended turns a publisher stopped by the Backplane's end, or by its
// connection closing, into ErrBackplaneEnded.
func (p *jsPublisher) ended(err error) error {
	if errors.Is(err, nats.ErrStopped) || errors.Is(err, nats.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrBackplaneEnded, err)
	}
	return err
}

func (p *jsPublisher) close()       { p.ap.Close() }
func (p *jsPublisher) limit() int   { return natsRunMax }
func (p *jsPublisher) pending() int { return p.ap.Pending() }

// runJetStream is a Backplane's main with the JetStream option: it makes
// sure the stream exists, registers, then publishes what arrives on
// "inbox" until it is told to stop. Subscribers read the stream through
// consumers of their own (see SubscribeToComponent.consume).
func (b *BackplaneComponent) runJetStream(ctx context.Context, c *axon.Component) error {
	l, err := dialJetStream(b.name, b.cfg)
	if err != nil {
		return err
	}
	l.log = c.Logger()
	defer l.nc.Close()
	defer l.end()
	if err := l.ensureStream(ctx); err != nil {
		return err
	}
	b.js = l
	pub, err := l.publisher(c.ID().String(), b.report)
	if err != nil {
		return err
	}
	defer pub.close()
	unregister, err := register(b.name, b)
	if err != nil {
		return err
	}
	defer unregister()
	status := l.nc.StatusChanged(natsgo.CLOSED)
	defer l.nc.RemoveStatusListener(status)
	fail := func(err error) error { return fmt.Errorf("backplane %q: %w", b.name, err) }
	return publishInbox(ctx, c, pub, status, fail, func() error {
		l.end()
		return nil
	})
}

// consume is a SubscribeTo's main on a JetStream Backplane: it reads the
// stream through a consumer of its own (durable if named), sends each
// run of new messages on "outbox" in one Batch, and acknowledges the run
// once Batch has returned, that is once every message is in the next
// component's inbox. A message delivered again that it has sent on
// already is acknowledged and not sent again.
func (s *SubscribeToComponent) consume(ctx context.Context, c *axon.Component, h hub, l *jsLink) error {
	if s.cfg.dropOldest > 0 {
		return fmt.Errorf("SubscribeTo: backplane %q: %w: DropOldest does not apply to a JetStream Backplane, whose subscribers lose nothing", s.name, ErrBadOption)
	}
	if !l.enter() {
		return c.Finish(ctx)
	}
	defer l.users.Done()
	rd, err := s.reader(ctx, c, l)
	if errors.Is(err, ErrBackplaneEnded) {
		return c.Finish(ctx)
	}
	if err != nil {
		return fmt.Errorf("SubscribeTo: backplane %q: %w", s.name, err)
	}
	// What was read and not sent on is given back, to be delivered to
	// the consumer's next reader, and the server is to have every
	// acknowledgement before the SubscribeTo ends.
	stop := sync.OnceFunc(func() {
		rd.Stop()
		s.flushAcks(l)
	})
	defer stop()
	close(s.joined)

	bad := func(err error) { h.report(fmt.Errorf("backplane %q: message dropped: %w", s.name, err)) }
	// A send waiting for room gives up when the Backplane ends, which
	// waits for its subscribers to stop.
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-l.ending:
			cancel()
		case <-sendCtx.Done():
		}
	}()
	msg, err := rd.Deliver(sendCtx, c, c.Out(axon.OutboxName), batchMax, l.cfg.codec, bad, l.ending)
	if err != nil && (ctx.Err() != nil || !isClosed(l.ending)) {
		return err
	}
	stop()
	if msg != nil {
		return c.PassOn(ctx, msg)
	}
	return c.Finish(ctx) // the Backplane is ending
}

// flushAcks makes sure the server has the acknowledgements sent so far,
// so that a consumer read again later does not deliver those messages
// again.
func (s *SubscribeToComponent) flushAcks(l *jsLink) {
	if err := l.nc.FlushTimeout(nats.DefaultFlushTimeout); err != nil {
		s.Logger().Warn("backplane: acknowledgements may not have reached the server: messages may be delivered again",
			"backplane", s.name, "component", s.String(), "error", err)
	}
}

// reader makes (or finds, for a durable name that exists) the
// SubscribeTo's consumer and starts reading it, trying again while the
// server cannot be reached.
func (s *SubscribeToComponent) reader(ctx context.Context, c *axon.Component, l *jsLink) (*nats.StreamReader, error) {
	rd, err := nats.OpenReader(ctx, l.ending, l.nc, l.stream, nats.ReaderSpec{
		Durable: s.cfg.durable, ID: c.ID().String(), Buffer: consumerBuffer,
	})
	if errors.Is(err, nats.ErrStopped) {
		return nil, ErrBackplaneEnded
	}
	return rd, err
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
