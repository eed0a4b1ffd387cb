package fragment

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
	"github.com/kamaelia-go/kamaelia/util"
)

// getMessage takes the next Message from h's outbox.
func getMessage(t *testing.T, ctx context.Context, h *axon.Handle) Message {
	t.Helper()
	m := axontest.Get(t, ctx, h, axon.OutboxName)
	msg, ok := m.(Message)
	if !ok {
		t.Fatalf("outbox: got %T, want Message", m)
	}
	return msg
}

// datagrams turns a message's fragments into udp.Datagrams from from.
func datagrams(t *testing.T, fr *Splitter, from netip.AddrPort, topic string, msg []byte) []any {
	t.Helper()
	var out []any
	for _, d := range split(t, fr, topic, msg) {
		out = append(out, udp.Datagram{Data: d, From: from})
	}
	return out
}

func TestListenerReassembles(t *testing.T) {
	ctx := axontest.Context(t)
	l := Listener()
	h := axontest.Start(t, ctx, l)
	ma, mb := pattern(1, 950), pattern(2, 420)
	da := datagrams(t, smallSplitter(9), alice, "a", ma)
	db := datagrams(t, smallSplitter(9), bob, "b", mb) // the same id
	// bob's in reverse, interleaved with alice's, which come twice.
	for i := range da {
		if i < len(db) {
			axontest.Put(t, ctx, h, axon.InboxName, db[len(db)-1-i])
		}
		axontest.Put(t, ctx, h, axon.InboxName, da[i])
		d := da[i].(udp.Datagram)
		axontest.Put(t, ctx, h, axon.InboxName, &d)
	}
	first, second := getMessage(t, ctx, h), getMessage(t, ctx, h)
	if first.From != bob || first.Topic != "b" || !bytes.Equal(first.Data, mb) {
		t.Errorf("first: %d bytes on %q from %v, want bob's", len(first.Data), first.Topic, first.From)
	}
	if second.From != alice || second.Topic != "a" || !bytes.Equal(second.Data, ma) {
		t.Errorf("second: %d bytes on %q from %v, want alice's", len(second.Data), second.Topic, second.From)
	}
	// ProducerFinished, not ShutdownMicroprocess: the last duplicate may
	// still be queued when the second message comes out, and must be
	// taken (and counted) before the Listener ends.
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	s := l.Stats()
	if s.Completed != 2 || s.Fragments != uint64(len(da)+len(db)) || s.Dropped.Duplicate != uint64(len(da)) || s.Dropped.Total() != uint64(len(da)) {
		t.Errorf("Stats = %+v", s)
	}
}

