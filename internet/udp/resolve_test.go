package udp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

func TestSimplePeerResolvesThroughDNS(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	far := listen(t, "127.0.0.1:0")
	dns.add("far.test", "127.0.0.1")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("far.test:"+portOf(far)), udp.Resolver(dns.resolver()))
	h := udptest.Start(t, ctx, p)
	for _, s := range []string{"one", "two", "three"} {
		axontest.Put(t, ctx, h, axon.InboxName, s)
		if got, _ := readFrom(t, far); got != s {
			t.Fatalf("got %q, want %q", got, s)
		}
	}
	if n := dns.asked("far.test"); n != 1 {
		t.Fatalf("far.test asked %d times, want once (the answer is kept)", n)
	}
}

// A name being resolved holds up only the packets for it: packets to
// other places go on, and the held ones follow in order once it resolves.
func TestPostboxPeerSlowNameHoldsOnlyItsPackets(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	slow, quick := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	dns.add("slow.test", "127.0.0.1")
	release := dns.hold("slow.test")
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.Resolver(dns.resolver()))
	h := udptest.Start(t, ctx, p)

	for _, s := range []string{"s1", "s2", "s3"} {
		axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo("slow.test:"+portOf(slow), []byte(s)))
	}
	axontest.Put(t, ctx, h, axon.InboxName, udp.Packet{To: addr(quick), Data: []byte("q1")})
	if got, _ := readFrom(t, quick); got != "q1" {
		t.Fatalf("got %q", got)
	}
	expectNothing(t, slow)
	release()
	for _, want := range []string{"s1", "s2", "s3"} {
		if got, _ := readFrom(t, slow); got != want {
			t.Fatalf("got %q, want %q (held packets in order)", got, want)
		}
	}
}

func TestUnresolvableNameIsReported(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	far := listen(t, "127.0.0.1:0")
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.Resolver(dns.resolver()))
	h := udptest.Start(t, ctx, p)

	release := dns.hold("nosuch.invalid")
	axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo("nosuch.invalid:9", []byte("lost 1")))
	axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo("nosuch.invalid:9", []byte("lost 2")))
	release()
	be, e := udptest.Error(t, ctx, h, udp.ErrResolve)
	if e.Dropped != 2 || e.Addr != "nosuch.invalid:9" || e.Op != "resolve" ||
		!strings.Contains(be.Error(), "PostboxPeer") || !strings.Contains(be.Error(), "nosuch.invalid:9") {
		t.Fatalf("error %q (%+v): want it to name the peer and the host, and count 2 not sent", be, e)
	}
	// The peer carries on.
	axontest.Put(t, ctx, h, axon.InboxName, udp.Packet{To: addr(far), Data: []byte("later")})
	if got, _ := readFrom(t, far); got != "later" {
		t.Fatalf("got %q", got)
	}
}

func TestSimplePeerWithUnresolvableReceiver(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("nosuch.invalid:9"), udp.Resolver(dns.resolver()))
	h := udptest.Start(t, ctx, p)
	be, e := udptest.Error(t, ctx, h, udp.ErrResolve)
	if be.Box != axon.InboxName || e.Dropped != 0 {
		t.Fatalf("first error %v (%+v): want the failed lookup, on inbox, nothing dropped yet", be, e)
	}
	// Payloads that cannot go anywhere are each reported, not lost silently.
	axontest.Put(t, ctx, h, axon.InboxName, "nowhere")
	_, e = udptest.Error(t, ctx, h, udp.ErrResolve)
	if e.Dropped != 1 || e.Op != "send" {
		t.Fatalf("error %+v: want the payload reported as not sent", e)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

// A new target replaces one still being resolved: the late answer about
// the old one does not win.
func TestTargettedPeerNewTargetWhileResolving(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	old, cur := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	dns.add("old.test", "127.0.0.1")
	release := dns.hold("old.test")
	p := udp.TargettedPeer(udp.Local("127.0.0.1:0"), udp.Resolver(dns.resolver()))
	h := udptest.Start(t, ctx, p)

	axontest.Put(t, ctx, h, udp.TargetBox, "old.test:"+portOf(old))
	axontest.Put(t, ctx, h, udp.TargetBox, addr(cur))
	axontest.Put(t, ctx, h, axon.InboxName, "p1")
	if got, _ := readFrom(t, cur); got != "p1" {
		t.Fatalf("got %q", got)
	}
	release()
	axontest.Put(t, ctx, h, axon.InboxName, "p2")
	if got, _ := readFrom(t, cur); got != "p2" {
		t.Fatalf("got %q", got)
	}
	expectNothing(t, old)
}

// ProducerFinished waits for names being resolved, so what is held for
// them still goes out.
func TestProducerFinishedWaitsForLookups(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	far := listen(t, "127.0.0.1:0")
	dns.add("late.test", "127.0.0.1")
	release := dns.hold("late.test")
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.Resolver(dns.resolver()))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo("late.test:"+portOf(far), []byte("late")))
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, axon.ControlName, pf)
	expectNothing(t, far)
	release()
	if got, _ := readFrom(t, far); got != "late" {
		t.Fatalf("got %q", got)
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
}

// A receiver given by name is looked up again after CacheFor, while
// payloads keep going to its last address, so a changed DNS answer is
// followed.
func TestReceiverNameIsLookedUpAgain(t *testing.T) {
	ctx := axontest.Context(t)
	dns := newFakeDNS(t)
	first := listen(t, "127.0.0.1:0")
	second := listen(t, "127.0.0.2:"+portOf(first))
	dns.add("moving.test", "127.0.0.1")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("moving.test:"+portOf(first)),
		udp.Resolver(dns.resolver()), udp.CacheFor(20*time.Millisecond))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "before")
	if got, _ := readFrom(t, first); got != "before" {
		t.Fatalf("got %q", got)
	}
	dns.add("moving.test", "127.0.0.2")
	for i := 0; ; i++ {
		axontest.Put(t, ctx, h, axon.InboxName, "after")
		second.SetReadDeadline(timeSoon())
		buf := make([]byte, 16)
		if n, _, err := second.ReadFromUDPAddrPort(buf); err == nil && string(buf[:n]) == "after" {
			break
		}
		if i == 50 {
			t.Fatalf("still not sent to the new address after %d lookups", dns.asked("moving.test"))
		}
	}
}
