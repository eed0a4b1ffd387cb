package axon

import (
	"context"
	"errors"
	"sync"
)

// Handle drives a running component from plain Go code: put messages into
// its inboxes, take messages from its outboxes, stop it, wait for it.
//
// Put and Get work through links, like everything else: the first Put to
// an inbox links a private outbox of the handle to it, and the first Get
// from an outbox links it to a private inbox of the handle. So a box that
// is already linked inside a graph cannot also be driven by the handle, and
// a message the component sends before the first Get waits in its Send
// rather than being lost. The root's "signal", if nothing else takes it, is
// linked to the handle by Start, so the shutdown notice it sends on
// finishing can still be read with Get.
type Handle struct {
	c        *Component
	rs       *runState
	startErr bool

	mu    sync.Mutex
	proxy *Component
}

// Component returns the component the handle drives.
func (h *Handle) Component() *Component { return h.c }

// Done returns a channel closed when the component and all its children
// have ended.
func (h *Handle) Done() <-chan struct{} {
	if h.startErr {
		return closedChan
	}
	return h.c.Done()
}

// Stop ends the whole graph at once by cancelling its context, with
// ErrStopped as the cause (context.Cause). Wait then returns nil unless a
// component failed.
func (h *Handle) Stop() { h.rs.cancel(ErrStopped) }

// Wait waits until the graph has ended and returns what Run would.
func (h *Handle) Wait() error {
	<-h.Done()
	h.rs.mu.Lock()
	defer h.rs.mu.Unlock()
	if len(h.rs.errs) > 0 {
		return errors.Join(h.rs.errs...)
	}
	return h.rs.ctxErr
}

// Put sends msg to the component's named inbox, waiting while it is full.
func (h *Handle) Put(ctx context.Context, inbox string, msg any) error {
	out, err := h.outboxFor(inbox)
	if err != nil {
		return err
	}
	return out.Send(ctx, msg)
}

// TryPut sends msg to the component's named inbox only if there is room
// now; otherwise the error wraps ErrBoxFull.
func (h *Handle) TryPut(inbox string, msg any) error {
	out, err := h.outboxFor(inbox)
	if err != nil {
		return err
	}
	return out.TrySend(msg)
}

// Get receives the next message the component sends on the named outbox.
// It returns an error wrapping ErrEnded if the component has ended and
// nothing more is queued, or ctx's error if ctx ends first.
func (h *Handle) Get(ctx context.Context, outbox string) (any, error) {
	in, err := h.inboxFor(outbox)
	if err != nil {
		return nil, err
	}
	ch := in.C()
	select {
	case m := <-ch:
		return m, nil
	default:
	}
	select {
	case m := <-ch:
		return m, nil
	case <-h.Done():
		select {
		case m := <-ch:
			return m, nil
		default:
			return nil, &BoxError{Component: h.c.String(), Box: outbox, Op: "get", Err: ErrEnded}
		}
	case <-ctx.Done():
		return nil, &BoxError{Component: h.c.String(), Box: outbox, Op: "get", Err: ctx.Err()}
	}
}

func (h *Handle) proxyLocked() *Component {
	if h.proxy == nil {
		h.proxy = New("Handle("+h.c.name+")", nil)
	}
	return h.proxy
}

// outboxFor returns the handle's outbox linked to the component's inbox.
func (h *Handle) outboxFor(inbox string) (*Outbox, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.proxyLocked()
	name := "to:" + inbox
	if b := p.Outbox(name); b != nil {
		return b, nil
	}
	b, err := p.AddOutbox(name, "handle's link to "+inbox)
	if err != nil {
		return nil, err
	}
	if err := Link(p, name, h.c, inbox); err != nil {
		_ = p.RemoveOutbox(name)
		return nil, err
	}
	return b, nil
}

// inboxFor returns the handle's inbox linked from the component's outbox.
func (h *Handle) inboxFor(outbox string) (*Inbox, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.proxyLocked()
	name := "from:" + outbox
	if b := p.Inbox(name); b != nil {
		return b, nil
	}
	b, err := p.AddInbox(name, "handle's link from "+outbox, Capacity(DefaultCapacity))
	if err != nil {
		return nil, err
	}
	if err := Link(h.c, outbox, p, name); err != nil {
		_, _ = p.RemoveInbox(name)
		return nil, err
	}
	return b, nil
}
