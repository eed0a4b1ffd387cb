package framing

import (
	"encoding/binary"
	"math"
)

// HeaderLen is the size of the length prefix: 4 bytes, big-endian, the
// number of payload bytes that follow (0 to 4 GiB - 1).
const HeaderLen = 4

// AppendFrame appends msg to dst as one frame, its length as 4 bytes
// big-endian followed by msg itself, and returns the extended slice. It
// does not check a MaxFrame bound (Framer does); it panics only if msg is
// longer than a 4-byte length can say.
func AppendFrame(dst, msg []byte) []byte {
	if uint64(len(msg)) > math.MaxUint32 {
		panic("framing: AppendFrame: message longer than 4 GiB - 1")
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...)
}

// Splitter takes a length-prefixed stream (frames as AppendFrame makes
// them) in pieces of any size and gives back the messages, in order. It
// is the core of Deframer, with no goroutine, for code that reads a
// stream itself:
//
//	s := framing.NewSplitter(0)
//	for chunk := range chunks {
//		s.Write(chunk)
//		for {
//			msg, ok, err := s.Next()
//			if err != nil { log(err); continue } // reported and skipped
//			if !ok { break }                     // needs more input
//			use(msg)
//		}
//	}
//	if err := s.End(); err != nil { ... } // ended inside a frame
//
// A frame whose declared length is over the bound is reported by Next
// (an *Error wrapping ErrFrameTooLong) and its payload, as the length
// says, is read and thrown away as it arrives, never held: the stream
// stays in step and the next frame is read as usual. Memory held is
// therefore at most one frame being gathered, up to the bound, plus
// what was written and not yet consumed.
//
// The zero Splitter is not ready for use; make one with NewSplitter. A
// Splitter is not safe for concurrent use.
type Splitter struct {
	max     int
	pending []byte // written, not yet consumed
	hdr     [HeaderLen]byte
	nh      int    // bytes of hdr gathered
	body    []byte // the frame being gathered, when inBody
	want    int    // its declared length
	inBody  bool   // a header has been read and its payload is due
	skip    uint64 // bytes still to discard from an oversized frame
}

// NewSplitter returns a Splitter that accepts frames of up to max bytes
// of payload (DefaultMaxFrame if max <= 0).
func NewSplitter(max int) *Splitter {
	return &Splitter{max: prefixLimit(max)}
}

// Write adds p to the stream. The Splitter keeps p, without copying it,
// until Next has consumed it (Next returns ok false and a nil error), so p
// must not change before then. Writing again before that copies.
func (s *Splitter) Write(p []byte) {
	if len(s.pending) == 0 {
		s.pending = p
		return
	}
	s.pending = append(s.pending[:len(s.pending):len(s.pending)], p...)
}

// Next returns the next whole message. ok is true when msg is one (a
// fresh slice the caller may keep; empty, not nil, for a zero-length
// message). err is non-nil when Next found a problem, already dealt with:
// call Next again. ok false with a nil error means Next needs more input.
func (s *Splitter) Next() (msg []byte, ok bool, err error) {
	for len(s.pending) > 0 {
		switch {
		case s.skip > 0:
			n := int(min(s.skip, uint64(len(s.pending))))
			s.skip -= uint64(n)
			s.pending = s.pending[n:]

		case s.inBody:
			need := s.want - len(s.body)
			if len(s.body) == 0 && len(s.pending) >= need {
				// The whole payload is here: one copy, exactly sized.
				msg = append(make([]byte, 0, need), s.pending[:need]...)
				s.pending = s.pending[need:]
				s.inBody = false
				return msg, true, nil
			}
			if s.body == nil {
				// Grow with what arrives rather than trusting the
				// declared length with a large allocation up front.
				s.body = make([]byte, 0, min(need, max(len(s.pending), 4096)))
			}
			n := min(need, len(s.pending))
			s.body = append(s.body, s.pending[:n]...)
			s.pending = s.pending[n:]
			if len(s.body) == s.want {
				msg, s.body, s.inBody = s.body, nil, false
				return msg, true, nil
			}

		default:
			n := copy(s.hdr[s.nh:], s.pending)
			s.nh += n
			s.pending = s.pending[n:]
			if s.nh < HeaderLen {
				continue
			}
			s.nh = 0
			length := binary.BigEndian.Uint32(s.hdr[:])
			if uint64(length) > uint64(s.max) {
				s.skip = uint64(length)
				return nil, false, &Error{Op: "deframe", Length: clampInt(uint64(length)), Lost: clampInt(uint64(length)), Err: ErrFrameTooLong}
			}
			if length == 0 {
				return []byte{}, true, nil
			}
			s.want, s.inBody = int(length), true
		}
	}
	s.pending = nil
	return nil, false, nil
}

// Buffered returns how many bytes the Splitter holds that are not yet
// part of a message: a partial prefix or payload, and input not yet
// consumed by Next.
func (s *Splitter) Buffered() int {
	return s.nh + len(s.body) + len(s.pending)
}

// End says the stream has ended. If it ended part way through a frame,
// End returns an *Error wrapping ErrTruncated saying how many bytes were
// lost (and, if the prefix was whole, the frame's declared length). A
// stream that ends while an oversized frame is being skipped gives nil:
// that frame was reported already. The Splitter is then ready for a new
// stream.
func (s *Splitter) End() error {
	lost, length, inBody := s.Buffered(), s.want, s.inBody
	*s = Splitter{max: s.max}
	if lost == 0 && !inBody {
		return nil
	}
	e := &Error{Op: "deframe", Lost: lost, Err: ErrTruncated}
	if inBody {
		e.Length = length
		e.Lost += HeaderLen
	}
	return e
}

// clampInt converts n to int, saturating on a 32-bit platform.
func clampInt(n uint64) int {
	return int(min(n, uint64(math.MaxInt)))
}
