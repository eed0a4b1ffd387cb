package multicast

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// constructors are the three, by name.
var constructors = map[string]func(string, ...Option) *udp.PeerComponent{
	"Sender":      Sender,
	"Receiver":    Receiver,
	"Transceiver": Transceiver,
}

// A component that cannot be made fails when started, with an error that
// says why and names what was wrong.
func TestConstructionErrors(t *testing.T) {
	g := group4(t).String()
	cases := []struct {
		name  string
		group string
		opts  []Option
		want  error
		names []string // in the error's text
	}{
		{"no port", "239.1.2.3", nil, ErrBadGroup, []string{`"239.1.2.3"`}},
		{"host name", "example.com:5000", nil, ErrBadGroup, []string{"example.com:5000"}},
		{"port 0", "239.1.2.3:0", nil, ErrBadGroup, []string{"239.1.2.3:0", "port 0"}},
		{"unicast IPv4", "127.0.0.1:5000", nil, ErrNotMulticast, []string{"127.0.0.1"}},
		{"unicast IPv6", "[::1]:5000", nil, ErrNotMulticast, []string{"::1"}},
		{"no interface", g, []Option{Interface("nosuch0")}, ErrInterface, []string{`"nosuch0"`}},
		{"zone no interface", "[ff15::1%nosuch1]:5000", nil, ErrInterface, []string{`"nosuch1"`}},
		{"TTL", g, []Option{TTL(256)}, udp.ErrConfig, []string{"256"}},
		{"link scope", "[ff02::77]:5000", nil, ErrBadGroup, []string{"ff02::77", "interface"}},
	}
	for _, c := range cases {
		for kname, mk := range constructors {
			if c.name == "link scope" && kname != "Receiver" {
				continue // only a Receiver binds the group's address
			}
			t.Run(c.name+"/"+kname, func(t *testing.T) {
				ctx := axontest.Context(t)
				p := mk(c.group, c.opts...)
				if p.LocalAddr().IsValid() {
					t.Errorf("LocalAddr %s, want none", p.LocalAddr())
				}
				if !strings.HasPrefix(p.Name(), "Multicast"+kname) {
					t.Errorf("named %q, want Multicast%s", p.Name(), kname)
				}
				if !errors.Is(p.Err(), c.want) {
					t.Errorf("Err() = %v, want an error wrapping %v", p.Err(), c.want)
				}
				err := axon.Run(ctx, p)
				if !errors.Is(err, c.want) {
					t.Fatalf("got %v, want an error wrapping %v", err, c.want)
				}
				var ue *udp.Error
				if !errors.As(err, &ue) {
					t.Fatalf("got %v, want a *udp.Error in it", err)
				}
				for _, n := range append(c.names, c.group) {
					if !strings.Contains(err.Error(), n) {
						t.Errorf("%q does not mention %q", err, n)
					}
				}
			})
		}
	}
}

// A failed component still has the boxes of a working one, so a graph
// wiring it builds, and then fails for the right reason.
func TestFailedComponentBoxes(t *testing.T) {
	for kname, mk := range constructors {
		p := mk("127.0.0.1:5000")
		for _, b := range []string{axon.InboxName, axon.ControlName} {
			if p.Inbox(b) == nil {
				t.Errorf("%s: no inbox %q", kname, b)
			}
		}
		for _, b := range []string{axon.OutboxName, axon.SignalName, udp.ErrorsBox} {
			if p.Outbox(b) == nil {
				t.Errorf("%s: no outbox %q", kname, b)
			}
		}
		if got := p.Inbox(MembershipBox) != nil; got != (kname != "Sender") {
			t.Errorf("%s: has a %q inbox: %v", kname, MembershipBox, got)
		}
		if err := p.Close(); err != nil {
			t.Errorf("%s: Close: %v", kname, err)
		}
	}
}

// udp options that clash with the ones set here make a peer that fails,
// and the socket made for it is closed.
func TestWithClash(t *testing.T) {
	for _, k := range []kind{receiver, transceiver} {
		withClash(t, k)
	}
}

func withClash(t *testing.T, k kind) {
	t.Helper()
	g := group4(t)
	p, uc := build(k, g.String(), []Option{
		Interface("lo"),
		With(udp.Handle("mine", "", func(context.Context, any) error { return nil })),
	})
	if !errors.Is(p.Err(), udp.ErrConfig) {
		t.Fatalf("Err() = %v, want one wrapping udp.ErrConfig", p.Err())
	}
	if _, err := uc.WriteToUDPAddrPort([]byte("x"), g); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writing to the socket: %v, want net.ErrClosed", err)
	}
}

