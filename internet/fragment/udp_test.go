package fragment

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// Plain unicast UDP, as a user of internet/udp alone would wire it: the
// protocol knows nothing of multicast.

// Over real UDP on loopback: a Broadcaster feeding a SimplePeer, to a
// PostboxPeer feeding a Listener. A 1 MiB message is some 730 datagrams;
// loopback drops what does not fit the receiving socket's buffer, and one
// datagram lost loses the message. Sent in one burst, it arrives whole
// here when the receiver has a 4 MiB buffer, and it loses datagrams with
// 256 KiB (under -race). So the receiver asks for 4 MiB (udp.ReadBuffer;
// Linux caps it at net.core.rmem_max, and doubles it), and the
// Broadcaster is paced at 16 MiB/s (Rate), which on its own was enough
// for 256 KiB: the message takes some 60 ms.
func TestOverLoopbackUDP(t *testing.T) {
	ctx := axontest.Context(t)
	recvPeer := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.ReadBuffer(4<<20))
	if err := recvPeer.Err(); err != nil {
		t.Skipf("no UDP on loopback here: %v", err)
	}
	l := Listener()
	hr := axontest.Start(t, ctx, chassis.Pipeline(recvPeer, l))

	big := pattern(7, 1<<20)
	msgs := []any{"first", Message{Topic: "big", Data: big}, []byte("last")}
	b := Broadcaster(Rate(16 << 20))
	sendPeer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(recvPeer.LocalAddr()))
	hs := axontest.Start(t, ctx, chassis.Pipeline(util.DataSource(msgs), b, sendPeer))

	// A lost datagram loses its message: wait long enough for any machine,
	// not for ever, and say what arrived.
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for i, want := range []Message{{Data: []byte("first")}, {Topic: "big", Data: big}, {Data: []byte("last")}} {
		m, err := hr.Get(wait, axon.OutboxName)
		if err != nil {
			t.Fatalf("message %d: %v; Broadcaster %+v, Listener %+v, receiving peer %+v",
				i, err, b.Stats(), l.Stats(), recvPeer.Stats())
		}
		got := m.(Message)
		if got.Topic != want.Topic || !bytes.Equal(got.Data, want.Data) || got.From != sendPeer.LocalAddr() {
			t.Fatalf("message %d: %d bytes on %q from %v; want %d on %q from %v; Listener %+v",
				i, len(got.Data), got.Topic, got.From, len(want.Data), want.Topic, sendPeer.LocalAddr(), l.Stats())
		}
	}
	axontest.Wait(t, hs) // the sender ends with its DataSource
	axontest.StopWith(t, ctx, hr, axon.ShutdownMicroprocess{From: axontest.Tester})
	bs, ls := b.Stats(), l.Stats()
	if bs.Datagrams != ls.Fragments || ls.Dropped.Total() != 0 || ls.Completed != 3 {
		t.Errorf("Broadcaster %+v, Listener %+v", bs, ls)
	}
}
