package axontest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kamaelia-go/kamaelia/axon"
)

// endLimit is how long Conformance waits for a component to end after a
// shutdown message: far longer than any component needs, so that only a
// component that does not end fails. (A variable for the package's own
// tests of components that never end.)
var endLimit = 10 * time.Second

// A ConformanceOption describes the component Conformance checks.
type ConformanceOption func(*conformance)

type conformance struct {
	feed     []any
	internal []string
	silent   bool
}

// Feed gives messages the component takes on its "inbox" without error,
// in the order it should take them. Conformance queues them ahead of the
// shutdown messages, so there must be no more than the inbox holds.
// Without Feed, a component with an inbox is checked with its inbox
// empty.
func Feed(msgs ...any) ConformanceOption {
	return func(c *conformance) { c.feed = append(c.feed, msgs...) }
}

// Internal names outboxes the component links by itself while it runs
// (a Seq links one to each child in turn): Conformance leaves them
// unlinked, where it links every other outbox it does not use to a
// component that drains it.
func Internal(outboxes ...string) ConformanceOption {
	return func(c *conformance) { c.internal = append(c.internal, outboxes...) }
}

// SilentSignal says the component's "signal" carries nothing, by design
// (a CircularPipeline's last child signals its first): Conformance then
// checks that nothing at all is sent on it, instead of one
// ProducerFinished.
func SilentSignal() ConformanceOption {
	return func(c *conformance) { c.silent = true }
}

// Conformance checks that the components factory makes keep the shutdown
// rules every component in a graph relies on, each on a fresh component
// (factory is called once per check, and may call t.Fatal):
//
//   - ProducerFinished: put on "control" behind the messages given with
//     Feed, the component takes every one of them, passes exactly one
//     ProducerFinished on "signal", and ends without error.
//   - ShutdownMicroprocess: put on "control" while the component is
//     blocked sending on an "outbox" that leads to an inbox nobody reads,
//     it ends within 10 seconds without error.
//   - Sending to its "inbox" after it ended fails with an error wrapping
//     axon.ErrReceiverDone, at once, from Send and TrySend alike.
//   - After each check, no goroutine it started is left.
//
// Outboxes the check does not use are drained (except those named with
// Internal), so a component is never held up by what it reports. A
// component with no "inbox" is checked for the first two rules only; one
// whose "inbox" holds nothing itself and leads to no child (PAR's) is not
// fed, but must still refuse what is sent to it after its end.
func Conformance(t *testing.T, factory func() axon.Node, opts ...ConformanceOption) {
	t.Helper()
	var cf conformance
	for _, o := range opts {
		o(&cf)
	}
	t.Run("ProducerFinished", func(t *testing.T) { cf.producerFinished(t, factory) })
	t.Run("ShutdownMicroprocess", func(t *testing.T) { cf.shutdownWhileBlocked(t, factory) })
	t.Run("SendAfterEnd", func(t *testing.T) { cf.sendAfterEnd(t, factory) })
}

// begin makes a fresh component for one check and arranges for the check
// to fail if a goroutine is left once everything it started has stopped.
func begin(t testing.TB, factory func() axon.Node) (context.Context, axon.Node) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) }) // runs last
	ctx := Context(t)
	n := factory()
	if n == nil || n.Core() == nil {
		t.Fatal("conformance: the factory returned no component")
	}
	return ctx, n
}

// feedInbox queues the fed messages in n's "inbox", if it has one.
func (cf *conformance) feedInbox(t testing.TB, n axon.Node) {
	t.Helper()
	in := n.Core().Inbox(axon.InboxName)
	if in == nil {
		if len(cf.feed) > 0 {
			t.Fatalf("conformance: %v has no %q for the %d messages given with Feed", n.Core(), axon.InboxName, len(cf.feed))
		}
		return
	}
	if f := in.Final(); f != nil && len(cf.feed) > f.Cap() {
		t.Fatalf("conformance: Feed gives %d messages, more than %v's %q holds (%d)", len(cf.feed), n.Core(), axon.InboxName, f.Cap())
	}
	Preload(t, n, axon.InboxName, cf.feed...)
}

// drainOutboxes links every outbox of n that leads nowhere, except
// "signal" and those named in keep, to a running component that takes
// and drops what arrives.
func drainOutboxes(t testing.TB, ctx context.Context, n axon.Node, keep ...string) {
	t.Helper()
	for _, out := range n.Core().Outboxes() {
		name := out.Name()
		if name == axon.SignalName || out.Linked() || slices.Contains(keep, name) {
			continue
		}
		sink := axon.New("Drain("+name+")", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(context.Context, any) error { return nil })
		})
		if err := axon.Link(n, name, sink, axon.InboxName); err != nil {
			t.Fatalf("conformance: drain %v.%s: %v", n.Core(), name, err)
		}
		Start(t, ctx, sink)
	}
}

