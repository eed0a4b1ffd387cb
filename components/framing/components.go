package framing

import (
	"context"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Framer turns each message into one length-prefixed frame: its length as
// 4 bytes big-endian, then the message (see AppendFrame). Send its output
// down a reliable byte stream such as a TCP connection, and a Deframer at
// the other end gives back the messages exactly as they were.
//
// Boxes:
//
//	inbox   (in)  messages, each a []byte or a string
//	control (in)  ProducerFinished: queued messages are framed, then it is
//	              passed on and the Framer ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) one []byte per message: prefix and payload
//	errors  (out) error, an *Error in an *axon.BoxError: a message over
//	              MaxFrame (ErrFrameTooLong) or of another type
//	              (ErrBadMessage), which is skipped
//	signal  (out) the shutdown message that ended the Framer
//
// Options: MaxFrame (default DefaultMaxFrame). Errors are sent without
// waiting; if "errors" leads nowhere or is full they are logged instead.
func Framer(opts ...Option) *axon.Component {
	cfg := newConfig(opts)
	return encoder("Framer", "frame", cfg.err, prefixLimit(cfg.max), AppendFrame)
}

// Chunker turns each message into one COBS-encoded chunk ending in the
// Delimiter byte, which appears nowhere else in it (see AppendCOBS). A
// Dechunker at the other end gives back the messages and, unlike a
// Deframer, finds its place again after damage to the stream. It is this
// package's counterpart of Kamaelia's DataChunker, which marked messages
// with a sync string.
//
// Boxes:
//
//	inbox   (in)  messages, each a []byte or a string
//	control (in)  ProducerFinished: queued messages are encoded, then it
//	              is passed on and the Chunker ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) one []byte per message: the encoded chunk and Delimiter
//	errors  (out) error, an *Error in an *axon.BoxError: a message over
//	              MaxFrame (ErrFrameTooLong) or of another type
//	              (ErrBadMessage), which is skipped
//	signal  (out) the shutdown message that ended the Chunker
//
// Options: MaxFrame (default DefaultMaxFrame). Errors are sent as
// Framer's are.
func Chunker(opts ...Option) *axon.Component {
	cfg := newConfig(opts)
	return encoder("Chunker", "chunk", cfg.err, cfg.max, AppendCOBS)
}

// Deframer takes a length-prefixed byte stream (Framer's frames), in
// chunks of any size and cut anywhere, and sends each whole message on,
// in order, as a fresh []byte. It is a component around Splitter.
//
// A frame whose declared length is over MaxFrame is reported and its
// payload skipped as it arrives, never held, so the stream stays in step
// (a length prefix has no way to find its place again once wrong: use
// Chunker and Dechunker where the stream may be damaged). If the stream
// ends inside a frame, ErrTruncated is reported, saying how many bytes
// were lost, before ProducerFinished is passed on.
//
// Boxes:
//
//	inbox   (in)  the stream: []byte (or string) chunks of any size
//	control (in)  ProducerFinished: queued chunks are read, a partial
//	              frame left over is reported (ErrTruncated), then it is
//	              passed on and the Deframer ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) one []byte per message
//	errors  (out) error, an *Error in an *axon.BoxError:
//	              ErrFrameTooLong (the frame is skipped), ErrTruncated, or
//	              ErrBadMessage (a chunk of another type, skipped: the
//	              stream is probably out of step after it)
//	signal  (out) the shutdown message that ended the Deframer
//
// Options: MaxFrame (default DefaultMaxFrame). Errors are sent as
// Framer's are.
func Deframer(opts ...Option) *axon.Component {
	cfg := newConfig(opts)
	return decoder("Deframer", "deframe", cfg.err, func() splitter { return NewSplitter(cfg.max) })
}

// Dechunker takes a stream of COBS-encoded chunks (Chunker's output), in
// pieces of any size and cut anywhere, and sends each message on, in
// order, as a fresh []byte. It is a component around COBSSplitter.
//
// A chunk that does not decode is reported (ErrMalformed) and skipped,
// and decoding starts again after the next Delimiter: garbage or damage
// costs the messages it touches, not the rest of the stream. A chunk
// over MaxFrame is reported (ErrFrameTooLong) and skipped the same way.
// If the stream ends inside a chunk, ErrTruncated is reported before
// ProducerFinished is passed on. It is this package's counterpart of
// Kamaelia's DataDeChunker.
//
// Boxes:
//
//	inbox   (in)  the stream: []byte (or string) pieces of any size
//	control (in)  ProducerFinished: queued pieces are read, a partial
//	              chunk left over is reported (ErrTruncated), then it is
//	              passed on and the Dechunker ends; ShutdownMicroprocess:
//	              passed on at once, and it ends
//	outbox  (out) one []byte per message
//	errors  (out) error, an *Error in an *axon.BoxError: ErrMalformed,
//	              ErrFrameTooLong, ErrTruncated, or ErrBadMessage (a
//	              piece of another type, skipped)
//	signal  (out) the shutdown message that ended the Dechunker
//
// Options: MaxFrame (default DefaultMaxFrame). Errors are sent as
// Framer's are.
func Dechunker(opts ...Option) *axon.Component {
	cfg := newConfig(opts)
	return decoder("Dechunker", "dechunk", cfg.err, func() splitter { return NewCOBSSplitter(cfg.max) })
}

// Chunkify re-cuts a byte stream into pieces of exactly size bytes, in
// order; what is left over at the end, shorter, is sent when
// ProducerFinished arrives. It is Kamaelia's Chunkifier: use it to feed a
// stream to something that wants fixed-size blocks (a digest, a file
// transfer's numbered chunks). It adds no framing: the cuts do not
// survive a byte stream, and message boundaries in the input are not
// kept. size must be at least 1.
//
// Boxes:
//
//	inbox   (in)  the stream: []byte (or string) pieces of any size
//	control (in)  ProducerFinished: queued pieces are read, the last,
//	              short piece (if any) is sent, then it is passed on and
//	              Chunkify ends; ShutdownMicroprocess: passed on at once,
//	              and it ends, dropping any partial piece
//	outbox  (out) []byte pieces of size bytes, each a fresh slice
//	errors  (out) error, an *Error in an *axon.BoxError: ErrBadMessage
//	              (a message of another type, skipped)
//	signal  (out) the shutdown message that ended Chunkify
func Chunkify(size int) *axon.Component {
	if size < 1 {
		return axon.Invalid("Chunkify", fmt.Errorf("%w: Chunkify(%d): size must be at least 1", ErrConfig, size))
	}
	return axon.New("Chunkify", func(ctx context.Context, c *axon.Component) error {
		r, out := newReporter(c), c.Out(axon.OutboxName)
		buf := make([]byte, 0, size)
		handle := func(ctx context.Context, msg any) error {
			b, ok := asBytes(msg)
			if !ok {
				r.report(ctx, badMessage("chunkify", msg))
				return nil
			}
			for len(b) > 0 {
				n := min(size-len(buf), len(b))
				buf, b = append(buf, b[:n]...), b[n:]
				if len(buf) == size {
					if err := out.Send(ctx, buf); err != nil {
						return err
					}
					buf = make([]byte, 0, size)
				}
			}
			return nil
		}
		atEnd := func(ctx context.Context) error {
			if len(buf) == 0 {
				return nil
			}
			return out.Send(ctx, buf)
		}
		return c.ServeThen(ctx, handle, atEnd)
	}, boxes("the stream: []byte or string pieces", "pieces of exactly size bytes, the last shorter")...)
}

// encoder makes Framer or Chunker: encode, one piece of code for both.
func encoder(name, op string, cfgErr error, limit int, encode func(dst, msg []byte) []byte) *axon.Component {
	if cfgErr != nil {
		return axon.Invalid(name, cfgErr)
	}
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		r, out := newReporter(c), c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			b, ok := asBytes(msg)
			switch {
			case !ok:
				r.report(ctx, badMessage(op, msg))
				return nil
			case len(b) > limit:
				r.report(ctx, &Error{Op: op, Length: len(b), Lost: len(b), Err: ErrFrameTooLong})
				return nil
			}
			// Room for either encoding: a 4-byte prefix, or COBS's code
			// bytes and delimiter.
			return out.Send(ctx, encode(make([]byte, 0, len(b)+len(b)/254+HeaderLen+1), b))
		})
	}, boxes("messages: []byte or string", "one encoded []byte per message")...)
}

