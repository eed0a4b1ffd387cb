package multicast

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// groupSeq numbers the groups the tests use, so that no two tests (and,
// with the process id in the address, no two test processes) share one.
var groupSeq atomic.Uint32

// group4 returns a fresh IPv4 group, in 239.77.0.0/16 (administratively
// scoped, never routed beyond the site), and a port no socket of this
// test process uses.
func group4(t *testing.T) netip.AddrPort {
	t.Helper()
	n := groupSeq.Add(1)
	a := netip.AddrFrom4([4]byte{239, 77, byte(os.Getpid()), byte(n)})
	return netip.AddrPortFrom(a, freePort(t))
}

// group6 returns a fresh IPv6 group, in ff15::/16 (transient, site
// scope), and a free port.
func group6(t *testing.T) netip.AddrPort {
	t.Helper()
	n := groupSeq.Add(1)
	a := netip.MustParseAddr(fmt.Sprintf("ff15::77:%x:%x", os.Getpid()&0xffff, n))
	return netip.AddrPortFrom(a, freePort(t))
}

// freePort returns a UDP port that was free a moment ago.
func freePort(t *testing.T) uint16 {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer uc.Close()
	return uc.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// expect takes the next Datagram from h's outbox and checks its payload.
func expect(t *testing.T, ctx context.Context, h *axon.Handle, want string) udp.Datagram {
	t.Helper()
	d := udptest.Datagram(t, ctx, h)
	if string(d.Data) != want {
		t.Fatalf("%s: got %q from %s, want %q", h.Component(), d.Data, d.From, want)
	}
	return d
}

// settle waits until p has taken every message from its inbox called box.
// A peer handles a message it takes before it takes the next from any box,
// so once "membership" is empty, a Join or Leave put there takes effect
// before p sends anything put on "inbox" afterwards; a datagram so sent,
// once received, shows that it has.
func settle(t *testing.T, p *udp.PeerComponent, box string) {
	t.Helper()
	in := p.Inbox(box)
	deadline := time.Now().Add(10 * time.Second)
	for in.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d messages still waiting", in, in.Len())
		}
		time.Sleep(time.Millisecond)
	}
}

// localhost is where datagrams sent through "lo" come from.
var localhost = netip.MustParseAddr("127.0.0.1")