// udp options pass through With: here a Handle box on a Sender.
func TestWith(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	got := make(chan any, 1)
	s := Sender(g.String(), Interface("lo"), With(udp.WriteBuffer(1<<16), udp.Handle("extra", "a test box",
		func(_ context.Context, msg any) error { got <- msg; return nil })))
	if s.Inbox("extra") == nil {
		t.Fatalf("no \"extra\" inbox: With's options were not passed on")
	}
	h := udptest.Start(t, ctx, s)
	axontest.Put(t, ctx, h, "extra", 42)
	select {
	case m := <-got:
		if m != 42 {
			t.Fatalf("the Handle function got %v, want 42", m)
		}
	case <-ctx.Done():
		t.Fatal("the Handle function got nothing")
	}
}

// Membership changes that cannot be made are reported on "errors", naming
// the group or interface, and the component carries on.
func TestMembershipErrors(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	other := group4(t).Addr()
	r := Receiver(g.String(), Interface("lo"))
	tr := Transceiver(g.String(), Interface("lo"))
	hr, ht := udptest.Start(t, ctx, r), udptest.Start(t, ctx, tr)
	hs := udptest.Start(t, ctx, Sender(g.String(), Interface("lo")))

	cases := []struct {
		h     *axon.Handle
		msg   any
		want  error
		names []string
	}{
		{hr, Join{Group: netip.MustParseAddr("127.0.0.1")}, ErrNotMulticast, []string{"join 127.0.0.1"}},
		{ht, Leave{Group: netip.MustParseAddr("10.1.2.3")}, ErrNotMulticast, []string{"leave 10.1.2.3"}},
		{ht, Join{Group: netip.MustParseAddr("ff15::1")}, ErrBadGroup, []string{"ff15::1", "IPv4"}},
		{ht, Join{}, ErrBadGroup, []string{"no group"}},
		{hr, Join{Group: other}, ErrBadGroup, []string{other.String(), g.Addr().String(), "Transceiver"}},
		{hr, Join{Group: g.Addr()}, ErrMembership, []string{"join " + g.Addr().String() + " on lo"}},
		{ht, Leave{Group: other}, ErrMembership, []string{"leave " + other.String() + " on lo"}},
		{ht, Join{Group: other, Interface: "nosuch0"}, ErrInterface, []string{`"nosuch0"`}},
		{ht, "join", udp.ErrBadMessage, []string{"string"}},
		{hr, (*Join)(nil), udp.ErrBadMessage, []string{"*multicast.Join"}},
	}
	for _, c := range cases {
		axontest.Put(t, ctx, c.h, MembershipBox, c.msg)
		be, _ := udptest.Error(t, ctx, c.h, c.want, c.names...)
		if be.Box != MembershipBox {
			t.Errorf("%v: reported against %q, want %q", be, be.Box, MembershipBox)
		}
	}
	// Both still work.
	axontest.Put(t, ctx, hs, "inbox", "still here")
	expect(t, ctx, hr, "still here")
	expect(t, ctx, ht, "still here")
}

// ProducerFinished and ShutdownMicroprocess end each component, pass the
// message on and close its socket; a Sender sends what was queued first.
func TestShutdown(t *testing.T) {
	for _, stop := range []any{
		axon.ProducerFinished{From: axontest.Tester},
		axon.ShutdownMicroprocess{From: axontest.Tester},
	} {
		for _, k := range []kind{sender, receiver, transceiver} {
			t.Run(k.String()+"/"+typeName(stop), func(t *testing.T) {
				ctx := axontest.Context(t)
				g := group4(t)
				p, uc := build(k, g.String(), []Option{Interface("lo")})
				h := udptest.Start(t, ctx, p)
				axontest.StopWith(t, ctx, h, stop)
				if _, err := uc.WriteToUDPAddrPort([]byte("x"), g); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("writing to the socket after the end: %v, want net.ErrClosed", err)
				}
			})
		}
	}
}

// A Sender told ProducerFinished sends what is queued first.
func TestSenderFinishes(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	hr := udptest.Start(t, ctx, Receiver(g.String(), Interface("lo")))
	s := Sender(g.String(), Interface("lo"))
	axontest.Preload(t, s, "inbox", "one", "two", "three")
	axontest.Preload(t, s, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	h := axontest.Start(t, ctx, s)
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	for _, m := range []string{"one", "two", "three"} {
		expect(t, ctx, hr, m)
	}
}

func typeName(v any) string {
	if _, ok := v.(axon.ProducerFinished); ok {
		return "ProducerFinished"
	}
	return "ShutdownMicroprocess"
}
