package backplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// leaveWait bounds how long a SubscribeTo that is ending waits, twice at
// most, to be taken off its Backplane. If it cannot be in that time (the
// Backplane is held up by another, slower subscriber), it is skipped from
// then on and removed the next time the Backplane delivers.
const leaveWait = time.Second

// SubscribeToComponent is the component SubscribeTo makes: an
// *axon.Component with methods to learn when it has joined its Backplane
// and how many messages it has dropped.
type SubscribeToComponent struct {
	*axon.Component
	name    string
	cfg     config
	joined  chan struct{}
	dropped atomic.Uint64
}

// SubscribeTo makes a component that joins the Backplane called name when
// it starts and sends on its "outbox" every message the Backplane
// delivers from then on, each publisher's in the order published, until
// it ends, when it leaves. It looks the Backplane up as PublishTo does,
// waiting up to one second (DefaultWait; see Wait) and failing with an
// error wrapping ErrNoBackplane naming name. A message not yet handed
// over when a subscriber joins (still queued in a PublishTo's inbox or
// the Backplane's) reaches that subscriber too; Joined says when it has
// joined.
//
// It takes the options Wait, Block (the default: a subscriber that cannot
// send on as fast as messages come holds the Backplane back), DropOldest
// (it drops and counts the oldest message instead) and, on a JetStream
// Backplane only, Durable.
//
// With Block whoever delivers (a PublishTo, the Backplane, or with a
// Transport the goroutine that hands on what arrives) sends each run of messages on the
// SubscribeTo's "outbox" itself, in one Batch, so a message crosses one
// channel from the publisher to whatever the SubscribeTo feeds, and a
// run crosses as batches where that component takes them; the
// SubscribeTo's own goroutine only joins, leaves and watches "control".
// With DropOldest a goroutine of its own sends on what its queue holds.
//
// Boxes:
//
//	inbox   (in)  not read
//	control (in)  ProducerFinished: it leaves the Backplane (a message
//	              being sent on is sent first), sends on what it had
//	              queued (DropOldest), passes the message on and ends;
//	              ShutdownMicroprocess: it leaves at once, discarding
//	              what it had queued, passes the message on and ends
//	outbox  (out) every message published while it was a member (with
//	              Durable: while its durable subscription existed)
//	signal  (out) the shutdown message that ended it, or a
//	              ProducerFinished of its own when its Backplane ended
//
// On a Backplane whose Transport delivers to each subscriber itself
// (natsbackplane.JetStream, which documents what it does) a SubscribeTo
// does not join: the Transport runs it, reading through a subscription
// of its own, durable with Durable(name). It takes Wait and Durable
// there, not DropOldest (ErrBadOption): a durable subscriber drops
// nothing.
//
// When its Backplane ends, a SubscribeTo sends on everything it had
// received, then passes a ProducerFinished on "signal" and ends: linked
// to the next component's control, that ends a pipeline fed by it. If
// sending on "outbox" fails (the component it leads to has ended), the
// SubscribeTo leaves and fails with that error.
func SubscribeTo(name string, opts ...Option) *SubscribeToComponent {
	s := &SubscribeToComponent{name: name, joined: make(chan struct{})}
	cfg, err := configure("SubscribeTo", opts, forLookup|forSubscriber)
	s.cfg = cfg
	s.Component = axon.New("SubscribeTo", s.main,
		axon.WithInbox(axon.InboxName, "not read"),
		axon.WithOutbox(axon.OutboxName, "every message published while a member"),
	)
	if err != nil {
		s.FailOnStart(err)
	}
	return s
}

// Joined returns a channel closed once the SubscribeTo has joined its
// Backplane: every message handed over to the subscribers after that
// reaches it. It is never closed if the SubscribeTo fails to join, so
// wait on Done too.
func (s *SubscribeToComponent) Joined() <-chan struct{} { return s.joined }

// Dropped returns how many messages a SubscribeTo made with DropOldest
// has dropped; always 0 with Block.
func (s *SubscribeToComponent) Dropped() uint64 { return s.dropped.Load() }

// deliverer sends on what a SubscribeTo receives.
type deliverer interface {
	// send hands over a run of messages, in order, waiting with ctx
	// for room (Block) or not (DropOldest).
	send(ctx context.Context, msgs []any) error
	// finish sends everything handed over and stops.
	finish(ctx context.Context) error
	// abort stops at once.
	abort()
	// failed is closed if sending fails in the background; err says why.
	failed() <-chan struct{}
	err() error
}

