package axon

import (
	"context"
	"reflect"
	"sync"
)

// Typed batches. Putting a value into an any allocates for most types
// that are not pointers (an int of 256 or more, a string, a struct), so a
// batch of anys costs an allocation per message per hop. A Sender[T]
// sending with a scope holds its messages as a typed batch instead, a
// []T, which crosses as one channel element like a *batch. A reader that
// serves T (ServeAs[T]) hands the values to its handler as they are, so
// values go from Sender to handler without an any in between; any other
// reader (Serve, Reader, Drain, RemoveInbox, TakeAll, a supervisor) sees
// a typed batch as the *batch of anys it would have been, made when it
// opens it. Capacity, order and what is freed when are as for *batch.
//
// Only types whose values do not fit in an any for free are held this
// way (see heldTyped): a pointer crosses in a *batch at no cost already.

// tbatch is a typed batch of messages of type T, in order.
type tbatch[T any] struct {
	msgs []T
	pool *sync.Pool // where it goes back once read: one pool per T
}

// typedElem is a typed batch as code that does not know its T sees it.
type typedElem interface {
	// size returns the number of messages in the batch.
	size() int
	// boxed returns the messages from the from-th on as a *batch of
	// anys, and recycles the typed batch.
	boxed(from int) *batch
	// recycle returns the emptied batch to its pool.
	recycle()
}

func (t *tbatch[T]) size() int { return len(t.msgs) }

func (t *tbatch[T]) boxed(from int) *batch {
	rest := t.msgs[from:]
	p := newBatch(len(rest))
	for _, v := range rest {
		p.msgs = append(p.msgs, v)
	}
	t.recycle()
	return p
}

func (t *tbatch[T]) recycle() {
	clear(t.msgs)
	t.msgs = t.msgs[:0]
	t.pool.Put(t)
}

// typedPools holds a *sync.Pool of typed batches for each type T.
var typedPools sync.Map // reflect.Type -> *sync.Pool

// poolOf returns the pool of typed batches of T.
func poolOf[T any]() *sync.Pool {
	t := reflect.TypeFor[T]()
	if p, ok := typedPools.Load(t); ok {
		return p.(*sync.Pool)
	}
	p, _ := typedPools.LoadOrStore(t, new(sync.Pool))
	return p.(*sync.Pool)
}

// newTBatch returns an empty typed batch from pool that holds n messages.
func newTBatch[T any](pool *sync.Pool, n int) *tbatch[T] {
	if t, ok := pool.Get().(*tbatch[T]); ok && cap(t.msgs) >= n {
		return t
	}
	return &tbatch[T]{msgs: make([]T, 0, n), pool: pool}
}

// heldTyped reports whether a Sender[T] holds its messages in typed
// batches: not for an interface type (its values are anys already), nor
// for one whose values fit in an any without an allocation (pointers,
// maps, channels, functions), nor for a shutdown message, which never
// crosses in a batch.
func heldTyped[T any]() bool {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return false
	}
	var zero T
	return !isShutdownMsg(zero)
}

// sendTyped is Sender[T].Send with a scope of the sending component. The
// common case, another message for the typed batch already under way,
// is kept small.
func sendTyped[T any](s *scope, b *Outbox, pool *sync.Pool, v T) error {
	if s.credit > 0 && b == s.tout && b.dest.Load() == s.dest {
		if t, ok := s.tb.(*tbatch[T]); ok {
			s.credit--
			t.msgs = append(t.msgs, v) // within cap: a credit is a free place
			return nil
		}
	}
	return sendMoreOf(s, b, v, pool)
}

// typedServer hands the typed batches of one type to ServeAs's handler.
type typedServer interface {
	// serve hands the messages of e, if it is a typed batch of the
	// handler's type (ok), to the handler in order, as serveSpill does
	// with a *batch, and returns the handler's error.
	serve(s *scope, in *Inbox, e any) (ok bool, err error)
}

// serveTyped is ServeAs's handler, as a typedServer.
type serveTyped[T any] func(ctx context.Context, msg T) error

func (h serveTyped[T]) serve(s *scope, in *Inbox, e any) (bool, error) {
	switch t := e.(type) {
	case *tbatch[T]:
		return true, h.serveTBatch(s, in, t)
	case *batch:
		// A batch of anys, each a T or refused: taken here rather than
		// through Serve's handler, to save a call per message.
		in.spill = t
		return true, serveSpill(s.c, s, in, t, h, refuseUnless[T])
	}
	return false, nil
}

// serveTBatch hands the messages of t to h in order, as serveSpill does
// for a *batch.
func (h serveTyped[T]) serveTBatch(s *scope, in *Inbox, t *tbatch[T]) error {
	msgs := t.msgs
	last := len(msgs) - 1
	for i := range msgs {
		if s.c.halted.Load() {
			s.keepRest(t, i)
			return s.Context.Err()
		}
		v := msgs[i]
		if i == last {
			// Taken: the batch's slots are freed together, before the
			// last message is handled, as for a *batch.
			in.unreserve(len(msgs) - s.tfreed)
			s.taken, s.tfreed = 0, 0
			t.recycle()
		} else {
			s.taken = i + 1
		}
		if err := h(s, v); err != nil {
			if i < last {
				s.keepRest(t, i+1)
			}
			return err
		}
	}
	return nil
}

// keepRest leaves the messages of typed batch t from the from-th on, not
// handed over, at the head of the scope's inbox for its next reader,
// and frees the slots of those taken.
func (s *scope) keepRest(t typedElem, from int) {
	s.in.unreserve(from - s.tfreed)
	s.taken, s.tfreed = 0, 0
	if from < t.size() {
		s.in.spill = t.boxed(from)
		return
	}
	t.recycle()
}
