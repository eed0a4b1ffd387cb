package fragment

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"iter"

	"github.com/kamaelia-go/kamaelia/internal/slab"
)

// Splitter splits messages into fragments (the wire format is
// documented on Part), numbering each message with the next id of its
// own sequence. A Broadcaster uses one; use one directly to send
// fragments some other way. A Splitter is not safe for use by several
// goroutines at once.
type Splitter struct {
	topic    string
	datagram int // largest datagram
	max      int // longest message
	next     uint64
}

// NewSplitter returns a Splitter set by the options Topic,
// DatagramSize and MaxMessage, whose first message id is random. The
// error, for an option out of range or one that does not apply, wraps
// axon.ErrConfig.
func NewSplitter(opts ...Option) (*Splitter, error) {
	cfg, err := newConfig("Splitter", splitterOptions, opts)
	if err != nil {
		return nil, err
	}
	return newSplitter(cfg.topic, cfg.datagram, cfg.maxMessage, randomID()), nil
}

// newSplitter makes a Splitter without checking its limits, so that
// tests can use datagrams smaller than MinDatagramSize.
func newSplitter(topic string, datagram, maxMessage int, first uint64) *Splitter {
	return &Splitter{topic: topic, datagram: datagram, max: maxMessage, next: first}
}

// randomID returns a random message id for a sender's first message.
func randomID() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return binary.BigEndian.Uint64(b[:])
}

// NextID returns the id the next message will be given.
func (f *Splitter) NextID() uint64 { return f.next }

// Split is SplitTopic with f's topic (the Topic option).
func (f *Splitter) Split(msg []byte) (iter.Seq[[]byte], error) {
	return f.SplitTopic(f.topic, msg)
}

// SplitTopic numbers msg, a message on topic t, as the next message and
// returns its fragments as datagrams, in order, each in a slice that the
// receiver may keep. Each datagram is at most DatagramSize bytes, and
// all but the last are exactly that; an empty message is one datagram. A
// message longer than MaxMessage gives ErrTooLarge and a topic longer
// than MaxTopicLen ErrTopicTooLong (both wrapped, with the lengths), and
// then no id is used up.
//
// The datagrams are made as the sequence is read, a few at a time, so a
// long message is never held twice over; msg must not change until the
// sequence has been read. Datagrams made together share one allocation
// of at most 32 KiB (or one datagram, if that is bigger): a receiver
// that keeps one keeps that much memory alive. Each has its capacity cut
// to its length, so appending to one never touches another. Reading the
// sequence again gives the same datagrams, in new memory.
func (f *Splitter) SplitTopic(t string, msg []byte) (iter.Seq[[]byte], error) {
	if len(t) > MaxTopicLen {
		return nil, fmt.Errorf("topic of %d bytes: %w", len(t), ErrTopicTooLong)
	}
	if len(msg) > f.max {
		return nil, fmt.Errorf("message of %d bytes, more than %d: %w", len(msg), f.max, ErrTooLarge)
	}
	room := f.datagram - HeaderLen - len(t)
	if room < 1 {
		return nil, fmt.Errorf("datagram size %d leaves no room for a %d-byte topic: %w", f.datagram, len(t), ErrTopicTooLong)
	}
	id := f.next
	f.next++
	total := len(msg)
	count, size := 1, total
	if total > room {
		count = (total + room - 1) / room
		size = room
	}
	return func(yield func([]byte) bool) {
		head := appendHeader(make([]byte, 0, HeaderLen+len(t)), id, 0, uint32(count), uint32(total), uint32(size), t)
		per := max(1, slab.Size/(len(head)+size)) // datagrams to an allocation
		parts := make([][]byte, 0, 2*min(per, count))
		for first := 0; first < count; first += per {
			end := min(first+per, count)
			// Header, piece, header, piece, ...: each pair becomes one
			// datagram, copied once into memory shared with the others.
			parts = parts[:0]
			for i := first; i < end; i++ {
				off := i * size
				parts = append(parts, head, msg[off:min(off+size, total)])
			}
			for i, d := range slab.Join(parts[:0], parts, 2) {
				binary.BigEndian.PutUint32(d[14:], uint32(first+i))
				if !yield(d) {
					return
				}
			}
		}
	}, nil
}
