package backplane

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// fanout is a Backplane's list of subscribers and the delivery of
// messages to all of them. Whoever has messages delivers them, a run at a
// time, under the fanout's lock: a PublishTo from its own goroutine what
// it takes from its inbox, the Backplane's goroutine what arrives on its
// inbox, or with a Transport whoever hands on what arrives through it
// (End.Deliver). Subscribers join and leave from
// their goroutines. A delivery hands the run straight to each member
// (for Block, onto the SubscribeTo's outbox, as one batch where the
// receiver takes batches), so a message published by a PublishTo
// crosses one channel to whatever a subscriber feeds.
type fanout struct {
	// lock is a mutex that can be waited on with a context: it holds one
	// token while a message is delivered or the members change.
	lock    chan struct{}
	members []*member // guarded by lock
	closed  bool      // guarded by lock: no more joins or deliveries
	ctx     context.Context
}

// member is one subscriber of a fanout.
type member struct {
	// send hands a run of messages over, in order: waiting for room with
	// the context it is given (Block), or not (DropOldest).
	send func(ctx context.Context, msgs []any) error
	// ctx ends when the subscriber's context ends, when it leaves, or
	// when the Backplane's context ends: a send waiting for room gives up.
	ctx    context.Context
	cancel context.CancelFunc
	stop   func() bool // undoes the link to the Backplane's context

	waits map[context.Context]waitPair // guarded by the fanout's lock; see waitCtx

	left   atomic.Bool   // the subscriber has left: deliver nothing more
	failed chan struct{} // closed when a send failed; err says why
	err    error
}

func newFanout() *fanout { return &fanout{lock: make(chan struct{}, 1)} }

// start records the Backplane's context, before anyone can join.
func (f *fanout) start(ctx context.Context) { f.ctx = ctx }

