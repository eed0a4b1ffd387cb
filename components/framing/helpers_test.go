package framing_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/framing"
)

// splitter is what both core types offer.
type splitter interface {
	Write(p []byte)
	Next() ([]byte, bool, error)
	End() error
	Buffered() int
}

// event is one thing a splitter gave back: a message or an error.
type event struct {
	msg []byte
	err error
}

// feed writes each chunk to s in turn, draining Next after each, and
// returns everything it gave back, ending with End's error if any.
func feed(t testing.TB, s splitter, chunks [][]byte) []event {
	t.Helper()
	var evs []event
	for _, c := range chunks {
		s.Write(c)
		for {
			m, ok, err := s.Next()
			if err != nil {
				if ok || m != nil {
					t.Fatalf("Next gave a message (%q, %v) with error %v", m, ok, err)
				}
				evs = append(evs, event{err: err})
				continue
			}
			if !ok {
				break
			}
			if m == nil {
				t.Fatalf("Next gave a nil message with ok")
			}
			evs = append(evs, event{msg: m})
		}
	}
	if err := s.End(); err != nil {
		evs = append(evs, event{err: err})
	}
	return evs
}

// messages returns the messages among evs.
func messages(evs []event) [][]byte {
	var out [][]byte
	for _, e := range evs {
		if e.err == nil {
			out = append(out, e.msg)
		}
	}
	return out
}

// sameEvents reports whether a and b are the same messages and errors
// (compared by their text) in the same order.
func sameEvents(a, b []event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i].err == nil) != (b[i].err == nil) || !bytes.Equal(a[i].msg, b[i].msg) {
			return false
		}
		if a[i].err != nil && a[i].err.Error() != b[i].err.Error() {
			return false
		}
	}
	return true
}

func sameMessages(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// cut splits b before each position in at (ascending, in range).
func cut(b []byte, at ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, i := range at {
		out = append(out, b[prev:i])
		prev = i
	}
	return append(out, b[prev:])
}

// bytewise splits b into one-byte chunks.
func bytewise(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// asError returns err as an *framing.Error wrapping want, or fails.
func asError(t testing.TB, err error, want error) *framing.Error {
	t.Helper()
	var fe *framing.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *framing.Error", err, err)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v does not wrap %v", err, want)
	}
	return fe
}

// reported returns err, what a component sent on "errors", as the
// *axon.BoxError naming the component and "inbox" and the *framing.Error
// inside it, wrapping want, or fails.
func reported(t testing.TB, err error, want error) (*axon.BoxError, *framing.Error) {
	t.Helper()
	var be *axon.BoxError
	if !errors.As(err, &be) || be.Box != axon.InboxName {
		t.Fatalf("error %v (%T) is not an *axon.BoxError about inbox", err, err)
	}
	return be, asError(t, err, want)
}

// sample is a set of messages with the awkward cases: empty, one byte,
// zeros, and a run longer than a COBS block.
func sample() [][]byte {
	long := make([]byte, 300)
	for i := range long {
		long[i] = byte(i%255 + 1)
	}
	long[100] = 0
	return [][]byte{[]byte("hello"), {}, {0}, []byte("a"), {0, 0, 1, 0}, long, {}}
}
