package udp_test

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

func TestSimplePeerBothDirections(t *testing.T) {
	ctx := axontest.Context(t)
	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far)))
	if !p.LocalAddr().Addr().IsLoopback() || p.LocalAddr().Port() == 0 {
		t.Fatalf("LocalAddr = %v, want 127.0.0.1 and the port chosen", p.LocalAddr())
	}
	h := udptest.Start(t, ctx, p)

	axontest.Put(t, ctx, h, axon.InboxName, "a string")
	axontest.Put(t, ctx, h, axon.InboxName, []byte("some bytes"))
	for _, want := range []string{"a string", "some bytes"} {
		got, from := readFrom(t, far)
		if got != want || from != p.LocalAddr() {
			t.Fatalf("far end got %q from %v, want %q from %v", got, from, want, p.LocalAddr())
		}
	}

	if _, err := far.WriteToUDPAddrPort([]byte("reply\n"), p.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	d := udptest.Datagram(t, ctx, h)
	if string(d.Data) != "reply\n" || d.From != addr(far) {
		t.Fatalf("got %q from %v, want %q from %v", d.Data, d.From, "reply\n", addr(far))
	}
	if got, want := d.String(), addr(far).String()+" reply"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	st := p.Stats()
	if st.Sent != 2 || st.BytesSent != uint64(len("a string")+len("some bytes")) || st.Received != 1 || st.BytesReceived != 6 || st.Errors != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestSimplePeerResolvesLocalhost(t *testing.T) {
	ctx := axontest.Context(t)
	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("localhost:"+portOf(far)))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "by name")
	if got, _ := readFrom(t, far); got != "by name" {
		t.Fatalf("got %q", got)
	}
}

func portOf(uc *net.UDPConn) string {
	_, port, _ := net.SplitHostPort(uc.LocalAddr().String())
	return port
}

func TestTargettedPeerSwitchesTarget(t *testing.T) {
	ctx := axontest.Context(t)
	one, two := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	p := udp.TargettedPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, p)

	// No target yet: the payload waits in the inbox rather than going
	// anywhere.
	axontest.Put(t, ctx, h, axon.InboxName, "waited")
	expectNothing(t, one)
	axontest.Put(t, ctx, h, udp.TargetBox, addr(one))
	if got, _ := readFrom(t, one); got != "waited" {
		t.Fatalf("got %q, want the payload sent once there is a target", got)
	}

	targets := []struct {
		name string
		msg  any
		to   *net.UDPConn
	}{
		{"host:port string", "127.0.0.1:" + portOf(two), two},
		{"HostPort", udp.HostPort{Host: "127.0.0.1", Port: addr(one).Port()}, one},
		{"*net.UDPAddr", net.UDPAddrFromAddrPort(addr(two)), two},
		{"name", "localhost:" + portOf(one), one},
		{"netip.AddrPort", addr(two), two},
	}
	for _, tc := range targets {
		axontest.Put(t, ctx, h, udp.TargetBox, tc.msg)
		axontest.Put(t, ctx, h, axon.InboxName, tc.name)
		t.Log("target", tc.name)
		if got, _ := readFrom(t, tc.to); got != tc.name {
			t.Fatalf("after target %s: got %q", tc.name, got)
		}
	}

	// A bad target is reported and the last good one kept.
	axontest.Put(t, ctx, h, udp.TargetBox, 42)
	be, _ := udptest.Error(t, ctx, h, udp.ErrBadMessage)
	if be.Box != udp.TargetBox || !strings.Contains(be.Error(), "TargettedPeer") || !strings.Contains(be.Error(), "int") {
		t.Fatalf("error %q should name the peer, the box and the type", be)
	}
	axontest.Put(t, ctx, h, udp.TargetBox, "no-port")
	udptest.Error(t, ctx, h, udp.ErrBadAddress)
	axontest.Put(t, ctx, h, axon.InboxName, "still two")
	if got, _ := readFrom(t, two); got != "still two" {
		t.Fatalf("got %q", got)
	}
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
}

func TestPostboxPeerSendsWherePacketsSay(t *testing.T) {
	ctx := axontest.Context(t)
	one, two := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, p)

	axontest.Put(t, ctx, h, axon.InboxName, udp.Packet{To: addr(one), Data: []byte("to one")})
	axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo("127.0.0.1:"+portOf(two), []byte("to two")))
	axontest.Put(t, ctx, h, axon.InboxName, &udp.Packet{Host: "localhost:" + portOf(one), Data: []byte("by name")})
	for _, c := range []struct {
		uc   *net.UDPConn
		want string
	}{{one, "to one"}, {two, "to two"}, {one, "by name"}} {
		if got, from := readFrom(t, c.uc); got != c.want || from != p.LocalAddr() {
			t.Fatalf("got %q from %v, want %q from %v", got, from, c.want, p.LocalAddr())
		}
	}

	// Received datagrams come out with their senders, and Reply answers.
	two.WriteToUDPAddrPort([]byte("from two"), p.LocalAddr())
	d := udptest.Datagram(t, ctx, h)
	if string(d.Data) != "from two" || d.From != addr(two) {
		t.Fatalf("got %q from %v", d.Data, d.From)
	}
	axontest.Put(t, ctx, h, axon.InboxName, d.Reply([]byte("answer")))
	if got, _ := readFrom(t, two); got != "answer" {
		t.Fatalf("got %q", got)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

// Two peers, each the other's far end.
func TestPeersTalkToEachOther(t *testing.T) {
	for _, local := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(local, func(t *testing.T) {
			if strings.Contains(local, "::") {
				haveIPv6(t)
			}
			ctx := axontest.Context(t)
			a := udp.PostboxPeer(udp.Local(local))
			b := udp.SimplePeer(udp.Local(local), udp.RemoteAddr(a.LocalAddr()))
			ha, hb := udptest.Start(t, ctx, a), udptest.Start(t, ctx, b)
			for i := range 20 {
				msg := strings.Repeat("x", i)
				axontest.Put(t, ctx, hb, axon.InboxName, msg)
				d := udptest.Datagram(t, ctx, ha)
				if string(d.Data) != msg || d.From != b.LocalAddr() {
					t.Fatalf("a got %q from %v", d.Data, d.From)
				}
				axontest.Put(t, ctx, ha, axon.InboxName, d.Reply([]byte(strings.ToUpper(msg)+"!")))
				d = udptest.Datagram(t, ctx, hb)
				if string(d.Data) != strings.ToUpper(msg)+"!" || d.From != a.LocalAddr() {
					t.Fatalf("b got %q from %v", d.Data, d.From)
				}
			}
		})
	}
}

