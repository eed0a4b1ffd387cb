package axon

import (
	"context"
	"fmt"
	"reflect"
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
	return c.Serve(ctx, func(ctx context.Context, msg any) error {
		v, ok := msg.(T)
		if !ok {
			v, ok = As[T](ctx, c, msg) // a nil interface, or a stranger to report
		}
		if !ok {
			return nil
		}
		return handle(ctx, v)
	})
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
type Sender[T any] struct{ out *Outbox }

// SenderOf returns a Sender of T for c's outbox called name, which should
// be declared with Carries[T] so that Link checks what it leads to. It
// panics, as Out does, if there is no such outbox.
func SenderOf[T any](c *Component, name string) Sender[T] {
	return Sender[T]{out: c.Out(name)}
}

// Send sends v, as Outbox.Send does.
func (s Sender[T]) Send(ctx context.Context, v T) error { return s.out.Send(ctx, v) }

// TrySend sends v only if there is room now, as Outbox.TrySend does.
func (s Sender[T]) TrySend(v T) error { return s.out.TrySend(v) }

// Outbox returns the outbox s sends on.
func (s Sender[T]) Outbox() *Outbox { return s.out }
