package nats

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
)

// SubscriberComponent is the component Subscriber returns: an
// *axon.Component with counters and a readiness signal.
type SubscriberComponent struct {
	*axon.Component
	cfg        config
	subject    string
	subscribed chan struct{}
	rep        *axon.Reporter

	received, dropped, errs atomic.Uint64
}

// SubscriberStats are a Subscriber's counts so far.
type SubscriberStats struct {
	Received uint64 // messages sent on "outbox"
	Dropped  uint64 // messages dropped by nats.go because the Subscriber was behind
	Errors   uint64 // errors reported on "errors"
}

// Subscriber returns a component that subscribes to the NATS subject
// subject (wildcards allowed) and sends each message received on "outbox",
// in the order the server delivered them.
//
//	axon.Run(ctx, chassis.Pipeline(
//		nats.Subscriber("greetings", nats.Connect("nats://127.0.0.1:4222")),
//		util.ConsoleEchoer(os.Stdout),
//	))
//
// Boxes:
//
//	inbox   (in)  not read.
//	control (in)  ProducerFinished: the Subscriber unsubscribes, sends on
//	              the messages it had already received, closes the
//	              connection if it made it, passes the message on
//	              "signal" and ends. ShutdownMicroprocess, or the end of
//	              ctx: the same at once, dropping what it had received.
//	outbox  (out) []byte: each message's payload (a slice of its own),
//	              declared so (axon.Carries); with WithCodec, what the
//	              Codec decoded from it, declared as anything.
//	errors  (out) *axon.BoxError wrapping an *Error: a payload the Codec
//	              could not decode (ErrDecode;
//	              the message is dropped), and messages dropped by
//	              nats.go because the Subscriber fell behind
//	              (ErrSlowConsumer, also wrapping nats.ErrSlowConsumer,
//	              with the count in Dropped). Sent without waiting;
//	              logged with slog (a few a second at most) when
//	              "errors" leads nowhere or is full. The Subscriber
//	              carries on.
//	signal  (out) the shutdown message that ended the Subscriber.
//
// Backpressure and slow consumers: nats.go puts each message it receives
// into a channel of Buffer places (default DefaultBuffer) that the
// Subscriber empties as fast as "outbox" takes messages, taking what it
// finds waiting there (up to 64) and sending it on in one Batch, so that
// it crosses to the next component as batches where that component
// takes them (Serve does), with one wake-up for each. NATS cannot slow
// a publisher down for one subscriber, so when the channel is full nats.go
// drops the message (the NATS slow-consumer rule) and counts it. The
// Subscriber reports the messages dropped since its last report on
// "errors" once it has taken the next message from the full channel
// (which is at once, since the channel was full), and once more when it
// ends; the messages it does send on remain in order, with gaps where
// the drops were. The server may also cut off a connection that falls far behind
// (its own slow-consumer rule); the connection then reconnects.
//
// Outages: while the connection is down nothing arrives; once nats.go has
// reconnected it subscribes again and messages flow again. Core NATS keeps
// nothing for absent subscribers, so messages that reached the server
// while this Subscriber's subscription was not there (before it
// subscribed, during an outage, before its connection reconnected) are
// never delivered to it. See Publisher for what happens to messages
// published during an outage.
//
// The connection is made when the Subscriber starts (Connect, default
// nats.DefaultURL) or given (Conn). If it cannot be made, or the
// subscription cannot be made, the Subscriber fails with an
// *axon.BoxError wrapping an *Error wrapping ErrConnect or ErrSubscribe. If a connection given with Conn is
// closed under it, it fails with ErrClosed.
//
// With JetStream the Subscriber is durable instead: it reads the stream's
// messages on subject through a JetStream consumer of its own (durable
// with Consumer; Subscribed is closed once it exists), sends each run of
// them (up to 64) on "outbox" in one Batch and acknowledges the run only
// once every message is in the next component's inbox. A message
// delivered again that it has already sent on (it remembers the last
// DefaultSeen ids) is acknowledged and not sent again, so across server
// restarts nothing is lost and nothing is delivered twice. The consumer
// lets 2×Buffer messages be unacknowledged, which bounds what a stalled
// Subscriber holds; nothing is dropped, so Dropped stays 0. When it ends
// it gives back, in order, what it had fetched and not sent on, for the
// consumer's next reader, and makes sure the server has applied its
// acknowledgements. One that starts on a consumer with deliveries not
// yet acknowledged (its last reader was killed, or the server had some
// on their way as it stopped) sets the consumer back to the first of
// them before it acknowledges anything, which needs nats-server 2.14 or
// later (see StreamReader).
func Subscriber(subject string, opts ...Option) *SubscriberComponent {
	s := &SubscriberComponent{cfg: newConfig(opts), subject: subject, subscribed: make(chan struct{})}
	var out []axon.BoxOption
	if s.cfg.codec == nil {
		out = append(out, axon.Carries[[]byte]())
	}
	s.Component = axon.New(cmp.Or(s.cfg.name, "nats.Subscriber"), s.main,
		axon.WithInbox(axon.InboxName, "not read"),
		axon.WithOutbox(axon.OutboxName, "[]byte (or what the Codec decodes): one NATS message each", out...),
		axon.WithOutbox(ErrorsBox, "*axon.BoxError wrapping a *nats.Error: decode failures and slow-consumer drops; the Subscriber carries on", axon.Carries[*axon.BoxError]()),
	)
	s.rep = axon.NewReporter(s.Component, ErrorsBox)
	err := s.cfg.err
	if err == nil && !validSubject(subject, true) {
		err = fmt.Errorf("%w: bad subject %q", ErrConfig, subject)
	}
	if err != nil {
		s.FailOnStart(boxError(s.String(), axon.ControlName, "configure", s.natsError(err)))
	}
	return s
}

