package udp_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

func TestWrongMessageTypeIsReportedAndPeerCarriesOn(t *testing.T) {
	ctx := axontest.Context(t)
	far := listen(t, "127.0.0.1:0")
	for _, c := range []struct {
		p   *udp.PeerComponent
		bad any
		ok  any
	}{
		{udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far))), 42, "fine"},
		{udp.PostboxPeer(udp.Local("127.0.0.1:0")), "no address", udp.Packet{To: addr(far), Data: []byte("fine")}},
		{udp.PostboxPeer(udp.Local("127.0.0.1:0")), (*udp.Packet)(nil), udp.Packet{To: addr(far), Data: []byte("fine")}},
	} {
		h := udptest.Start(t, ctx, c.p)
		axontest.Put(t, ctx, h, axon.InboxName, c.bad)
		be, e := udptest.Error(t, ctx, h, udp.ErrBadMessage)
		if be.Box != axon.InboxName || be.Component != c.p.String() || e.Op != "send" || !strings.HasPrefix(be.Error(), c.p.String()+".inbox: send: ") {
			t.Fatalf("error %q: want it to name %s and its inbox, then the send", be, c.p)
		}
		axontest.Put(t, ctx, h, axon.InboxName, c.ok)
		if got, _ := readFrom(t, far); got != "fine" {
			t.Fatalf("%s: got %q after a bad message", c.p, got)
		}
	}
}

func TestPostboxPeerBadAddress(t *testing.T) {
	ctx := axontest.Context(t)
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	h := udptest.Start(t, ctx, p)
	for _, host := range []string{"", "no-port", "host:notaport", "host:70000", ":9", "127.0.0.1:0"} {
		axontest.Put(t, ctx, h, axon.InboxName, udp.PacketTo(host, []byte("x")))
		_, e := udptest.Error(t, ctx, h, udp.ErrBadAddress)
		if e.Dropped != 1 {
			t.Fatalf("%q: %+v", host, e)
		}
	}
}

// A connected SimplePeer hears ICMP port unreachable, reports it as
// ErrRefused (Twisted's connectionRefused) and carries on.
func TestConnectedPeerReportsRefused(t *testing.T) {
	ctx := axontest.Context(t)
	gone := listen(t, "127.0.0.1:0")
	to := addr(gone)
	gone.Close() // nothing listens there now
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(to), udp.Connect())
	h := udptest.Start(t, ctx, p)
	axontest.Put(t, ctx, h, axon.InboxName, "anyone?")
	axontest.Put(t, ctx, h, axon.InboxName, "anyone??")
	_, e := udptest.Error(t, ctx, h, udp.ErrRefused)
	if !errors.Is(e, syscall.ECONNREFUSED) || !strings.Contains(e.Error(), to.String()) {
		t.Fatalf("error %q: want ECONNREFUSED naming %v", e, to)
	}

	// Something listens there again: the peer still works.
	back, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Skipf("cannot bind %v again: %v", to, err)
	}
	defer back.Close()
	for i := 0; ; i++ {
		axontest.Put(t, ctx, h, axon.InboxName, "hello again")
		back.SetReadDeadline(timeSoon())
		buf := make([]byte, 100)
		if n, _, err := back.ReadFromUDPAddrPort(buf); err == nil {
			if string(buf[:n]) == "anyone??" {
				continue // sent after the error was reported
			}
			if string(buf[:n]) != "hello again" {
				t.Fatalf("got %q", buf[:n])
			}
			break
		}
		if i == 20 {
			t.Fatal("nothing arrived after the far end came back")
		}
	}
	// A connected socket takes datagrams only from its receiver.
	other := listen(t, "127.0.0.1:0")
	other.WriteToUDPAddrPort([]byte("stranger"), p.LocalAddr())
	back.WriteToUDPAddrPort([]byte("friend"), p.LocalAddr())
	if d := udptest.Datagram(t, ctx, h); string(d.Data) != "friend" {
		t.Fatalf("got %q from %v; a connected peer takes only its receiver's datagrams", d.Data, d.From)
	}
}