// splitter is what Splitter and COBSSplitter have in common.
type splitter interface {
	Write(p []byte)
	Next() ([]byte, bool, error)
	End() error
}

// decoder makes Deframer or Dechunker around a fresh splitter.
func decoder(name, op string, cfgErr error, newSplitter func() splitter) *axon.Component {
	if cfgErr != nil {
		return axon.Invalid(name, cfgErr)
	}
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		r, out, s := newReporter(c), c.Out(axon.OutboxName), newSplitter()
		handle := func(ctx context.Context, msg any) error {
			b, ok := asBytes(msg)
			if !ok {
				r.report(ctx, badMessage(op, msg))
				return nil
			}
			s.Write(b)
			for {
				m, ok, err := s.Next()
				switch {
				case err != nil:
					r.report(ctx, err.(*Error))
				case !ok:
					return nil
				default:
					if err := out.Send(ctx, m); err != nil {
						return err
					}
				}
			}
		}
		atEnd := func(ctx context.Context) error {
			if err := s.End(); err != nil {
				r.report(ctx, err.(*Error))
			}
			return nil
		}
		return c.ServeThen(ctx, handle, atEnd)
	}, boxes("the stream: []byte or string pieces of any size", "one []byte per whole message")...)
}

// boxes declares the inbox, outbox and errors outbox with their docs.
func boxes(in, out string) []axon.Option {
	return []axon.Option{
		axon.WithInbox(axon.InboxName, in),
		axon.WithOutbox(axon.OutboxName, out, axon.Carries[[]byte]()),
		axon.WithOutbox(ErrorsBox, "what went wrong, each an *Error in an *axon.BoxError", axon.Carries[error]()),
	}
}

// asBytes returns msg's bytes if it is a []byte or a string.
func asBytes(msg any) ([]byte, bool) {
	switch m := msg.(type) {
	case []byte:
		return m, true
	case string:
		return []byte(m), true
	}
	return nil, false
}
