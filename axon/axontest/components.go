package axontest

import (
	"context"
	"slices"
	"sync"

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

// HandOffs is a pass-through stage that reads its inbox with an
// axon.Reader, as a socket writer does, and notes how many messages each
// hand-off into it carried: a test of a component that sends in batches
// puts one after it and checks the counts. Make it with NewHandOffs.
//
// Boxes of its Component:
//
//	inbox   (in)  any message, forwarded unchanged and in order
//	control (in)  ProducerFinished: forward what is queued, pass it on,
//	              end; ShutdownMicroprocess: pass it on, end at once
//	outbox  (out) the messages from inbox
//	signal  (out) the shutdown message that ended it
type HandOffs struct {
	c     *axon.Component
	ready chan struct{}
	mu    sync.Mutex
	sizes []int
}

// NewHandOffs returns a HandOffs whose component is called name.
func NewHandOffs(name string) *HandOffs {
	h := &HandOffs{ready: make(chan struct{})}
	h.c = axon.New(name, h.main)
	return h
}

// Component returns the stage to put in a graph.
func (h *HandOffs) Component() *axon.Component { return h.c }

// Ready is closed once the stage reads its inbox with its Reader: from
// then on what crosses into it many at a time arrives as one hand-off.
func (h *HandOffs) Ready() <-chan struct{} { return h.ready }

// Sizes returns how many messages each hand-off so far carried, in order.
func (h *HandOffs) Sizes() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.sizes)
}

// Count returns the messages that crossed so far, in how many hand-offs,
// and the most in one.
func (h *HandOffs) Count() (messages, handOffs, most int) {
	sizes := h.Sizes()
	for _, k := range sizes {
		messages += k
		most = max(most, k)
	}
	return messages, len(sizes), most
}

func (h *HandOffs) main(ctx context.Context, c *axon.Component) error {
	out := c.Out(axon.OutboxName)
	r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	close(h.ready)
	pass := func(msgs []any) error {
		h.mu.Lock()
		h.sizes = append(h.sizes, len(msgs))
		h.mu.Unlock()
		for _, m := range msgs {
			if err := out.Send(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		select {
		case e := <-r.C():
			if err := pass(r.Open(e)); err != nil {
				return err
			}
		case m := <-ctl:
			if axon.IsProducerFinished(m) {
				for msgs := r.Next(); msgs != nil; msgs = r.Next() {
					if err := pass(msgs); err != nil {
						return err
					}
				}
			}
			if stop, err := c.Control(ctx, m, nil); stop || err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Burst returns a component called name that sends msgs on its outbox,
// in order, all inside one Component.Batch (so that they cross to the
// next inbox many to a channel element, as a producer with a burst ready
// sends them), then ProducerFinished on its signal. It sends them with
// an axon.Sender[T], so values of a type such as int cross as typed
// batches; Burst of []any sends them as they are.
//
// Boxes:
//
//	control (in)  ShutdownMicroprocess: it ends at once
//	outbox  (out) msgs (declared to carry T)
//	signal  (out) ProducerFinished after the last of msgs
func Burst[T any](name string, msgs ...T) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := axon.SenderOf[T](c, axon.OutboxName)
		if err := c.Batch(ctx, func(ctx context.Context) error {
			for _, m := range msgs {
				if err := out.Send(ctx, m); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		return c.Finish(ctx)
	}, axon.WithOutbox(axon.OutboxName, "the burst", axon.Carries[T]()))
}
