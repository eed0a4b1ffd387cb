package axon

// Reader reads an inbox in batches from a main loop that selects over
// boxes of its own, as Serve does for "inbox": senders may then put many
// messages into the box as one channel element, and the loop takes them
// all with one receive.
//
//	r := c.Reader("inbox")
//	for {
//		select {
//		case e := <-r.C():
//			for _, msg := range r.Open(e) {
//				// one message at a time, in order
//			}
//		case <-ctx.Done():
//			return ctx.Err()
//		}
//	}
//
// Every element received from C must be passed to Open. A Reader belongs
// to the goroutine that reads with it. A box that is already read raw
// (its channel taken with In or Inbox.C) stays raw: Open then returns the
// element as the one message it is.
type Reader struct {
	in      *Inbox
	batched bool
	one     [1]any
	last    *batch // the batch Open returned last, recycled by the next
}

// Reader returns a Reader of the named inbox. It panics, as In does, if
// there is no such inbox or it is passthrough-only.
func (c *Component) Reader(name string) *Reader {
	b := c.receivable(name)
	batched := c.batching() && !b.control && b.claimBatched()
	if !batched && !b.claimRaw() {
		// Read in batches before, and not empty: go on that way.
		batched = true
	}
	return &Reader{in: b, batched: batched}
}

// C returns the channel to receive elements from.
func (r *Reader) C() <-chan any { return r.in.ch }

// Open returns the messages that element e, received from C, holds, in
// order: one, or a batch (none for an element that is not a message,
// which Serve may leave behind). The slice is the Reader's and is valid until
// the next call to Open or Next. Their slots in the box are free once
// Open returns: they are in the caller's hands.
func (r *Reader) Open(e any) []any {
	if r.last != nil {
		r.last.recycle()
		r.last = nil
	}
	if !r.batched {
		r.one[0] = e
		return r.one[:]
	}
	switch p := e.(type) {
	case *batch:
		return r.openBatch(p)
	case typedElem:
		return r.openBatch(p.boxed(0))
	case nudge:
		return nil // left by a Serve that read the box before
	}
	r.in.unreserve(1)
	r.one[0] = e
	return r.one[:]
}

// openBatch hands over batch p, whose slots are then free, keeping it to
// recycle at the next Open.
func (r *Reader) openBatch(p *batch) []any {
	r.last = p
	r.in.unreserve(len(p.msgs))
	return p.msgs
}

// Next returns the messages of the next element waiting in the box, or
// nil if none is: Open of a receive that does not wait.
func (r *Reader) Next() []any {
	for {
		select {
		case e := <-r.in.ch:
			if msgs := r.Open(e); len(msgs) > 0 {
				return msgs
			}
		default:
			return nil
		}
	}
}

// Len returns the number of messages queued in the box.
func (r *Reader) Len() int { return r.in.Len() }
