// Package framing keeps messages whole across byte streams. A TCP
// connection (or a file, or a pipe) delivers bytes, not messages: what
// was sent as three messages may arrive as one chunk or as ten, cut
// anywhere. The components here put boundaries into the stream at one
// end and find them again at the other.
//
// Two ways, for two kinds of stream:
//
//   - Length prefix: Framer and Deframer. Each message goes as its length
//     (4 bytes, big-endian) and then its bytes. It costs 4 bytes a
//     message and no scanning, and carries any bytes at all. Use it on a
//     trusted, reliable stream such as TCP, where nothing is lost or
//     damaged: a wrong length would put the reader out of step for good,
//     since nothing in the stream marks where the next frame starts.
//
//   - COBS chunks: Chunker and Dechunker. Each message is rewritten with
//     consistent overhead byte stuffing so that the byte 0x00 appears
//     nowhere in it, and a 0x00 ends it. It costs at most 1 byte in 254
//     plus 2 a message, and a pass over the bytes. Use it where the stream
//     may be damaged, cut or joined part way (a serial line, a log read
//     from its middle, a lossy transport under a byte stream): a reader
//     that meets garbage reports it and finds its place again at the next
//     0x00, losing only the messages the damage touched. (COBS finds
//     boundaries; it does not detect every corruption inside a message:
//     add a checksum for that.)
//
// Chunkify is a third, simpler tool: it re-cuts a stream into pieces of a
// fixed size, keeping no boundaries at all.
//
// Both decoders bound their memory: a message over MaxFrame (16 MiB by
// default) is reported and skipped, never held, and nothing else grows
// with the input. Problems (too long, malformed, a stream that ends
// inside a frame, a message of the wrong type) are sent on each
// component's "errors" outbox without stopping the stream, each an
// *axon.BoxError naming the component and box around an *Error saying
// what was being done and what it cost: "Deframer#1a2b3c4d.inbox:
// deframe: frame too long (length 20000000, 20000000 bytes lost)". The
// sentinel errors (ErrFrameTooLong, ErrTruncated, ErrMalformed,
// ErrBadMessage) sort them with errors.Is.
//
// The encoding and decoding are also available without components or
// goroutines: AppendFrame and Splitter for length prefixes, AppendCOBS
// and COBSSplitter for COBS. The components are thin loops around them.
//
// Kamaelia's names map as: Framer and DeFramer (a header giving the
// length as text) to Framer and Deframer (a binary length); DataChunker
// and DataDeChunker (a sync marker, escaped where it occurs in the data)
// to Chunker and Dechunker (COBS, which bounds its overhead and needs no
// escape sequences); Chunkifier to Chunkify.
package framing
