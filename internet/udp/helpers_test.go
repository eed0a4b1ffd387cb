package udp_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// listen opens a plain UDP socket on addr for the test's far end.
func listen(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot bind %s here: %v", addr, err)
	}
	t.Cleanup(func() { uc.Close() })
	return uc
}

// addr returns uc's bound address.
func addr(uc *net.UDPConn) netip.AddrPort { return uc.LocalAddr().(*net.UDPAddr).AddrPort() }

// readFrom reads one datagram from uc, failing the test if none comes in
// good time.
func readFrom(t *testing.T, uc *net.UDPConn) (string, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 65536)
	uc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := uc.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf[:n]), from
}

// expectNothing checks that nothing arrives on uc for a short while.
func expectNothing(t *testing.T, uc *net.UDPConn) {
	t.Helper()
	buf := make([]byte, 65536)
	uc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, from, err := uc.ReadFromUDPAddrPort(buf); err == nil {
		t.Fatalf("got %q from %s, want nothing", buf[:n], from)
	}
}

// haveIPv6 skips the test where ::1 cannot be bound.
func haveIPv6(t *testing.T) {
	t.Helper()
	uc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	uc.Close()
}

// timeSoon is a read deadline for a probe that may go unanswered.
func timeSoon() time.Time { return time.Now().Add(200 * time.Millisecond) }

var errCanceled = context.Canceled
