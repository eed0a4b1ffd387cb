package axon

import (
	"sync"
)

// How an inbox is read decides how messages may cross into it. A box
// starts open; the first reader fixes how it is read:
//
//   - raw: someone holds its channel (In, Inbox.C) and receives from it
//     with a plain select, so every element is one message and the
//     channel's own capacity is the box's capacity.
//   - batched: Serve (or another reader inside axon) reads it, so an
//     element may be a *batch of messages. The channel can then hold more
//     messages than elements, and the box's capacity is kept by a count of
//     messages instead: a sender reserves a slot in the count before it
//     puts a message in, and the reader frees the slot when it takes the
//     message out.
//   - open: nobody reads it yet. Senders count messages as in a batched
//     box but put in only single messages, so either kind of reader can
//     take over.
//
// The count and the mode share one word (Inbox.st), so a reservation made
// in a batched box keeps it batched until the reader has freed it: a
// batch can never be put into a box that a plain select reads.
const (
	stCount   = 1<<32 - 1 // messages counted in the box (reserved or queued)
	stModeSh  = 32
	stMode    = 3 << stModeSh
	stOpen    = 0 << stModeSh
	stRaw     = 1 << stModeSh
	stBatched = 2 << stModeSh
	stWaiting = 1 << 34 // a sender waits for a slot to be freed
	stClosed  = 1 << 35 // the box has been removed: no more reservations
	stParked  = 1 << 36 // Serve waits on this box alone (see Component.nudge)
)

// nudge is the element put into a waiting Serve's inbox to make it look at
// its control box and its context: it waits on its inbox alone, one
// channel, which costs an idle component less memory than a select over
// three and wakes it sooner. It is not a message and holds no slot; only
// a box Serve reads in batches ever receives one.
type nudge struct{}

// nudge wakes c's Serve if it waits for input. The first to clear the
// waiting mark puts the nudge in; if the channel is full, Serve is about
// to wake for what fills it anyway.
func (c *Component) nudge() {
	in := &c.defIn
	for {
		st := in.st.Load()
		if st&stParked == 0 {
			return
		}
		if in.st.CompareAndSwap(st, st&^stParked) {
			select {
			case in.ch <- nudge{}:
			default:
			}
			return
		}
	}
}

// maxBatch is the most messages one crossing carries. A batch is also
// never larger than the destination's capacity, since every message in it
// holds a slot there.
const maxBatch = 64

// batchSize is the most messages a batch put into b carries: half its
// capacity, so that a sender can fill the next batch while the reader
// works through the last one (whose slots stay taken until it is done).
func (b *Inbox) batchSize() int {
	return min(max(int(b.capa)/2, 1), maxBatch)
}

// batch is a channel element holding several messages, in order. Once
// received it is its reader's, who keeps its place in it: the messages
// before at have been taken, and the slots of those before freed freed.
type batch struct {
	msgs      []any
	at, freed int
}

var batchPool sync.Pool

// newBatch returns an empty batch that holds up to n messages.
func newBatch(n int) *batch {
	if p, ok := batchPool.Get().(*batch); ok && cap(p.msgs) >= n {
		return p
	}
	return &batch{msgs: make([]any, 0, n)}
}

// recycle returns an emptied batch for reuse.
func (p *batch) recycle() {
	clear(p.msgs[:cap(p.msgs)])
	p.msgs, p.at, p.freed = p.msgs[:0], 0, 0
	batchPool.Put(p)
}

// counted reports whether senders count messages in b (open or batched).
func counted(st uint64) bool { return st&stMode != stRaw }

// reserve takes up to want free slots in b's count and returns how many it
// took: none if b is full, removed, or read raw (where the channel keeps
// the capacity). A batch may only be put into a batched box, so batch
// asks for slots only there.
func (b *Inbox) reserve(want int, batch bool) int {
	for {
		st := b.st.Load()
		mode := st & stMode
		if st&stClosed != 0 || mode == stRaw || (batch && mode != stBatched) {
			return 0
		}
		free := int(b.capa) - int(st&stCount)
		if free <= 0 {
			return 0
		}
		n := min(free, want)
		if b.st.CompareAndSwap(st, st+uint64(n)) {
			return n
		}
	}
}

// unreserve gives back n slots taken by reserve and not used, or freed by
// the reader, waking a sender that waits for one.
func (b *Inbox) unreserve(n int) {
	if n == 0 {
		return
	}
	if st := b.st.Add(^uint64(n - 1)); st&stWaiting != 0 {
		b.roomFreed()
	}
}

// roomFreed clears the waiting mark and wakes one waiting sender; a
// sender that finds room left after taking its own wakes the next.
func (b *Inbox) roomFreed() {
	b.st.And(^uint64(stWaiting))
	select {
	case b.roomCh() <- struct{}{}:
	default:
	}
}

// passRoom wakes the next waiting sender, if any may wait and a slot is
// still free: called by a sender that waited and has taken its slot.
func (b *Inbox) passRoom() {
	w := b.waits.Load()
	if w == nil {
		return
	}
	if st := b.st.Load(); !counted(st) || int(st&stCount) >= int(b.capa) {
		return
	}
	select {
	case w.room <- struct{}{}:
	default:
	}
}

// roomCh returns the channel on which senders wait for a slot.
func (b *Inbox) roomCh() chan struct{} { return b.waitChans().room }

