package axon

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
)

// Default inbox capacities. A box's capacity is fixed when the box is made;
// override it with Capacity.
const (
	// DefaultCapacity is the capacity of an inbox declared without Capacity,
	// including the default "inbox".
	DefaultCapacity = 64
	// DefaultControlCapacity is the capacity of the default "control" inbox.
	// Control carries a handful of shutdown notices, never a data stream.
	DefaultControlCapacity = 4
	// BurstCapacity is the capacity of the inbox of a component that
	// writes what has queued there to a connection in one go (a NATS
	// publisher, a backplane's PublishTo): four times the default, so
	// that each write carries about what a producer sends in a burst
	// rather than a quarter of it, with a write, a read and a wake-up
	// at both ends of the connection for each.
	BurstCapacity = 4 * DefaultCapacity
)

// Inbox is a named, bounded queue that a component receives from. Its
// channel never changes for the life of the box, so a component selects on
// it directly:
//
//	select {
//	case msg := <-c.In("inbox"):
//	case <-ctx.Done():
//	}
//
// A box read that way receives one message per channel element. A box
// that Serve reads may also receive a batch of messages in one element
// (see Component.Batch); Serve unpacks it and still hands its handler one
// message at a time, in order. Either way the box's capacity is counted in
// messages.
type Inbox struct {
	owner *Component
	*boxMeta
	ch   chan any
	capa int32 // capacity in messages
	// A removable box (any but the defaults) keeps count of the senders
	// in the middle of putting a message in, so that RemoveInbox can wait
	// for them and miss nothing.
	inflight atomic.Int32

	// st holds how the box is read and, unless read raw, how many
	// messages it counts (see batch.go).
	st atomic.Uint64
	// Where senders wait: made when the first one does.
	waits atomic.Pointer[waitChans]

	// The batch being read, kept by the reader between messages.
	spill *batch

	// Link state, guarded by linkMu.
	fwd     *Inbox    // passthrough: messages for this box go to fwd instead
	fromIn  []*Inbox  // parent inboxes that pass through to this one
	fromOut []*Outbox // outboxes linked directly to this one
	// Messages arrived are not counted on the hop: each outbox already
	// counts what it delivers (Outbox.sent), so the box adds up, over the
	// outboxes whose route ends here, what each has sent since its route
	// was made (Outbox.base), and keeps what routes since moved brought
	// (retired). takenSeen is the most messages a sampler has seen taken
	// out (see Taken).
	retired, takenSeen uint64
}

// Outbox is a named box a component sends from. It feeds one destination at
// a time, resolved when links change so that a message always crosses a
// single channel, however deeply the graph is nested.
type Outbox struct {
	owner *Component
	*boxMeta

	dest atomic.Pointer[Inbox] // final destination; nil while it leads nowhere
	sent atomic.Uint64         // messages delivered through this box

	// Link state, guarded by linkMu.
	base uint64    // sent when dest last changed (see Inbox.retired)
	to   *Inbox    // linked to this inbox (normal link)
	up   *Outbox   // passthrough to the parent's outbox
	from []*Outbox // children's outboxes passing through to this one
}

// boxMeta is what describes a box rather than its traffic. The default
// boxes share static descriptions, keeping an idle component small.
type boxMeta struct {
	name string
	doc  string
	typ  reflect.Type
	// control marks the default "control" box, where a ShutdownMicroprocess
	// interrupts the owner on delivery.
	control bool
}

// Name returns the box's name.
func (b *Inbox) Name() string { return b.name }

// Doc returns the box's documentation string.
func (b *Inbox) Doc() string { return b.doc }

// Type returns the Go type the box declares it carries, or nil for any.
func (b *Inbox) Type() reflect.Type { return b.typ }

// C returns the channel to receive from; nil for a passthrough-only box.
// Whoever receives from it gets one message per element: from then on no
// batch is put into the box. It panics, as In does, if Serve is reading
// the box in batches and has messages of it in hand.
func (b *Inbox) C() <-chan any {
	if b.ch != nil && !b.claimRaw() {
		panic(&BoxError{Component: b.owner.String(), Box: b.name, Op: "receive", Err: fmt.Errorf("%w: Serve is reading the box in batches", ErrBoxInUse)})
	}
	return b.ch
}

