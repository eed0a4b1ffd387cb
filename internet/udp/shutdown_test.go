package udp_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
	"github.com/kamaelia-go/kamaelia/util"
)

// closed checks that p's socket has been closed, by binding its address.
func closed(t *testing.T, p *udp.PeerComponent) {
	t.Helper()
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(p.LocalAddr()))
	if err != nil {
		t.Fatalf("%s's address %v is still bound after it ended: %v", p, p.LocalAddr(), err)
	}
	uc.Close()
}

func TestProducerFinishedSendsWhatIsQueued(t *testing.T) {
	ctx := axontest.Context(t)
	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far)))
	var queued []any
	for i := range axon.DefaultCapacity {
		queued = append(queued, fmt.Sprint("queued ", i))
	}
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Preload(t, p, axon.InboxName, queued...)
	axontest.Preload(t, p, axon.ControlName, pf)
	h := udptest.Start(t, ctx, p)
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	for _, want := range queued {
		if got, _ := readFrom(t, far); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	closed(t, p)
}

func TestShutdownMicroprocessStopsAtOnce(t *testing.T) {
	ctx := axontest.Context(t)
	for _, p := range []*udp.PeerComponent{
		udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("127.0.0.1:9")),
		udp.TargettedPeer(udp.Local("127.0.0.1:0")),
		udp.PostboxPeer(udp.Local("127.0.0.1:0")),
	} {
		h := udptest.Start(t, ctx, p)
		axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
		closed(t, p)
	}
}

// A peer whose receiver is blocked handing a datagram on still stops.
func TestStopWhileOutboxIsFull(t *testing.T) {
	ctx := axontest.Context(t)
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, p)
	axontest.Tap(t, h, axon.OutboxName)
	far := listen(t, "127.0.0.1:0")
	for range 3 * axon.DefaultCapacity {
		far.WriteToUDPAddrPort([]byte("unread"), p.LocalAddr())
	}
	udptest.Datagram(t, ctx, h) // the receiver is running
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	closed(t, p)
}

func TestContextEndStopsPeer(t *testing.T) {
	ctx := axontest.Context(t)
	p := udp.TargettedPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, p)
	h.Stop()
	if err := h.Wait(); err != nil && !errors.Is(err, ctx.Err()) && !errors.Is(err, errCanceled) {
		t.Fatalf("Wait = %v", err)
	}
	closed(t, p)
}

// An adopted socket is left open, and usable, for its owner.
func TestAdoptedConnIsNotClosed(t *testing.T) {
	ctx := axontest.Context(t)
	own := listen(t, "127.0.0.1:0")
	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Conn(own), udp.RemoteAddr(addr(far)))
	if p.LocalAddr() != addr(own) {
		t.Fatalf("LocalAddr = %v, want the adopted socket's %v", p.LocalAddr(), addr(own))
	}
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "via adopted")
	if got, _ := readFrom(t, far); got != "via adopted" {
		t.Fatalf("got %q", got)
	}
	far.WriteToUDPAddrPort([]byte("to adopted"), addr(own))
	if d := udptest.Datagram(t, ctx, h); string(d.Data) != "to adopted" {
		t.Fatalf("got %q", d.Data)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})

	far.WriteToUDPAddrPort([]byte("after"), addr(own))
	if got, _ := readFrom(t, own); got != "after" {
		t.Fatalf("owner read %q from its socket after the peer ended", got)
	}
}

// Any net.PacketConn can be adopted, not only a *net.UDPConn.
type wrappedConn struct{ net.PacketConn }

func TestAdoptedPacketConn(t *testing.T) {
	ctx := axontest.Context(t)
	own := listen(t, "127.0.0.1:0")
	far := listen(t, "127.0.0.1:0")
	p := udp.PostboxPeer(udp.Conn(wrappedConn{own}))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, udp.Packet{To: addr(far), Data: []byte("wrapped")})
	if got, from := readFrom(t, far); got != "wrapped" || from != addr(own) {
		t.Fatalf("got %q from %v", got, from)
	}
	far.WriteToUDPAddrPort([]byte("back"), addr(own))
	if d := udptest.Datagram(t, ctx, h); string(d.Data) != "back" || d.From != addr(far) {
		t.Fatalf("got %q from %v", d.Data, d.From)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

// Kamaelia's first example, with a DataSource for the console: the
// Pipeline ends by itself once every line has gone out.
func TestPipelineEndsWhenSourceDoes(t *testing.T) {
	ctx := axontest.Context(t)
	far := listen(t, "127.0.0.1:0")
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprint("line ", i))
	}
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far)))
	if err := axon.Run(ctx, chassis.Pipeline(util.DataSource(lines), peer, util.ConsoleEchoer(io.Discard))); err != nil {
		t.Fatal(err)
	}
	for _, want := range lines {
		if got, _ := readFrom(t, far); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	closed(t, peer)
}
