package multicast

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// IPv4 multicast over the loopback interface: every test here joins and
// sends on "lo", so datagrams never leave the host. (IPv6 multicast does
// not work over lo; see netns_linux_test.go.)

// A Sender's datagram reaches a Receiver, from the Sender's port and lo's
// address.
func TestSenderToReceiver(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	r := Receiver(g.String(), Interface("lo"))
	s := Sender(g.String(), Interface("lo"), TTL(1))
	if r.LocalAddr() != g {
		t.Fatalf("Receiver bound to %s, want the group, %s", r.LocalAddr(), g)
	}
	if s.LocalAddr().Port() == 0 || !s.LocalAddr().Addr().IsUnspecified() {
		t.Fatalf("Sender bound to %s, want an ephemeral port on every address", s.LocalAddr())
	}
	hr, hs := udptest.Start(t, ctx, r), udptest.Start(t, ctx, s)

	axontest.Put(t, ctx, hs, "inbox", "hello")
	axontest.Put(t, ctx, hs, "inbox", []byte("again"))
	want := netip.AddrPortFrom(localhost, s.LocalAddr().Port())
	for _, payload := range []string{"hello", "again"} {
		if d := expect(t, ctx, hr, payload); d.From != want {
			t.Fatalf("from %s, want the Sender, %s", d.From, want)
		}
	}
	// Counted once sent, which may be after they arrive: look once the
	// Sender has ended.
	axontest.StopWith(t, ctx, hs, axon.ProducerFinished{From: axontest.Tester})
	if st := s.Stats(); st.Sent != 2 || st.BytesSent != 10 {
		t.Fatalf("Sender stats %+v, want 2 datagrams, 10 bytes sent", st)
	}
}

// Several Receivers on one group and port all receive every datagram, and
// so does a Transceiver of the group.
func TestListenMultiple(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	var hs []*axon.Handle
	for range 3 {
		hs = append(hs, udptest.Start(t, ctx, Receiver(g.String(), Interface("lo"))))
	}
	hs = append(hs, udptest.Start(t, ctx, Transceiver(g.String(), Interface("lo"))))
	hsend := udptest.Start(t, ctx, Sender(g.String(), Interface("lo")))
	for _, m := range []string{"one", "two"} {
		axontest.Put(t, ctx, hsend, "inbox", m)
	}
	for _, h := range hs {
		expect(t, ctx, h, "one")
		expect(t, ctx, h, "two")
	}
}

// A Receiver sees its own group only: not another group on the same port,
// nor unicast datagrams to the port, which a Transceiver there does see.
func TestReceiverSeesOnlyItsGroup(t *testing.T) {
	ctx := axontest.Context(t)
	a := group4(t)
	b := netip.AddrPortFrom(group4(t).Addr(), a.Port())
	ha := udptest.Start(t, ctx, Receiver(a.String(), Interface("lo")))
	hb := udptest.Start(t, ctx, Receiver(b.String(), Interface("lo")))
	tr := Transceiver(b.String(), Interface("lo"))
	ht := udptest.Start(t, ctx, tr)
	if tr.LocalAddr().Port() != a.Port() || !tr.LocalAddr().Addr().IsUnspecified() {
		t.Fatalf("Transceiver bound to %s, want port %d on every address", tr.LocalAddr(), a.Port())
	}
	hsa := udptest.Start(t, ctx, Sender(a.String(), Interface("lo")))
	hsb := udptest.Start(t, ctx, Sender(b.String(), Interface("lo")))

	// To group b: b's Receiver gets it, and by then a's would have too.
	axontest.Put(t, ctx, hsb, "inbox", "to b")
	expect(t, ctx, hb, "to b")
	expect(t, ctx, ht, "to b")

	// Unicast to the port: the Transceiver gets it; a's Receiver must not.
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if _, err := uc.WriteToUDPAddrPort([]byte("unicast"), netip.AddrPortFrom(localhost, a.Port())); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, ht, "unicast")

	// What a's Receiver gets first must be what was sent to a.
	axontest.Put(t, ctx, hsa, "inbox", "to a")
	expect(t, ctx, ha, "to a")
}

// A Receiver can reply to a sender: its "inbox" takes udp.Packet, sent
// from the group's port.
func TestReceiverReplies(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	hr := udptest.Start(t, ctx, Receiver(g.String(), Interface("lo")))
	s := Sender(g.String(), Interface("lo"))
	hs := udptest.Start(t, ctx, s)
	axontest.Put(t, ctx, hs, "inbox", "anyone there?")
	d := expect(t, ctx, hr, "anyone there?")
	axontest.Put(t, ctx, hr, "inbox", d.Reply([]byte("here")))
	if r := expect(t, ctx, hs, "here"); r.From.Port() != g.Port() {
		t.Fatalf("reply from %s, want the group's port, %d", r.From, g.Port())
	}
}

