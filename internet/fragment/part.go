package fragment

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire-format constants.
const (
	// Version is the version of the fragment format this package
	// reads and writes.
	Version = 1
	// HeaderLen is the length of the fixed fragment header, before the
	// topic.
	HeaderLen = 30
	// MaxTopicLen is the longest topic, in bytes.
	MaxTopicLen = 255
)

// fragmentMagic opens every fragment.
var fragmentMagic = [4]byte{'K', 'M', 'F', 'R'}

// Errors for fragments that break the format, and for messages a sender
// or a receiver will not take. Parse and Reassembler.Add return
// them as they are, unwrapped, so that checking them costs nothing;
// Append, the Splitter and the Broadcaster wrap them with the details.
// errors.Is sorts them either way.
var (
	// ErrTruncated: the datagram is shorter than the header, or than the
	// header and the topic it announces.
	ErrTruncated = errors.New("fragment: truncated header")
	// ErrBadMagic: the datagram does not start with the fragment magic;
	// it is probably not a fragment at all.
	ErrBadMagic = errors.New("fragment: bad magic")
	// ErrBadVersion: a version of the format this package does not know.
	ErrBadVersion = errors.New("fragment: unknown version")
	// ErrZeroCount: a fragment count of 0.
	ErrZeroCount = errors.New("fragment: count is 0")
	// ErrBadIndex: a fragment index not below the count.
	ErrBadIndex = errors.New("fragment: index not below count")
	// ErrBadCount: count, message length and fragment size disagree.
	ErrBadCount = errors.New("fragment: count, length and size disagree")
	// ErrBadLength: the payload is not as long as the header says this
	// fragment's piece is.
	ErrBadLength = errors.New("fragment: payload length does not match header")
	// ErrTopicTooLong: a topic longer than MaxTopicLen bytes.
	ErrTopicTooLong = errors.New("fragment: topic longer than 255 bytes")
	// ErrTooLarge: a message longer than the configured maximum
	// (MaxMessage), to be sent or claimed by a fragment.
	ErrTooLarge = errors.New("fragment: message too large")
)

// Part is one datagram of a fragmented message: the header fields and
// the topic and payload bytes. Parse returns one whose Topic and
// Data share the datagram's memory; Append encodes one.
//
// # Wire format
//
// A message of any length up to a receiver's limit travels as one or more
// fragments, each a UDP datagram of its own. Every fragment is a 30-byte
// header, then the topic, then its piece of the message. All integers are
// big-endian (network order); there is no padding.
//
//	offset  size  field
//	------  ----  ---------------------------------------------------------
//	     0     4  magic: the bytes 'K' 'M' 'F' 'R' (0x4B 0x4D 0x46 0x52)
//	     4     1  version: 1
//	     5     1  topic length T, 0 to 255
//	     6     8  message id: unique per sender (see below)
//	    14     4  fragment index I, 0 <= I < N
//	    18     4  fragment count N, at least 1
//	    22     4  message length L in bytes (the whole message)
//	    26     4  fragment size S: the message bytes each fragment but the
//	              last carries
//	    30     T  topic, T bytes (UTF-8 by convention; not checked)
//	  30+T   ...  the piece: message bytes I*S up to min((I+1)*S, L)
//
// The three numbers N, L and S must agree:
//
//   - a message in one fragment (N = 1) has S = L, and only such a
//     message may be empty (L = 0);
//   - a message in several fragments (N > 1) has S >= 1 and
//     N = ceil(L / S), that is (N-1)*S < L <= N*S.
//
// Fragment I carries the message bytes from offset I*S: exactly S of them,
// except the last fragment (I = N-1), which carries L - (N-1)*S. A
// datagram whose length is not 30 + T + that count is malformed. So is one
// whose header breaks any rule above, whose version is not 1, or whose
// magic is wrong. A receiver checks all this from the header alone,
// before it keeps anything.
//
// Message ids: a sender picks a random 64-bit id for its first message
// (crypto/rand) and adds one for each message after, wrapping at 2^64. A
// receiver tells messages apart by the sender's address and port together
// with the id, so two senders never mix, and rejects a fragment whose N,
// L, S or topic differ from those of the first fragment it took for the
// same sender and id.
//
// The format keeps no checksum of its own: it relies on UDP's.
type Part struct {
	ID    uint64 // message id, unique per sender
	Index uint32 // which fragment this is, 0 <= Index < Count
	Count uint32 // how many fragments the message has, at least 1
	Total uint32 // the whole message's length in bytes
	Size  uint32 // message bytes in every fragment but the last
	Topic []byte // at most MaxTopicLen bytes
	Data  []byte // this fragment's piece of the message
}

