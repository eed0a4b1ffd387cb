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
	var rep *Reporter
	return c.Serve(ctx, func(ctx context.Context, msg any) error {
		v, ok := msg.(T)
		if !ok && msg == nil && reflect.TypeFor[T]().Kind() == reflect.Interface {
			ok = true // a nil interface is a T of its own
		}
		if !ok {
			if rep == nil {
				rep = NewReporter(c, ErrorsName)
			}
			rep.ReportFrom(ctx, &BoxError{Component: c.String(), Box: InboxName, Op: "receive",
				Err: fmt.Errorf("%w: %T where %v was declared", ErrBadMessage, msg, reflect.TypeFor[T]())})
			return nil
		}
		return handle(ctx, v)
	})
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
