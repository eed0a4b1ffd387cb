// Package multicast is Kamaelia's Internet.Multicast_sender,
// Multicast_receiver and Multicast_transceiver in Go: UDP multicast
// sockets as components, for IPv4 and IPv6 groups.
//
// The three constructors prepare a socket for a group and hand it to an
// internet/udp peer, so they send and receive exactly as udp's peers do:
// each datagram received is a udp.Datagram on "outbox", failures are
// errors on "errors" (a *udp.Error in an *axon.BoxError), and
// ProducerFinished or ShutdownMicroprocess on "control" closes the socket
// (leaving its groups) and ends the component.
//
//   - Sender("239.1.2.3:5000") sends each payload on "inbox" to the group.
//   - Receiver("239.1.2.3:5000") joins the group and sends what arrives on
//     "outbox". Its socket is bound to the group's address, so it sees
//     only that group, and several Receivers on one host and port all
//     receive every datagram.
//   - Transceiver("239.1.2.3:5000") does both on one socket, bound to the
//     group's port: it can join more groups while it runs.
//
// Receivers and Transceivers join and leave groups while running when Join
// and Leave arrive on their "membership" inbox. Groups are written
// "239.1.2.3:5000" or "[ff15::1]:26000"; the options choose the interface
// (Interface), the TTL or hop limit (TTL, default 1: the local network
// only), and whether the sending host sees its own datagrams (Loopback,
// default on). With passes any other udp option through.
//
// Kamaelia's components map to these as follows; their tuples, in
// several orders, become udp.Datagram, and unlike them these stop when
// told to on "control":
//
//	Multicast_sender(laddr, lport, group, port)      Sender("group:port")
//	Multicast_receiver(group, port)                  Receiver("group:port")
//	Multicast_transceiver(laddr, lport, group, port) Transceiver("group:port")
//
// where Kamaelia's local address, which chose the interface, is the
// Interface option here, and a Sender's local port is always ephemeral.
// So Kamaelia's
//
//	Pipeline(Multicast_receiver("224.168.2.9", 1600), ConsoleEchoer()).run()
//
// is
//
//	axon.Run(ctx, chassis.Pipeline(
//		multicast.Receiver("224.168.2.9:1600"),
//		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
//	))
//
// Messages bigger than a datagram go through package internet/fragment,
// which works over any datagram transport: a fragment.Broadcaster before
// a Sender splits them into datagrams, and a fragment.Listener after a
// Receiver puts them back together:
//
//	chassis.Pipeline(util.ConsoleReader(os.Stdin), fragment.Broadcaster(fragment.Topic("news")), multicast.Sender(group))
//	chassis.Pipeline(multicast.Receiver(group), fragment.Listener(fragment.Topics("news")), util.ConsoleEchoer(os.Stdout))
//
// The sockets are made with the system calls of Linux (the package builds
// elsewhere, but its constructors fail there with errors.ErrUnsupported).
// IPv4 multicast works over the loopback interface ("lo"); IPv6 multicast
// does not, and needs a real (or virtual: veth) interface.
package multicast
