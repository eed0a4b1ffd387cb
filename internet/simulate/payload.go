package simulate

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"unsafe"

	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// payload returns the bytes a message carries, and whether it is one of
// the payload types: []byte, string, udp.Datagram, udp.Packet, or a
// pointer to one of them. The bytes are the message's own (for a string,
// a view of its bytes, not a copy) and must not be changed: copy them
// first, as Corrupt and clone do.
func payload(msg any) ([]byte, bool) {
	switch m := msg.(type) {
	case []byte:
		return m, true
	case string:
		return stringBytes(m), true
	case udp.Datagram:
		return m.Data, true
	case udp.Packet:
		return m.Data, true
	case *[]byte:
		if m != nil {
			return *m, true
		}
	case *string:
		if m != nil {
			return stringBytes(*m), true
		}
	case *udp.Datagram:
		if m != nil {
			return m.Data, true
		}
	case *udp.Packet:
		if m != nil {
			return m.Data, true
		}
	}
	return nil, false
}

// stringBytes returns the bytes of s without copying them; they must not
// be changed.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// withPayload returns a message like msg (which payload accepted) whose
// payload is b, which it takes. A pointer gives a new pointer; the message
// msg points to is left alone.
func withPayload(msg any, b []byte) any {
	switch m := msg.(type) {
	case []byte:
		return b
	case string:
		return string(b)
	case udp.Datagram:
		m.Data = b
		return m
	case udp.Packet:
		m.Data = b
		return m
	case *[]byte:
		return &b
	case *string:
		s := string(b)
		return &s
	case *udp.Datagram:
		d := *m
		d.Data = b
		return &d
	case *udp.Packet:
		p := *m
		p.Data = b
		return &p
	}
	return msg
}

// clone returns a copy of msg that shares no bytes with it, for the
// payload types; any other message is returned as it is.
func clone(msg any) any {
	switch m := msg.(type) {
	case string:
		return m // immutable
	case *string:
		if m == nil {
			return m
		}
		s := *m
		return &s
	}
	b, ok := payload(msg)
	if !ok {
		return msg
	}
	if b != nil {
		b = bytes.Clone(b)
	}
	return withPayload(msg, b)
}

// Sizer is implemented by messages that know their size in bytes, which
// RateLimit then charges for them (bytes.Buffer and bytes.Reader do).
type Sizer interface {
	Len() int
}

// size is what RateLimit charges for msg: the payload's length for the
// payload types and Sizers, 1 byte for anything else.
func size(msg any) int {
	if m, ok := msg.(Sizer); ok {
		return m.Len()
	}
	if b, ok := payload(msg); ok {
		return len(b)
	}
	return 1
}

// flipBits flips n distinct bits of b, chosen with r, in place, and
// returns how many it flipped (all of b's bits when it has n or fewer).
func flipBits(b []byte, n int, r *rand.Rand) int {
	total := len(b) * 8
	if total == 0 {
		return 0
	}
	if n >= total {
		for i := range b {
			b[i] = ^b[i]
		}
		return total
	}
	if n == 1 {
		bit := r.IntN(total)
		b[bit/8] ^= 1 << (bit % 8)
		return 1
	}
	chosen := make([]int, 0, n)
	for len(chosen) < n {
		bit := r.IntN(total)
		if slices.Contains(chosen, bit) {
			continue
		}
		chosen = append(chosen, bit)
		b[bit/8] ^= 1 << (bit % 8)
	}
	return n
}
