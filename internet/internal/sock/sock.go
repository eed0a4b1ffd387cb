// Package sock holds the small socket helpers that the internet packages
// (udp, tcp, multicast) share, so that each is written once.
package sock

import (
	"errors"
	"net"
	"net/netip"
)

// UnwrapOp returns the error inside a *net.OpError (the system call's,
// such as ECONNREFUSED), or err itself when it is not one: what is worth
// classifying and reporting without the operation and addresses the
// caller names already.
func UnwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// AddrPort returns a's address and port: directly for *net.UDPAddr and
// *net.TCPAddr, by parsing its text otherwise; the zero AddrPort for nil
// or text that is not an address.
func AddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	case nil:
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// Unmapped returns ap with an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// as the plain IPv4 address, which is how a dual-stack socket reports
// IPv4 peers and not how users write them.
func Unmapped(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}

// UnmappedAddrPort is AddrPort then Unmapped: how a connection's ends are
// shown.
func UnmappedAddrPort(a net.Addr) netip.AddrPort { return Unmapped(AddrPort(a)) }
