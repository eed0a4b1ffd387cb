package util

import (
	"context"

	"github.com/kamaelia-go/kamaelia/axon"
)

// PureTransformer sends fn(msg) on "outbox" for each msg arriving on
// "inbox", in order. When fn returns nil nothing is sent for that message:
// that is how fn drops a message, by design.
//
// Boxes:
//
//	inbox   (in)  messages to transform
//	control (in)  ProducerFinished: queued messages are transformed, then
//	              it is passed on and the PureTransformer ends;
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) fn's non-nil results
//	signal  (out) the shutdown message that ended the PureTransformer
//
// fn runs in the PureTransformer's goroutine; a panic in fn is reported as
// the component's failure.
func PureTransformer(fn func(any) any) *axon.Component {
	return axon.New("PureTransformer", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			if r := fn(msg); r != nil {
				return out.Send(ctx, r)
			}
			return nil
		})
	},
		axon.WithInbox(axon.InboxName, "messages to transform"),
		axon.WithOutbox(axon.OutboxName, "the function's non-nil results"),
	)
}

// ErrorsBox is the name of the outbox on which CheckedTransformer sends
// its function's errors.
const ErrorsBox = axon.ErrorsName

// CheckedTransformer is PureTransformer for a function that can fail: for
// each msg arriving on "inbox" it sends fn(msg)'s result on "outbox" or,
// if fn returns an error, the error on "errors" (and nothing on
// "outbox"), in order. A parser fits it: good input goes on, and each bad
// piece is reported and skipped without stopping the stream. As with
// PureTransformer, a nil result with a nil error sends nothing.
//
// Boxes:
//
//	inbox   (in)  messages to transform
//	control (in)  ProducerFinished: queued messages are transformed, then
//	              it is passed on and the CheckedTransformer ends;
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) fn's non-nil results
//	errors  (out) fn's errors, each an error
//	signal  (out) the shutdown message that ended the CheckedTransformer
//
// Errors are sent like results, waiting for room, so "errors" must lead
// somewhere once fn has failed (or the CheckedTransformer waits there).
func CheckedTransformer(fn func(any) (any, error)) *axon.Component {
	return axon.New("CheckedTransformer", func(ctx context.Context, c *axon.Component) error {
		out, errs := c.Out(axon.OutboxName), c.Out(ErrorsBox)
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			r, err := fn(msg)
			switch {
			case err != nil:
				return errs.Send(ctx, err)
			case r != nil:
				return out.Send(ctx, r)
			}
			return nil
		})
	},
		axon.WithInbox(axon.InboxName, "messages to transform"),
		axon.WithOutbox(axon.OutboxName, "the function's non-nil results"),
		axon.WithOutbox(ErrorsBox, "the function's errors", axon.Carries[error]()),
	)
}

// Filter passes on, in order, the messages for which keep returns true,
// and drops the others. Its boxes carry T: Filter[string] refuses, when
// linked, a source declared to send anything else, and reports on
// "errors" a message of another type that arrives all the same (from a
// source that declares nothing). Filter(func(any) bool { ... }) takes
// any message, as Kamaelia's filters did.
//
// Boxes:
//
//	inbox   (in)  T: the messages to test
//	control (in)  ProducerFinished: queued messages are tested, then it is
//	              passed on and the Filter ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) T: the messages keep accepted, unchanged
//	errors  (out) *axon.BoxError wrapping axon.ErrBadMessage: a message
//	              that was not a T, dropped
//	signal  (out) the shutdown message that ended the Filter
func Filter[T any](keep func(T) bool) *axon.Component {
	return axon.New("Filter", func(ctx context.Context, c *axon.Component) error {
		out := axon.SenderOf[T](c, axon.OutboxName)
		return axon.ServeAs(ctx, c, func(ctx context.Context, msg T) error {
			if keep(msg) {
				return out.Send(ctx, msg)
			}
			return nil
		})
	},
		axon.WithInbox(axon.InboxName, "messages to test", axon.Carries[T]()),
		axon.WithOutbox(axon.OutboxName, "the messages kept, unchanged", axon.Carries[T]()),
		axon.WithOutbox(ErrorsBox, "messages of the wrong type, dropped", axon.Carries[error]()),
	)
}

// Map sends fn(v) on "outbox" for each v arriving on "inbox", in order:
// the typed PureTransformer. Its "inbox" carries T and its "outbox" R, so
// Link refuses a source or a destination declared with another type, and
// fn is an ordinary typed function, with no type assertion to write or
// get wrong. A message that is not a T and arrives all the same (from a
// source that declares nothing) is reported on "errors" and dropped,
// never handed to fn. Unlike PureTransformer, every result is sent, zero
// values and nil included.
//
// Boxes:
//
//	inbox   (in)  T: the values to map
//	control (in)  ProducerFinished: queued values are mapped, then it is
//	              passed on and the Map ends; ShutdownMicroprocess: passed
//	              on at once, and it ends
//	outbox  (out) R: fn of each value
//	errors  (out) *axon.BoxError wrapping axon.ErrBadMessage: a message
//	              that was not a T, dropped
//	signal  (out) the shutdown message that ended the Map
//
// fn runs in the Map's goroutine; a panic in fn is reported as the
// component's failure.
func Map[T, R any](fn func(T) R) *axon.Component {
	return axon.New("Map", func(ctx context.Context, c *axon.Component) error {
		out := axon.SenderOf[R](c, axon.OutboxName)
		return axon.ServeAs(ctx, c, func(ctx context.Context, v T) error {
			return out.Send(ctx, fn(v))
		})
	},
		axon.WithInbox(axon.InboxName, "values to map", axon.Carries[T]()),
		axon.WithOutbox(axon.OutboxName, "the function of each value", axon.Carries[R]()),
		axon.WithOutbox(ErrorsBox, "messages of the wrong type, dropped", axon.Carries[error]()),
	)
}
