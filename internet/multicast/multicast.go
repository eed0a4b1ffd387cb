package multicast

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// MembershipBox is the inbox of Receivers and Transceivers that takes Join
// and Leave.
const MembershipBox = "membership"

// Errors the components report, on "errors" while running or when they
// are started after a failed construction. Each is wrapped in a
// *udp.Error, in an *axon.BoxError naming the component, with the group,
// address or interface concerned in its text.
var (
	// ErrNotMulticast: an address given as a group is not a multicast
	// address (224.0.0.0/4 or ff00::/8).
	ErrNotMulticast = errors.New("not a multicast address")
	// ErrBadGroup: a group that is not "address:port", has port 0, or is
	// of the other IP version than the component's socket; a group other
	// than its own for a Receiver to join or leave; a group scoped to one
	// link for a Receiver without an interface.
	ErrBadGroup = errors.New("bad multicast group")
	// ErrInterface: an interface name that names no interface here.
	ErrInterface = errors.New("no such interface")
	// ErrMembership: the system refused to join or leave a group (a
	// group already joined, one not joined, too many memberships...).
	// The error also wraps the system's.
	ErrMembership = errors.New("cannot change group membership")
)

// Join asks a Receiver or Transceiver, on its "membership" inbox, to join
// Group on Interface ("" for the component's own interface: the one given
// with the Interface option, or the one the system chooses). Joining a
// group already joined on that interface is an ErrMembership.
type Join struct {
	Group     netip.Addr
	Interface string
}

// Leave asks a Receiver or Transceiver, on its "membership" inbox, to
// leave Group on Interface ("" as for Join). Leaving a group not joined
// is an ErrMembership.
type Leave struct {
	Group     netip.Addr
	Interface string
}

// DefaultTTL is the TTL (IPv4) or hop limit (IPv6) of the datagrams a
// component sends to a group unless TTL says otherwise: 1 keeps them on
// the local network.
const DefaultTTL = 1

// Option configures a multicast component.
type Option func(*config)

type config struct {
	iface   string // "" = the system's choice
	ttl     int
	loop    bool
	udpOpts []udp.Option
	err     error
}