// waitEnd waits for h's component to end, failing the test if it has not
// within endLimit of after, what it was told.
func waitEnd(t testing.TB, h *axon.Handle, after string) {
	t.Helper()
	select {
	case <-h.Done():
	case <-time.After(endLimit):
		t.Fatalf("%v did not end within %v of %s", h.Component(), endLimit, after)
	}
	if err := h.Wait(); err != nil {
		t.Fatalf("%v ended with %v after %s, want no error", h.Component(), err, after)
	}
}

func (cf *conformance) producerFinished(t testing.TB, factory func() axon.Node) {
	ctx, n := begin(t, factory)
	cf.feedInbox(t, n)
	Preload(t, n, axon.ControlName, axon.ProducerFinished{From: Tester})
	drainOutboxes(t, ctx, n, cf.internal...)
	h := Start(t, ctx, n)
	waitEnd(t, h, "ProducerFinished")
	if in := n.Core().Inbox(axon.InboxName); in != nil && in.Final() != nil {
		if left := in.Final().Len(); left > 0 {
			t.Errorf("%v ended after ProducerFinished with %d of the %d messages queued before it still in %q", n.Core(), left, len(cf.feed), axon.InboxName)
		}
	}
	var signals []any
	for {
		m, err := h.Get(ctx, axon.SignalName)
		if errors.Is(err, axon.ErrEnded) {
			break
		}
		if err != nil {
			t.Fatalf("get from signal: %v", err)
		}
		signals = append(signals, m)
	}
	if cf.silent {
		if len(signals) > 0 {
			t.Errorf("%v sent %s on %q, which should carry nothing", n.Core(), describe(signals), axon.SignalName)
		}
		return
	}
	if len(signals) != 1 || !axon.IsProducerFinished(signals[0]) {
		t.Errorf("%v sent %s on %q after ProducerFinished, want one ProducerFinished", n.Core(), describe(signals), axon.SignalName)
	}
}

func (cf *conformance) shutdownWhileBlocked(t testing.TB, factory func() axon.Node) {
	ctx, n := begin(t, factory)
	cf.feedInbox(t, n)
	// An inbox of one slot that nobody reads: the second message the
	// component sends on "outbox" blocks it.
	var stuck *axon.Inbox
	if out := n.Core().Outbox(axon.OutboxName); out != nil && !out.Linked() {
		never := axon.New("NeverReads", nil, axon.WithInbox(axon.InboxName, "never read", axon.Capacity(1)))
		if err := axon.Link(n, axon.OutboxName, never, axon.InboxName); err != nil {
			t.Fatalf("conformance: link %v.%s: %v", n.Core(), axon.OutboxName, err)
		}
		stuck = never.Inbox(axon.InboxName)
	}
	drainOutboxes(t, ctx, n, append([]string{axon.OutboxName}, cf.internal...)...)
	h := Start(t, ctx, n)
	// Give it the time to block, if what it was fed makes it send.
	for deadline := time.Now().Add(300 * time.Millisecond); stuck != nil && stuck.Len() < stuck.Cap() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if err := h.Put(ctx, axon.ControlName, axon.ShutdownMicroprocess{From: Tester}); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("put ShutdownMicroprocess on control: %v", err)
	}
	waitEnd(t, h, "ShutdownMicroprocess")
}

func (cf *conformance) sendAfterEnd(t testing.TB, factory func() axon.Node) {
	ctx, n := begin(t, factory)
	if n.Core().Inbox(axon.InboxName) == nil {
		t.Skipf("%v has no %q", n.Core(), axon.InboxName)
	}
	feeder := axon.New("Feeder", nil) // never run: sent from directly
	if err := axon.Link(feeder, axon.OutboxName, n, axon.InboxName); err != nil {
		t.Fatalf("conformance: link to %v.%s: %v", n.Core(), axon.InboxName, err)
	}
	Preload(t, n, axon.ControlName, axon.ProducerFinished{From: Tester})
	drainOutboxes(t, ctx, n, cf.internal...)
	h := Start(t, ctx, n)
	waitEnd(t, h, "ProducerFinished")
	var msg any = "after the end"
	if len(cf.feed) > 0 {
		msg = cf.feed[0]
	}
	out := feeder.Out(axon.OutboxName)
	sendCtx, cancel := context.WithTimeout(ctx, endLimit)
	defer cancel()
	if err := out.Send(sendCtx, msg); !errors.Is(err, axon.ErrReceiverDone) {
		t.Errorf("Send to %v.%s after it ended: %v, want an error wrapping ErrReceiverDone", n.Core(), axon.InboxName, err)
	}
	if err := out.TrySend(msg); !errors.Is(err, axon.ErrReceiverDone) {
		t.Errorf("TrySend to %v.%s after it ended: %v, want an error wrapping ErrReceiverDone", n.Core(), axon.InboxName, err)
	}
}

// describe lists messages for a failure message.
func describe(msgs []any) string {
	if len(msgs) == 0 {
		return "nothing"
	}
	return fmt.Sprintf("%d messages %v", len(msgs), msgs)
}
