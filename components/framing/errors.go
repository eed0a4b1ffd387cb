package framing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ErrorsBox is the name of the outbox on which every component in this
// package reports what went wrong, one error per problem (an
// *axon.BoxError around an *Error).
const ErrorsBox = axon.ErrorsName

// Problems the package reports. Each *Error wraps one of these, so
// errors.Is sorts them.
var (
	// ErrFrameTooLong: a message, or a declared frame length, over the
	// MaxFrame bound.
	ErrFrameTooLong = errors.New("frame too long")
	// ErrTruncated: the stream ended (ProducerFinished, or End on a
	// Splitter) part way through a frame.
	ErrTruncated = errors.New("stream ended inside a frame")
	// ErrMalformed: a COBS chunk that does not decode (a delimiter where
	// its blocks said data would be).
	ErrMalformed = errors.New("malformed chunk")
	// ErrBadMessage: a message of a type the box does not take (they take
	// []byte and string). The error also names the type.
	ErrBadMessage = axon.ErrBadMessage
	// ErrConfig: an option or argument out of range; the component fails
	// at start with it.
	ErrConfig = axon.ErrConfig
)

// Error is what the Splitter types return: what was being done, the
// length of the frame at issue and how many bytes were given up with it.
// It keeps only what is framing's, in the manner of net.OpError. What the
// components send on their "errors" outbox is an *axon.BoxError naming
// the component and the box the data came in on ("inbox"), wrapping an
// *Error; errors.As finds either, and errors.Is the Err* value beneath.
type Error struct {
	Op     string // "frame", "deframe", "chunk", "dechunk" or "chunkify"
	Length int    // the frame's length: declared, attempted or reached; 0 if unknown
	Lost   int    // bytes of input discarded because of it
	Err    error  // wraps one of the Err* values above
}

// Error formats e as, for example, "deframe: frame too long (length
// 20000000, 20000000 bytes lost)"; in the *axon.BoxError around it that
// reads "Deframer#1a2b3c4d.inbox: deframe: frame too long (length
// 20000000, 20000000 bytes lost)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	switch {
	case e.Length > 0 && e.Lost > 0:
		fmt.Fprintf(&b, " (length %d, %d bytes lost)", e.Length, e.Lost)
	case e.Length > 0:
		fmt.Fprintf(&b, " (length %d)", e.Length)
	case e.Lost > 0:
		fmt.Fprintf(&b, " (%d bytes lost)", e.Lost)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// badMessage describes a message of the wrong type arriving on "inbox".
func badMessage(op string, msg any) *Error {
	return &Error{Op: op, Err: fmt.Errorf("%w %T (want []byte or string)", ErrBadMessage, msg)}
}

// reporter reports the errors a component meets on its "errors" outbox
// with an axon.Reporter, each in an *axon.BoxError naming the component
// and "inbox", where the data comes in.
type reporter struct {
	c *axon.Component
	r *axon.Reporter
}

func newReporter(c *axon.Component) *reporter {
	return &reporter{c: c, r: axon.NewReporter(c, ErrorsBox)}
}

// report sends e, about "inbox", after what the handler whose context ctx
// is has sent before it.
func (r *reporter) report(ctx context.Context, e *Error) {
	r.r.ReportFrom(ctx, r.c.BoxError(axon.InboxName, e))
}