func (f *fanout) acquire(ctx context.Context) error {
	select {
	case f.lock <- struct{}{}:
		return nil
	default:
	}
	select {
	case f.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (f *fanout) release() { <-f.lock }

// join adds a member whose sends end with ctx (the subscriber's).
func (f *fanout) join(ctx context.Context, send func(context.Context, []any) error) (*member, error) {
	if err := f.acquire(ctx); err != nil {
		return nil, err
	}
	defer f.release()
	if f.closed {
		return nil, ErrBackplaneEnded
	}
	m := &member{send: send, failed: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(ctx)
	m.stop = context.AfterFunc(f.ctx, m.cancel)
	f.members = append(f.members, m)
	return m, nil
}

// batchMax is the most messages one delivery carries, without letting
// joins and leaves in between: what a PublishTo (or a local Backplane,
// for its own inbox) takes from what has queued. It is the batch a destination of the default capacity takes in one
// crossing (axon puts at most half a box's capacity in one), and it
// bounds what a publisher holds in hand beyond its inbox while a Block
// subscriber holds it back.
const batchMax = axon.DefaultCapacity / 2

// deliver hands msgs, a run of messages in order, to every member in the
// order they joined: all of them to one member, then to the next, so
// that each member's crossing can carry the run at once. ctx is the
// deliverer's: its end stops the delivery. A member whose send fails is
// dropped and told why (unless it has left). Once the Backplane has
// ended deliver fails with ErrBackplaneEnded.
func (f *fanout) deliver(ctx context.Context, msgs []any) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if err := f.acquire(ctx); err != nil {
		return err
	}
	defer f.release()
	if f.closed {
		return ErrBackplaneEnded
	}
	for i := 0; i < len(f.members); {
		m := f.members[i]
		if !m.left.Load() {
			err := m.send(f.waitCtx(ctx, m), msgs)
			if err == nil {
				i++
				continue
			}
			switch {
			case ctx.Err() != nil:
				return context.Cause(ctx)
			case f.ctx.Err() != nil:
				return ErrBackplaneEnded
			case !m.left.Load():
				m.err = err
				close(m.failed)
			}
		}
		f.removeLocked(m)
	}
	return nil
}

// waitCtx returns the context m's send waits for room with: one that
// ends when the deliverer's ctx or m's own does. Called with the lock
// held.
func (f *fanout) waitCtx(ctx context.Context, m *member) context.Context {
	if ctx == f.ctx {
		return m.ctx
	}
	return m.waitCtx(ctx)
}

// waitPair is a context that ends when a deliverer's or a member's does.
type waitPair struct {
	ctx    context.Context
	cancel context.CancelFunc
	stop   func() bool
}

// waitCtx returns a context that ends when ctx (a publisher's) or m's
// does, made the first time the publisher delivers to m and kept for
// later deliveries (a map lookup a run). Pairs of publishers
// that have ended are let go as new ones are made. Called with the lock
// held.
func (m *member) waitCtx(ctx context.Context) context.Context {
	if w, ok := m.waits[ctx]; ok {
		return w.ctx
	}
	for k, w := range m.waits {
		if k.Err() != nil {
			w.stop()
			w.cancel()
			delete(m.waits, k)
		}
	}
	if m.waits == nil {
		m.waits = make(map[context.Context]waitPair)
	}
	w := waitPair{}
	w.ctx, w.cancel = context.WithCancel(m.ctx)
	w.stop = context.AfterFunc(ctx, w.cancel)
	m.waits[ctx] = w
	return w.ctx
}

// release lets go of m's contexts. Called with the lock held, once m is
// off the list.
func (m *member) release() {
	m.stop()
	m.cancel()
	for k, w := range m.waits {
		w.stop()
		w.cancel()
		delete(m.waits, k)
	}
}

func (f *fanout) removeLocked(m *member) {
	f.members = slices.DeleteFunc(f.members, func(x *member) bool { return x == m })
	m.release()
}

// leave takes m off the list. With now, what is being handed to m is
// abandoned at once; otherwise a delivery under way is given up to
// leaveWait to finish first. Either way leave waits at most about
// 2×leaveWait, or until gone is closed (the Backplane has ended); if it
// cannot take the lock in that time (another subscriber holds the
// Backplane back), m is skipped from now on and removed by the next
// delivery.
func (f *fanout) leave(m *member, now bool, gone <-chan struct{}) {
	defer func() {
		m.stop()
		m.cancel()
	}()
	if now {
		m.left.Store(true)
		m.cancel()
	}
	for range 2 {
		if f.acquireWithin(leaveWait, gone) {
			m.left.Store(true)
			if slices.Contains(f.members, m) {
				f.removeLocked(m)
			}
			f.release()
			return
		}
		// A delivery to m, if that is what holds the lock, ends once m's
		// context does; then wait again for the lock, so that nothing
		// reaches m after leave returns.
		m.left.Store(true)
		m.cancel()
		select {
		case <-gone:
			return
		default:
		}
	}
}

// acquireWithin takes the lock unless d passes or gone is closed first.
func (f *fanout) acquireWithin(d time.Duration, gone <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case f.lock <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-gone:
		return false
	}
}

// count returns how many members there are, waiting (until ctx ends) for
// a delivery under way to finish.
func (f *fanout) count(ctx context.Context) (int, error) {
	if err := f.acquire(ctx); err != nil {
		return 0, err
	}
	defer f.release()
	n := 0
	for _, m := range f.members {
		if !m.left.Load() {
			n++
		}
	}
	return n, nil
}

// close ends the fanout once the delivery under way, if any, has
// finished: later joins and deliveries fail with ErrBackplaneEnded, and
// every member is let go. A delivery waiting for room in a subscriber
// gives up once the Backplane's context has ended.
func (f *fanout) close() {
	f.lock <- struct{}{}
	defer f.release()
	f.closed = true
	for _, m := range f.members {
		m.release()
	}
	f.members = nil
}
