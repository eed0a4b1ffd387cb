//go:build unix

package udp_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// sockopt reads an integer SOL_SOCKET option from uc.
func sockopt(t *testing.T, uc *net.UDPConn, opt int) int {
	t.Helper()
	rc, err := uc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, opt) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// The socket options land on the socket: checked on an adopted one,
// which the test can look at.
func TestSocketOptions(t *testing.T) {
	own := listen(t, "127.0.0.1:0")
	rc, _ := own.SyscallConn()
	rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 0) })
	if sockopt(t, own, syscall.SO_BROADCAST) != 0 {
		t.Fatal("SO_BROADCAST still set")
	}
	rcv, snd := sockopt(t, own, syscall.SO_RCVBUF), sockopt(t, own, syscall.SO_SNDBUF)
	p := udp.PostboxPeer(udp.Conn(own), udp.Broadcast(), udp.ReadBuffer(rcv+64<<10), udp.WriteBuffer(snd+64<<10))
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if sockopt(t, own, syscall.SO_BROADCAST) == 0 {
		t.Error("Broadcast did not set SO_BROADCAST")
	}
	if got := sockopt(t, own, syscall.SO_RCVBUF); got <= rcv {
		t.Errorf("SO_RCVBUF %d, want more than %d", got, rcv)
	}
	if got := sockopt(t, own, syscall.SO_SNDBUF); got <= snd {
		t.Errorf("SO_SNDBUF %d, want more than %d", got, snd)
	}
}

// An adopted file descriptor, through net.FilePacketConn, works as any
// other socket.
func TestAdoptFileDescriptor(t *testing.T) {
	ctx := axontest.Context(t)
	orig := listen(t, "127.0.0.1:0")
	f, err := orig.File() // a duplicate descriptor
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Conn(pc), udp.RemoteAddr(addr(far)))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "from a descriptor")
	if got, from := readFrom(t, far); got != "from a descriptor" || from != addr(orig) {
		t.Fatalf("got %q from %v", got, from)
	}
}

// A peer's own socket refuses broadcast unless asked: sending to
// loopback's broadcast address (which never leaves the host) fails.
func TestBroadcastOnlyOnRequest(t *testing.T) {
	ctx := axontest.Context(t)
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo("127.255.255.255:9", []byte("x")))
	_, e := udptest.Error(t, ctx, h, udp.ErrSend)
	if !errors.Is(e, syscall.EACCES) {
		t.Fatalf("error %v: want EACCES from a socket without SO_BROADCAST", e)
	}
}

// Handle adds a box whose messages reach a function in the main loop;
// its errors are reported against that box. CloseConn hands an adopted
// socket over for good.
func TestHandleAndCloseConn(t *testing.T) {
	ctx := axontest.Context(t)
	own := listen(t, "127.0.0.1:0")
	far := listen(t, "127.0.0.1:0")
	var seen []any
	p := udp.PostboxPeer(udp.Conn(own), udp.CloseConn(),
		udp.Handle("knob", "test messages", func(_ context.Context, msg any) error {
			seen = append(seen, msg)
			if msg == "bad" {
				return errors.New("bad knob")
			}
			return nil
		}))
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, "knob", "turn")
	axontest.Put(t, ctx, h, "knob", "bad")
	if be, _ := udptest.Error(t, ctx, h, nil); be.Box != "knob" || !strings.Contains(be.Error(), "bad knob") {
		t.Fatalf("errors: got %v, want the handler's error against box knob", be)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	if len(seen) != 2 || seen[0] != "turn" || seen[1] != "bad" {
		t.Fatalf("handler saw %v", seen)
	}
	if _, err := own.WriteToUDPAddrPort([]byte("x"), addr(far)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on the adopted socket after the peer ended: %v; want it closed (CloseConn)", err)
	}
}

func TestSecondHandleIsAConfigError(t *testing.T) {
	fn := func(context.Context, any) error { return nil }
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.Handle("a", "", fn), udp.Handle("b", "", fn))
	defer p.Close()
	if err := p.Err(); !errors.Is(err, udp.ErrConfig) {
		t.Fatalf("Err() = %v, want ErrConfig", err)
	}
}

func TestName(t *testing.T) {
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.Name("Echo"))
	defer p.Close()
	if p.Name() != "Echo" || !strings.HasPrefix(p.String(), "Echo#") {
		t.Fatalf("Name() = %q, String() = %q", p.Name(), p.String())
	}
}

// A second Handle stays refused when a Remote follows it: the Remote's
// own parse result does not wipe the refusal out.
func TestSecondHandleIsAConfigErrorWhateverFollows(t *testing.T) {
	fn := func(context.Context, any) error { return nil }
	p := udp.TargettedPeer(udp.Local("127.0.0.1:0"), udp.Handle("a", "", fn), udp.Handle("b", "", fn), udp.Remote("127.0.0.1:9"))
	defer p.Close()
	if err := p.Err(); !errors.Is(err, udp.ErrConfig) {
		t.Fatalf("Err() = %v, want ErrConfig", err)
	}
}
