package fragment

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// getParts takes n datagrams from h's outbox and parses them.
func getParts(t *testing.T, ctx context.Context, h *axon.Handle, n int) []Part {
	t.Helper()
	var out []Part
	for range n {
		m := axontest.Get(t, ctx, h, axon.OutboxName)
		d, ok := m.([]byte)
		if !ok {
			t.Fatalf("outbox: got %T, want []byte", m)
		}
		f, err := Parse(d)
		if err != nil {
			t.Fatalf("outbox: %v", err)
		}
		out = append(out, f)
	}
	return out
}

// join puts fragments of one message back together, checking they are
// one message's, in order.
func join(t *testing.T, fs []Part) (topic string, data []byte) {
	t.Helper()
	for i, f := range fs {
		if f.ID != fs[0].ID || f.Index != uint32(i) || f.Count != uint32(len(fs)) || !bytes.Equal(f.Topic, fs[0].Topic) {
			t.Fatalf("fragment %d of %d: id %#x index %d count %d topic %q; the first's id %#x",
				i, len(fs), f.ID, f.Index, f.Count, f.Topic, fs[0].ID)
		}
		data = append(data, f.Data...)
	}
	return string(fs[0].Topic), data
}

func TestBroadcasterSendsFragments(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster(DatagramSize(MinDatagramSize), Topic("news"))
	h := axontest.Start(t, ctx, b)
	room := MinDatagramSize - HeaderLen

	long := pattern(1, 1200)
	axontest.Put(t, ctx, h, axon.InboxName, long)
	fs := getParts(t, ctx, h, 3) // 1200 bytes in pieces of 482 less the topic
	if topic, data := join(t, fs); topic != "news" || !bytes.Equal(data, long) {
		t.Fatalf("[]byte: topic %q, %d bytes", topic, len(data))
	}
	if len(fs[0].Data) != room-len("news") {
		t.Errorf("first fragment carries %d bytes, want %d", len(fs[0].Data), room-len("news"))
	}

	axontest.Put(t, ctx, h, axon.InboxName, "hi")
	f := getParts(t, ctx, h, 1)[0]
	if string(f.Data) != "hi" || string(f.Topic) != "news" || f.ID != fs[0].ID+1 {
		t.Fatalf("string: %+v", f)
	}

	other := pattern(2, room) // exactly one fragment on the empty topic
	axontest.Put(t, ctx, h, axon.InboxName, Message{Topic: "", Data: other, From: alice})
	f = getParts(t, ctx, h, 1)[0]
	if !bytes.Equal(f.Data, other) || len(f.Topic) != 0 {
		t.Fatalf("Message: %+v", f)
	}

	axontest.Put(t, ctx, h, axon.InboxName, &Message{Topic: "sport"})
	f = getParts(t, ctx, h, 1)[0]
	if f.Total != 0 || string(f.Topic) != "sport" {
		t.Fatalf("*Message: %+v", f)
	}

	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	s := b.Stats()
	wantBytes := uint64(0)
	for _, n := range []int{MinDatagramSize, MinDatagramSize, HeaderLen + 4 + 1200 - 2*(room-4), HeaderLen + 4 + 2, HeaderLen + room, HeaderLen + 5} {
		wantBytes += uint64(n)
	}
	if s != (BroadcastStats{Messages: 4, Datagrams: 6, Bytes: wantBytes}) {
		t.Errorf("Stats = %+v, want 4 messages, 6 datagrams, %d bytes", s, wantBytes)
	}
}

