package multicast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// membership sets a component's socket up and changes its groups: what
// the "membership" box's messages do, in the peer's main loop.
type membership struct {
	uc    *net.UDPConn
	v4    *ipv4.PacketConn // one of v4 and v6, for the socket's IP version
	v6    *ipv6.PacketConn
	group netip.Addr     // the component's group
	ifi   *net.Interface // its interface; nil: the system chooses
	own   bool           // a Receiver: only its own group can be joined
}

func newMembership(uc *net.UDPConn, group netip.Addr, ifi *net.Interface, own bool) *membership {
	m := &membership{uc: uc, group: group, ifi: ifi, own: own}
	if group.Is6() {
		m.v6 = ipv6.NewPacketConn(uc)
	} else {
		m.v4 = ipv4.NewPacketConn(uc)
	}
	return m
}

// configure sets the TTL or hop limit, loopback and outgoing interface
// of what the socket sends to groups.
func (m *membership) configure(ttl int, loop bool) error {
	if m.v6 != nil {
		if err := m.v6.SetMulticastHopLimit(ttl); err != nil {
			return fmt.Errorf("hop limit %d: %w", ttl, err)
		}
		if err := m.v6.SetMulticastLoopback(loop); err != nil {
			return fmt.Errorf("loopback: %w", err)
		}
		if m.ifi != nil {
			if err := m.v6.SetMulticastInterface(m.ifi); err != nil {
				return fmt.Errorf("interface %s: %w", m.ifi.Name, err)
			}
		}
		return nil
	}
	if err := m.v4.SetMulticastTTL(ttl); err != nil {
		return fmt.Errorf("TTL %d: %w", ttl, err)
	}
	if err := m.v4.SetMulticastLoopback(loop); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if m.ifi != nil {
		if err := setInterface4(m.uc, m.v4, m.ifi); err != nil {
			return fmt.Errorf("interface %s: %w", m.ifi.Name, err)
		}
	}
	return nil
}

// handle acts on a message from "membership".
func (m *membership) handle(_ context.Context, msg any) error {
	switch v := msg.(type) {
	case Join:
		return m.change(true, v.Group, v.Interface)
	case Leave:
		return m.change(false, v.Group, v.Interface)
	case *Join:
		if v != nil {
			return m.change(true, v.Group, v.Interface)
		}
	case *Leave:
		if v != nil {
			return m.change(false, v.Group, v.Interface)
		}
	}
	return fmt.Errorf("%w: %T (want multicast.Join or multicast.Leave)", udp.ErrBadMessage, msg)
}

// change joins (or leaves) group g on the interface called ifname, or on
// the component's own for "".
func (m *membership) change(join bool, g netip.Addr, ifname string) error {
	op := "leave"
	if join {
		op = "join"
	}
	if !g.IsValid() {
		return fmt.Errorf("%s: %w: no group given", op, ErrBadGroup)
	}
	g = g.Unmap().WithZone("")
	if !g.IsMulticast() {
		return fmt.Errorf("%s %s: %w", op, g, ErrNotMulticast)
	}
	if g.Is6() != m.group.Is6() {
		return fmt.Errorf("%s %s: %w: the socket is for %s groups", op, g, ErrBadGroup, version(m.group))
	}
	if m.own && g != m.group {
		return fmt.Errorf("%s %s: %w: a Receiver is bound to its group, %s, and receives no other (a Transceiver can join several)",
			op, g, ErrBadGroup, m.group)
	}
	ifi := m.ifi
	if ifname != "" {
		var err error
		if ifi, err = lookupInterface(ifname); err != nil {
			return fmt.Errorf("%s %s: %w", op, g, err)
		}
	}
	ga := &net.UDPAddr{IP: g.AsSlice()}
	var err error
	switch {
	case m.v6 != nil && join:
		err = m.v6.JoinGroup(ifi, ga)
	case m.v6 != nil:
		err = m.v6.LeaveGroup(ifi, ga)
	case join:
		err = m.v4.JoinGroup(ifi, ga)
	default:
		err = m.v4.LeaveGroup(ifi, ga)
	}
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w: %w", op, g, ifaceName(ifi), ErrMembership, sysErr(err))
	}
	return nil
}

// version names a's IP version.
func version(a netip.Addr) string {
	if a.Is6() {
		return "IPv6"
	}
	return "IPv4"
}

// ifaceName names ifi for an error.
func ifaceName(ifi *net.Interface) string {
	if ifi == nil {
		return "the system's choice of interface"
	}
	return ifi.Name
}

// sysErr takes the wrappers off err that repeat what the message says.
func sysErr(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}
