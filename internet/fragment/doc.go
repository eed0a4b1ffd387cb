// Package fragment carries messages bigger than a datagram over any
// datagram transport: mcl's RawBroadcaster and RawListener made safe.
// It holds the protocol only, never a socket, so the same components sit
// in front of and behind a plain internet/udp peer (unicast) or an
// internet/multicast Sender and Receiver (a group).
//
// A Broadcaster splits each message (up to MaxMessage, 16 MiB by
// default) into fragments sized for the path (DatagramSize, 1452 bytes by
// default: a 1500-byte MTU over IPv6) with the header that Part
// documents. A Listener takes the datagrams that arrive and puts the
// messages back together: out-of-order fragments, duplicates and several
// senders at once are handled, fragments are keyed by sender address,
// port and message id, topics not asked for (Topics) are dropped before
// they take memory, and incomplete messages are given up after MaxAge or
// when a memory Budget would be exceeded. Its Stats count messages
// completed, fragments dropped by reason and bytes pending.
//
// The components and what crosses each of their boxes:
//
//	Broadcaster(opts...) *BroadcasterComponent
//	  inbox   (in)  []byte or string (sent on the Topic option's topic),
//	                or Message / *Message (sent on its own Topic)
//	  control (in)  ProducerFinished or ShutdownMicroprocess
//	  outbox  (out) []byte: one fragment each, a whole datagram to send
//	  errors  (out) error, an *axon.BoxError around a *udp.Error: a
//	                message refused (too large, topic too long, not a
//	                message); the Broadcaster carries on
//	  signal  (out) the shutdown message that ended it
//
//	Listener(opts...) *ListenerComponent
//	  inbox   (in)  udp.Datagram: one fragment each, From its sender
//	  control (in)  ProducerFinished or ShutdownMicroprocess
//	  outbox  (out) Message: each message once complete, From its sender
//	  errors  (out) error, an *axon.BoxError around a *udp.Error: a
//	                message on "inbox" that is not a udp.Datagram (dropped fragments are counted in Stats,
//	                not reported)
//	  signal  (out) the shutdown message that ended it
//
// Without components, a Splitter makes the datagrams of a message and a
// Reassembler takes them back, for a transport of one's own; Parse and
// Part.Append read and write one fragment.
//
// Over plain UDP:
//
//	chassis.Pipeline(util.ConsoleReader(os.Stdin), fragment.Broadcaster(fragment.Topic("news")), udp.SimplePeer(udp.Remote("192.0.2.7:26000")))
//	chassis.Pipeline(udp.PostboxPeer(udp.Local(":26000")), fragment.Listener(fragment.Topics("news")), util.ConsoleEchoer(os.Stdout, util.WithNewline()))
//
// and to a multicast group:
//
//	chassis.Pipeline(util.ConsoleReader(os.Stdin), fragment.Broadcaster(fragment.Topic("news")), multicast.Sender(group))
//	chassis.Pipeline(multicast.Receiver(group), fragment.Listener(fragment.Topics("news")), util.ConsoleEchoer(os.Stdout, util.WithNewline()))
//
// Options configure all four; each says which it applies to, and one
// given where it does not apply is refused with an error naming it
// (wrapping axon.ErrConfig), as a value out of range is.
package fragment
