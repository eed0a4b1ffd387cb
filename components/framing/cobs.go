package framing

import "bytes"

// Delimiter ends every COBS-encoded chunk. COBS (consistent overhead byte
// stuffing) rewrites a message so that this byte appears nowhere inside
// it, so a reader that loses its place (garbage, a cut, a corrupted byte)
// finds the next message by looking for the next Delimiter.
const Delimiter = 0x00

// AppendCOBS appends msg to dst COBS-encoded and followed by Delimiter,
// and returns the extended slice. The encoding is at most
// len(msg)+len(msg)/254+1 bytes before the delimiter: msg is cut at each
// zero byte into blocks, and each block is sent as a code byte (its
// length plus one, 1..255) followed by its non-zero bytes; a code of 255
// marks a block of 254 bytes with no zero after it.
func AppendCOBS(dst, msg []byte) []byte {
	codeAt := len(dst)
	dst = append(dst, 0) // the first block's code, filled in when it closes
	code := byte(1)
	for i, b := range msg {
		if b != 0 {
			dst = append(dst, b)
			code++
			if code < 0xFF {
				continue
			}
		}
		// A zero, or a full block of 254 non-zero bytes, closes the block.
		dst[codeAt] = code
		if b != 0 && i == len(msg)-1 {
			// The message ends with a full block: no zero follows it,
			// so no further (empty) block is needed.
			return append(dst, Delimiter)
		}
		codeAt = len(dst)
		dst = append(dst, 0)
		code = 1
	}
	dst[codeAt] = code
	return append(dst, Delimiter)
}

// COBSSplitter takes a stream of COBS-encoded chunks (as AppendCOBS makes
// them) in pieces of any size and gives back the decoded messages, in
// order. It is the core of Dechunker, with no goroutine; it is used like
// Splitter (Write, then Next until it needs more, and End at the end).
//
// It resynchronises after damage: a chunk that does not decode is
// reported by Next (an *Error wrapping ErrMalformed) and decoding starts
// afresh after the next Delimiter. A chunk that decodes to more than the
// bound is reported (ErrFrameTooLong, with Length the bound plus one and
// Lost the encoded bytes read so far) as soon as it passes it, and the
// rest of it, up to the next Delimiter, is thrown away as it arrives.
// Empty chunks (a Delimiter straight after another) are skipped silently,
// so a sender may put a Delimiter first to flush out earlier garbage.
// Memory held is at most one message, up to the bound, plus what was
// written and not yet consumed.
//
// The zero COBSSplitter is not ready for use; make one with
// NewCOBSSplitter. A COBSSplitter is not safe for concurrent use.
type COBSSplitter struct {
	max     int
	pending []byte // written, not yet consumed
	buf     []byte // the message decoded so far
	left    int    // data bytes still due in the current block
	owe     bool   // a zero byte is due before the next block
	started bool   // a code byte has been read in this chunk
	bad     bool   // discarding up to the next delimiter
	seen    int    // bytes of this chunk read, delimiter excepted
}

// NewCOBSSplitter returns a COBSSplitter that accepts messages of up to
// max bytes once decoded (DefaultMaxFrame if max <= 0).
func NewCOBSSplitter(max int) *COBSSplitter {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &COBSSplitter{max: max}
}

// Write adds p to the stream. As with Splitter.Write, p is kept without
// copying until Next has consumed it.
func (s *COBSSplitter) Write(p []byte) {
	if len(s.pending) == 0 {
		s.pending = p
		return
	}
	s.pending = append(s.pending[:len(s.pending):len(s.pending)], p...)
}

// Next returns the next whole message, as Splitter.Next does: ok true
// with msg (a fresh slice; empty, not nil, for an empty message); or a
// non-nil err for a chunk reported and skipped (call Next again); or ok
// false and a nil error when more input is needed.
func (s *COBSSplitter) Next() (msg []byte, ok bool, err error) {
	for len(s.pending) > 0 {
		if s.bad {
			i := bytes.IndexByte(s.pending, Delimiter)
			if i < 0 {
				s.seen += len(s.pending)
				s.pending = nil
				break
			}
			s.pending = s.pending[i+1:]
			s.reset()
			continue
		}
		if s.left > 0 {
			run := s.pending[:min(s.left, len(s.pending))]
			if i := bytes.IndexByte(run, Delimiter); i >= 0 {
				// A delimiter where the block said data would be: the
				// chunk was cut short or damaged. The delimiter begins
				// the next chunk's resynchronisation.
				lost := s.seen + i
				s.pending = s.pending[i+1:]
				s.reset()
				return nil, false, &Error{Op: "dechunk", Lost: lost, Err: ErrMalformed}
			}
			if len(s.buf)+len(run) > s.max {
				// Counted to the byte that passes the bound, so the
				// report does not depend on how the input was cut.
				return nil, false, s.tooLong(s.max + 1 - len(s.buf))
			}
			s.buf = append(s.buf, run...)
			s.left -= len(run)
			s.seen += len(run)
			s.pending = s.pending[len(run):]
			continue
		}
		b := s.pending[0]
		s.pending = s.pending[1:]
		if b == Delimiter {
			if !s.started {
				continue // an empty chunk
			}
			msg = s.buf
			if msg == nil {
				msg = []byte{}
			}
			s.buf = nil
			s.reset()
			return msg, true, nil
		}
		s.seen++
		if !s.started {
			// A new message: size its buffer from where the next
			// delimiter is, if it is here, rather than growing it.
			n := len(s.pending)
			if i := bytes.IndexByte(s.pending, Delimiter); i >= 0 {
				n = i
			}
			s.buf = make([]byte, 0, min(n, s.max))
		}
		if s.owe {
			if len(s.buf)+1 > s.max {
				return nil, false, s.tooLong(0)
			}
			s.buf = append(s.buf, 0)
		}
		s.started, s.left, s.owe = true, int(b)-1, b != 0xFF
	}
	s.pending = nil
	return nil, false, nil
}

// tooLong gives up the chunk being decoded, whose message has just
// passed the bound with the next of its encoded bytes, and discards the
// rest of it as it arrives.
func (s *COBSSplitter) tooLong(next int) error {
	lost := s.seen + next
	s.buf, s.bad, s.seen = nil, true, lost
	return &Error{Op: "dechunk", Length: s.max + 1, Lost: lost, Err: ErrFrameTooLong}
}

// reset starts a new chunk.
func (s *COBSSplitter) reset() {
	s.buf, s.left, s.owe, s.started, s.bad, s.seen = nil, 0, false, false, false, 0
}

// Buffered returns how many bytes of encoded input the Splitter holds
// that are not yet part of a message: the current chunk so far and input
// not yet consumed by Next.
func (s *COBSSplitter) Buffered() int {
	if s.bad {
		return len(s.pending)
	}
	return s.seen + len(s.pending)
}

// End says the stream has ended. If it ended part way through a chunk
// (no Delimiter after it), End returns an *Error wrapping ErrTruncated
// saying how many encoded bytes were lost; a chunk already reported as
// too long gives nil. The COBSSplitter is then ready for a new stream.
func (s *COBSSplitter) End() error {
	lost, bad := s.Buffered(), s.bad
	*s = COBSSplitter{max: s.max}
	if lost == 0 || bad {
		return nil
	}
	return &Error{Op: "dechunk", Lost: lost, Err: ErrTruncated}
}
