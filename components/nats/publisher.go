package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
)

// batchMax is how many messages a Publisher or Subscriber passes on in a
// row, when more are waiting, before it looks at "control" again.
const batchMax = 64

// ErrorsBox is the outbox on which Publisher and Subscriber report
// errors, each an *axon.BoxError wrapping an *Error, and carry on.
const ErrorsBox = axon.ErrorsName

// PublisherComponent is the component Publisher returns: an
// *axon.Component with counters.
type PublisherComponent struct {
	*axon.Component
	cfg     config
	subject string
	rep     *axon.Reporter

	published, errs atomic.Uint64
	flushed         bool // used by the main goroutine only
}

// PublisherStats are a Publisher's counts so far.
type PublisherStats struct {
	Published uint64 // messages handed to nats.go without error
	Errors    uint64 // errors reported on "errors"
}

// Publisher returns a component that publishes each message arriving on
// "inbox" to the NATS subject subject, in order.
//
//	axon.Run(ctx, chassis.Pipeline(
//		util.DataSource([]any{"one", "two"}),
//		nats.Publisher("greetings", nats.Connect("nats://127.0.0.1:4222")),
//	))
//
// Boxes:
//
//	inbox   (in)  []byte or string: each the payload of one NATS
//	              message; with WithCodec, any message the Codec
//	              encodes ([]byte and string go through it too).
//	              A []byte is not kept: it may be reused once taken.
//	              It holds 256 messages (four times the default).
//	control (in)  ProducerFinished: the messages queued in "inbox" are
//	              published, the Publisher flushes (waits up to
//	              FlushTimeout for the server to confirm them), closes
//	              the connection if it made it, passes the message on
//	              "signal" and ends. ShutdownMicroprocess, or the end of
//	              ctx: the same at once, leaving "inbox" unread.
//	outbox  (out) not used.
//	errors  (out) *axon.BoxError wrapping an *Error: a message not
//	              published (ErrBadMessage,
//	              ErrEncode, ErrPublish wrapping nats.go's error), or a
//	              failed flush at the end (ErrFlush). Sent without
//	              waiting; logged with slog (a few a second at most)
//	              when "errors" leads nowhere or is full. The Publisher
//	              carries on.
//	signal  (out) the shutdown message that ended the Publisher.
//
// The connection is made when the Publisher starts (Connect, default
// nats.DefaultURL) or given (Conn). If it cannot be made the Publisher
// fails with an *axon.BoxError wrapping an *Error wrapping ErrConnect; a
// bad subject or options fail it with ErrConfig.
//
// Delivery is core NATS: at most once, to the subscribers the server
// knows of when the message reaches it. While the connection is down,
// nats.go reconnects for ever and keeps what is published in a reconnect
// buffer (DefaultReconnectBufSize bytes, nats.ReconnectBufSize to change);
// once reconnected it sends the connection's subscriptions again and then
// the buffered messages, in order, before anything published later. A
// message that does not fit in the buffer is refused at once, reported on
// "errors" wrapping ErrPublish and nats.ErrReconnectBufExceeded, and lost;
// later messages that fit are still buffered. Messages still buffered when
// the Publisher closes its connection are lost (the failed flush is
// reported). Messages handed to the socket in the instant before nats.go
// notices that the server has gone can be lost without an error.
//
// Buffered messages reach only subscribers that are subscribed on the
// server when they arrive: a Subscriber on the same connection always is
// (its subscription is sent first); a Subscriber on another connection
// is once that connection too has reconnected, which may be later, so
// buffered messages may miss it.
//
// With JetStream the Publisher is durable instead: the stream (made if
// there is none) keeps what it publishes; each message carries a
// Nats-Msg-Id of the Publisher's and is kept, up to DefaultAckWindow
// messages, until the server acknowledges storing it, and published
// again, in order, when the acknowledgement fails (a lost one is stored
// once); beyond that window the Publisher waits, and its inbox fills, so
// a slow or absent server holds its producers back and nothing is lost.
// A []byte is copied, since it is kept until stored. On ProducerFinished
// it waits up to FlushTimeout for everything to be stored (a failure is
// reported on "errors" wrapping ErrFlush, with the count not stored).
// If the server has no JetStream the Publisher fails with ErrStream.
func Publisher(subject string, opts ...Option) *PublisherComponent {
	p := &PublisherComponent{cfg: newConfig(opts), subject: subject}
	p.Component = axon.New(cmp.Or(p.cfg.name, "nats.Publisher"), p.main,
		axon.WithInbox(axon.InboxName, "[]byte or string (or what the Codec encodes): the payload of one NATS message", axon.Capacity(axon.BurstCapacity)),
		axon.WithOutbox(ErrorsBox, "*axon.BoxError wrapping a *nats.Error: a message not published; the Publisher carries on", axon.Carries[*axon.BoxError]()),
	)
	p.rep = axon.NewReporter(p.Component, ErrorsBox)
	err := p.cfg.err
	if err == nil && !validSubject(subject, false) {
		err = fmt.Errorf("%w: bad subject %q for publishing", ErrConfig, subject)
	}
	if err != nil {
		p.FailOnStart(boxError(p.String(), axon.ControlName, "configure", p.natsError(err)))
	}
	return p
}

// Subject returns the subject the Publisher publishes to.
func (p *PublisherComponent) Subject() string { return p.subject }