func newConfig(opts []Option) config {
	cfg := config{ttl: DefaultTTL, loop: true}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// Interface sets the network interface, by name ("eth0", "lo"), that the
// component joins its group on and sends to groups through. By default
// the system chooses (from its routes), which on a host with several
// interfaces may not be the one wanted. For IPv4, datagrams sent through
// the interface come from its first IPv4 address. A group with a zone,
// "[ff02::1%eth0]:5000", names its interface too; a Receiver of a group
// scoped to one link (ff02::/16) needs one or the other.
func Interface(name string) Option { return func(c *config) { c.iface = name } }

// TTL sets the time to live (IPv4) or hop limit (IPv6) of the datagrams
// sent to groups: how many routers they may cross. The default,
// DefaultTTL, keeps them on the local network; 0 keeps them on this
// host. It must be from 0 to 255.
func TTL(n int) Option {
	return func(c *config) {
		if n < 0 || n > 255 {
			c.err = errors.Join(c.err, fmt.Errorf("%w: TTL %d is not from 0 to 255", udp.ErrConfig, n))
		}
		c.ttl = n
	}
}

// Loopback sets whether datagrams sent to a group are also delivered to
// sockets of this host that joined it, the sender's own included
// (IP_MULTICAST_LOOP; default true). On the loopback interface itself
// every datagram sent comes back whatever this says, so Loopback(false)
// takes effect only through a real (or virtual: veth) interface.
func Loopback(on bool) Option { return func(c *config) { c.loop = on } }

// With passes options to the udp peer underneath: udp.ReadBuffer,
// udp.WriteBuffer, udp.Batch, and for Receivers (whose "inbox" takes
// udp.Packet) udp.Resolver and udp.CacheFor. The socket and where it
// sends are this package's to set: udp.Local, udp.Conn, udp.CloseConn,
// udp.Remote, udp.RemoteAddr and udp.Connect are overridden or refused,
// and udp.Handle is refused on Receivers and Transceivers, which have a
// Handle box already ("membership").
func With(opts ...udp.Option) Option {
	return func(c *config) { c.udpOpts = append(c.udpOpts, opts...) }
}

// kind is which of the three components is being made.
type kind int

const (
	sender kind = iota
	receiver
	transceiver
)

func (k kind) String() string {
	return [...]string{"MulticastSender", "MulticastReceiver", "MulticastTransceiver"}[k]
}

// Sender returns a component that sends each payload on "inbox" as one
// datagram to group, "239.1.2.3:5000" or "[ff15::1]:26000" (Kamaelia's
// Multicast_sender). Its socket is bound to an ephemeral port on every
// address, with the TTL, loopback and interface the options set; it
// joins no group, so what it receives is what is sent to its own port
// (replies, say).
//
// Boxes:
//
//	inbox   (in)  []byte or string: each the payload of one datagram to
//	              the group.
//	control (in)  ProducerFinished: what is queued in "inbox" is sent,
//	              the socket closed, the message passed on "signal", and
//	              the component ends. ShutdownMicroprocess: the same, at
//	              once.
//	outbox  (out) udp.Datagram: each datagram sent to the Sender's own
//	              address.
//	errors  (out) error (a *udp.Error in an *axon.BoxError): what could
//	              not be sent; the Sender carries on.
//	signal  (out) the shutdown message that ended it.
//
// It is a udp.SimplePeer whose receiver is the group. Construction
// failures are reported as Receiver's are.
func Sender(group string, opts ...Option) *udp.PeerComponent {
	p, _ := build(sender, group, opts)
	return p
}

// Receiver returns a component that joins group, "239.1.2.3:5000" or
// "[ff15::1]:26000", and sends each datagram sent to it on "outbox"
// (Kamaelia's Multicast_receiver). Its socket is bound to the group's
// address and port, not to every address, so it receives that group only;
// it allows other sockets on the same address and port (SO_REUSEADDR and
// SO_REUSEPORT), so several Receivers on one host all receive every
// datagram; and it receives only from groups it joined itself
// (IP_MULTICAST_ALL off), so another program's memberships do not leak
// into it.
//
// Boxes:
//
//	inbox      (in)  udp.Packet: a unicast datagram to send, a reply to a
//	                 sender say (udp.Datagram's Reply). It goes from the
//	                 group's port.
//	membership (in)  Join or Leave (or pointers to them): join or leave
//	                 the group on an interface. A Receiver only ever
//	                 receives its own group, so both must name it: Leave
//	                 pauses receiving, Join resumes it or adds an
//	                 interface. Failures go to "errors".
//	control    (in)  as Sender's.
//	outbox     (out) udp.Datagram: each datagram received, From its
//	                 sender.
//	errors     (out) error, as Sender's: what could not be sent or
//	                 received, and memberships that could not be changed (wrapping
//	                 ErrNotMulticast, ErrBadGroup, ErrInterface or
//	                 ErrMembership); the Receiver carries on.
//	signal     (out) the shutdown message that ended it.
//
// It is a udp.PostboxPeer on a socket prepared here. A group that is not a
// multicast "address:port" (ErrBadGroup, ErrNotMulticast), an unknown
// interface (ErrInterface), a bad option (udp.ErrConfig), or a socket that
// cannot be bound (udp.ErrBind) or joined (ErrMembership) make a component
// without a socket whose Err method returns that error, in a *udp.Error
// naming the group, and which fails with it when started.
func Receiver(group string, opts ...Option) *udp.PeerComponent {
	p, _ := build(receiver, group, opts)
	return p
}

// Transceiver returns a component that joins group, "239.1.2.3:5000" or
// "[ff15::1]:26000", sends each payload on "inbox" to it, and sends each
// datagram it receives on "outbox" (Kamaelia's Multicast_transceiver).
// Its socket is bound to the group's port on every address, allowing
// others on the same port, and receives datagrams to that port from the
// groups it joined itself and from unicast senders. With Loopback (the
// default) it receives its own datagrams too.
//
// Boxes:
//
//	inbox      (in)  []byte or string: each the payload of one datagram
//	                 to the group.
//	membership (in)  Join or Leave (or pointers to them): join or leave
//	                 any group of the socket's IP version, on the
//	                 Transceiver's interface or another. Failures go to
//	                 "errors".
//	control    (in)  as Sender's.
//	outbox     (out) udp.Datagram: each datagram received.
//	errors     (out) error, as Receiver's.
//	signal     (out) the shutdown message that ended it.
//
// It is a udp.SimplePeer whose receiver is the group; construction
// failures are reported as Receiver's are. Messages on "membership" are
// acted on in the peer's main loop, between sends.
func Transceiver(group string, opts ...Option) *udp.PeerComponent {
	p, _ := build(transceiver, group, opts)
	return p
}

// build makes a component of kind k for group, and returns its socket too
// (nil if it failed), for tests.
func build(k kind, group string, opts []Option) (*udp.PeerComponent, *net.UDPConn) {
	cfg := newConfig(opts)
	if cfg.err != nil {
		return failed(k, group, "configure", cfg.err), nil
	}
	gap, zone, err := parseGroup(group)
	if err != nil {
		return failed(k, group, "configure", err), nil
	}
	ifname := cfg.iface
	if ifname == "" {
		ifname = zone
	}
	var ifi *net.Interface
	if ifname != "" {
		if ifi, err = lookupInterface(ifname); err != nil {
			return failed(k, group, "configure", err), nil
		}
	}
	is6 := gap.Addr().Is6()
	var bind netip.AddrPort
	switch k {
	case sender:
		bind = netip.AddrPortFrom(unspecified(is6), 0)
	case receiver:
		bind = gap
	case transceiver:
		bind = netip.AddrPortFrom(unspecified(is6), gap.Port())
	}
	uc, err := openSocket(bind, ifi, k != sender)
	if err != nil {
		return failed(k, group, "bind", fmt.Errorf("%w: %s: %w", udp.ErrBind, bind, err)), nil
	}
	m := newMembership(uc, gap.Addr(), ifi, k == receiver)
	if err := m.configure(cfg.ttl, cfg.loop); err != nil {
		uc.Close()
		return failed(k, group, "configure", fmt.Errorf("%w: %w", udp.ErrConfig, err)), nil
	}
	uopts := append([]udp.Option(nil), cfg.udpOpts...)
	uopts = append(uopts, udp.Conn(uc), udp.CloseConn(), udp.Name(k.String()))
	if k != sender {
		if err := m.change(true, gap.Addr(), ""); err != nil {
			uc.Close()
			return failed(k, group, "join", err), nil
		}
		uopts = append(uopts, udp.Handle(MembershipBox,
			"multicast.Join or multicast.Leave: join or leave a group while running", m.handle))
	}
	var p *udp.PeerComponent
	if k == receiver {
		p = udp.PostboxPeer(uopts...)
	} else {
		p = udp.SimplePeer(append(uopts, udp.RemoteAddr(gap))...)
	}
	return p, uc
}

// failed returns a peer without a socket whose Err is err, wrapped in a
// *udp.Error naming op and group in an *axon.BoxError naming the peer and
// its socket, and which fails with that when started. It has the boxes
// the working component would have, so that a graph wiring it still
// builds.
func failed(k kind, group, op string, err error) *udp.PeerComponent {
	boxes := []axon.Option{
		axon.WithOutbox(udp.ErrorsBox, "*udp.Error (in an *axon.BoxError): what could not be sent or received", axon.Carries[error]()),
		axon.WithOutbox(axon.OutboxName, "udp.Datagram: each datagram received", axon.Carries[udp.Datagram]()),
	}
	if k != sender {
		boxes = append(boxes, axon.WithInbox(MembershipBox, "multicast.Join or multicast.Leave"))
	}
	if k == receiver {
		// A Receiver is a PostboxPeer underneath.
		boxes = append(boxes, axon.WithInbox(axon.InboxName, "udp.Packet: a payload and where to send it", axon.Carries[udp.Packet]()))
	}
	c := axon.New(k.String(), nil, boxes...)
	return udp.Failed(c, c.BoxError("socket", &udp.Error{Op: op, Addr: group, Err: err}))
}

// parseGroup checks that s is a multicast address and a port, and returns
// them with the address's zone, if any, taken off.
func parseGroup(s string) (netip.AddrPort, string, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, "", fmt.Errorf("%w: %q: want \"239.1.2.3:5000\" or \"[ff15::1]:26000\": %w", ErrBadGroup, s, err)
	}
	a := ap.Addr().Unmap()
	zone := a.Zone()
	a = a.WithZone("")
	if !a.IsMulticast() {
		return netip.AddrPort{}, "", fmt.Errorf("%w: %s", ErrNotMulticast, a)
	}
	if ap.Port() == 0 {
		return netip.AddrPort{}, "", fmt.Errorf("%w: %q: port 0 cannot be sent to", ErrBadGroup, s)
	}
	return netip.AddrPortFrom(a, ap.Port()), zone, nil
}

// lookupInterface finds the interface called name.
func lookupInterface(name string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrInterface, name)
	}
	return ifi, nil
}

// unspecified returns 0.0.0.0 or ::.
func unspecified(is6 bool) netip.Addr {
	if is6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}
