package axon_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// pair returns a sender and a receiver (neither started) with the
// receiver's inbox given capacity n, linked outbox -> inbox.
func pair(t *testing.T, n int) (src, dst *axon.Component) {
	t.Helper()
	src = axon.New("Src", nil)
	dst = axon.New("Dst", nil, axon.WithInbox("inbox", "test inbox", axon.Capacity(n)))
	if err := axon.Link(src, "outbox", dst, "inbox"); err != nil {
		t.Fatal(err)
	}
	return src, dst
}

func TestFiveSlotInbox(t *testing.T) {
	src, dst := pair(t, 5)
	out, in := src.Out("outbox"), dst.In("inbox")
	for i := range 5 {
		if err := out.TrySend(i); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	err := out.TrySend(5)
	if !errors.Is(err, axon.ErrBoxFull) {
		t.Fatalf("6th send: got %v, want ErrBoxFull", err)
	}
	if !strings.Contains(err.Error(), "Dst#") || !strings.Contains(err.Error(), ".inbox") {
		t.Errorf("error %q does not name the destination box", err)
	}
	for i := range 3 {
		if got := <-in; got != i {
			t.Fatalf("received %v, want %d", got, i)
		}
	}
	fitted := 0
	for i := range 10 {
		if out.TrySend(100+i) != nil {
			break
		}
		fitted++
	}
	if fitted != 3 {
		t.Fatalf("after receiving 3, %d more fitted; want exactly 3", fitted)
	}
}

func TestDefaultCapacities(t *testing.T) {
	c := axon.New("C", nil)
	if got := c.Inbox("inbox").Cap(); got != axon.DefaultCapacity {
		t.Errorf("inbox capacity %d, want %d", got, axon.DefaultCapacity)
	}
	if got := c.Inbox("control").Cap(); got != axon.DefaultControlCapacity {
		t.Errorf("control capacity %d, want %d", got, axon.DefaultControlCapacity)
	}
	for _, name := range []string{"inbox", "control"} {
		if c.Inbox(name) == nil || c.Inbox(name).Doc() == "" {
			t.Errorf("default inbox %q missing or undocumented", name)
		}
	}
	for _, name := range []string{"outbox", "signal"} {
		if c.Outbox(name) == nil || c.Outbox(name).Doc() == "" {
			t.Errorf("default outbox %q missing or undocumented", name)
		}
	}
}

func TestUnlinkedOutboxNeverDrops(t *testing.T) {
	src := axon.New("Src", nil)
	dst := axon.New("Dst", nil)
	out := src.Out("outbox")
	if err := out.TrySend("x"); !errors.Is(err, axon.ErrNotLinked) {
		t.Fatalf("TrySend on unlinked: got %v, want ErrNotLinked", err)
	}
	// A blocking send on an unlinked box gives up only when its context does.
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := out.Send(short, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send on unlinked with expiring ctx: got %v", err)
	}
	// ... and completes once a link is made.
	ctx := axontest.Context(t)
	sent := make(chan error, 1)
	go func() { sent <- out.Send(ctx, "hello") }()
	select {
	case err := <-sent:
		t.Fatalf("Send returned %v before the box was linked", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := axon.Link(src, "outbox", dst, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := <-dst.In("inbox"); got != "hello" {
		t.Fatalf("got %v", got)
	}
}

func TestBackpressure(t *testing.T) {
	src, dst := pair(t, 2)
	out := src.Out("outbox")
	ctx := axontest.Context(t)
	for i := range 2 {
		if err := out.Send(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error, 1)
	go func() { sent <- out.Send(ctx, 2) }()
	select {
	case err := <-sent:
		t.Fatalf("third Send into a 2-slot box returned %v without waiting", err)
	case <-time.After(20 * time.Millisecond):
	}
	<-dst.In("inbox")
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if out.Sent() != 3 {
		t.Fatalf("Sent() = %d, want 3", out.Sent())
	}
}

func TestSendToEndedReceiver(t *testing.T) {
	src, dst := pair(t, 1)
	ctx := axontest.Context(t)
	h := axon.Start(ctx, dst) // no main: ends at once
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	out := src.Out("outbox")
	_ = out.TrySend(1) // fills the only slot
	err := out.Send(ctx, 2)
	if !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("send to ended receiver: got %v, want ErrReceiverDone", err)
	}
}

func TestFIFO(t *testing.T) {
	ctx := axontest.Context(t)
	const n = 10000
	src := axon.New("Counter", func(ctx context.Context, c *axon.Component) error {
		out := c.Out("outbox")
		for i := range n {
			if err := out.Send(ctx, i); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
	got := make(chan []int, 1)
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		var seen []int
		err := c.Serve(ctx, func(_ context.Context, m any) error { seen = append(seen, m.(int)); return nil })
		got <- seen
		return err
	})
	root := axon.New("Root", nil, axon.WithChildren(src, sink))
	if err := axon.Link(src, "outbox", sink, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := axon.Link(src, "signal", sink, "control"); err != nil {
		t.Fatal(err)
	}
	if err := axon.Run(ctx, root); err != nil {
		t.Fatal(err)
	}
	seen := <-got
	if len(seen) != n {
		t.Fatalf("received %d of %d", len(seen), n)
	}
	for i, v := range seen {
		if v != i {
			t.Fatalf("message %d was %d", i, v)
		}
	}
}

func TestManyOutboxesOneInbox(t *testing.T) {
	a, b := axon.New("A", nil), axon.New("B", nil)
	dst := axon.New("Dst", nil)
	for _, s := range []*axon.Component{a, b} {
		if err := axon.Link(s, "outbox", dst, "inbox"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.TrySend("outbox", "from a"); err != nil {
		t.Fatal(err)
	}
	if err := b.TrySend("outbox", "from b"); err != nil {
		t.Fatal(err)
	}
	if x, y := <-dst.In("inbox"), <-dst.In("inbox"); x != "from a" || y != "from b" {
		t.Fatalf("got %v, %v", x, y)
	}
}

func TestUnknownBoxInMainIsReported(t *testing.T) {
	ctx := axontest.Context(t)
	c := axon.New("Typo", func(ctx context.Context, c *axon.Component) error {
		<-c.In("inbx")
		return nil
	})
	err := axon.Run(ctx, c)
	if !errors.Is(err, axon.ErrPanic) || !strings.Contains(err.Error(), "inbx") || !strings.Contains(err.Error(), "Typo#") {
		t.Fatalf("got %v; want a panic report naming Typo and inbx", err)
	}
	if err := c.Send(ctx, "nope", 1); !errors.Is(err, axon.ErrNoSuchBox) {
		t.Fatalf("Send on unknown box: %v", err)
	}
}

func TestBoxNamesShareOneNamespace(t *testing.T) {
	c := axon.New("Clash", func(context.Context, *axon.Component) error { return nil },
		axon.WithOutbox("inbox", "an outbox named like an inbox"),
		axon.WithInbox("signal", "an inbox named like an outbox"))
	err := axon.Run(axontest.Context(t), c)
	if !errors.Is(err, axon.ErrBoxExists) || !strings.Contains(err.Error(), "Clash#") ||
		!strings.Contains(err.Error(), "inbox") || !strings.Contains(err.Error(), "signal") {
		t.Fatalf("got %v", err)
	}
	if _, err := c.AddOutbox("control", ""); !errors.Is(err, axon.ErrBoxExists) {
		t.Fatalf("AddOutbox over an inbox: %v", err)
	}
}

func TestInvalidReportsWhenRun(t *testing.T) {
	bad := errors.New("three is not a colour")
	c := axon.Invalid("Painter", bad)
	if c.Inbox("inbox") == nil {
		t.Fatal("an invalid component lacks the default boxes, so linking to it would fail first")
	}
	err := axon.Run(context.Background(), c)
	var ce *axon.ComponentError
	if !errors.Is(err, bad) || !errors.As(err, &ce) || ce.Component != c.String() {
		t.Fatalf("got %v; want the error, naming %s", err, c)
	}
}

// TestBlockedSenderWakes: a sender waiting on a full inbox looks again
// when its link moves, and gives up when the receiver ends.
func TestBlockedSenderWakes(t *testing.T) {
	ctx := axontest.Context(t)
	src, first := pair(t, 1)
	if err := src.TrySend("outbox", "fills the box"); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() { sent <- src.Send(ctx, "outbox", "moved") }()
	second := axon.New("Second", nil)
	for src.Out("outbox").Destination() == first.Inbox("inbox") && first.Inbox("inbox").Len() == 1 {
		if err := axon.Unlink(src, "outbox"); err != nil {
			t.Fatal(err)
		}
		if err := axon.Link(src, "outbox", second, "inbox"); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := <-second.In("inbox"); got != "moved" {
		t.Fatalf("the relinked send delivered %v to the new inbox", got)
	}

	// Now block on a full box whose owner then ends without reading it.
	recv := axon.New("Receiver", func(ctx context.Context, c *axon.Component) error {
		<-ctx.Done()
		return ctx.Err()
	}, axon.WithInbox("inbox", "never read", axon.Capacity(1)))
	src2 := axon.New("Src2", nil)
	if err := axon.Link(src2, "outbox", recv, "inbox"); err != nil {
		t.Fatal(err)
	}
	if err := src2.TrySend("outbox", 1); err != nil {
		t.Fatal(err)
	}
	h := axon.Start(ctx, recv)
	go func() { sent <- src2.Send(ctx, "outbox", 2) }()
	h.Stop()
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("sender blocked on a receiver that ended: %v, want ErrReceiverDone", err)
	}
}

func TestShutdownKinds(t *testing.T) {
	pf, sm := axon.ProducerFinished{}, axon.ShutdownMicroprocess{}
	for _, tc := range []struct {
		msg      any
		pf, stop bool
	}{
		{pf, true, false}, {&pf, true, false},
		{sm, false, true}, {&sm, false, true},
		{"data", false, false}, {nil, false, false},
	} {
		if got := axon.IsProducerFinished(tc.msg); got != tc.pf {
			t.Errorf("IsProducerFinished(%#v) = %v", tc.msg, got)
		}
		if got := axon.IsShutdownMicroprocess(tc.msg); got != tc.stop {
			t.Errorf("IsShutdownMicroprocess(%#v) = %v", tc.msg, got)
		}
	}
}

// Offer delivers what fits at once and says whether it did, as TrySend
// does without the error.
func TestOffer(t *testing.T) {
	src := axon.New("Src", nil)
	dst := axon.New("Dst", nil, axon.WithInbox("small", "two places", axon.Capacity(2)))
	out := src.Out(axon.OutboxName)
	if out.Offer(1) {
		t.Fatal("Offer on an unlinked outbox delivered")
	}
	if err := axon.Link(src, axon.OutboxName, dst, "small"); err != nil {
		t.Fatal(err)
	}
	if !out.Offer(1) || !out.Offer(2) {
		t.Fatal("Offer refused while there was room")
	}
	if out.Offer(3) {
		t.Fatal("Offer delivered to a full box")
	}
	if got := dst.Inbox("small").Len(); got != 2 {
		t.Fatalf("inbox holds %d, want 2", got)
	}
}