func TestBroadcasterRefuses(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster(MaxMessage(1000))
	h := axontest.Start(t, ctx, b)
	axontest.Tap(t, h, axon.ErrorsName)

	for _, tc := range []struct {
		msg  any
		want error
	}{
		{make([]byte, 1001), ErrTooLarge},
		{Message{Topic: string(make([]byte, MaxTopicLen+1)), Data: []byte("x")}, ErrTopicTooLong},
		{42, axon.ErrBadMessage},
		{(*Message)(nil), axon.ErrBadMessage},
	} {
		axontest.Put(t, ctx, h, axon.InboxName, tc.msg)
		be, e := udptest.Error(t, ctx, h, tc.want)
		if be.Box != axon.InboxName || e.Op != "fragment" || e.Dropped != 1 || be.Component != b.String() {
			t.Errorf("%T: error %v (%+v)", tc.msg, be, e)
		}
	}
	// It carries on: the maximum itself goes.
	axontest.Put(t, ctx, h, axon.InboxName, make([]byte, 1000))
	if fs := getParts(t, ctx, h, 1); fs[0].Total != 1000 {
		t.Fatalf("after refusals: %+v", fs[0])
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	if s := b.Stats(); s.Refused != 4 || s.Messages != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

// With "errors" unlinked, a refusal is logged and the Broadcaster goes on.
func TestBroadcasterRefusesUnlinked(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster(MaxMessage(10))
	h := axontest.Start(t, ctx, b)
	axontest.Put(t, ctx, h, axon.InboxName, "far too long for it")
	axontest.Put(t, ctx, h, axon.InboxName, "short")
	if f := getParts(t, ctx, h, 1)[0]; string(f.Data) != "short" {
		t.Fatalf("got %q", f.Data)
	}
	if s := b.Stats(); s.Refused != 1 {
		t.Errorf("Stats = %+v", s)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
}

// ProducerFinished: what is queued is sent first.
func TestBroadcasterProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster(DatagramSize(MinDatagramSize))
	one, two := pattern(1, 2000), pattern(2, 10)
	axontest.Preload(t, b, axon.InboxName, one, two)
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, b, axon.ControlName, pf)
	h := axontest.Start(t, ctx, b)
	if _, data := join(t, getParts(t, ctx, h, 5)); !bytes.Equal(data, one) {
		t.Fatal("first message changed")
	}
	if _, data := join(t, getParts(t, ctx, h, 1)); !bytes.Equal(data, two) {
		t.Fatal("second message changed")
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// ShutdownMicroprocess stops it even while it waits for room downstream.
func TestBroadcasterShutdownWhileBlocked(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster(DatagramSize(MinDatagramSize))
	h := axontest.Start(t, ctx, b)
	axontest.Put(t, ctx, h, axon.InboxName, make([]byte, 100*MinDatagramSize)) // 107 fragments
	getParts(t, ctx, h, 1)                                                     // it has started; the rest fill the box, then wait
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	if s := b.Stats(); s.Messages != 0 || s.Datagrams >= 107 {
		t.Errorf("Stats = %+v: want the message cut short", s)
	}
}

func TestBroadcasterReceiverGone(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster()
	axontest.LinkToEnded(t, b, axon.OutboxName)
	h := axontest.Start(t, ctx, b)
	axontest.Put(t, ctx, h, axon.InboxName, "lost")
	if err := h.Wait(); !errors.Is(err, axon.ErrReceiverDone) {
		t.Fatalf("Wait = %v, want ErrReceiverDone", err)
	}
}

func TestBroadcasterBadOptions(t *testing.T) {
	ctx := axontest.Context(t)
	b := Broadcaster(DatagramSize(100))
	err := axon.Run(ctx, b)
	var ue *udp.Error
	if !errors.Is(err, axon.ErrConfig) || !errors.As(err, &ue) || ue.Op != "configure" {
		t.Fatalf("Run = %v, want a configure *udp.Error wrapping axon.ErrConfig", err)
	}
	if s := b.Stats(); s != (BroadcastStats{}) {
		t.Errorf("Stats = %+v", s)
	}
}

// The pacer lets a burst through at once, then makes the sender wait: a
// context that has ended shows whether it would have waited.
func TestPacer(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	p := newPacer(1000)
	if err := p.wait(ended, pacerBurst); err != nil {
		t.Fatalf("the first burst waited: %v", err)
	}
	if err := p.wait(ended, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("past the burst: %v, want a wait", err)
	}
	if err := newPacer(0).wait(ended, 1<<30); err != nil {
		t.Fatalf("unpaced: %v", err)
	}
	// A rate high enough repays a small debt at once.
	q := newPacer(1 << 40)
	q.wait(ended, pacerBurst)
	if err := q.wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}
