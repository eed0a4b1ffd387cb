package udp_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// A protocol handler behind a SimplePeer, supervised: a datagram that
// makes it panic is dropped and reported, and the datagrams after it,
// queued while it was restarted, are all handled, in order.
func TestSupervisedHandlerBehindSimplePeer(t *testing.T) {
	ctx := axontest.Context(t)
	parse := func() axon.Node {
		return axon.New("Parse", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(ctx context.Context, m any) error {
				n, err := strconv.Atoi(string(m.(udp.Datagram).Data))
				if err != nil {
					panic(err)
				}
				return c.Send(ctx, axon.OutboxName, n)
			})
		})
	}
	client, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(client.LocalAddr().(*net.UDPAddr).AddrPort()))
	if err := peer.Err(); err != nil {
		t.Fatal(err)
	}
	sup := chassis.Supervise(chassis.Child{Make: parse, InHand: chassis.Drop}, chassis.Intensity(5, time.Minute), chassis.Backoff(0, 0))
	server := chassis.Graphline(
		chassis.Nodes{"UDP": peer, "PARSE": sup},
		chassis.Links{
			{"UDP", "outbox"}:   {"PARSE", "inbox"},
			{"PARSE", "outbox"}: {chassis.Self, "outbox"},
			{"PARSE", "errors"}: {chassis.Self, "errors"},
		})
	h := axontest.Start(t, ctx, server, axon.Tapping("outbox", "errors"))
	for _, s := range []string{"1", "two", "3", "4", "5"} {
		if _, err := client.WriteToUDPAddrPort([]byte(s), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{1, 3, 4, 5} {
		if got := axontest.Get(t, ctx, h, "outbox"); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
	var d *chassis.DroppedError
	if m := axontest.Get(t, ctx, h, "errors"); !errors.As(m.(error), &d) || string(d.Msg.(udp.Datagram).Data) != "two" || !errors.Is(d, axon.ErrPanic) {
		t.Fatalf("errors: got %v, want the datagram \"two\" dropped after a panic", m)
	}
}
