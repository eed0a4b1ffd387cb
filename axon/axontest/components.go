package axontest

import (
	"context"

	"github.com/kamaelia-go/kamaelia/axon"
)

// PassThrough returns a component called name that forwards every message
// from its inbox to its outbox unchanged and in order. Its inbox holds
// capacity messages (at least 1), so a test can choose how much a stage
// buffers.
//
// Boxes:
//
//	inbox   (in)  any message, forwarded unchanged
//	control (in)  ProducerFinished: forward what is queued, pass it on, end;
//	              ShutdownMicroprocess: pass it on, end at once
//	outbox  (out) the messages from inbox
//	signal  (out) the shutdown message that ended it
func PassThrough(name string, capacity int) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, c.Out(axon.OutboxName).Send)
	}, axon.WithInbox(axon.InboxName, "messages to pass on", axon.Capacity(capacity)))
}

// Map returns a component called name that sends f(m) on its outbox for
// every message m from its inbox, in order. f runs on the component's
// goroutine; a panic in it is the component's failure.
//
// Boxes:
//
//	inbox   (in)  any message f accepts
//	control (in)  ProducerFinished: map what is queued, pass it on, end;
//	              ShutdownMicroprocess: pass it on, end at once
//	outbox  (out) f of each message from inbox
//	signal  (out) the shutdown message that ended it
func Map(name string, f func(any) any) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, m any) error { return out.Send(ctx, f(m)) })
	}, axon.WithInbox(axon.InboxName, "messages to map"))
}