// Parse reads the fragment in datagram b. The Topic and Data of
// the result are slices of b. A malformed datagram gives one of
// ErrTruncated, ErrBadMagic, ErrBadVersion, ErrZeroCount, ErrBadIndex,
// ErrBadCount or ErrBadLength, unwrapped. Parse never allocates
// and never panics, whatever b holds.
func Parse(b []byte) (Part, error) {
	if len(b) < len(fragmentMagic) {
		return Part{}, ErrTruncated
	}
	if [4]byte(b[:4]) != fragmentMagic {
		return Part{}, ErrBadMagic
	}
	if len(b) < HeaderLen {
		return Part{}, ErrTruncated
	}
	if b[4] != Version {
		return Part{}, ErrBadVersion
	}
	tlen := int(b[5])
	if len(b) < HeaderLen+tlen {
		return Part{}, ErrTruncated
	}
	f := Part{
		ID:    binary.BigEndian.Uint64(b[6:]),
		Index: binary.BigEndian.Uint32(b[14:]),
		Count: binary.BigEndian.Uint32(b[18:]),
		Total: binary.BigEndian.Uint32(b[22:]),
		Size:  binary.BigEndian.Uint32(b[26:]),
		Topic: b[HeaderLen : HeaderLen+tlen : HeaderLen+tlen],
		Data:  b[HeaderLen+tlen:],
	}
	if err := f.check(); err != nil {
		return Part{}, err
	}
	return f, nil
}

// check applies the format's rules to f's header and payload length.
func (f *Part) check() error {
	switch {
	case f.Count == 0:
		return ErrZeroCount
	case f.Index >= f.Count:
		return ErrBadIndex
	case len(f.Topic) > MaxTopicLen:
		return ErrTopicTooLong
	}
	n, l, s := uint64(f.Count), uint64(f.Total), uint64(f.Size)
	switch {
	case n == 1:
		if s != l {
			return ErrBadCount
		}
	case s == 0 || (n-1)*s >= l || l > n*s:
		return ErrBadCount
	}
	if uint64(len(f.Data)) != f.pieceLen() {
		return ErrBadLength
	}
	return nil
}

// pieceLen is how many message bytes fragment f.Index carries, for a
// header that has passed the count checks.
func (f *Part) pieceLen() uint64 {
	off := uint64(f.Index) * uint64(f.Size)
	return min(uint64(f.Size), uint64(f.Total)-off)
}

// offset is where f's piece starts in the message.
func (f *Part) offset() uint64 { return uint64(f.Index) * uint64(f.Size) }

// Len is the length of f as a datagram: HeaderLen + len(Topic) + len(Data).
func (f Part) Len() int { return HeaderLen + len(f.Topic) + len(f.Data) }

// Append appends f, encoded as a datagram, to dst and returns the longer
// slice. A fragment that Parse would refuse is refused here with
// the same error (or ErrTopicTooLong), and dst returned as it was, so
// whatever Append writes parses back to f.
func (f Part) Append(dst []byte) ([]byte, error) {
	if err := f.check(); err != nil {
		return dst, fmt.Errorf("encode fragment %d/%d of message %#x: %w", f.Index, f.Count, f.ID, err)
	}
	dst = appendHeader(dst, f.ID, f.Index, f.Count, f.Total, f.Size, f.Topic)
	return append(dst, f.Data...), nil
}

// appendHeader appends the fixed header and the topic, unchecked.
func appendHeader[T string | []byte](dst []byte, id uint64, index, count, total, size uint32, topic T) []byte {
	dst = append(dst, fragmentMagic[:]...)
	dst = append(dst, Version, byte(len(topic)))
	dst = binary.BigEndian.AppendUint64(dst, id)
	dst = binary.BigEndian.AppendUint32(dst, index)
	dst = binary.BigEndian.AppendUint32(dst, count)
	dst = binary.BigEndian.AppendUint32(dst, total)
	dst = binary.BigEndian.AppendUint32(dst, size)
	return append(dst, topic...)
}