// Subject returns the subject the Subscriber subscribes to.
func (s *SubscriberComponent) Subject() string { return s.subject }

// Subscribed returns a channel that is closed once the server has
// confirmed the subscription: every message that reaches the server after
// that (while the connection stays up) is delivered to the Subscriber. If
// the connection is down when the Subscriber starts, the confirmation
// waits until it is back. It is never closed if the Subscriber ends first.
func (s *SubscriberComponent) Subscribed() <-chan struct{} { return s.subscribed }

// Stats returns the Subscriber's counts so far. It may be called at any
// time.
func (s *SubscriberComponent) Stats() SubscriberStats {
	received := s.received.Load()
	if s.cfg.stream != "" {
		received = s.Out(axon.OutboxName).Sent()
	}
	return SubscriberStats{Received: received, Dropped: s.dropped.Load(), Errors: s.errs.Load()}
}

func (s *SubscriberComponent) main(ctx context.Context, c *axon.Component) error {
	fail := func(op string, err error) error {
		return boxError(c.String(), "connection", op, s.natsError(err))
	}
	nc, own, err := s.cfg.connect(c.Logger())
	if err != nil {
		e := s.natsError(err)
		e.Server = s.cfg.url
		return boxError(c.String(), "connection", "connect", e)
	}
	if own {
		defer nc.Close()
	}
	if s.cfg.stream != "" {
		return s.durable(ctx, c, nc)
	}
	status := nc.StatusChanged(natsgo.CONNECTED, natsgo.CLOSED)
	defer nc.RemoveStatusListener(status)
	if nc.IsClosed() {
		return fail("subscribe", ErrClosed)
	}

	msgs := make(chan *natsgo.Msg, s.cfg.buffer)
	sub, err := nc.ChanSubscribe(s.subject, msgs)
	if err != nil {
		return fail("subscribe", fmt.Errorf("%w: %w", ErrSubscribe, err))
	}
	var drops Drops
	var sinceCheck int // messages passed on since checkDrops
	checkDrops := func() {
		d := drops.Check(sub)
		if d == 0 {
			return
		}
		s.dropped.Add(uint64(d))
		s.report(ctx, c, axon.OutboxName, "receive", d, fmt.Errorf("%w: %w", ErrSlowConsumer, natsgo.ErrSlowConsumer))
	}
	unsubscribe := func() {
		checkDrops()
		_ = sub.Unsubscribe() // fails only if already gone with the connection
	}
	// Confirm the subscription with a round trip to the server. If the
	// connection is down, try again each time it is back.
	confirmed := false
	confirm := func() {
		if !confirmed && nc.FlushTimeout(s.cfg.flushAfter) == nil {
			confirmed = true
			close(s.subscribed)
		}
	}
	confirm()

	out, ctl, done := c.Out(axon.OutboxName), c.In(axon.ControlName), ctx.Done()
	for {
		select {
		case m := <-msgs:
			// nats.go drops only while msgs is full: if it may have
			// been, look at once.
			full := len(msgs) >= cap(msgs)-1
			n, err := s.deliverRun(ctx, c, out, m, msgs)
			if err != nil {
				unsubscribe()
				return err
			}
			if sinceCheck += n; full || sinceCheck >= DropCheckEvery {
				sinceCheck = 0
				checkDrops()
			}
		case msg := <-ctl:
			if !axon.IsProducerFinished(msg) && !axon.IsShutdownMicroprocess(msg) {
				_, _ = c.Control(ctx, msg, nil) // logs and ignores it
				continue
			}
			unsubscribe()
			if axon.IsProducerFinished(msg) {
			drain:
				for {
					select {
					case m := <-msgs:
						if err := s.deliver(ctx, c, out, m); err != nil {
							return err
						}
					default:
						break drain
					}
				}
			}
			return c.PassOn(ctx, msg)
		case st := <-status:
			if st == natsgo.CONNECTED {
				confirm()
				continue
			}
			// Closed by its owner (Conn), or given up by nats.go
			// (NATSOptions with a finite MaxReconnects).
			return fail("receive", ErrClosed)
		case <-done:
			unsubscribe()
			return ctx.Err()
		}
	}
}

