package sock

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUnwrapOp(t *testing.T) {
	op := &net.OpError{Op: "read", Net: "udp", Err: syscall.ECONNREFUSED}
	if got := UnwrapOp(op); got != syscall.ECONNREFUSED {
		t.Fatalf("UnwrapOp(OpError) = %v, want ECONNREFUSED", got)
	}
	plain := errors.New("plain")
	if got := UnwrapOp(plain); got != plain {
		t.Fatalf("UnwrapOp(plain) = %v", got)
	}
}

func TestAddrPort(t *testing.T) {
	want := netip.MustParseAddrPort("127.0.0.1:9")
	for _, a := range []net.Addr{
		net.UDPAddrFromAddrPort(want),
		net.TCPAddrFromAddrPort(want),
		&net.IPAddr{IP: net.IPv4(127, 0, 0, 1)}, // not an address and port: zero
		nil,
	} {
		got := AddrPort(a)
		if _, isIP := a.(*net.IPAddr); isIP || a == nil {
			if got.IsValid() {
				t.Fatalf("AddrPort(%v) = %v, want the zero AddrPort", a, got)
			}
			continue
		}
		if got != want {
			t.Fatalf("AddrPort(%v) = %v, want %v", a, got, want)
		}
	}
	if got := Unmapped(netip.MustParseAddrPort("[::ffff:127.0.0.1]:9")); got != want {
		t.Fatalf("Unmapped = %v, want %v", got, want)
	}
	v6 := netip.MustParseAddrPort("[::1]:9")
	if got := Unmapped(v6); got != v6 {
		t.Fatalf("Unmapped(%v) = %v", v6, got)
	}
}
