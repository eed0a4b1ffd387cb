//go:build !unix

package udp

import (
	"errors"
	"net"
	"net/netip"
)

func connectSocket(uc *net.UDPConn, to netip.AddrPort, v4 bool) error {
	return errors.ErrUnsupported
}

func setBroadcast(uc *net.UDPConn, on bool) error { return errors.ErrUnsupported }
