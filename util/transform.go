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

// Filter passes on, in order, the messages for which keep returns true,
// and drops the others.
//
// Boxes:
//
//	inbox   (in)  messages to test
//	control (in)  ProducerFinished: queued messages are tested, then it is
//	              passed on and the Filter ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) the messages keep accepted, unchanged
//	signal  (out) the shutdown message that ended the Filter
func Filter(keep func(any) bool) *axon.Component {
	return axon.New("Filter", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			if keep(msg) {
				return out.Send(ctx, msg)
			}
			return nil
		})
	},
		axon.WithInbox(axon.InboxName, "messages to test"),
		axon.WithOutbox(axon.OutboxName, "the messages kept, unchanged"),
	)
}