// Final returns the inbox that holds what arrives at b: b itself, or,
// following passthroughs, a descendant's inbox. It is nil if the chain
// ends at a passthrough-only box.
func (b *Inbox) Final() *Inbox {
	linkMu.Lock()
	defer linkMu.Unlock()
	return b.final()
}

// TakeAll takes every message queued in b now, in order, without
// waiting: batches are unpacked, and the rest of a batch that a reader
// stopped in the middle of comes first. It is for a box whose reader has
// ended (a Carousel handing what its last child left unread to the next),
// while nothing else is sending to it.
func (b *Inbox) TakeAll() []any {
	if b.ch == nil {
		return nil
	}
	return b.drainAll()
}

// PassthroughOnly reports whether the box holds no messages of its own.
func (b *Inbox) PassthroughOnly() bool { return b.ch == nil }

// Len returns the number of messages queued. In a box read in batches it
// includes slots reserved by a sender about to put messages in and those
// of a batch the reader is still working through.
func (b *Inbox) Len() int {
	if st := b.st.Load(); counted(st) {
		return int(st & stCount)
	}
	return len(b.ch)
}

// Cap returns the box's capacity, in messages.
func (b *Inbox) Cap() int { return int(b.capa) }

// Arrived returns how many messages have been put into the box since it
// was made. A message put in by a sender whose route was changing at
// that moment may be counted in the box the route led to next.
func (b *Inbox) Arrived() uint64 {
	linkMu.Lock()
	defer linkMu.Unlock()
	return b.arrived()
}

// arrived is Arrived with linkMu held.
func (b *Inbox) arrived() uint64 {
	n := b.retired
	b.eachFeeder(func(o *Outbox) { n += o.sent.Load() - o.base })
	return n
}

// eachFeeder calls f for every outbox whose route ends in b: found by
// walking the links back from b (outboxes linked to it, the children's
// outboxes passing through those, the parents' inboxes passing through
// to it and what is linked to them), each link once. Called with linkMu
// held.
func (b *Inbox) eachFeeder(f func(*Outbox)) {
	var outs func(o *Outbox)
	outs = func(o *Outbox) {
		if o.dest.Load() == b {
			f(o)
		}
		for _, c := range o.from {
			outs(c)
		}
	}
	var ins func(in *Inbox)
	ins = func(in *Inbox) {
		for _, o := range in.fromOut {
			outs(o)
		}
		for _, p := range in.fromIn {
			ins(p)
		}
	}
	ins(b)
}

// rerouted books what out has sent so far to old, the destination it has
// just left (nd is the new one), and counts from here for the next.
// Called with linkMu held.
func (out *Outbox) rerouted(old *Inbox) {
	sent := out.sent.Load()
	if old != nil {
		old.retired += sent - out.base
	}
	out.base = sent
}

// Taken returns how many messages have been taken out of the box (by its
// reader, or by RemoveInbox or TakeAll). It is worked out from Arrived
// and Len rather than counted on the hop, so it may lag by the messages
// a sender has reserved room for and not yet put in, or a batch the
// reader is part way through; it never goes down.
func (b *Inbox) Taken() uint64 {
	linkMu.Lock()
	defer linkMu.Unlock()
	return b.takenFrom(b.arrived())
}

// takenFrom is Taken with linkMu held, given what Arrived says: in.
func (b *Inbox) takenFrom(in uint64) uint64 {
	n := uint64(b.Len())
	if n > in {
		n = in
	}
	b.takenSeen = max(b.takenSeen, in-n)
	return b.takenSeen
}

// Waits returns how many sends found the box full and waited for room:
// where backpressure starts. (How long they waited is not kept: reading
// the clock twice a wait cost the batched pipeline 5-10%.)
func (b *Inbox) Waits() uint64 {
	if w := b.waits.Load(); w != nil {
		return w.waited.Load()
	}
	return 0
}

// Owner returns the component the box belongs to.
func (b *Inbox) Owner() *Component { return b.owner }

