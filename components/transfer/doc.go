// Package transfer sends a file reliably over UDP, or any other path that
// loses, repeats, reorders or damages datagrams, built from components:
// a Sender that reads the file and a Receiver that writes it, each a
// component that knows nothing of the network, wired to UDP peers (and,
// to try a worse network, to internet/simulate stages) in a Graphline.
//
//	sender:   SENDER -> [network] -> udp.SimplePeer(udp.Remote(addr)) -> [network] -> SENDER.inbox
//	receiver: udp.PostboxPeer(udp.Local(addr)) -> RECEIVER -> back to the peer, addressed to the sender
//
// SendGraph and ReceiveGraph build these two graphs; cmd/pipeline's
// sendfile and recvfile commands use them.
//
// # Guarantees
//
// The Sender ends without error only when the Receiver has confirmed
// that the SHA-256 of what it wrote equals the SHA-256 of what the
// Sender read, and has renamed the file into place. The Receiver writes
// into a temporary file beside the final one (".NAME.part-RANDOM") and
// removes it on every other outcome (a digest mismatch, a timeout, a
// file error, a shutdown), so nothing but a whole, checked file ever
// appears under the final name. Neither side holds the file in memory:
// the Sender reads chunks as it sends them, at most 64 KiB at a time (a
// chunk it sends again is read again, unless it is still among those),
// and the Receiver holds only chunks that arrived ahead of a gap, at
// most a window of them.
//
// # Protocol
//
// Every datagram is one packet: an 18-byte header, then a body that
// depends on the type. All integers are big-endian.
//
//	header  magic "KMFT" (4) | version 1 (1) | type (1) | transfer id (8) | CRC-32C (4)
//
//	START  (1, sender)   size u64 | chunk size u32 | chunk count u64 | window u32
//	DATA   (2, sender)   seq u64 | payload (1 to chunk size bytes)
//	END    (3, sender)   SHA-256 of the whole file (32)
//	ACCEPT (4, receiver) window granted u32
//	ACK    (5, receiver) next u64 | bitmap length u16 | bitmap
//	DONE   (6, receiver) status u8 | text length u16 | text (at most 1024 bytes)
//
// The transfer id is chosen at random by the Sender and carried by every
// packet of the transfer, both ways; a packet with another id is
// foreign. The CRC-32C (Castagnoli) covers the whole packet but its own
// four bytes: UDP's checksum is optional over IPv4 and absent past the
// socket (internet/simulate's Corrupt damages datagrams there), so a
// damaged packet is caught here, dropped like a lost one, and its chunk
// sent again, instead of failing the digest at the end. Parse checks
// every length and value it can (the chunk count
// must be the size divided by the chunk size, rounded up; windows are 1
// to MaxWindow; DATA carries at least one byte; DONE's status is known)
// and never panics; it is fuzzed (FuzzParse).
//
// A transfer goes:
//
//  1. The Sender sends START, again at each retransmission timeout,
//     until ACCEPT arrives. The Receiver creates its temporary file and
//     answers ACCEPT with the window it grants: the smaller of the
//     Sender's and its own. A repeated START gets ACCEPT again; a START
//     with another id while a transfer is under way gets
//     DONE(refused).
//  2. The Sender sends the chunks in order, DATA seq 0, 1, ..., keeping
//     at most a window of them unacknowledged. The Receiver writes each
//     chunk that comes next in order, holds those that come early (if
//     within the window), and drops and ignores repeats.
//  3. The Receiver acknowledges with ACK: next is the first chunk not yet
//     written (every chunk before it is), and bit i of the bitmap (bit
//     i%8 of byte i/8, least significant first) says chunk next+1+i is
//     held. It sends one after every 16 chunks in order, whenever it has
//     nothing more queued to read, and at once when a chunk arrives out
//     of order or repeated. A chunk below the highest one held that is
//     not marked is missing, so an ACK is also a negative
//     acknowledgement.
//  4. The Sender sends a chunk again when an ACK shows it missing and it
//     was sent more than about a round trip ago (fast retransmission), or
//     when it has gone unacknowledged for the retransmission timeout
//     (RTO). The RTO comes from the measured round trip as in RFC 6298
//     (smoothed RTT plus four deviations, measured only on chunks sent
//     once), kept between 20 ms and 2 s, and doubles at each timeout
//     until the transfer moves on.
//  5. Once every chunk is acknowledged the Sender sends END with the
//     SHA-256 of the file (computed as it first read each chunk, in
//     order), again until DONE arrives (START and END are sent again
//     at the RTO, doubling, but at least every 100 ms or two round
//     trips, so that a lost DONE is asked for again before the
//     Receiver stops lingering). The Receiver, which
//     has hashed what it wrote, compares: if they match it syncs the
//     file, renames it into place and answers DONE(ok); if not it removes
//     the temporary file and answers DONE(digest mismatch). It answers a
//     repeated END with the same DONE for as long as it lingers (Linger,
//     1 s by default, restarted by each packet of the transfer), then
//     ends.
//
// Either side gives up after its Timeout (30 s by default) without
// progress: the Sender when no reply moves the transfer on, the
// Receiver when no START comes, or when the sender goes quiet. Errors
// wrap ErrTimeout.
//
// # Limits
//
// The window is fixed: there is no congestion control beyond it, so on a
// path slower than the sender, a window larger than the path's queue
// turns into loss and retransmissions (it still arrives, more slowly).
// The Receiver takes one transfer and then ends; run another for the
// next file.
//
// # Errors
//
// A datagram that is not a packet of the transfer (malformed, another
// transfer's, a type this side never receives, a chunk that does not fit
// the transfer) is reported on the component's "errors" outbox and
// ignored: the transfer goes on. The error is an *axon.BoxError naming the
// component and the box, around an *Error naming what was being done and
// the sender's address: "Receiver#1a2b3c4d.inbox: parse from
// 127.0.0.1:40000: malformed packet: no "KMFT" magic". What ends a
// transfer is the component's error, shaped the same way, wrapping one of
// ErrTimeout, ErrMismatch, ErrRefused, ErrRemote, ErrFile or ErrConfig.
// errors.As finds either part, and errors.Is the sentinel.
package transfer
