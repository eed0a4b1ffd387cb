package udp

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// Datagram is one received datagram, as every peer sends it on "outbox".
// It is Kamaelia's (data, (host, port)) from SimplePeer and TargettedPeer
// and its ((host, port), data) from PostboxPeer, in one shape.
//
// Data is the whole payload, never truncated, in a slice of its own that
// the receiver may keep or change; its capacity is its length, so
// appending to it never writes over another. The payloads of datagrams
// read together share an allocation of up to 32 KiB (a bigger payload has
// one of its own), so a receiver that keeps one keeps that much memory in
// use; it can keep a copy instead. From is the sender; an IPv4 sender
// received on a dual-stack socket is given as a plain IPv4 address, not
// as ::ffff:a.b.c.d.
type Datagram struct {
	Data []byte
	From netip.AddrPort
}

// String formats d as its sender, a space and its payload, with one
// trailing newline of the payload dropped: "127.0.0.1:1500 hello" or
// "[::1]:1500 hello". A ConsoleEchoer prints Datagrams this way.
func (d Datagram) String() string {
	return d.From.String() + " " + string(trimNewline(d.Data))
}

// Reply returns a Packet that sends data back to d's sender, for a
// PostboxPeer.
func (d Datagram) Reply(data []byte) Packet {
	return Packet{To: d.From, Data: data}
}

// trimNewline drops one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// Packet is an addressed datagram to send, the message a PostboxPeer takes
// on "inbox" (Kamaelia's (host, port, data)). The destination is To when
// it is valid; otherwise Host, a "host:port" string whose host may be a
// name ("myserver.com:1500"), an IPv4 literal or a bracketed IPv6 literal
// ("[::1]:1500"). Names are resolved without holding up packets to other
// destinations.
type Packet struct {
	To   netip.AddrPort
	Host string
	Data []byte
}

// PacketTo returns a Packet for data to the host and port in hostport
// ("myserver.com:1500", "127.0.0.1:1500", "[::1]:1500").
func PacketTo(hostport string, data []byte) Packet {
	return Packet{Host: hostport, Data: data}
}

// dest returns where p goes.
func (p Packet) dest() Target {
	if p.To.IsValid() {
		return Target{Addr: p.To}
	}
	return Target{Host: p.Host}
}

// HostPort is a destination given as a host (a name or an IP literal,
// without brackets) and a port, one of the forms a TargettedPeer accepts
// on "target": Kamaelia's (host, port).
type HostPort struct {
	Host string
	Port uint16
}

// String returns h as "host:port", bracketing an IPv6 literal.
func (h HostPort) String() string {
	return net.JoinHostPort(h.Host, strconv.Itoa(int(h.Port)))
}

// Target is a destination: an address, or a "host:port" to resolve. The
// zero Target is no destination.
type Target struct {
	Addr netip.AddrPort // used when valid
	Host string         // "host:port", otherwise
}

// String returns the address, or the host and port as given.
func (t Target) String() string {
	if t.Addr.IsValid() {
		return t.Addr.String()
	}
	return t.Host
}

// IsZero reports whether t names no destination.
func (t Target) IsZero() bool { return !t.Addr.IsValid() && t.Host == "" }

// ParseTarget turns one of the destination forms the peers accept into a
// Target: a netip.AddrPort, a "host:port" string, a HostPort, a
// *net.UDPAddr, or a Target. An IP literal is parsed here; a name is kept
// to be resolved. The error wraps ErrBadMessage for any other type and
// ErrBadAddress for a string that is not host:port with a numeric port,
// or for port 0, which no datagram can be sent to.
func ParseTarget(v any) (Target, error) {
	switch t := v.(type) {
	case Target:
		if t.IsZero() {
			return Target{}, fmt.Errorf("%w: empty target", ErrBadAddress)
		}
		if t.Addr.IsValid() {
			return ParseTarget(t.Addr) // checked as any address is
		}
		return ParseTarget(t.Host)
	case netip.AddrPort:
		if !t.IsValid() {
			return Target{}, fmt.Errorf("%w: invalid netip.AddrPort", ErrBadAddress)
		}
		if t.Port() == 0 {
			return Target{}, fmt.Errorf("%w: %s: port 0 cannot be sent to", ErrBadAddress, t)
		}
		return Target{Addr: sock.Unmapped(t)}, nil
	case *netip.AddrPort:
		if t == nil {
			return Target{}, fmt.Errorf("%w: nil *netip.AddrPort", ErrBadMessage)
		}
		return ParseTarget(*t)
	case HostPort:
		return ParseTarget(t.String())
	case *HostPort:
		if t == nil {
			return Target{}, fmt.Errorf("%w: nil *udp.HostPort", ErrBadMessage)
		}
		return ParseTarget(t.String())
	case *net.UDPAddr:
		if t == nil {
			return Target{}, fmt.Errorf("%w: nil *net.UDPAddr", ErrBadMessage)
		}
		return ParseTarget(t.AddrPort())
	case string:
		return parseHostPort(t)
	}
	return Target{}, fmt.Errorf("%w: %T is not a destination (want netip.AddrPort, \"host:port\", udp.HostPort or *net.UDPAddr)", ErrBadMessage, v)
}

// parseHostPort checks s is host:port with a numeric port, and parses an
// IP literal host.
func parseHostPort(s string) (Target, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ParseTarget(ap)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Target{}, fmt.Errorf("%w: %q: %w", ErrBadAddress, s, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return Target{}, fmt.Errorf("%w: %q: port %q is not a number from 1 to 65535", ErrBadAddress, s, port)
	}
	if host == "" {
		return Target{}, fmt.Errorf("%w: %q: no host", ErrBadAddress, s)
	}
	return Target{Host: s}, nil
}

// payload returns the bytes to send for an inbox message: a []byte as it
// is, or a string's bytes (read only, not copied).
func payload(msg any) ([]byte, bool) {
	switch m := msg.(type) {
	case []byte:
		return m, true
	case string:
		return unsafe.Slice(unsafe.StringData(m), len(m)), true
	}
	return nil, false
}