// Stats returns the Publisher's counts so far. It may be called at any
// time.
func (p *PublisherComponent) Stats() PublisherStats {
	return PublisherStats{Published: p.published.Load(), Errors: p.errs.Load()}
}

func (p *PublisherComponent) main(ctx context.Context, c *axon.Component) error {
	nc, own, err := p.cfg.connect(c.Logger())
	if err != nil {
		e := p.natsError(err)
		e.Server = p.cfg.url
		return boxError(c.String(), "connection", "connect", e)
	}
	if p.cfg.stream != "" {
		if own {
			defer nc.Close()
		}
		return p.durable(ctx, c, nc)
	}
	defer func() {
		p.flush(c, nc)
		if own {
			nc.Close()
		}
	}()
	r, ctl, done := c.Reader(axon.InboxName), c.In(axon.ControlName), ctx.Done()
	for {
		// Control first, so a busy inbox does not delay a shutdown.
		select {
		case msg := <-ctl:
			if stop, err := p.control(ctx, c, nc, r, msg); stop {
				return err
			}
			continue
		default:
		}
		select {
		case e := <-r.C():
			// This element (one message, or a batch of them) and what
			// else is waiting, up to about batchMax, without going
			// round both selects for each; control is looked at again
			// after that, and a ShutdownMicroprocess has cancelled ctx
			// already.
			msgs := r.Open(e)
			for n := 0; ; {
				for _, m := range msgs {
					p.publish(c, nc, m)
				}
				if n += len(msgs); n >= batchMax || ctx.Err() != nil {
					break
				}
				if msgs = r.Next(); msgs == nil {
					break
				}
			}
		case msg := <-ctl:
			if stop, err := p.control(ctx, c, nc, r, msg); stop {
				return err
			}
		case <-done:
			return ctx.Err()
		}
	}
}

// control handles a message from "control": publishes what is queued for
// ProducerFinished, flushes, and passes the message on.
func (p *PublisherComponent) control(ctx context.Context, c *axon.Component, nc *natsgo.Conn, r *axon.Reader, msg any) (bool, error) {
	if !axon.IsProducerFinished(msg) && !axon.IsShutdownMicroprocess(msg) {
		return c.Control(ctx, msg, nil) // logs and ignores it
	}
	if axon.IsProducerFinished(msg) {
		for msgs := r.Next(); msgs != nil; msgs = r.Next() {
			for _, m := range msgs {
				p.publish(c, nc, m)
			}
		}
	}
	p.flush(c, nc)
	return true, c.PassOn(ctx, msg)
}

// Payload turns msg into the bytes published for it: with a Codec, its
// encoding (an error wraps ErrEncode); without one, a []byte as it is or
// a string's bytes (any other type is an error wrapping ErrBadMessage).
// The result may share memory with msg: nats.go copies what it publishes
// before Publish returns.
func Payload(msg any, codec Codec) ([]byte, error) {
	if codec != nil {
		d, err := codec.Encode(msg)
		if err != nil {
			return nil, fmt.Errorf("%w %T: %w", ErrEncode, msg, err)
		}
		return d, nil
	}
	switch m := msg.(type) {
	case []byte:
		return m, nil
	case string:
		return unsafe.Slice(unsafe.StringData(m), len(m)), nil
	}
	return nil, fmt.Errorf("%w: %T (want []byte or string, or give a Codec)", ErrBadMessage, msg)
}

// Publish publishes msg on nc to subject, its payload made by Payload
// with codec: what a Publisher does with each message, for others that
// publish on a connection of their own (the NATS backplane). An error
// wraps ErrEncode or ErrBadMessage (from Payload), or ErrPublish and
// nats.go's error (nats.ErrConnectionClosed,
// nats.ErrReconnectBufExceeded, ...); the message was not published.
func Publish(nc *natsgo.Conn, subject string, msg any, codec Codec) error {
	data, err := Payload(msg, codec)
	if err != nil {
		return err
	}
	if err := nc.Publish(subject, data); err != nil {
		return fmt.Errorf("%w: %w", ErrPublish, err)
	}
	return nil
}

// publish publishes one message, reporting failure on "errors".
func (p *PublisherComponent) publish(c *axon.Component, nc *natsgo.Conn, msg any) {
	if err := Publish(nc, p.subject, msg, p.cfg.codec); err != nil {
		p.report(c, opOf(err), err)
		return
	}
	p.published.Add(1)
}

// opOf names what failed for an error of Publish or Payload.
func opOf(err error) string {
	if errors.Is(err, ErrEncode) {
		return "encode"
	}
	return "publish"
}

// flush waits for the server to confirm what was published, once.
func (p *PublisherComponent) flush(c *axon.Component, nc *natsgo.Conn) {
	if p.flushed {
		return
	}
	p.flushed = true
	if nc.IsClosed() {
		return
	}
	if err := nc.FlushTimeout(p.cfg.flushAfter); err != nil {
		p.report(c, "flush", fmt.Errorf("%w: %w", ErrFlush, err))
	}
}

// report sends err on "errors" without waiting, or logs it (at a
// limited rate).
func (p *PublisherComponent) report(c *axon.Component, op string, err error) {
	p.errs.Add(1)
	box := axon.InboxName
	if op == "flush" {
		box = axon.ControlName
	}
	p.rep.Report(boxError(c.String(), box, op, p.natsError(err)))
}

// natsError is err with the Publisher's subject and stream.
func (p *PublisherComponent) natsError(err error) *Error {
	return &Error{Subject: p.subject, Stream: p.cfg.stream, Err: err}
}
