package multicast

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// Two hosts in one test: two network namespaces joined by a veth pair.
//
// IPv6 multicast does not work over "lo", and Loopback(false) means
// nothing there (a datagram sent through lo comes back through lo), so
// these tests build a small network of their own: namespaces "kmcPID-N-a"
// and "kmcPID-N-b" with interfaces kmPIDaN and kmPIDbN, addresses
// 10.77.0.1/24 and fd77::1/64 on one side and .2 and ::2 on the other.
// They need root and the ip command, and are skipped otherwise; the
// namespaces, and the veth pair with them, are deleted when the test
// ends, whether it passed or not.
//
// Code runs "on a host" by switching one OS thread into its namespace,
// making the components there, and letting that thread die (its goroutine
// ends without unlocking it, so the runtime does not reuse it). A socket
// belongs to the namespace it was made in for the rest of its life, so
// the components then run on any thread. The constructors do everything
// that depends on the namespace (interface lookup, socket, bind, join)
// before they return; a Join naming another interface by name, later,
// would look it up in the namespace of the thread that handles it.

// veth is a pair of namespaces joined by a veth pair.
type veth struct {
	ns  [2]string     // namespace names
	ifc [2]string     // interface names, one in each
	v4  [2]netip.Addr // their IPv4 addresses
	v6  [2]netip.Addr // and IPv6
}

var vethSeq atomic.Uint32

