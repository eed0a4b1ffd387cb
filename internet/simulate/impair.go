package simulate

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// Loss returns a stage that drops each message with probability p (from 0
// to 1), independently, and passes the rest on in order. Stats.Dropped
// counts the dropped ones.
//
// Boxes:
//
//	inbox   (in)  messages of any type
//	control (in)  ProducerFinished: what is queued in inbox is handled, then it is passed on.
//	              ShutdownMicroprocess: passed on at once
//	outbox  (out) the messages not dropped, in order
//	errors  (out) nothing (every stage declares it)
//	signal  (out) the shutdown message, unchanged
func Loss(p float64, opts ...Option) *Stage {
	o := newOptions(opts)
	return newStage("Loss", o, &loss{p: p}, false, checkProbability("loss", p)...)
}

type loss struct {
	stateless
	p float64
}

func (l *loss) push(ctx context.Context, s *Stage, _ time.Time, msg any) error {
	if s.rng.Float64() < l.p {
		s.stats.dropped.Add(1)
		return nil
	}
	return s.emit(ctx, msg)
}

// Duplicate returns a stage that sends each message on and, with
// probability p (from 0 to 1), a copy of it straight after.
// Stats.Duplicated counts the copies.
//
// The copy of a payload ([]byte, string, udp.Datagram, udp.Packet, or a
// pointer to one) shares no memory with the original, so a receiver may
// change one without the other changing; a message of any other type is
// sent twice as it is.
//
// Boxes:
//
//	inbox   (in)  messages of any type
//	control (in)  ProducerFinished: what is queued in inbox is handled, then it is passed on.
//	              ShutdownMicroprocess: passed on at once
//	outbox  (out) every message, some twice (original, then copy)
//	errors  (out) nothing (every stage declares it)
//	signal  (out) the shutdown message, unchanged
func Duplicate(p float64, opts ...Option) *Stage {
	o := newOptions(opts)
	return newStage("Duplicate", o, &duplicate{p: p}, false, checkProbability("duplicate", p)...)
}

type duplicate struct {
	stateless
	p float64
}

func (d *duplicate) push(ctx context.Context, s *Stage, _ time.Time, msg any) error {
	twice := s.rng.Float64() < d.p
	var again any
	if twice {
		again = clone(msg) // before the original goes, and may be changed by its receiver
	}
	if err := s.emit(ctx, msg); err != nil {
		return err
	}
	if !twice {
		return nil
	}
	// Counted before it goes, as emit counts, so a receiver of the copy
	// already sees it in Stats.
	s.stats.duplicated.Add(1)
	if err := s.emit(ctx, again); err != nil {
		s.stats.duplicated.Add(^uint64(0))
		return err
	}
	return nil
}

// Corrupt returns a stage that, with probability p (from 0 to 1), flips
// bits of a message's payload: one bit, or as many as the Bits option
// says, chosen at random among the payload's bits. The sender's buffer is
// never touched: the damaged message carries a copy. Stats.Corrupted
// counts the damaged messages; an empty payload cannot be damaged and is
// passed on as it is.
//
// Payloads are []byte, string, udp.Datagram, udp.Packet and pointers to
// them. A message of any other type is passed on unchanged, counted in
// Stats.Unsupported and reported on "errors" with an *Error wrapping
// ErrBadMessage: never dropped silently.
//
// Boxes:
//
//	inbox   (in)  messages of any type; payloads are damaged
//	control (in)  ProducerFinished: what is queued in inbox is handled, then it is passed on.
//	              ShutdownMicroprocess: passed on at once
//	outbox  (out) every message, in order, some damaged
//	errors  (out) *Error wrapping ErrBadMessage for each message that is not a payload
//	signal  (out) the shutdown message, unchanged
func Corrupt(p float64, opts ...Option) *Stage {
	o := newOptions(opts)
	return newStage("Corrupt", o, &corrupt{p: p, bits: o.bits}, false, checkProbability("corrupt", p)...)
}

type corrupt struct {
	stateless
	p    float64
	bits int
}

func (c *corrupt) push(ctx context.Context, s *Stage, _ time.Time, msg any) error {
	b, ok := payload(msg)
	if !ok {
		s.stats.unsupported.Add(1)
		s.report(&Error{Component: s.String(), Box: "inbox", Op: "corrupt",
			Err: fmt.Errorf("%w: %T (passed on unchanged)", ErrBadMessage, msg)})
		return s.emit(ctx, msg)
	}
	if s.rng.Float64() >= c.p || len(b) == 0 {
		return s.emit(ctx, msg)
	}
	damaged := bytes.Clone(b)
	flipBits(damaged, c.bits, s.rng)
	s.stats.corrupted.Add(1) // before it goes, as emit counts
	if err := s.emit(ctx, withPayload(msg, damaged)); err != nil {
		s.stats.corrupted.Add(^uint64(0))
		return err
	}
	return nil
}
