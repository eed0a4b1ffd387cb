package axon

import (
	"context"
	"fmt"
	"reflect"
	"sync"
)

// ServeAs is Serve for a component whose "inbox" carries T (declare it
// with Carries[T], so that Link refuses a source of another type): handle
// gets each message as a T, in order, with no type assertion to write.
//
// A message that is not a T can still arrive, through a source that
// declares nothing. It is not handed to handle: ServeAs reports it on the
// component's "errors" outbox (or logs it, as a Reporter does when the
// box leads nowhere), as a *BoxError naming the component and "inbox"
// and wrapping ErrBadMessage, and goes on with the next message.
func ServeAs[T any](ctx context.Context, c *Component, handle func(ctx context.Context, msg T) error) error {
	return c.serve(ctx, &serveFuncs{typed: serveTyped[T](handle), handle: func(ctx context.Context, msg any) error {
		v, ok := msg.(T)
		if !ok {
			v, ok = As[T](ctx, c, msg) // a nil interface, or a stranger to report
		}
		if !ok {
			return nil
		}
		return handle(ctx, v)
	}})
}

// As returns msg, a message from c's "inbox", as a T, for a handler
// given to Serve that takes it apart itself. If msg is not a T, As
// reports it as ServeAs does (on "errors", wrapping ErrBadMessage, after
// what the handler sent before, ctx being the handler's) and returns
// false: the handler then drops it and returns nil, so that the component
// goes on.
func As[T any](ctx context.Context, c *Component, msg any) (T, bool) {
	if v, ok := msg.(T); ok {
		return v, true
	}
	return refuseUnless[T](ctx, c, msg)
}

// refuseUnless is As's slow path: msg is not a T, unless it is nil and T
// an interface type, whose nil it then is (the zero T). Otherwise it
// reports msg and returns false.
func refuseUnless[T any](ctx context.Context, c *Component, msg any) (zero T, ok bool) {
	want := reflect.TypeFor[T]()
	if msg == nil && want.Kind() == reflect.Interface {
		return zero, true
	}
	NewReporter(c, ErrorsName).ReportFrom(ctx, &BoxError{Component: c.String(), Box: InboxName, Op: "receive",
		Err: fmt.Errorf("%w: %T where %v was declared", ErrBadMessage, msg, want)})
	return zero, false
}

// Sender sends values of one type on one outbox: the typed side of
// Outbox, checked when the program is compiled. Get one with SenderOf.
//
// With the context Serve gives its handler, or Batch its function, a
// Sender of a type whose values do not fit in an any without an
// allocation (an int, a string, a struct) holds what it sends as a []T,
// which crosses as one element: a receiver that serves T with ServeAs
// gets the values without an any in between, and so without an
// allocation per message; any other receiver gets each in an any, as if
// sent untyped.
type Sender[T any] struct {
	out  *Outbox
	pool *sync.Pool // of typed batches of T; nil if T is sent as an any
}

// SenderOf returns a Sender of T for c's outbox called name, which should
// be declared with Carries[T] so that Link checks what it leads to. It
// panics, as Out does, if there is no such outbox.
func SenderOf[T any](c *Component, name string) Sender[T] {
	s := Sender[T]{out: c.Out(name)}
	if heldTyped[T]() {
		s.pool = poolOf[T]()
	}
	return s
}

// Send sends v, as Outbox.Send does.
func (s Sender[T]) Send(ctx context.Context, v T) error {
	// Outbox.Send written out, rather than called, for a typed batch
	// and to save a call per message.
	if sc, ok := ctx.(*scope); ok && sc.c == s.out.owner {
		if s.pool != nil {
			return sendTyped(sc, s.out, s.pool, v)
		}
		return sc.send(s.out, v)
	}
	return s.out.sendUnheld(ctx, v)
}

// TrySend sends v only if there is room now, as Outbox.TrySend does.
func (s Sender[T]) TrySend(v T) error { return s.out.TrySend(v) }

// Outbox returns the outbox s sends on.
func (s Sender[T]) Outbox() *Outbox { return s.out }
