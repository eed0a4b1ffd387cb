//go:build !linux

package multicast

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// openSocket is written for Linux only.
func openSocket(bind netip.AddrPort, _ *net.Interface, _ bool) (*net.UDPConn, error) {
	return nil, fmt.Errorf("multicast sockets are made on Linux only: %w", errors.ErrUnsupported)
}

// setInterface4 makes an IPv4 socket send to groups through ifi.
func setInterface4(_ *net.UDPConn, p *ipv4.PacketConn, ifi *net.Interface) error {
	return p.SetMulticastInterface(ifi)
}
