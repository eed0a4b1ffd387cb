package fragment

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// BroadcasterComponent is the component Broadcaster returns: an
// *axon.Component with counters.
type BroadcasterComponent struct {
	*axon.Component
	frag     *Splitter
	rate     int
	reporter *axon.Reporter

	messages, datagrams, bytes, refused atomic.Uint64
}

// BroadcastStats are a Broadcaster's counts so far.
type BroadcastStats struct {
	Messages  uint64 // messages fragmented and sent
	Datagrams uint64 // fragments sent on "outbox"
	Bytes     uint64 // their length, headers included
	Refused   uint64 // messages refused (reported on "errors")
}

// Broadcaster splits each message arriving on "inbox" into fragments that
// fit a datagram (the wire format is documented on Part) and sends them,
// in order, on "outbox". It is the sending half of mcl's RawBroadcaster,
// without the socket: link its outbox to any component whose inbox takes
// []byte datagrams (a udp.SimplePeer or TargettedPeer for unicast, a
// multicast.Sender or Transceiver for a group), and a Listener at the
// other end puts the messages back together.
//
//	axon.Run(ctx, chassis.Pipeline(
//		util.DataSource(messages),
//		fragment.Broadcaster(fragment.Topic("weather")),
//		udp.SimplePeer(udp.Remote("203.0.113.7:26000")),
//	))
//
// Boxes:
//
//	inbox   (in)  one message each: []byte or string, sent on the
//	              Broadcaster's topic (Topic; default ""), or a Message
//	              (or *Message), sent on its own Topic (From is ignored).
//	              The Broadcaster reads a []byte while it sends the
//	              fragments: do not change it once sent.
//	control (in)  ProducerFinished: the messages queued in "inbox" are
//	              sent, the message is passed on "signal", and the
//	              Broadcaster ends. ShutdownMicroprocess: the same, at
//	              once, dropping what is queued.
//	outbox  (out) []byte: each a datagram, one fragment, in a slice of
//	              its own (fragments made together share an allocation,
//	              as Splitter.SplitTopic says); at most DatagramSize
//	              bytes. A message's fragments cross to the next
//	              component many at a time.
//	errors  (out) an *axon.BoxError about "inbox" around a *udp.Error,
//	              Op "fragment": a message refused, wrapping ErrTooLarge
//	              (longer than MaxMessage), ErrTopicTooLong, or
//	              axon.ErrBadMessage (not a message type above). Sent without waiting; logged with slog
//	              when "errors" leads nowhere or is full. The Broadcaster
//	              carries on.
//	signal  (out) the shutdown message that ended the Broadcaster.
//
// Options: Topic, DatagramSize, MaxMessage and Rate. An option out of
// range makes the Broadcaster fail when it starts, with an error wrapping
// axon.ErrConfig. Message ids start at a random number for each
// Broadcaster, so receivers tell its messages from another's on the same
// socket.
//
// Without Rate, the Broadcaster sends as fast as the next component
// takes datagrams, and a UDP socket takes them as fast as the kernel
// will: a large message can overrun a receiver's socket buffer, and what
// does not fit is lost, so the whole message is. Raise the receiver's
// buffer (udp.ReadBuffer), pace the Broadcaster with Rate, or both.
func Broadcaster(opts ...Option) *BroadcasterComponent {
	b := &BroadcasterComponent{}
	b.Component = axon.New("Broadcaster", b.main,
		axon.WithInbox(axon.InboxName, "[]byte, string or fragment.Message: one message each"),
		axon.WithOutbox(axon.OutboxName, "[]byte: one fragment each, a datagram to send", axon.Carries[[]byte]()),
		axon.WithOutbox(axon.ErrorsName, "*udp.Error (in an *axon.BoxError): a message that could not be sent; the Broadcaster carries on", axon.Carries[error]()),
	)
	b.reporter = axon.NewReporter(b.Component, axon.ErrorsName)
	cfg, err := newConfig("Broadcaster", broadcasterOptions, opts)
	if err != nil {
		b.FailOnStart(b.BoxError(axon.ControlName, &udp.Error{Op: "configure", Err: err}))
		return b
	}
	b.frag = newSplitter(cfg.topic, cfg.datagram, cfg.maxMessage, randomID())
	b.rate = cfg.rate
	return b
}

// Stats returns the Broadcaster's counts so far. It may be called at any
// time.
func (b *BroadcasterComponent) Stats() BroadcastStats {
	return BroadcastStats{
		Messages:  b.messages.Load(),
		Datagrams: b.datagrams.Load(),
		Bytes:     b.bytes.Load(),
		Refused:   b.refused.Load(),
	}
}

func (b *BroadcasterComponent) main(ctx context.Context, c *axon.Component) error {
	out := c.Out(axon.OutboxName)
	pace := newPacer(b.rate)
	return c.Serve(ctx, func(ctx context.Context, msg any) error {
		var topic string
		var data []byte
		switch m := msg.(type) {
		case []byte:
			topic, data = b.frag.topic, m
		case string:
			// Read only: the fragments are copies.
			topic, data = b.frag.topic, unsafe.Slice(unsafe.StringData(m), len(m))
		case Message:
			topic, data = m.Topic, m.Data
		case *Message:
			if m == nil {
				b.refuse(ctx, fmt.Errorf("%w: nil *fragment.Message", axon.ErrBadMessage))
				return nil
			}
			topic, data = m.Topic, m.Data
		default:
			b.refuse(ctx, fmt.Errorf("%w: %T is not a message (want []byte, string or fragment.Message)", axon.ErrBadMessage, msg))
			return nil
		}
		seq, err := b.frag.SplitTopic(topic, data)
		if err != nil {
			b.refuse(ctx, err)
			return nil
		}
		// ctx is Serve's: the fragments are held and cross to the next
		// component many at a time, as many as its inbox allows, and the
		// pacer puts in what is held before it waits.
		for d := range seq {
			if err := pace.wait(ctx, len(d)); err != nil {
				return err
			}
			if err := out.Send(ctx, d); err != nil {
				return err
			}
			b.datagrams.Add(1)
			b.bytes.Add(uint64(len(d)))
		}
		b.messages.Add(1)
		return nil
	})
}

// refuse reports a message that will not be sent.
func (b *BroadcasterComponent) refuse(ctx context.Context, err error) {
	b.refused.Add(1)
	b.reporter.ReportFrom(ctx, b.BoxError(axon.InboxName, &udp.Error{Op: "fragment", Dropped: 1, Err: err}))
}

// pacer spaces sends to a rate in bytes a second (a token bucket).
type pacer struct {
	rate   float64 // bytes a second; 0 = no pacing
	tokens float64 // bytes that may go now
	last   time.Time
}

// pacerBurst is the most a pacer lets through at once, in bytes.
const pacerBurst = 64 << 10

func newPacer(rate int) *pacer {
	return &pacer{rate: float64(rate), tokens: pacerBurst}
}

// wait returns when n more bytes may be sent, or when ctx ends.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p.rate == 0 {
		return nil
	}
	now := time.Now()
	if !p.last.IsZero() {
		p.tokens = min(pacerBurst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
	}
	p.last = now
	p.tokens -= float64(n)
	if p.tokens >= 0 {
		return nil
	}
	// What the handler sent before is put in now, not held while it waits.
	if err := axon.Flush(ctx); err != nil {
		return err
	}
	t := time.NewTimer(time.Duration(-p.tokens / p.rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
