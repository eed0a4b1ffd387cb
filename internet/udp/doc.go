// Package udp is Kamaelia's Internet.UDP in Go: UDP sockets as
// components.
//
// Three peers share one receiving machine (PeerComponent) and differ in where
// they send:
//
//   - SimplePeer sends every payload on "inbox" to one fixed receiver;
//   - TargettedPeer sends to a receiver that messages on "target" change;
//   - PostboxPeer sends each Packet to the destination it names.
//
// Every peer sends each datagram it receives on "outbox" as a Datagram
// (payload and sender), reports anything that goes wrong on "errors" and
// carries on. Each error is an *axon.BoxError naming the peer and the box
// around an *Error saying what was being done, with which address and
// how many payloads it cost, as "SimplePeer#1a2b3c4d.inbox: send to
// 127.0.0.1:9: connection refused (1 not sent)"; errors.As finds either,
// and errors.Is the Err* value beneath. ProducerFinished or
// ShutdownMicroprocess on "control", or the end of its context, closes
// the socket and ends the peer.
//
// Kamaelia's
//
//	Pipeline(ConsoleReader(), SimplePeer("", 1501, "myserver.com", 1500), ConsoleEchoer()).run()
//
// is
//
//	axon.Run(ctx, chassis.Pipeline(
//		util.ConsoleReader(os.Stdin),
//		udp.SimplePeer(udp.Local(":1501"), udp.Remote("myserver.com:1500")),
//		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
//	))
//
// Addresses are netip.AddrPort; host names are accepted wherever Kamaelia
// accepts them and are resolved on goroutines of their own, so a slow
// lookup holds up only the payloads that wait for it. IPv4 and IPv6 both
// work; the default bind, ":0", is a dual-stack socket on an ephemeral
// port, and IPv4 senders on it are reported as plain IPv4 addresses.
package udp