// newVeth makes two namespaces joined by a veth pair, or skips the test.
func newVeth(t *testing.T) *veth {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make network namespaces (two hosts joined by a veth pair)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("needs the ip command (iproute2) to make network namespaces: %v", err)
	}
	n, pid := vethSeq.Add(1), os.Getpid()
	v := &veth{
		ns:  [2]string{fmt.Sprintf("kmc%d-%d-a", pid, n), fmt.Sprintf("kmc%d-%d-b", pid, n)},
		ifc: [2]string{fmt.Sprintf("km%da%d", pid%1000000, n), fmt.Sprintf("km%db%d", pid%1000000, n)},
		v4:  [2]netip.Addr{netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2")},
		v6:  [2]netip.Addr{netip.MustParseAddr("fd77::1"), netip.MustParseAddr("fd77::2")},
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("cannot make the test network: ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range v.ns {
		ip("netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("deleting namespace %s: %v: %s", ns, err, out)
			}
		})
	}
	ip("-n", v.ns[0], "link", "add", v.ifc[0], "type", "veth", "peer", "name", v.ifc[1], "netns", v.ns[1])
	for i := range 2 {
		ip("-n", v.ns[i], "addr", "add", v.v4[i].String()+"/24", "dev", v.ifc[i])
		ip("-n", v.ns[i], "addr", "add", v.v6[i].String()+"/64", "dev", v.ifc[i], "nodad")
		ip("-n", v.ns[i], "link", "set", v.ifc[i], "up")
	}
	// IPv6 drops multicast arriving on an interface until the interface
	// has its route for ff00::/8, which comes once the kernel has seen
	// the link's carrier (up to a second after it is set up).
	deadline := time.Now().Add(10 * time.Second)
	for i := range 2 {
		for {
			out, err := exec.Command("ip", "-n", v.ns[i], "-6", "route", "show", "table", "local", "dev", v.ifc[i]).CombinedOutput()
			if err == nil && strings.Contains(string(out), "ff00::/8") {
				break
			}
			if time.Now().After(deadline) {
				t.Skipf("cannot make the test network: %s has no IPv6 multicast route: %v: %s", v.ifc[i], err, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return v
}

// in runs f on host i (0 or 1), that is, in its namespace. f must not
// call t's methods that end the test.
func (v *veth) in(t *testing.T, i int, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, left in the namespace, ends with
		// this goroutine.
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+v.ns[i], unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", v.ns[i], err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", v.ns[i], err)
			return
		}
		f()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// made checks that each of ps was made.
func made(t *testing.T, ps ...*udp.PeerComponent) {
	t.Helper()
	for _, p := range ps {
		if err := p.Err(); err != nil {
			t.Fatalf("making %s: %v", p, err)
		}
	}
}

// From one host to the other, over IPv6 and IPv4: a Sender on one side of
// the veth pair, a Receiver on the other.
func TestTwoHosts(t *testing.T) {
	for _, fam := range []string{"IPv6", "IPv4"} {
		t.Run(fam, func(t *testing.T) {
			ctx := axontest.Context(t)
			v := newVeth(t)
			g, from := group6(t), v.v6[0]
			if fam == "IPv4" {
				g, from = group4(t), v.v4[0]
			}
			var s, r *udp.PeerComponent
			v.in(t, 0, func() { s = Sender(g.String(), Interface(v.ifc[0])) })
			v.in(t, 1, func() { r = Receiver(g.String(), Interface(v.ifc[1])) })
			made(t, s, r)
			hs, hr := udptest.Start(t, ctx, s), udptest.Start(t, ctx, r)

			axontest.Put(t, ctx, hs, "inbox", "across")
			d := expect(t, ctx, hr, "across")
			if want := netip.AddrPortFrom(from, s.LocalAddr().Port()); d.From != want {
				t.Fatalf("from %s, want the Sender, %s", d.From, want)
			}
			// And back: the Receiver replies to the sender.
			axontest.Put(t, ctx, hr, "inbox", d.Reply([]byte("back")))
			expect(t, ctx, hs, "back")
		})
	}
}

// With Loopback(false), the sending host does not see its own datagrams:
// neither the Transceiver that sends them nor a Receiver beside it,
// while the other host does. A Sender beside them with Loopback on is the
// control.
func TestLoopbackOff(t *testing.T) {
	for _, fam := range []string{"IPv6", "IPv4"} {
		t.Run(fam, func(t *testing.T) {
			ctx := axontest.Context(t)
			v := newVeth(t)
			g := group6(t)
			if fam == "IPv4" {
				g = group4(t)
			}
			var quiet, near, loud, far *udp.PeerComponent
			v.in(t, 0, func() {
				quiet = Transceiver(g.String(), Interface(v.ifc[0]), Loopback(false))
				near = Receiver(g.String(), Interface(v.ifc[0]))
				loud = Sender(g.String(), Interface(v.ifc[0]))
			})
			v.in(t, 1, func() { far = Receiver(g.String(), Interface(v.ifc[1])) })
			made(t, quiet, near, loud, far)
			hq, hn, hl, hf := udptest.Start(t, ctx, quiet), udptest.Start(t, ctx, near), udptest.Start(t, ctx, loud), udptest.Start(t, ctx, far)

			axontest.Put(t, ctx, hq, "inbox", "not for this host")
			expect(t, ctx, hf, "not for this host")
			// A copy for this host, had there been one, was delivered
			// before the one that crossed the veth pair.
			axontest.Put(t, ctx, hl, "inbox", "for everyone")
			expect(t, ctx, hf, "for everyone")
			expect(t, ctx, hn, "for everyone")
			expect(t, ctx, hq, "for everyone")
		})
	}
}

// TTL(0) keeps datagrams on the sending host: a Receiver there gets
// them, the other host does not. A Sender with the default TTL, 1, is the
// control.
func TestTTLZero(t *testing.T) {
	for _, fam := range []string{"IPv6", "IPv4"} {
		t.Run(fam, func(t *testing.T) {
			ctx := axontest.Context(t)
			v := newVeth(t)
			g := group6(t)
			if fam == "IPv4" {
				g = group4(t)
			}
			var zero, one, near, far *udp.PeerComponent
			v.in(t, 0, func() {
				zero = Sender(g.String(), Interface(v.ifc[0]), TTL(0))
				one = Sender(g.String(), Interface(v.ifc[0]))
				near = Receiver(g.String(), Interface(v.ifc[0]))
			})
			v.in(t, 1, func() { far = Receiver(g.String(), Interface(v.ifc[1])) })
			made(t, zero, one, near, far)
			hz, ho, hn, hf := udptest.Start(t, ctx, zero), udptest.Start(t, ctx, one), udptest.Start(t, ctx, near), udptest.Start(t, ctx, far)

			axontest.Put(t, ctx, hz, "inbox", "stays here")
			expect(t, ctx, hn, "stays here")
			// A copy sent across, had there been one, was queued with
			// the one delivered here.
			axontest.Put(t, ctx, ho, "inbox", "goes across")
			expect(t, ctx, hn, "goes across")
			expect(t, ctx, hf, "goes across")
		})
	}
}

// A Transceiver on one host joins a second group by message and hears it
// from the other host.
func TestTwoHostsJoin(t *testing.T) {
	ctx := axontest.Context(t)
	v := newVeth(t)
	a := group6(t)
	b := netip.AddrPortFrom(group6(t).Addr(), a.Port())
	var tr, sa, sb *udp.PeerComponent
	v.in(t, 0, func() { tr = Transceiver(a.String(), Interface(v.ifc[0])) })
	v.in(t, 1, func() {
		sa = Sender(a.String(), Interface(v.ifc[1]))
		sb = Sender(b.String(), Interface(v.ifc[1]))
	})
	made(t, tr, sa, sb)
	ht, hsa, hsb := udptest.Start(t, ctx, tr), udptest.Start(t, ctx, sa), udptest.Start(t, ctx, sb)

	axontest.Put(t, ctx, ht, MembershipBox, Join{Group: b.Addr()})
	settle(t, tr, MembershipBox)
	// The Transceiver hears itself once the Join is done.
	axontest.Put(t, ctx, ht, "inbox", "joined")
	expect(t, ctx, ht, "joined")
	axontest.Put(t, ctx, hsb, "inbox", "to b")
	expect(t, ctx, ht, "to b")
	axontest.Put(t, ctx, hsa, "inbox", "to a")
	expect(t, ctx, ht, "to a")
}