// markWaiting records that a sender is about to wait for a slot, unless a
// slot is free after all (ok false: look again).
func (b *Inbox) markWaiting() (ok bool) {
	for {
		st := b.st.Load()
		if !counted(st) || st&stClosed != 0 || int(st&stCount) < int(b.capa) {
			return false
		}
		if st&stWaiting != 0 || b.st.CompareAndSwap(st, st|stWaiting) {
			return true
		}
	}
}

// claimRaw fixes b as read with a plain select. A box that Serve reads in
// batches can be taken over only while nothing is counted in it;
// otherwise claimRaw reports false. Senders waiting for a counted slot
// are woken to wait on the channel instead.
func (b *Inbox) claimRaw() bool {
	for {
		st := b.st.Load()
		switch {
		case st&stMode == stRaw:
			return true
		case st&stMode == stBatched && st&stCount != 0:
			return false
		}
		if b.st.CompareAndSwap(st, st&^(stMode|stWaiting)|stRaw) {
			if st&stWaiting != 0 {
				select {
				case b.roomCh() <- struct{}{}:
				default:
				}
			}
			return true
		}
	}
}

// claimBatched fixes b as read in batches, unless it is already read raw.
func (b *Inbox) claimBatched() bool {
	for {
		st := b.st.Load()
		switch st & stMode {
		case stRaw:
			return false
		case stBatched:
			return true
		}
		if b.st.CompareAndSwap(st, st|stBatched) {
			return true
		}
	}
}

// unclaim ends a batched reading: the reader has freed what it took. If
// nothing is left in the box it becomes open again, so that a plain select
// may take it over; otherwise it stays batched for the next reader.
func (b *Inbox) unclaim() {
	b.freeTaken()
	for {
		st := b.st.Load()
		if st&stMode != stBatched || st&stCount != 0 {
			return
		}
		if b.st.CompareAndSwap(st, st&^stMode|stOpen) {
			return
		}
	}
}

// take returns the next message waiting in batched box b without
// blocking. Only b's reader calls it.
func (b *Inbox) take() (any, bool) {
	if p := b.spill; p != nil {
		return b.fromSpill(p), true
	}
	for {
		select {
		case e := <-b.ch:
			if m, ok := b.accept(e); ok {
				return m, true
			}
		default:
			return nil, false
		}
	}
}

// accept unpacks an element received from b's channel and returns its
// first message, keeping the rest of a batch for take; ok is false for a
// nudge, which is no message.
func (b *Inbox) accept(e any) (msg any, ok bool) {
	switch p := e.(type) {
	case *batch:
		b.spill = p
		return b.fromSpill(p), true
	case nudge:
		return nil, false
	case typedElem:
		q := p.boxed(0)
		b.spill = q
		return b.fromSpill(q), true
	}
	b.unreserve(1)
	return e, true
}

// putBack keeps element e, received but not opened (or the batch being
// read, taken up again by a restarted Serve), as the batch being read, so
// that the next reader (Drain, TakeAll, a restarted Serve) finds it first,
// from where it was left. Its slots stay counted.
func (b *Inbox) putBack(e any) {
	if _, ok := e.(nudge); ok {
		return
	}
	var p *batch
	switch x := e.(type) {
	case *batch:
		p = x
	case typedElem:
		p = x.boxed(0)
	default:
		p = newBatch(1)
		p.msgs = append(p.msgs, e)
	}
	b.spill = p
}

// fromSpill returns the next message of the batch being read. The slots
// of a batch are freed together when its last message is taken, so that
// a sender waiting for room is woken once for all of them; sooner if the
// reader is about to wait itself (freeTaken).
func (b *Inbox) fromSpill(p *batch) any {
	i := p.at
	m := p.msgs[i]
	p.msgs[i] = nil
	p.at = i + 1
	if p.at == len(p.msgs) {
		b.spillDone(p)
	}
	return m
}

// spillDone frees the slots of a batch whose last message has been taken.
func (b *Inbox) spillDone(p *batch) {
	n := p.at - p.freed
	b.spill = nil
	p.msgs, p.at, p.freed = p.msgs[:0], 0, 0
	batchPool.Put(p)
	b.unreserve(n)
}

// freeTaken frees the slots of the messages already taken from the batch
// being read.
func (b *Inbox) freeTaken() {
	if p := b.spill; p != nil && p.at > p.freed {
		n := p.at - p.freed
		p.freed = p.at
		b.unreserve(n)
	}
}

// drainAll empties b, batches unpacked, for RemoveInbox. Counted
// messages free their slots.
func (b *Inbox) drainAll() (msgs []any) {
	if p := b.spill; p != nil {
		msgs = append(msgs, p.msgs[p.at:]...)
		b.unreserve(len(p.msgs) - p.freed)
		b.spill = nil
		p.recycle()
	}
	counted := counted(b.st.Load())
	for {
		select {
		case e := <-b.ch:
			if t, ok := e.(typedElem); ok {
				e = t.boxed(0)
			}
			if p, ok := e.(*batch); ok {
				msgs = append(msgs, p.msgs...)
				b.unreserve(len(p.msgs))
				p.recycle()
				continue
			}
			if _, ok := e.(nudge); ok {
				continue
			}
			msgs = append(msgs, e)
			if counted {
				b.unreserve(1)
			}
		default:
			return msgs
		}
	}
}