// The default bind is every interface, dual-stack: IPv4 senders show as
// plain IPv4, and replies reach both families.
func TestDualStackDefault(t *testing.T) {
	haveIPv6(t)
	ctx := axontest.Context(t)
	p := udp.PostboxPeer()
	if a := p.LocalAddr().Addr(); !a.IsUnspecified() || !a.Is6() {
		t.Fatalf("LocalAddr = %v, want [::]:port", p.LocalAddr())
	}
	h := udptest.Start(t, ctx, p)
	port := p.LocalAddr().Port()
	for _, far := range []*net.UDPConn{listen(t, "127.0.0.1:0"), listen(t, "[::1]:0")} {
		loop := netip.AddrPortFrom(addr(far).Addr(), port)
		far.WriteToUDPAddrPort([]byte("hi"), loop)
		d := udptest.Datagram(t, ctx, h)
		if d.From != addr(far) {
			t.Fatalf("From = %v, want %v", d.From, addr(far))
		}
		if d.From.Addr().Is4In6() {
			t.Fatalf("From = %v: an IPv4 sender must not come out as ::ffff:", d.From)
		}
		axontest.Put(t, ctx, h, axon.InboxName, d.Reply([]byte("back")))
		if got, _ := readFrom(t, far); got != "back" {
			t.Fatalf("got %q", got)
		}
	}
}

// Datagrams up to the largest each family carries arrive whole, both
// ways, and so does an empty one.
func TestLargestAndEmptyDatagrams(t *testing.T) {
	for _, c := range []struct {
		local string
		max   int
	}{{"127.0.0.1:0", 65507}, {"[::1]:0", 65527}} {
		t.Run(c.local, func(t *testing.T) {
			if strings.Contains(c.local, "::") {
				haveIPv6(t)
			}
			ctx := axontest.Context(t)
			far := listen(t, c.local)
			p := udp.SimplePeer(udp.Local(c.local), udp.RemoteAddr(addr(far)))
			h := udptest.Start(t, ctx, p)
			big := bytes.Repeat([]byte("0123456789abcdef"), c.max/16+1)[:c.max]
			big[len(big)-1] = 'Z'

			axontest.Put(t, ctx, h, axon.InboxName, big)
			if got, _ := readFrom(t, far); got != string(big) {
				t.Fatalf("far end got %d bytes, want %d", len(got), len(big))
			}
			far.WriteToUDPAddrPort(big, p.LocalAddr())
			if d := udptest.Datagram(t, ctx, h); !bytes.Equal(d.Data, big) {
				t.Fatalf("peer got %d bytes, want %d", len(d.Data), len(big))
			}
			far.WriteToUDPAddrPort(nil, p.LocalAddr())
			if d := udptest.Datagram(t, ctx, h); d.Data == nil || len(d.Data) != 0 || d.From != addr(far) {
				t.Fatalf("empty datagram came out as %#v", d)
			}
			// One byte more is too long, reported and not sent.
			axontest.Put(t, ctx, h, axon.InboxName, append(big, '!'))
			be, e := udptest.Error(t, ctx, h, udp.ErrTooLong)
			if e.Dropped != 1 || be.Box != axon.InboxName {
				t.Fatalf("error %v (%+v)", be, e)
			}
			axontest.Put(t, ctx, h, axon.InboxName, "after")
			if got, _ := readFrom(t, far); got != "after" {
				t.Fatalf("got %q after a too-long payload", got)
			}
		})
	}
}

// Each Datagram has a payload of its own: later datagrams do not
// overwrite earlier ones still held.
func TestPayloadsAreNotShared(t *testing.T) {
	ctx := axontest.Context(t)
	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far)))
	h := udptest.Start(t, ctx, p)
	var got []udp.Datagram
	for i := range 50 {
		far.WriteToUDPAddrPort([]byte{byte(i), byte(i), byte(i)}, p.LocalAddr())
	}
	for range 50 {
		got = append(got, udptest.Datagram(t, ctx, h))
	}
	for i, d := range got {
		if !bytes.Equal(d.Data, []byte{byte(i), byte(i), byte(i)}) {
			t.Fatalf("datagram %d is %v", i, d.Data)
		}
	}
}
