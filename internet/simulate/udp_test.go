package simulate_test

import (
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
	"github.com/kamaelia-go/kamaelia/util"
)

// Loss sits between a producer and a PostboxPeer (udp.Packet on the
// sending side), Duplicate between a receiving SimplePeer and the test
// (udp.Datagram on the receiving side), with real sockets on loopback.
func TestBetweenUDPPeers(t *testing.T) {
	ctx := axontest.Context(t)
	send := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	recv := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(send.LocalAddr()))
	for _, p := range []*udp.PeerComponent{send, recv} {
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
	}
	to := recv.LocalAddr()
	var packets []udp.Packet
	var payloads []string
	for i := range 100 {
		p := fmt.Sprintf("datagram %d", i)
		payloads = append(payloads, p)
		packets = append(packets, udp.Packet{To: to, Data: []byte(p)})
	}
	// What the two stages will do with these seeds, worked out without
	// the network.
	survivors := through(t, simulate.Loss(0.3, simulate.Seed(1)), payloads)
	want := through(t, simulate.Duplicate(0.5, simulate.Seed(2)), survivors)
	if len(survivors) == 100 || len(want) == len(survivors) {
		t.Fatalf("seeds lose or duplicate nothing: %d, %d", len(survivors), len(want))
	}

	dup := simulate.Duplicate(0.5, simulate.Seed(2))
	rh := axontest.Start(t, ctx, chassis.Pipeline(recv, dup))
	loss := simulate.Loss(0.3, simulate.Seed(1))
	sh := axontest.Start(t, ctx, chassis.Pipeline(util.DataSource(packets), loss, send))
	axontest.Wait(t, sh) // all sent, socket closed

	from := send.LocalAddr()
	for i, w := range want {
		d := udptest.Datagram(t, ctx, rh)
		if string(d.Data) != w || d.From != from {
			t.Fatalf("datagram %d: %v, want %q from %v", i, d, w, from)
		}
	}
	axontest.StopWith(t, ctx, rh, axon.ProducerFinished{From: axontest.Tester})
	if ls, ds := loss.Stats(), dup.Stats(); ls.Out != uint64(len(survivors)) || ds.In != ls.Out || ds.Out != uint64(len(want)) {
		t.Fatalf("stats %v, %v", ls, ds)
	}
	if st := send.Stats(); st.Sent != uint64(len(survivors)) {
		t.Fatalf("peer sent %d, want %d", st.Sent, len(survivors))
	}
}