func TestListenerTopics(t *testing.T) {
	ctx := axontest.Context(t)
	l := Listener(Topics("weather", "sport"))
	h := axontest.Start(t, ctx, l)
	fr := smallSplitter(1)
	for _, topic := range []string{"news", "weather", "", "sport"} {
		for _, d := range datagrams(t, fr, alice, topic, []byte("about "+topic+" "+string(pattern(3, 300)))) {
			axontest.Put(t, ctx, h, axon.InboxName, d)
		}
	}
	for _, want := range []string{"weather", "sport"} {
		if m := getMessage(t, ctx, h); m.Topic != want {
			t.Fatalf("got a message on %q, want %q", m.Topic, want)
		}
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	if s := l.Stats(); s.Completed != 2 || s.Dropped.Unwanted != 8 {
		t.Errorf("Stats = %+v, want 2 completed and 8 fragments unwanted", s)
	}
}

func TestListenerRefusesOtherMessages(t *testing.T) {
	ctx := axontest.Context(t)
	l := Listener()
	h := axontest.Start(t, ctx, l)
	axontest.Tap(t, h, axon.ErrorsName)
	for _, m := range []any{"a string", []byte("bytes"), (*udp.Datagram)(nil)} {
		axontest.Put(t, ctx, h, axon.InboxName, m)
		be, e := udptest.Error(t, ctx, h, axon.ErrBadMessage)
		if be.Box != axon.InboxName || e.Op != "reassemble" || be.Component != l.String() {
			t.Errorf("%T: %v (%+v)", m, be, e)
		}
	}
	// Junk datagrams are counted, not reported.
	axontest.Put(t, ctx, h, axon.InboxName, udp.Datagram{Data: []byte("junk"), From: alice})
	for _, d := range datagrams(t, smallSplitter(1), alice, "", []byte("fine")) {
		axontest.Put(t, ctx, h, axon.InboxName, d)
	}
	if m := getMessage(t, ctx, h); string(m.Data) != "fine" {
		t.Fatalf("got %q", m.Data)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	if s := l.Stats(); s.Dropped.Malformed != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

// ProducerFinished: the datagrams queued are taken first.
func TestListenerProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	l := Listener()
	msg := pattern(4, 777)
	axontest.Preload(t, l, axon.InboxName, datagrams(t, smallSplitter(1), carol, "t", msg)...)
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, l, axon.ControlName, pf)
	h := axontest.Start(t, ctx, l)
	if m := getMessage(t, ctx, h); !bytes.Equal(m.Data, msg) || m.From != carol {
		t.Fatal("queued message not delivered whole")
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// An idle Listener still gives up old messages, freeing their memory.
func TestListenerExpiresWhenIdle(t *testing.T) {
	ctx := axontest.Context(t)
	clk := newFakeClock()
	l := Listener(Clock(clk.now), MaxAge(20*time.Millisecond)) // looks every 10ms
	h := axontest.Start(t, ctx, l)
	ds := datagrams(t, smallSplitter(1), alice, "", pattern(5, 1000))
	axontest.Put(t, ctx, h, axon.InboxName, ds[0])
	axontest.Put(t, ctx, h, axon.InboxName, ds[1])
	for l.Stats().Fragments < 2 {
		if waitTick(ctx) != nil {
			t.Fatal("fragments not taken")
		}
	}
	if s := l.Stats(); s.Incomplete != 1 || s.BytesPending == 0 {
		t.Fatalf("Stats = %+v, want one message pending", s)
	}
	clk.advance(20 * time.Millisecond)
	for l.Stats().Expired == 0 {
		if waitTick(ctx) != nil {
			t.Fatal("the idle Listener did not give up the old message")
		}
	}
	if s := l.Stats(); s.Incomplete != 0 || s.BytesPending != 0 || s.Dropped.Expired != 2 {
		t.Errorf("Stats = %+v", s)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
}

// waitTick waits a little, for polling a condition another goroutine
// brings about.
func waitTick(ctx context.Context) error {
	select {
	case <-time.After(5 * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestListenerBadOptions(t *testing.T) {
	ctx := axontest.Context(t)
	l := Listener(Budget(-1))
	if err := axon.Run(ctx, l); !errors.Is(err, axon.ErrConfig) {
		t.Fatalf("Run = %v, want axon.ErrConfig", err)
	}
	if s := l.Stats(); s != (Stats{}) {
		t.Errorf("Stats = %+v", s)
	}
}

// toDatagram stands in for the network: it hands each []byte on as a
// datagram from from.
func toDatagram(from netip.AddrPort) axon.Node {
	return util.PureTransformer(func(m any) any { return udp.Datagram{Data: m.([]byte), From: from} })
}

// A Broadcaster and a Listener in one Pipeline, no sockets: the messages
// and the shutdown go through.
func TestBroadcasterToListener(t *testing.T) {
	ctx := axontest.Context(t)
	msgs := []any{"", "one", pattern(6, 5000), Message{Topic: "t", Data: []byte("last")}}
	l := Listener()
	h := axontest.Start(t, ctx, chassis.Pipeline(
		util.DataSource(msgs),
		Broadcaster(DatagramSize(600), Topic("default")),
		toDatagram(alice),
		l,
	))
	for i, want := range []Message{
		{Topic: "default", Data: []byte{}},
		{Topic: "default", Data: []byte("one")},
		{Topic: "default", Data: msgs[2].([]byte)},
		{Topic: "t", Data: []byte("last")},
	} {
		got := getMessage(t, ctx, h)
		if got.Topic != want.Topic || !bytes.Equal(got.Data, want.Data) || got.From != alice {
			t.Fatalf("message %d: %d bytes on %q from %v", i, len(got.Data), got.Topic, got.From)
		}
	}
	if sig := axontest.Get(t, ctx, h, axon.SignalName); !axon.IsProducerFinished(sig) {
		t.Fatalf("signal: %#v, want ProducerFinished", sig)
	}
	axontest.Wait(t, h)
	if s := l.Stats(); s.Completed != 4 || s.Fragments != 1+1+9+1 {
		t.Errorf("Stats = %+v", s)
	}
}
