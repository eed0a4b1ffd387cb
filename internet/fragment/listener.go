package fragment

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// ListenerComponent is the component Listener returns: an *axon.Component
// with counters.
type ListenerComponent struct {
	*axon.Component
	reporter *axon.Reporter

	mu sync.Mutex // guards r
	r  *Reassembler
}

// Listener puts back together the messages a Broadcaster fragmented: the
// receiving half of mcl's RawListener, without the socket. Link the
// "outbox" of any component that emits udp.Datagrams to its "inbox": a
// udp peer for unicast, a multicast.Receiver or Transceiver for a group.
//
//	axon.Run(ctx, chassis.Pipeline(
//		udp.PostboxPeer(udp.Local(":26000"), udp.ReadBuffer(4<<20)),
//		fragment.Listener(fragment.Topics("weather")),
//		util.ConsoleEchoer(os.Stdout, util.WithNewline()), // "192.0.2.1:40000 weather: rain"
//	))
//
// Boxes:
//
//	inbox   (in)  udp.Datagram (or *udp.Datagram): each a fragment, from
//	              the sender in its From.
//	control (in)  ProducerFinished: the datagrams queued in "inbox" are
//	              taken, the message passed on "signal", and the Listener
//	              ends, dropping incomplete messages. ShutdownMicroprocess:
//	              the same, at once, dropping what is queued.
//	outbox  (out) Message: each message once it is complete, with the
//	              sender's address and port in From.
//	errors  (out) an *axon.BoxError about "inbox" around a *udp.Error, Op
//	              "reassemble", wrapping axon.ErrBadMessage: a message on
//	              "inbox" that is not a udp.Datagram. Sent without
//	              waiting; logged with slog when "errors" leads nowhere
//	              or is full.
//	signal  (out) the shutdown message that ended the Listener.
//
// Fragments that are dropped (malformed, of a topic not wanted, claiming
// too long a message, duplicated, late, and so on) are not reported one
// by one, which a flood of stray datagrams would turn into a flood of
// errors: they are counted, by reason, in Stats.
//
// The Listener reassembles as a Reassembler does, and takes the options
// Topics, MaxMessage, MaxAge, Budget and Clock; an option out of range
// makes it fail when it starts, with an error wrapping axon.ErrConfig.
// Besides giving up old messages as fragments arrive, it looks for them
// every MaxAge/2 (at most every second), so that their memory is freed
// when the fragments stop.
func Listener(opts ...Option) *ListenerComponent {
	l := &ListenerComponent{}
	l.Component = axon.New("Listener", l.main,
		axon.WithInbox(axon.InboxName, "udp.Datagram: one fragment each", axon.Carries[udp.Datagram]()),
		axon.WithOutbox(axon.OutboxName, "fragment.Message: each message once complete", axon.Carries[Message]()),
		axon.WithOutbox(axon.ErrorsName, "*udp.Error (in an *axon.BoxError): a message on inbox that is not a datagram", axon.Carries[error]()),
	)
	l.reporter = axon.NewReporter(l.Component, axon.ErrorsName)
	cfg, err := newConfig("Listener", reassemblerOptions, opts)
	if err != nil {
		l.FailOnStart(l.BoxError(axon.ControlName, &udp.Error{Op: "configure", Err: err}))
		cfg, _ = newConfig("Listener", reassemblerOptions, nil) // so that Stats works
	}
	l.r = newReassembler(&cfg)
	return l
}

// Stats returns the Listener's counts so far. It may be called at any
// time.
func (l *ListenerComponent) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Stats()
}

func (l *ListenerComponent) main(ctx context.Context, c *axon.Component) error {
	out := c.Out(axon.OutboxName)
	in := c.Reader(axon.InboxName)
	tick := time.NewTicker(min(max(l.r.maxAge/2, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	ctl, done := c.In(axon.ControlName), ctx.Done()
	// For ProducerFinished: what is queued is taken, one datagram at a
	// time, before the message goes on.
	var one [1]any
	drain := func(ctx context.Context, m any) error {
		one[0] = m
		return l.take(ctx, out, one[:])
	}
	for {
		select {
		case <-done:
			return ctx.Err()
		case msg := <-ctl:
			if stop, err := c.Control(ctx, msg, drain); stop || err != nil {
				return err
			}
		case e := <-in.C():
			// Many datagrams may cross as one element; the messages they
			// complete cross on together.
			err := c.Batch(ctx, func(ctx context.Context) error {
				return l.take(ctx, out, in.Open(e))
			})
			if err != nil {
				return err
			}
		case <-tick.C:
			l.mu.Lock()
			l.r.Expire()
			l.mu.Unlock()
		}
	}
}

// take reassembles the datagrams msgs, taken from "inbox" together, and
// sends each message they complete on out. The clock is read once for
// them all.
func (l *ListenerComponent) take(ctx context.Context, out *axon.Outbox, msgs []any) error {
	now := l.r.now()
	for _, msg := range msgs {
		var from netip.AddrPort
		var data []byte
		switch d := msg.(type) {
		case udp.Datagram:
			from, data = d.From, d.Data
		case *udp.Datagram:
			if d == nil {
				l.refuse(ctx, fmt.Errorf("%w: nil *udp.Datagram", axon.ErrBadMessage))
				continue
			}
			from, data = d.From, d.Data
		default:
			l.refuse(ctx, fmt.Errorf("%w: %T is not a udp.Datagram", axon.ErrBadMessage, msg))
			continue
		}
		l.mu.Lock()
		m, done, _ := l.r.add(now, from, data) // drops are counted in Stats
		l.mu.Unlock()
		if done {
			if err := out.Send(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// refuse reports a message on "inbox" that is not a datagram, after the
// messages sent before it.
func (l *ListenerComponent) refuse(ctx context.Context, err error) {
	l.reporter.ReportFrom(ctx, l.BoxError(axon.InboxName, &udp.Error{Op: "reassemble", Dropped: 1, Err: err}))
}
