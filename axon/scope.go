package axon

import (
	"context"
	"fmt"
	"sync"
)

// scope is the context Serve hands its handler, and Batch its function.
// Sends made with it on the component's own outboxes may be held and put
// into their destination many at a time, as one channel element: the
// crossing then costs one channel operation and at most one wake-up for
// the whole batch. A held message already has its slot reserved in the
// destination, so capacity is still counted in messages there, and
// nothing is held once the scope flushes: before its goroutine waits for
// input or for room, before any shutdown message or send on another
// outbox, and when it ends.
//
// A scope belongs to the goroutine it was given to. Sends made with it
// from another goroutine race with that goroutine's own.
type scope struct {
	context.Context
	c *Component

	in     *Inbox  // the inbox this scope's goroutine reads in batches, if any
	out    *Outbox // the outbox whose messages are held in held; nil if none
	dest   *Inbox  // where they go; slots reserved there
	held   *batch  // the messages, in order
	credit int     // slots reserved in dest beyond the held messages

	// Messages held in a typed batch instead (see typedbatch.go): at
	// most one of out and tout is set.
	tout *Outbox
	tb   typedElem
	// Where ServeAs is in the typed batch it is reading: messages taken
	// from it, and of those, how many have had their slots freed.
	taken, tfreed int
}

type scopeKey struct{}