func (s *SubscribeToComponent) main(ctx context.Context, c *axon.Component) error {
	h, err := find(ctx, s.Component, s.name, s.cfg.wait)
	if err != nil {
		return fmt.Errorf("SubscribeTo: %w", err)
	}
	if l := h.link(); l != nil {
		ok, err := l.Subscribe(ctx, c, Subscription{
			Backplane: s.name, Durable: s.cfg.durable, DropOldest: s.cfg.dropOldest,
			Joined: sync.OnceFunc(func() { close(s.joined) }),
		})
		if ok {
			return err
		}
	}
	if s.cfg.durable != "" {
		return fmt.Errorf("SubscribeTo: backplane %q: %w: Durable applies to a Backplane whose transport keeps messages for each subscriber (JetStream) only", s.name, ErrBadOption)
	}
	var d deliverer = blocking{c.Out(axon.OutboxName)}
	if s.cfg.dropOldest > 0 {
		d = newDropQueue(ctx, c.Out(axon.OutboxName), s.cfg.dropOldest, &s.dropped)
	}
	// Whatever the way out, release the queue's context (abort is at once
	// once the queue has stopped, and may be called again).
	defer d.abort()
	m, err := h.join(ctx, d.send)
	if err != nil {
		d.abort()
		if errors.Is(err, ErrBackplaneEnded) {
			// It ended between the lookup and the join: finish as if
			// it had ended just after.
			return c.Finish(ctx)
		}
		return fmt.Errorf("SubscribeTo: backplane %q: %w", s.name, err)
	}
	close(s.joined)

	ctl, gone := c.In(axon.ControlName), h.done()
	for {
		select {
		case msg := <-ctl:
			switch {
			case axon.IsProducerFinished(msg):
				h.leave(m, false)
				if err := d.finish(ctx); err != nil {
					return err
				}
				return c.PassOn(ctx, msg)
			case axon.IsShutdownMicroprocess(msg):
				h.leave(m, true)
				d.abort()
				return c.PassOn(ctx, msg)
			default:
				_, _ = c.Control(ctx, msg, nil) // logs and ignores it
			}
		case <-gone:
			// The Backplane has ended: everything it delivered has been
			// handed over.
			if err := d.finish(ctx); err != nil {
				return err
			}
			return c.Finish(ctx)
		case <-m.failed:
			h.leave(m, true)
			d.abort()
			return m.err
		case <-d.failed():
			h.leave(m, true)
			return d.err()
		case <-ctx.Done():
			h.leave(m, true)
			d.abort()
			return ctx.Err()
		}
	}
}

// blocking sends each message on before taking the next: Block.
type blocking struct {
	out *axon.Outbox
}

// send sends msgs on, a run of them in one Batch: where the destination
// takes batches they cross together, as one channel element per batch
// it has room for, and wake its reader once.
func (b blocking) send(ctx context.Context, msgs []any) error {
	return b.out.SendAll(ctx, msgs)
}

func (blocking) finish(context.Context) error { return nil }
func (blocking) abort()                       {}
func (blocking) failed() <-chan struct{}      { return nil }
func (blocking) err() error                   { return nil }

// dropQueue holds up to len(buf) messages for a goroutine that sends them
// on, dropping the oldest when full: DropOldest.
type dropQueue struct {
	out     *axon.Outbox
	dropped *atomic.Uint64
	cancel  context.CancelFunc
	wake    chan struct{} // one token: something changed
	done    chan struct{} // closed when the sender goroutine has returned
	sendErr error         // set before done is closed

	mu     sync.Mutex
	buf    []any
	head   int
	n      int
	closed bool
}

func newDropQueue(ctx context.Context, out *axon.Outbox, size int, dropped *atomic.Uint64) *dropQueue {
	ctx, cancel := context.WithCancel(ctx)
	q := &dropQueue{
		out: out, dropped: dropped, cancel: cancel,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		buf: make([]any, size),
	}
	go q.run(ctx)
	return q
}

func (q *dropQueue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// send queues msgs, dropping the oldest to make room: it never waits.
func (q *dropQueue) send(_ context.Context, msgs []any) error {
	q.mu.Lock()
	for _, msg := range msgs {
		if q.n == len(q.buf) {
			q.buf[q.head] = nil
			q.head = (q.head + 1) % len(q.buf)
			q.n--
			q.dropped.Add(1)
		}
		q.buf[(q.head+q.n)%len(q.buf)] = msg
		q.n++
	}
	q.mu.Unlock()
	q.notify()
	return nil
}

// pop takes the oldest message; ok is false if there is none, and closed
// says whether more may come.
func (q *dropQueue) pop() (msg any, ok, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil, false, q.closed
	}
	msg = q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return msg, true, q.closed
}

func (q *dropQueue) run(ctx context.Context) {
	defer close(q.done)
	for {
		msg, ok, closed := q.pop()
		switch {
		case ok:
			if err := q.out.Send(ctx, msg); err != nil {
				q.sendErr = err
				return
			}
		case closed:
			return
		default:
			select {
			case <-q.wake:
			case <-ctx.Done():
				q.sendErr = ctx.Err()
				return
			}
		}
	}
}

func (q *dropQueue) finish(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notify()
	select {
	case <-q.done:
	case <-ctx.Done():
		q.abort()
	}
	q.cancel()
	return q.sendErr
}

func (q *dropQueue) abort() {
	q.cancel()
	<-q.done
}

func (q *dropQueue) failed() <-chan struct{} { return q.done }
func (q *dropQueue) err() error              { return q.sendErr }
