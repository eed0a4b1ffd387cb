package multicast

import (
	"net"
	"net/netip"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// Every component of the package keeps the shutdown rules (issue 12).
func TestConformance(t *testing.T) {
	// The sockets send to a group, which over "lo" is not a loopback
	// address: they are checked on two hosts of their own, network
	// namespaces joined by a veth pair, so nothing leaves them (and are
	// skipped where those cannot be made).
	t.Run("Sockets", conformSockets)
}

// conformSockets checks Sender, Receiver and Transceiver on a veth pair.
func conformSockets(t *testing.T) {
	v := newVeth(t)
	g := group4(t)
	// far, on the other host, sends to the group and to the component
	// under test, and is where the Receiver's Packets go.
	var farPeer *udp.PeerComponent
	var far *net.UDPConn
	v.in(t, 1, func() { farPeer, far = build(sender, g.String(), []Option{Interface(v.ifc[1])}) })
	made(t, farPeer)
	t.Cleanup(func() { farPeer.Close() })
	farAddr := netip.AddrPortFrom(v.v4[1], far.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	// peer makes a component on the first host with make and has far send
	// it a few datagrams (to the group, or to its own port) before it
	// runs, so that it has something to send on "outbox" and blocks there
	// in the ShutdownMicroprocess check.
	peer := func(make func() *udp.PeerComponent, to func(p *udp.PeerComponent) netip.AddrPort) func() axon.Node {
		return func() axon.Node {
			var p *udp.PeerComponent
			v.in(t, 0, func() { p = make() })
			made(t, p)
			for range 3 {
				if _, err := far.WriteToUDPAddrPort([]byte("to the component"), to(p)); err != nil {
					t.Fatal(err)
				}
			}
			return p
		}
	}
	toGroup := func(*udp.PeerComponent) netip.AddrPort { return g }
	t.Run("Sender", func(t *testing.T) {
		axontest.Conformance(t, peer(
			func() *udp.PeerComponent { return Sender(g.String(), Interface(v.ifc[0])) },
			func(p *udp.PeerComponent) netip.AddrPort { return netip.AddrPortFrom(v.v4[0], p.LocalAddr().Port()) },
		), axontest.Feed([]byte("one"), "two"))
	})
	t.Run("Receiver", func(t *testing.T) {
		axontest.Conformance(t, peer(
			func() *udp.PeerComponent { return Receiver(g.String(), Interface(v.ifc[0])) }, toGroup,
		), axontest.Feed(udp.Packet{To: farAddr, Data: []byte("one")}, udp.Packet{To: farAddr, Data: []byte("two")}))
	})
	t.Run("Transceiver", func(t *testing.T) {
		axontest.Conformance(t, peer(
			func() *udp.PeerComponent { return Transceiver(g.String(), Interface(v.ifc[0])) }, toGroup,
		), axontest.Feed([]byte("one"), "two"))
	})
}