// Value lets a context derived from the scope find it, so that a send
// made with such a context puts what is held first.
func (s *scope) Value(key any) any {
	if key == (scopeKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// send sends msg on b, which belongs to s's component. The common case,
// another message for the route already reserved, is kept small enough
// to be inlined into Send.
func (s *scope) send(b *Outbox, msg any) error {
	if s.credit > 0 && b == s.out && b.dest.Load() == s.dest {
		s.credit--
		h := s.held
		n := len(h.msgs)
		h.msgs = h.msgs[:n+1] // within cap: a credit is a free place
		h.msgs[n] = msg
		return nil
	}
	return s.sendMore(b, msg)
}

// sendMore is send when msg needs a slot reserved first, or must go on
// its own.
func (s *scope) sendMore(b *Outbox, msg any) error {
	return sendMoreOf(s, b, msg, nil)
}

// sendMoreOf is the slow path of send (pool nil, T any) and of sendTyped
// (a typed batch of T from pool).
func sendMoreOf[T any](s *scope, b *Outbox, msg T, pool *sync.Pool) error {
	if d := b.dest.Load(); s.out == nil && s.tout == nil && d != nil && d.st.Load()&stMode == stRaw {
		// Nothing held, and a box read raw takes no batch: send as
		// without a scope, without trying to reserve first.
		s.freeTaken()
		return b.sendDirect(s.Context, msg)
	}
	for {
		d := b.dest.Load()
		ok, err := refill(s, b, d, msg, pool)
		if err != nil {
			return err
		}
		if ok {
			if pool == nil {
				s.held.msgs = append(s.held.msgs, msg)
			} else {
				t := s.tb.(*tbatch[T])
				t.msgs = append(t.msgs, msg)
			}
			s.credit--
			return nil
		}
		if err := s.flush(); err != nil {
			return err
		}
		// msg has to wait. The input this goroutine has taken is out of
		// its box: say so before waiting, or a cycle of components could
		// wait on each other's slots.
		s.freeTaken()
		if d == nil || pool == nil && isShutdownMsg(msg) || d.st.Load()&(stMode|stClosed) != stBatched || d.owner.ended.Load() {
			return b.sendDirect(s.Context, msg)
		}
		// A batched box that is full: wait for its reader to free a
		// batch's worth, then reserve again, rather than send msg alone.
		w := d.waiter()
		if b.dest.Load() != d {
			continue
		}
		if err := b.waitRoom(s.Context, d, w); err != nil {
			return err
		}
		d.passRoom()
	}
}

// freeTaken frees the slots of the input this scope's goroutine has taken
// from its inbox, before it waits.
func (s *scope) freeTaken() {
	if s.in == nil {
		return
	}
	s.in.freeTaken()
	if n := s.taken - s.tfreed; n > 0 {
		s.tfreed = s.taken
		s.in.unreserve(n)
	}
}

// refill makes s ready to hold msg for b, whose destination is d: in
// s.held, or in a typed batch of T from pool if pool is set. It puts what
// is held for another route (or the other way) first and reserves slots
// in d. It reports false when msg must go on its own: a shutdown message,
// a box that is unlinked, read raw, full or whose owner has ended; and an
// error if putting what was held failed.
func refill[T any](s *scope, b *Outbox, d *Inbox, msg T, pool *sync.Pool) (bool, error) {
	held := 0
	same := d == s.dest
	if pool == nil {
		same = same && b == s.out
		if s.held != nil {
			held = len(s.held.msgs)
		}
	} else {
		t, ok := s.tb.(*tbatch[T])
		same = same && ok && b == s.tout
		if ok {
			held = len(t.msgs)
		}
	}
	if !same && (s.out != nil || s.tout != nil) {
		if err := s.flush(); err != nil {
			return false, err
		}
		held = 0
	}
	if d == nil || pool == nil && isShutdownMsg(msg) || d.owner.ended.Load() {
		return false, nil
	}
	size := d.batchSize()
	if held >= size {
		if err := s.flush(); err != nil {
			return false, err
		}
		held = 0
	}
	n := d.reserve(size-held, true)
	if n == 0 {
		return false, nil
	}
	if pool == nil {
		if s.held == nil {
			s.held = newBatch(size)
		}
		s.out = b
	} else {
		if s.tb == nil {
			s.tb = newTBatch[T](pool, size)
		}
		s.tout = b
	}
	s.dest, s.credit = d, n
	return true, nil
}

// flush puts everything held into its destination: one element for the
// lot (a single message goes as itself). The slots are reserved, so
// this never waits. If the destination's owner has ended meanwhile, the
// messages are sent again along the outbox's current route, which a
// relink may have moved; if that is the same ended receiver, the send
// fails with ErrReceiverDone, naming how many messages it could not
// deliver.
func (s *scope) flush() error {
	if s.tout != nil {
		return s.flushTyped()
	}
	out, d, p := s.out, s.dest, s.held
	if out == nil {
		return nil
	}
	d.unreserve(s.credit)
	s.out, s.dest, s.credit = nil, nil, 0
	k := len(p.msgs)
	if k == 0 {
		return nil
	}
	if d.owner.ended.Load() {
		s.held = nil
		return s.resend(out, d, p)
	}
	var e any = p
	if k == 1 {
		e = p.msgs[0]
		p.msgs[0] = nil
		p.msgs = p.msgs[:0]
	} else {
		s.held = nil
	}
	s.put(d, e, k)
	out.sent.Add(uint64(k))
	return nil
}

// flushTyped is flush for messages held in a typed batch, which crosses
// as it is, even with one message in it.
func (s *scope) flushTyped() error {
	out, d, t := s.tout, s.dest, s.tb
	d.unreserve(s.credit)
	s.tout, s.tb, s.dest, s.credit = nil, nil, nil, 0
	k := t.size() // at least one: refill's caller puts a message in at once
	if d.owner.ended.Load() {
		return s.resend(out, d, t.boxed(0))
	}
	s.put(d, t, k)
	out.sent.Add(uint64(k))
	return nil
}

// put puts element e, holding k messages whose slots are reserved in d,
// into d's channel, which therefore has room for it.
func (s *scope) put(d *Inbox, e any, k int) {
	select {
	case d.ch <- e:
	default:
		// Every element holds at least one reserved slot, so the channel
		// has room for it; reaching here is a bug in the counting.
		panic(fmt.Sprintf("axon: no room for a batch of %d reserved in %s", k, d))
	}
}

// resend sends held messages p whose receiver ended before they were put
// in, one at a time, along the outbox's current route.
func (s *scope) resend(out *Outbox, d *Inbox, p *batch) error {
	msgs := p.msgs
	d.unreserve(len(msgs))
	for i, m := range msgs {
		if err := out.sendDirect(s.Context, m); err != nil {
			return fmt.Errorf("%w (%d held messages not delivered)", err, len(msgs)-i)
		}
	}
	return nil
}

// newScope opens a scope on c for the calling goroutine.
func newScope(ctx context.Context, c *Component, in *Inbox) *scope {
	s := new(scope)
	s.open(ctx, c, in)
	return s
}

// open readies s as a scope on c for the calling goroutine.
func (s *scope) open(ctx context.Context, c *Component, in *Inbox) {
	c.scopes.Add(1)
	s.Context, s.c, s.in = ctx, c, in
}

// close flushes what is held when the scope's user is done with it.
func (s *scope) close() error {
	err := s.flush()
	if s.held != nil {
		s.held.recycle()
		s.held = nil
	}
	s.c.scopes.Add(-1)
	return err
}

// flushFor puts what is held before a send made with ctx, if ctx was
// derived from a scope of c's: the same goroutine is sending, and its
// messages must keep their order. Called only while c has a scope open.
func (c *Component) flushFor(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	if s, ok := ctx.Value(scopeKey{}).(*scope); ok && s.c == c {
		return s.flush()
	}
	return nil
}

// Batch runs fn with a context under which sends on c's own outboxes may
// cross to their destinations many messages at a time, and returns fn's
// error. Every message fn sent has been put into its destination when
// Batch returns. Messages are held only while fn is busy producing more:
// a send that has to wait for room, a shutdown message, or a send on
// another outbox puts what is held first. Use it around a burst a
// producer has ready (a slice to send, the datagrams of one batched
// read), not around a loop that waits for input between messages: what
// is held waits with it.
//
// Serve gives its handler such a context already. The context belongs to
// the goroutine that called Batch, which need not be the component's
// main loop (a reader goroutine handing on what it read, say), so long as
// sends on any one outbox are not made from two goroutines at once.
func (c *Component) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	if s, ok := ctx.(*scope); ok && s.c == c || !c.batching() {
		return fn(ctx)
	}
	// A fresh scope each time, not one from a pool: fn may keep its
	// context (a derived one, say) after Batch returns.
	s := newScope(ctx, c, nil)
	closed := false
	defer func() {
		if !closed {
			// fn panicked: what it sent still goes in, before the panic
			// ends the main loop (which a supervisor may start again).
			_ = s.close()
		}
	}()
	err := fn(s)
	closed = true
	if ferr := s.close(); err == nil {
		err = ferr
	}
	return err
}

// batching reports whether c's graph lets messages cross in batches.
func (c *Component) batching() bool {
	rs := c.run
	return rs == nil || !rs.unbatched
}

func isShutdownMsg(msg any) bool {
	_, ok := msg.(Shutdown)
	if !ok {
		switch msg.(type) {
		case *ProducerFinished, *ShutdownMicroprocess:
			return true
		}
	}
	return ok
}
