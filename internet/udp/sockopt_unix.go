//go:build unix

package udp

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// connectSocket connects uc to to, so that it sends there by default,
// receives only from there, and hears of ICMP port unreachable. v4 says
// whether the socket is IPv4 (otherwise IPv6, possibly dual-stack, where
// an IPv4 receiver is given as ::ffff:a.b.c.d).
func connectSocket(uc *net.UDPConn, to netip.AddrPort, v4 bool) error {
	var sa syscall.Sockaddr
	if v4 {
		a := to.Addr().Unmap()
		if !a.Is4() {
			return fmt.Errorf("an IPv4 socket cannot connect to %s", to)
		}
		sa = &syscall.SockaddrInet4{Port: int(to.Port()), Addr: a.As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(to.Port()), Addr: to.Addr().As16()}
	}
	return control(uc, func(fd int) error { return syscall.Connect(fd, sa) })
}

// setBroadcast allows or forbids sending to broadcast addresses.
func setBroadcast(uc *net.UDPConn, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return control(uc, func(fd int) error {
		return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, v)
	})
}

// control runs f on uc's file descriptor.
func control(uc *net.UDPConn, f func(fd int) error) error {
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