// deliverRun sends first on "outbox", then what else is waiting in msgs,
// up to batchMax, in one Batch: they cross to the next component
// together where it takes batches. It returns how many it took from
// msgs, first included.
func (s *SubscriberComponent) deliverRun(ctx context.Context, c *axon.Component, out *axon.Outbox, first *natsgo.Msg, msgs <-chan *natsgo.Msg) (int, error) {
	n := 1
	err := c.Batch(ctx, func(ctx context.Context) error {
		if err := s.deliver(ctx, c, out, first); err != nil {
			return err
		}
		for ; n < batchMax && ctx.Err() == nil; n++ {
			select {
			case m := <-msgs:
				if err := s.deliver(ctx, c, out, m); err != nil {
					return err
				}
			default:
				return nil
			}
		}
		return nil
	})
	return n, err
}

// deliver sends one message on "outbox", decoded if there is a Codec.
func (s *SubscriberComponent) deliver(ctx context.Context, c *axon.Component, out *axon.Outbox, m *natsgo.Msg) error {
	var msg any = m.Data
	if s.cfg.codec != nil {
		v, err := s.cfg.codec.Decode(m.Data)
		if err != nil {
			s.report(ctx, c, axon.OutboxName, "decode", 1, fmt.Errorf("%w: %w", ErrDecode, err))
			return nil
		}
		msg = v
	}
	if err := out.Send(ctx, msg); err != nil {
		return err
	}
	s.received.Add(1)
	return nil
}

// report sends err, which lost dropped messages, on "errors" without
// waiting, or logs it (at a limited rate), after the messages sent with
// ctx before it.
func (s *SubscriberComponent) report(ctx context.Context, c *axon.Component, box, op string, dropped int, err error) {
	s.errs.Add(1)
	e := s.natsError(err)
	e.Dropped = dropped
	s.rep.ReportFrom(ctx, boxError(c.String(), box, op, e))
}

// natsError is err with the Subscriber's subject and stream.
func (s *SubscriberComponent) natsError(err error) *Error {
	return &Error{Subject: s.subject, Stream: s.cfg.stream, Err: err}
}