// String names the box as "Component#id.box".
func (b *Inbox) String() string { return b.owner.String() + "." + b.name }

// Name returns the box's name.
func (b *Outbox) Name() string { return b.name }

// Doc returns the box's documentation string.
func (b *Outbox) Doc() string { return b.doc }

// Type returns the Go type the box declares it carries, or nil for any.
func (b *Outbox) Type() reflect.Type { return b.typ }

// Sent returns how many messages have been delivered through the box.
func (b *Outbox) Sent() uint64 { return b.sent.Load() }

// Owner returns the component the box belongs to.
func (b *Outbox) Owner() *Component { return b.owner }

// Linked reports whether the box currently leads to an inbox.
func (b *Outbox) Linked() bool { return b.dest.Load() != nil }

// String names the box as "Component#id.box".
func (b *Outbox) String() string { return b.owner.String() + "." + b.name }

func (b *Outbox) fail(op string, err error) error {
	return &BoxError{Component: b.owner.String(), Box: b.name, Op: op, Err: err}
}

// Send delivers msg to wherever the box leads, waiting while the
// destination inbox is full (backpressure) and while the box is not linked
// at all: an unlinked outbox never discards. It returns an error wrapping
// ctx's error if ctx ends first, or ErrReceiverDone if the component that
// owns the destination has ended (or ends while Send waits). If the box is
// relinked while Send waits, the message goes to the new destination.
//
// With the context Serve gives its handler (or Batch its function), Send
// may hold the message and put it in with those that follow, as one
// crossing; see Component.Batch. Its slot in the destination is taken at
// once, so backpressure is unchanged.
//
// A ShutdownMicroprocess delivered to a running component's "control"
// also cancels that component's context, so it stops at once even if it
// is itself blocked in a Send.
func (b *Outbox) Send(ctx context.Context, msg any) error {
	if s, ok := ctx.(*scope); ok && s.c == b.owner {
		return s.send(b, msg)
	}
	return b.sendUnheld(ctx, msg)
}

// sendUnheld is Send with a context that is not a scope of b's owner: if
// it was derived from the one holding messages, they go first.
func (b *Outbox) sendUnheld(ctx context.Context, msg any) error {
	if b.owner.scopes.Load() != 0 {
		if err := b.owner.flushFor(ctx); err != nil {
			return err
		}
	}
	return b.sendDirect(ctx, msg)
}

// sendDirect sends msg on its own.
func (b *Outbox) sendDirect(ctx context.Context, msg any) error {
	if d := b.dest.Load(); d != nil && b.put(d, msg) == putOK {
		return nil
	}
	return b.sendSlow(ctx, msg)
}

// putResult says what became of an attempt to put a message in a box.
type putResult uint8

const (
	putOK     putResult = iota
	putFull             // no free slot
	putDone             // the box's owner has ended
	putClosed           // the box has been removed
)

// put puts msg in d if that can be done at once.
func (b *Outbox) put(d *Inbox, msg any) putResult {
	if d.owner.ended.Load() {
		return putDone
	}
	if d.removable() {
		d.inflight.Add(1)
		defer d.inflight.Add(-1)
		if d.st.Load()&stClosed != 0 {
			return putClosed
		}
	}
	if !counted(d.st.Load()) {
		stop, marked := b.stopping(d, msg)
		select {
		case d.ch <- msg:
			b.delivered(d, msg, stop)
			return putOK
		default:
			if marked {
				d.owner.unmarkStop()
			}
			return putFull
		}
	}
	if d.reserve(1, false) == 0 {
		if d.st.Load()&stClosed != 0 {
			return putClosed
		}
		return putFull // or turned raw: the caller looks again
	}
	select {
	case d.ch <- msg:
		b.sent.Add(1)
		return putOK
	default:
		// The box has turned raw since the reservation, and its channel
		// filled up with uncounted messages.
		d.unreserve(1)
		return putFull
	}
}

