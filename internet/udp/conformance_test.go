package udp_test

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// Every peer keeps the shutdown rules (issue 12), sending to and
// receiving from a loopback socket of the test's.
func TestConformance(t *testing.T) {
	far := listen(t, "127.0.0.1:0")
	// peer makes a peer and has far send it a few datagrams before it
	// runs, so that it has something to send on "outbox" and blocks
	// there in the ShutdownMicroprocess check.
	peer := func(p *udp.PeerComponent) axon.Node {
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := far.WriteToUDPAddrPort([]byte("to the peer"), p.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	t.Run("SimplePeer", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node {
			return peer(udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far))))
		}, axontest.Feed([]byte("one"), "two", []byte("three")))
	})
	t.Run("TargettedPeer", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node {
			return peer(udp.TargettedPeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far))))
		}, axontest.Feed([]byte("one"), "two", []byte("three")))
	})
	t.Run("PostboxPeer", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node {
			return peer(udp.PostboxPeer(udp.Local("127.0.0.1:0")))
		}, axontest.Feed(
			udp.Packet{To: addr(far), Data: []byte("one")},
			udp.PacketTo(addr(far).String(), []byte("two")),
			&udp.Packet{To: addr(far), Data: []byte("three")},
		))
	})
}
