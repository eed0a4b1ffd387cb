package udp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// Two SimplePeers on loopback, each the other's receiver.
func ExampleSimplePeer() {
	ctx := context.Background()
	alice := udp.TargettedPeer(udp.Local("127.0.0.1:0"))
	bob := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(alice.LocalAddr()))
	ha, hb := axon.Start(ctx, alice), axon.Start(ctx, bob)

	hb.Put(ctx, "inbox", "hello, alice")
	msg, _ := ha.Get(ctx, "outbox")
	d := msg.(udp.Datagram)
	fmt.Printf("alice got %q from bob: %v\n", d.Data, d.From == bob.LocalAddr())

	ha.Put(ctx, "target", d.From) // reply to whoever wrote
	ha.Put(ctx, "inbox", []byte("hello, bob"))
	msg, _ = hb.Get(ctx, "outbox")
	fmt.Printf("bob got %q\n", msg.(udp.Datagram).Data)

	ha.Stop()
	hb.Stop()
	ha.Wait()
	hb.Wait()
	// Output:
	// alice got "hello, alice" from bob: true
	// bob got "hello, bob"
}

// TargettedPeer's receiver changes with each message on "target".
func ExampleTargettedPeer() {
	ctx := context.Background()
	one, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	two, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer one.Close()
	defer two.Close()

	p := udp.TargettedPeer(udp.Local("127.0.0.1:0"))
	h := axon.Start(ctx, p)
	buf := make([]byte, 100)

	h.Put(ctx, "target", one.LocalAddr().String()) // "127.0.0.1:port"
	h.Put(ctx, "inbox", "first")
	n, _ := one.Read(buf)
	fmt.Println("one:", string(buf[:n]))

	h.Put(ctx, "target", two.LocalAddr().(*net.UDPAddr).AddrPort())
	h.Put(ctx, "inbox", "second")
	n, _ = two.Read(buf)
	fmt.Println("two:", string(buf[:n]))
	h.Stop()
	h.Wait()
	// Output:
	// one: first
	// two: second
}

// An echo server (Twisted's Echo) is a PostboxPeer whose outbox loops
// back to its inbox through a PureTransformer that addresses each
// datagram to its sender.
func ExamplePostboxPeer() {
	ctx := context.Background()
	server := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	echo := chassis.Graphline(
		chassis.Nodes{
			"UDP":   server,
			"REPLY": util.PureTransformer(func(m any) any { d := m.(udp.Datagram); return d.Reply([]byte(strings.ToUpper(string(d.Data)))) }),
		},
		chassis.Links{
			{"UDP", "outbox"}:   {"REPLY", "inbox"},
			{"REPLY", "outbox"}: {"UDP", "inbox"},
		})
	hs := axon.Start(ctx, echo)

	client := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(server.LocalAddr()))
	hc := axon.Start(ctx, client)
	for _, s := range []string{"ping", "pong"} {
		hc.Put(ctx, "inbox", s)
		msg, _ := hc.Get(ctx, "outbox")
		fmt.Println(string(msg.(udp.Datagram).Data))
	}
	hc.Stop()
	hs.Stop()
	hc.Wait()
	hs.Wait()
	// Output:
	// PING
	// PONG
}

// Errors come out of "errors", and the peer carries on.
func ExampleError() {
	ctx := context.Background()
	g := chassis.Graphline(
		chassis.Nodes{
			"UDP": udp.PostboxPeer(udp.Local("127.0.0.1:0")),
			"WHY": util.PureTransformer(func(m any) any {
				err := m.(error)
				var be *axon.BoxError // names the peer and the box
				var e *udp.Error      // what was being done, and to what
				if !errors.As(err, &be) || !errors.As(err, &e) {
					return err
				}
				return fmt.Sprintf("%s %s %q: %v, %d not sent", be.Box, e.Op, e.Addr, errors.Is(err, udp.ErrBadAddress), e.Dropped)
			}),
		},
		chassis.Links{
			{"self", "inbox"}:      {"UDP", "inbox"},
			{"UDP", udp.ErrorsBox}: {"WHY", "inbox"},
			{"WHY", "outbox"}:      {"self", "outbox"},
		})
	h := axon.Start(ctx, g)
	h.Put(ctx, "inbox", udp.PacketTo("no-port-here", []byte("x")))
	msg, _ := h.Get(ctx, "outbox")
	fmt.Println(msg)
	h.Stop()
	h.Wait()
	// Output:
	// inbox send "no-port-here": true, 1 not sent
}

// Failed stands in for a peer a package could not build on a socket it
// prepared itself: the graph still wires to it, and it fails, naming
// what went wrong, when started.
func ExampleFailed() {
	c := axon.New("GroupPeer", nil,
		axon.WithOutbox(axon.OutboxName, "udp.Datagram: each datagram received", axon.Carries[udp.Datagram]()))
	p := udp.Failed(c, c.BoxError("socket", &udp.Error{Op: "bind", Addr: "239.1.2.3:5000", Err: udp.ErrBind}))
	err := axon.Run(context.Background(), p)
	fmt.Println(errors.Is(err, udp.ErrBind), errors.Is(p.Err(), udp.ErrBind))
	// Output:
	// true true
}