func TestBindInUseNamesTheAddress(t *testing.T) {
	ctx := axontest.Context(t)
	first := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	defer first.Close()
	taken := first.LocalAddr().String()
	second := udp.PostboxPeer(udp.Local(taken))
	err := second.Err()
	if !errors.Is(err, udp.ErrBind) || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), taken) {
		t.Fatalf("Err() = %v: want ErrBind and EADDRINUSE, naming %s", err, taken)
	}
	runErr := axon.Run(ctx, second)
	var ce *axon.ComponentError
	if !errors.As(runErr, &ce) || !errors.Is(runErr, udp.ErrBind) || ce.Component != second.String() {
		t.Fatalf("Run = %v: want a ComponentError for the PostboxPeer wrapping ErrBind", runErr)
	}
}

func TestBadConfiguration(t *testing.T) {
	for name, p := range map[string]*udp.PeerComponent{
		"SimplePeer without Remote":     udp.SimplePeer(),
		"Connect on a TargettedPeer":    udp.TargettedPeer(udp.Remote("127.0.0.1:9"), udp.Connect()),
		"PostboxPeer with Remote":       udp.PostboxPeer(udp.Remote("127.0.0.1:9")),
		"Remote without a port":         udp.SimplePeer(udp.Remote("127.0.0.1")),
		"Remote on port 0":              udp.SimplePeer(udp.Remote("127.0.0.1:0")),
		"Local not an address":          udp.PostboxPeer(udp.Local("not an address")),
		"Local that is not this host's": udp.PostboxPeer(udp.Local("192.0.2.1:0")),
	} {
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), p.String()) {
			t.Errorf("%s: Err() = %v, want an error naming the peer", name, err)
		}
		p.Close()
	}
}

// With "errors" unlinked, errors are logged, not lost.
func TestErrorsLoggedWhenUnlinked(t *testing.T) {
	ctx := axontest.Context(t)
	var logged bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	defer slog.SetDefault(old)

	far := listen(t, "127.0.0.1:0")
	p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far)))
	h := axontest.Start(t, ctx, p) // errors not tapped
	axontest.Put(t, ctx, h, axon.InboxName, 3.14)
	axontest.Put(t, ctx, h, axon.InboxName, "marker")
	readFrom(t, far) // the bad message was dealt with before this one
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	if s := logged.String(); !strings.Contains(s, "wrong message type") || !strings.Contains(s, p.String()) || !strings.Contains(s, "float64") {
		t.Fatalf("log %q: want the error, naming the peer and the type", s)
	}
	if p.Stats().Errors != 1 {
		t.Fatalf("Stats().Errors = %d, want 1", p.Stats().Errors)
	}
}

// When what "outbox" leads to has ended, the datagram that could not be
// handed on is reported, not lost silently.
func TestReceiverGoneIsReported(t *testing.T) {
	ctx := axontest.Context(t)
	p := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	axontest.LinkToEnded(t, p, axon.OutboxName)
	h := udptest.Start(t, ctx, p)
	far := listen(t, "127.0.0.1:0")
	far.WriteToUDPAddrPort([]byte("nobody reads this"), p.LocalAddr())
	be, e := udptest.Error(t, ctx, h, axon.ErrReceiverDone)
	if be.Box != axon.OutboxName || e.Dropped != 1 || e.Addr != addr(far).String() || !strings.Contains(e.Error(), "1 not handed on") {
		t.Fatalf("error %q (%+v)", be, e)
	}
	// Sending still works.
	axontest.Put(t, ctx, h, axon.InboxName, udp.Packet{To: addr(far), Data: []byte("still sends")})
	if got, _ := readFrom(t, far); got != "still sends" {
		t.Fatalf("got %q", got)
	}
}

func TestFailed(t *testing.T) {
	ctx := axontest.Context(t)
	why := errors.New("no socket for you")
	p := udp.Failed(axon.New("Custom", nil), why)
	if !errors.Is(p.Err(), why) || p.LocalAddr().IsValid() {
		t.Fatalf("Err() = %v, LocalAddr() = %v", p.Err(), p.LocalAddr())
	}
	if err := axon.Run(ctx, p); !errors.Is(err, why) {
		t.Fatalf("Run = %v, want %v", err, why)
	}
}
