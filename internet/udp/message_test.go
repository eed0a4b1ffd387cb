package udp_test

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

func TestParseTarget(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:1500")
	ap6 := netip.MustParseAddrPort("[::1]:1500")
	for _, c := range []struct {
		in   any
		want udp.Target
		err  error
	}{
		{ap, udp.Target{Addr: ap}, nil},
		{&ap, udp.Target{Addr: ap}, nil},
		{"127.0.0.1:1500", udp.Target{Addr: ap}, nil},
		{"[::1]:1500", udp.Target{Addr: ap6}, nil},
		{"[::ffff:127.0.0.1]:1500", udp.Target{Addr: ap}, nil},
		{"myserver.com:1500", udp.Target{Host: "myserver.com:1500"}, nil},
		{udp.HostPort{Host: "myserver.com", Port: 1500}, udp.Target{Host: "myserver.com:1500"}, nil},
		{udp.HostPort{Host: "::1", Port: 1500}, udp.Target{Addr: ap6}, nil},
		{&udp.HostPort{Host: "127.0.0.1", Port: 1500}, udp.Target{Addr: ap}, nil},
		{net.UDPAddrFromAddrPort(ap), udp.Target{Addr: ap}, nil},
		{udp.Target{Host: "127.0.0.1:1500"}, udp.Target{Addr: ap}, nil},
		{"myserver.com", udp.Target{}, udp.ErrBadAddress},
		{"127.0.0.1:0", udp.Target{}, udp.ErrBadAddress},
		{"myserver.com:0", udp.Target{}, udp.ErrBadAddress},
		{netip.MustParseAddrPort("[::1]:0"), udp.Target{}, udp.ErrBadAddress},
		{"myserver.com:http", udp.Target{}, udp.ErrBadAddress},
		{":1500", udp.Target{}, udp.ErrBadAddress},
		{"", udp.Target{}, udp.ErrBadAddress},
		{netip.AddrPort{}, udp.Target{}, udp.ErrBadAddress},
		{udp.Target{}, udp.Target{}, udp.ErrBadAddress},
		{42, udp.Target{}, udp.ErrBadMessage},
		{[]byte("127.0.0.1:1500"), udp.Target{}, udp.ErrBadMessage},
		{(*net.UDPAddr)(nil), udp.Target{}, udp.ErrBadMessage},
		{nil, udp.Target{}, udp.ErrBadMessage},
	} {
		got, err := udp.ParseTarget(c.in)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ParseTarget(%#v) = %v, %v; want %v, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestDatagramString(t *testing.T) {
	for _, c := range []struct {
		d    udp.Datagram
		want string
	}{
		{udp.Datagram{Data: []byte("hi\n"), From: netip.MustParseAddrPort("127.0.0.1:1500")}, "127.0.0.1:1500 hi"},
		{udp.Datagram{Data: []byte("hi\r\n"), From: netip.MustParseAddrPort("[::1]:1500")}, "[::1]:1500 hi"},
		{udp.Datagram{Data: []byte("two\n\n"), From: netip.MustParseAddrPort("[::1]:1500")}, "[::1]:1500 two\n"},
		{udp.Datagram{Data: nil, From: netip.MustParseAddrPort("10.0.0.1:9")}, "10.0.0.1:9 "},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.d, got, c.want)
		}
	}
}

// A peer's error reads as one line, component and box first; errors.As
// finds both the *axon.BoxError and the *udp.Error, and errors.Is the
// sentinel beneath.
func TestErrorText(t *testing.T) {
	c := axon.New("SimplePeer", nil)
	err := error(c.BoxError(axon.InboxName, &udp.Error{Op: "send", Addr: "127.0.0.1:9", Dropped: 3, Err: udp.ErrRefused}))
	if got, want := err.Error(), c.String()+".inbox: send to 127.0.0.1:9: connection refused (3 not sent)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var be *axon.BoxError
	var ue *udp.Error
	if !errors.As(err, &be) || be.Component != c.String() || be.Box != axon.InboxName {
		t.Errorf("errors.As *axon.BoxError: %+v", be)
	}
	if !errors.As(err, &ue) || ue.Op != "send" || ue.Addr != "127.0.0.1:9" || ue.Dropped != 3 {
		t.Errorf("errors.As *udp.Error: %+v", ue)
	}
	if !errors.Is(err, udp.ErrRefused) {
		t.Error("errors.Is does not see through to udp.ErrRefused")
	}
	for e, want := range map[*udp.Error]string{
		{Op: "receive", Addr: "127.0.0.1:9", Err: udp.ErrRefused}:                  "receive from 127.0.0.1:9: connection refused",
		{Op: "receive", Addr: "[::1]:9", Dropped: 2, Err: udp.ErrReceive}:          "receive from [::1]:9: receive failed (2 not handed on)",
		{Op: "resolve", Addr: "nosuch.invalid:9", Dropped: 1, Err: udp.ErrResolve}: "resolve nosuch.invalid:9: cannot resolve host (1 not sent)",
		{Op: "target", Err: udp.ErrBadAddress}:                                     "target: bad address",
	} {
		if got := e.Error(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// FuzzParseTarget checks that any string either parses to a usable
// target or is refused with ErrBadAddress, never panics, and that a
// parsed address prints back to something that parses to the same.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"127.0.0.1:1500", "[::1]:1500", "myserver.com:1500", "[fe80::1%lo]:9", "x:", ":0", "[::1]", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := udp.ParseTarget(s)
		if err != nil {
			if !errors.Is(err, udp.ErrBadAddress) {
				t.Fatalf("ParseTarget(%q): error %v does not wrap ErrBadAddress", s, err)
			}
			return
		}
		if tg.IsZero() {
			t.Fatalf("ParseTarget(%q) = zero target without an error", s)
		}
		if tg.Addr.IsValid() {
			if tg.Addr.Addr().Is4In6() {
				t.Fatalf("ParseTarget(%q) = %v: mapped address not unmapped", s, tg.Addr)
			}
			again, err := udp.ParseTarget(tg.Addr.String())
			if err != nil || again != tg {
				t.Fatalf("ParseTarget(%q) = %v, which reparses as %v, %v", s, tg, again, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(tg.Host)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || host == "" || perr != nil {
			t.Fatalf("ParseTarget(%q) kept %q, which is not host:port", s, tg.Host)
		}
	})
}

// A Target that already holds an address is checked as an address is:
// port 0 is refused and an IPv4-mapped address comes out unmapped. A
// Packet's To goes this way.
func TestParseTargetChecksATargetsAddress(t *testing.T) {
	if _, err := udp.ParseTarget(udp.Target{Addr: netip.MustParseAddrPort("127.0.0.1:0")}); !errors.Is(err, udp.ErrBadAddress) {
		t.Fatalf("port 0: %v, want ErrBadAddress", err)
	}
	got, err := udp.ParseTarget(udp.Target{Addr: netip.MustParseAddrPort("[::ffff:127.0.0.1]:9")})
	if err != nil || got.Addr != netip.MustParseAddrPort("127.0.0.1:9") {
		t.Fatalf("mapped address: %v, %v; want 127.0.0.1:9", got, err)
	}
}