func (b *Outbox) sendSlow(ctx context.Context, msg any) error {
	for {
		// Load the epoch before the destination: a link made after this
		// point closes ep, so the wait below cannot miss it.
		ep := linkEpoch()
		d := b.dest.Load()
		if d == nil {
			// Linked to a passthrough that leads nowhere now: wait for a
			// link beyond it, unless its owner has ended and none can come.
			var ended <-chan struct{}
			if first := b.firstHop(); first != nil {
				ended = first.owner.Done()
				if isClosed(ended) {
					return b.receiverDone(ctx, first)
				}
			}
			select {
			case <-ep:
				continue
			case <-ended:
				continue
			case <-ctx.Done():
				return b.fail("send", ctx.Err())
			}
		}
		// Take d's wake channel before looking at the route and the owner
		// again: whoever changes either closes the channel afterwards, so
		// a change after these checks cannot be missed. Only senders to d
		// touch this channel; a process-wide one was a contended lock.
		w := d.waiter()
		if b.dest.Load() != d {
			continue
		}
		switch b.put(d, msg) {
		case putOK:
			// One wake-up is given for any number of freed slots:
			// another sender may be waiting for those left.
			d.passRoom()
			return nil
		case putDone:
			return b.receiverDone(ctx, d)
		case putClosed:
			// RemoveInbox is unlinking the box; the route changes next.
			select {
			case <-w:
			case <-ep:
			case <-ctx.Done():
				return b.fail("send", ctx.Err())
			}
			continue
		}
		if counted(d.st.Load()) {
			if err := b.waitRoom(ctx, d, w); err != nil {
				return err
			}
			continue
		}
		// A box read raw is waited on through its channel.
		if done, err := b.waitRaw(ctx, d, w, msg); done || err != nil {
			return err
		}
	}
}

// waitRoom waits until a slot in counted box d may have been freed, its
// route changes (w is closed) or ctx ends.
func (b *Outbox) waitRoom(ctx context.Context, d *Inbox, w <-chan struct{}) error {
	room := d.roomCh()
	if !d.markWaiting() {
		return nil // a slot was freed meanwhile: try again
	}
	d.waitChans().waited.Add(1)
	select {
	case <-room:
		return nil
	case <-w:
		return nil
	case <-ctx.Done():
		return b.fail("send", ctx.Err())
	}
}

// waitRaw puts msg in d's channel, waiting for room, until d's route
// changes (w is closed) or ctx ends. It reports whether msg was delivered.
func (b *Outbox) waitRaw(ctx context.Context, d *Inbox, w <-chan struct{}, msg any) (bool, error) {
	if d.removable() {
		d.inflight.Add(1)
		defer d.inflight.Add(-1)
		if d.st.Load()&stClosed != 0 {
			return false, nil // the route changes next
		}
	}
	stop, marked := b.stopping(d, msg)
	// The box was full when put looked: count the send as waiting.
	d.waitChans().waited.Add(1)
	select {
	case d.ch <- msg:
		b.delivered(d, msg, stop)
		return true, nil
	case <-w:
	case <-ctx.Done():
	}
	if marked {
		d.owner.unmarkStop()
	}
	if ctx.Err() != nil {
		return false, b.fail("send", ctx.Err())
	}
	return false, nil
}

// waitChans are the channels senders to a box wait on.
type waitChans struct {
	// room has a turn for one sender waiting for a slot in a counted box.
	room chan struct{}
	// wake is closed (and cleared) when a route ending at the box changes
	// or its owner ends, waking every sender blocked on it.
	wake atomic.Pointer[chan struct{}]
	// Sends that found the box full and waited: kept here, made by the
	// first sender that waits, so that a box nobody waits on pays
	// nothing for the count.
	waited atomic.Uint64
}

// waitChans returns b's, making them if need be.
func (b *Inbox) waitChans() *waitChans {
	for {
		if w := b.waits.Load(); w != nil {
			return w
		}
		w := &waitChans{room: make(chan struct{}, 1)}
		if b.waits.CompareAndSwap(nil, w) {
			return w
		}
	}
}

