// Package tcp is Kamaelia's Internet TCP components in Go: TCP
// connections and servers as components.
//
//   - Client connects to host:port when it starts (Kamaelia's TCPClient)
//     and is then a Connection: bytes arriving on "inbox" are written to
//     the socket, bytes read from it are sent on "outbox".
//   - Server (also called ConnectedServer) accepts connections and gives
//     each a protocol handler made by a factory from the connection's
//     addresses, linked to the connection both ways; the two are torn
//     down together and removed from the server when the connection
//     ends (Kamaelia's ServerCore and ConnectedServer).
//   - SingleServer serves one client at a time through its own "inbox"
//     and "outbox", refusing connections that arrive meanwhile
//     (Kamaelia's SingleServer).
//   - Wrap makes a Connection of a net.Conn opened elsewhere.
//
// Kamaelia's
//
//	Pipeline(ConsoleReader(), TCPClient("example.com", 7), ConsoleEchoer()).run()
//
// is
//
//	axon.Run(ctx, chassis.Pipeline(
//		util.ConsoleReader(os.Stdin),
//		tcp.Client("example.com:7"),
//		util.ConsoleEchoer(os.Stdout),
//	))
//
// and an echo server is
//
//	srv := tcp.Server(":1500", func(tcp.ConnInfo) axon.Node {
//		return util.PureTransformer(func(m any) any { return m })
//	})
//	axon.Run(ctx, srv)
//
// # Streams and their ends
//
// TCP carries a stream of bytes, not messages: what arrives on "outbox"
// comes in chunks as the socket gives them (at most ReadChunk bytes
// each), which need not match how the peer wrote them. Put a framer and
// deframer (components/framing) on either side to carry messages.
//
// Each direction ends by itself. ProducerFinished on a connection's
// "control" writes what is queued, then half-closes the connection (the
// peer reads end of file) and keeps reading until the peer closes its
// side. The peer closing its side sends ProducerFinished on "signal"; the
// connection can still write until told to finish. A reset, a timeout or
// a write failure ends the connection at once, with an error (an *Error in
// an *axon.BoxError) as the ProducerFinished's Reason. ShutdownMicroprocess
// closes at once.
//
// # Flow control
//
// Nothing buffers without bound. A connection's reader sends each chunk
// with a blocking Send, so while the receiver's inbox is full the reader
// stops reading, the kernel's receive buffer fills and TCP flow control
// stops the peer. The writer writes whatever is queued in the
// connection's inbox when it comes to write with one system call
// (writev), taking at most 256 KiB or 1,024 messages at a time, so a
// burst of small messages costs one write rather than one each. Writes
// block while the peer does not read, and the connection's inbox
// (axon.DefaultCapacity messages) then fills and holds its producer.
//
// # Errors
//
// Errors are *axon.BoxError values naming the component and the box,
// around an *Error naming the operation and the address, wrapping one of
// the Err* sentinels and the error from the network beneath:
// "Client#1a2b3c4d.socket: connect 127.0.0.1:9: connection refused".
// errors.As finds either part, and errors.Is(err, tcp.ErrRefused) and
// errors.Is(err, syscall.ECONNREFUSED) both hold for a refused
// connection.
//
// Addresses are netip.AddrPort; IPv4 peers of a dual-stack listener are
// given as plain IPv4 addresses.
package tcp
