package axon

import (
	"context"
	"reflect"
	"sync/atomic"
)

// Default inbox capacities. A box's capacity is fixed when the box is made;
// override it with Capacity.
const (
	// DefaultCapacity is the capacity of an inbox declared without Capacity,
	// including the default "inbox".
	DefaultCapacity = 16
	// DefaultControlCapacity is the capacity of the default "control" inbox.
	// Control carries a handful of shutdown notices, never a data stream.
	DefaultControlCapacity = 4
)

// Inbox is a named, bounded queue that a component receives from. Its
// channel never changes for the life of the box, so a component selects on
// it directly:
//
//	select {
//	case msg := <-c.In("inbox"):
//	case <-ctx.Done():
//	}
type Inbox struct {
	owner *Component
	*boxMeta
	ch chan any
	// wakeCh is closed (and cleared) when a route ending here changes or
	// the owner ends, waking senders blocked on a full ch. Made on demand.
	wakeCh atomic.Pointer[chan struct{}]

	// Link state, guarded by linkMu.
	fwd     *Inbox    // passthrough: messages for this box go to fwd instead
	fromIn  []*Inbox  // parent inboxes that pass through to this one
	fromOut []*Outbox // outboxes linked directly to this one
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
func (b *Inbox) C() <-chan any { return b.ch }

// Final returns the inbox that holds what arrives at b: b itself, or,
// following passthroughs, a descendant's inbox. It is nil if the chain
// ends at a passthrough-only box.
func (b *Inbox) Final() *Inbox {
	linkMu.Lock()
	defer linkMu.Unlock()
	return b.final()
}

// PassthroughOnly reports whether the box holds no messages of its own.
func (b *Inbox) PassthroughOnly() bool { return b.ch == nil }

// Len returns the number of messages queued.
func (b *Inbox) Len() int { return len(b.ch) }

// Cap returns the box's capacity.
func (b *Inbox) Cap() int { return cap(b.ch) }

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
// A ShutdownMicroprocess delivered to a running component's "control"
// also cancels that component's context, so it stops at once even if it
// is itself blocked in a Send.
func (b *Outbox) Send(ctx context.Context, msg any) error {
	if d := b.dest.Load(); d != nil && !d.owner.ended.Load() {
		stop, marked := b.stopping(d, msg)
		select {
		case d.ch <- msg:
			b.delivered(d, msg, stop)
			return nil
		default:
		}
		if marked {
			d.owner.unmarkStop()
		}
	}
	return b.sendSlow(ctx, msg)
}

func (b *Outbox) sendSlow(ctx context.Context, msg any) error {
	for {
		// Load the epoch before the destination: a link made after this
		// point closes ep, so the wait below cannot miss it.
		ep := linkEpoch()
		d := b.dest.Load()
		if d == nil {
			select {
			case <-ep:
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
		if d.owner.ended.Load() {
			return b.receiverDone(ctx, d)
		}
		stop, marked := b.stopping(d, msg)
		select {
		case d.ch <- msg:
			b.delivered(d, msg, stop)
			return nil
		case <-w:
		case <-ctx.Done():
		}
		if marked {
			d.owner.unmarkStop()
		}
		if ctx.Err() != nil {
			return b.fail("send", ctx.Err())
		}
	}
}

// waiter returns the channel that wake closes, making it if need be.
func (b *Inbox) waiter() <-chan struct{} {
	for {
		if p := b.wakeCh.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if b.wakeCh.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// wake wakes every sender blocked on b, to look at its route again.
func (b *Inbox) wake() {
	if p := b.wakeCh.Swap(nil); p != nil {
		close(*p)
	}
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

// delivered counts a message that reached d and, for a
// ShutdownMicroprocess reaching a control box, interrupts its owner.
func (b *Outbox) delivered(d *Inbox, msg any, stop bool) {
	b.sent.Add(1)
	if stop {
		d.owner.interrupt(msg)
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
// caller's.
func (b *Outbox) TrySend(msg any) error {
	d, why := b.offer(msg)
	switch why {
	case nil:
		return nil
	case ErrNotLinked:
		return b.fail("send", ErrNotLinked)
	case ErrReceiverDone:
		return b.receiverDone(context.Background(), d)
	}
	return b.fail("send", &BoxError{Component: d.owner.String(), Box: d.name, Err: ErrBoxFull})
}

// Offer is TrySend for a caller that only needs to know whether msg was
// delivered: a refusal costs nothing, where TrySend's error names both
// boxes. Components that drop or divert what does not fit (a
// drop-oldest queue, an error report that falls back to the log) call it
// for every message.
func (b *Outbox) Offer(msg any) bool {
	_, why := b.offer(msg)
	return why == nil
}

// offer delivers msg if it can at once. Otherwise it returns why not
// (ErrNotLinked, ErrReceiverDone or ErrBoxFull) and the destination, if
// there is one.
func (b *Outbox) offer(msg any) (*Inbox, error) {
	d := b.dest.Load()
	if d == nil {
		return nil, ErrNotLinked
	}
	if d.owner.ended.Load() {
		return d, ErrReceiverDone
	}
	stop, marked := b.stopping(d, msg)
	select {
	case d.ch <- msg:
		b.delivered(d, msg, stop)
		return d, nil
	default:
		if marked {
			d.owner.unmarkStop()
		}
		return d, ErrBoxFull
	}
}

// Destination returns the inbox a message sent now would reach, or nil.
func (b *Outbox) Destination() *Inbox { return b.dest.Load() }