// waiter returns the channel that wake closes, making it if need be.
func (b *Inbox) waiter() <-chan struct{} {
	w := b.waitChans()
	for {
		if p := w.wake.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if w.wake.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// wake wakes every sender blocked on b, to look at its route again.
func (b *Inbox) wake() {
	if w := b.waits.Load(); w != nil {
		if p := w.wake.Swap(nil); p != nil {
			close(*p)
		}
	}
}

// removable reports whether b may be removed: any box but the defaults.
func (b *Inbox) removable() bool {
	return b != &b.owner.defIn && b != &b.owner.defCtl
}

// stopping looks at a message on its way to d: a ShutdownMicroprocess for
// a control box (stop) is recorded as the one that stops d's owner before
// it lands (marked, if it is the first), so that the runner knows of it
// even if the main loop takes it and returns at once. Delivered, the
// owner is interrupted; not delivered, a mark is taken back.
func (b *Outbox) stopping(d *Inbox, msg any) (stop, marked bool) {
	if d.control && IsShutdownMicroprocess(msg) {
		return true, d.owner.markStop(msg)
	}
	return false, false
}

// delivered counts a message that reached d and, for a control box, wakes
// the owner's Serve if it waits (it waits on its inbox alone); for a
// ShutdownMicroprocess, interrupts the owner.
func (b *Outbox) delivered(d *Inbox, msg any, stop bool) {
	b.sent.Add(1)
	if d.control {
		if stop {
			d.owner.interrupt(msg)
		}
		d.owner.nudge()
	}
}

// receiverDone reports that d's owner has ended. If the sender's own
// context has ended too, that is the reason given: when a whole graph is
// told to stop, the order its components stop in is not an error.
func (b *Outbox) receiverDone(ctx context.Context, d *Inbox) error {
	if err := ctx.Err(); err != nil {
		return b.fail("send", err)
	}
	return b.fail("send", &BoxError{Component: d.owner.String(), Box: d.name, Err: ErrReceiverDone})
}

// TrySend delivers msg only if that is possible at once. It returns an
// error wrapping ErrNotLinked if the box leads nowhere, ErrBoxFull if the
// destination has no free slot, and ErrReceiverDone if its owner has ended;
// the message was not delivered in any of these cases and stays the
// caller's. TrySend never holds a message: it does not take part in a
// batch that Serve's handler is sending on the same box.
func (b *Outbox) TrySend(msg any) error {
	d, why := b.offer(msg)
	switch why {
	case putOK:
		return nil
	case putDone:
		return b.receiverDone(context.Background(), d)
	}
	if d == nil {
		if first := b.firstHop(); first != nil && isClosed(first.owner.Done()) {
			return b.receiverDone(context.Background(), first)
		}
		return b.fail("send", ErrNotLinked)
	}
	return b.fail("send", &BoxError{Component: d.owner.String(), Box: d.name, Err: ErrBoxFull})
}

// firstHop returns the inbox b is linked to, which may be a passthrough
// leading further, or nil if b is not linked to an inbox.
func (b *Outbox) firstHop() *Inbox {
	linkMu.Lock()
	defer linkMu.Unlock()
	return b.to
}

// isClosed reports whether ch, a channel only ever closed, is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Offer is TrySend for a caller that only needs to know whether msg was
// delivered: a refusal costs nothing, where TrySend's error names both
// boxes. Components that drop or divert what does not fit (a
// drop-oldest queue, an error report that falls back to the log) call it
// for every message.
func (b *Outbox) Offer(msg any) bool {
	_, why := b.offer(msg)
	return why == putOK
}

// offer delivers msg if it can at once, and returns the destination (nil
// if the box leads nowhere, reported as putClosed) and the outcome.
func (b *Outbox) offer(msg any) (*Inbox, putResult) {
	for {
		d := b.dest.Load()
		if d == nil {
			return nil, putClosed
		}
		r := b.put(d, msg)
		switch {
		case r == putClosed && b.dest.Load() != d:
			continue // removed and relinked meanwhile: try the new route
		case r == putClosed:
			return nil, putClosed
		case r == putFull && !counted(d.st.Load()) && b.dest.Load() == d:
			// The box may have turned raw between the count and the
			// channel: one more look settles it.
			return d, b.put(d, msg)
		}
		return d, r
	}
}

// Destination returns the inbox a message sent now would reach, or nil.
func (b *Outbox) Destination() *Inbox { return b.dest.Load() }
