package multicast

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// openSocket makes a UDP socket bound to bind, allowing other sockets on
// the same address and port when reuse is set, and receiving multicast
// only from the groups it joins itself. Go's own listeners bind a
// multicast address as the wildcard, so the socket is made here and
// handed to the net package.
func openSocket(bind netip.AddrPort, ifi *net.Interface, reuse bool) (*net.UDPConn, error) {
	family := unix.AF_INET
	if bind.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := prepare(fd, bind, ifi, reuse); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "multicast "+bind.String())
	pc, err := net.FilePacketConn(f) // a copy of fd
	f.Close()
	if err != nil {
		return nil, err
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, fmt.Errorf("got a %T, not a *net.UDPConn", pc)
	}
	return uc, nil
}

// prepare sets fd's options and binds it.
func prepare(fd int, bind netip.AddrPort, ifi *net.Interface, reuse bool) error {
	if reuse {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fmt.Errorf("SO_REUSEADDR: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fmt.Errorf("SO_REUSEPORT: %w", err)
		}
	}
	var sa unix.Sockaddr
	a := bind.Addr()
	if a.Is6() {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fmt.Errorf("IPV6_V6ONLY: %w", err)
		}
		// Kernels before 4.20 lack the option, and deliver to this
		// socket the groups others joined too.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
			return fmt.Errorf("IPV6_MULTICAST_ALL: %w", err)
		}
		sa6 := &unix.SockaddrInet6{Port: int(bind.Port()), Addr: a.As16()}
		if a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
			if ifi == nil {
				return fmt.Errorf("%w: %s is scoped to one link: name the interface (the Interface option, or a zone: [%s%%eth0]:%d)",
					ErrBadGroup, a, a, bind.Port())
			}
			sa6.ZoneId = uint32(ifi.Index)
		}
		sa = sa6
	} else {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0); err != nil {
			return fmt.Errorf("IP_MULTICAST_ALL: %w", err)
		}
		sa = &unix.SockaddrInet4{Port: int(bind.Port()), Addr: a.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return err
	}
	return nil
}

// setInterface4 makes an IPv4 socket send to groups through ifi, from
// ifi's first IPv4 address (so that receivers see a predictable sender:
// 127.0.0.1 through "lo", rather than whichever address the routes
// prefer).
func setInterface4(uc *net.UDPConn, _ *ipv4.PacketConn, ifi *net.Interface) error {
	mreq := &unix.IPMreqn{Ifindex: int32(ifi.Index)}
	if addrs, err := ifi.Addrs(); err == nil {
		for _, a := range addrs {
			if p, ok := a.(*net.IPNet); ok {
				if ip4 := p.IP.To4(); ip4 != nil {
					copy(mreq.Address[:], ip4)
					break
				}
			}
		}
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptIPMreqn(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq)
	}); err != nil {
		return err
	}
	return serr
}