// A Transceiver receives what it sends (Loopback is on by default), and
// what others send to the group.
func TestTransceiver(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	one := Transceiver(g.String(), Interface("lo"))
	two := Transceiver(g.String(), Interface("lo"))
	h1, h2 := udptest.Start(t, ctx, one), udptest.Start(t, ctx, two)
	axontest.Put(t, ctx, h1, "inbox", "from one")
	for _, h := range []*axon.Handle{h1, h2} {
		if d := expect(t, ctx, h, "from one"); d.From.Port() != g.Port() {
			t.Fatalf("from %s, want the group's port, %d", d.From, g.Port())
		}
	}
	axontest.Put(t, ctx, h2, "inbox", "from two")
	expect(t, ctx, h1, "from two")
	expect(t, ctx, h2, "from two")
}

// A Transceiver joins and leaves groups while it runs.
func TestTransceiverJoinLeave(t *testing.T) {
	ctx := axontest.Context(t)
	a := group4(t)
	b := netip.AddrPortFrom(group4(t).Addr(), a.Port())
	tr := Transceiver(a.String(), Interface("lo"))
	ht := udptest.Start(t, ctx, tr)
	hb := udptest.Start(t, ctx, Receiver(b.String(), Interface("lo"))) // a witness
	ha := udptest.Start(t, ctx, Receiver(a.String(), Interface("lo"))) // another
	hsb := udptest.Start(t, ctx, Sender(b.String(), Interface("lo")))

	// sync makes sure a membership change has taken effect: the
	// Transceiver sends to its group after it, and a's Receiver gets it.
	sync := func(ping string, self bool) {
		t.Helper()
		settle(t, tr, MembershipBox)
		axontest.Put(t, ctx, ht, "inbox", ping)
		expect(t, ctx, ha, ping)
		if self {
			expect(t, ctx, ht, ping)
		}
	}

	axontest.Put(t, ctx, ht, MembershipBox, Join{Group: b.Addr()})
	sync("joined b", true)
	axontest.Put(t, ctx, hsb, "inbox", "b1")
	expect(t, ctx, hb, "b1")
	expect(t, ctx, ht, "b1")

	axontest.Put(t, ctx, ht, MembershipBox, &Leave{Group: b.Addr(), Interface: "lo"})
	sync("left b", true)
	axontest.Put(t, ctx, hsb, "inbox", "b2")
	expect(t, ctx, hb, "b2") // by now the Transceiver would have it too

	// Leaving its own group, it no longer hears itself.
	axontest.Put(t, ctx, ht, MembershipBox, Leave{Group: a.Addr()})
	sync("left a", false)
	axontest.Put(t, ctx, ht, MembershipBox, Join{Group: a.Addr()})
	sync("joined a", true) // the first datagram it gets since b1
}

// A Receiver leaves its group (and stops receiving) and joins it again.
func TestReceiverLeaveJoin(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	r := Receiver(g.String(), Interface("lo"))
	hr := udptest.Start(t, ctx, r)
	hw := udptest.Start(t, ctx, Receiver(g.String(), Interface("lo"))) // a witness
	hs := udptest.Start(t, ctx, Sender(g.String(), Interface("lo")))
	ack, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ack.Close()
	// sync makes sure a membership change has taken effect: the
	// Receiver sends a Packet after it, and it arrives.
	sync := func() {
		t.Helper()
		settle(t, r, MembershipBox)
		axontest.Put(t, ctx, hr, "inbox", udp.Packet{To: ack.LocalAddr().(*net.UDPAddr).AddrPort(), Data: []byte("ack")})
		buf := make([]byte, 16)
		ack.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, _, err := ack.ReadFrom(buf); err != nil || string(buf[:n]) != "ack" {
			t.Fatalf("ack: %q, %v", buf[:n], err)
		}
	}

	axontest.Put(t, ctx, hs, "inbox", "before")
	expect(t, ctx, hr, "before")
	expect(t, ctx, hw, "before")

	axontest.Put(t, ctx, hr, MembershipBox, Leave{Group: g.Addr()})
	sync()
	axontest.Put(t, ctx, hs, "inbox", "while out")
	expect(t, ctx, hw, "while out") // by now the Receiver would have it too

	axontest.Put(t, ctx, hr, MembershipBox, Join{Group: g.Addr(), Interface: "lo"})
	sync()
	axontest.Put(t, ctx, hs, "inbox", "after")
	expect(t, ctx, hr, "after")
	expect(t, ctx, hw, "after")
}
