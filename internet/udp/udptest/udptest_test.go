package udptest_test

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelpers(t *testing.T) {
	ctx := axontest.Context(t)
	a := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, a)
	b := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(a.LocalAddr()))
	hb := udptest.Start(t, ctx, b)
	axontest.Put(t, ctx, hb, axon.InboxName, "hi")
	if d := udptest.Datagram(t, ctx, h); string(d.Data) != "hi" || d.From != b.LocalAddr() {
		t.Fatalf("got %q from %v", d.Data, d.From)
	}
	axontest.Put(t, ctx, h, axon.InboxName, 7)
	udptest.Error(t, ctx, h, udp.ErrBadMessage, "PostboxPeer", "int")
}
