package framing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ErrorsBox is the name of the outbox on which every component in this
// package reports what went wrong, one *Error per problem.
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

// Error is what the components send on their "errors" outbox, and what
// the Splitter types return. It names the component and box concerned
// (both empty when it comes from a Splitter used on its own), what was
// being done, the length of the frame at issue and how many bytes were
// given up with it.
type Error struct {
	Component string // the component, as its String method gives it
	Box       string // the box the data came in on ("inbox")
	Op        string // "frame", "deframe", "chunk", "dechunk" or "chunkify"
	Length    int    // the frame's length: declared, attempted or reached; 0 if unknown
	Lost      int    // bytes of input discarded because of it
	Err       error  // wraps one of the Err* values above
}

// Error formats e as, for example,
// "Deframer#1a2b3c4d: inbox: deframe: frame too long (length 20000000, 20000000 bytes lost)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Component != "" {
		b.WriteString(e.Component + ": ")
	}
	if e.Box != "" {
		b.WriteString(e.Box + ": ")
	}
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

// badMessage describes a message of the wrong type arriving on box.
func badMessage(op, box string, msg any) *Error {
	return &Error{Box: box, Op: op, Err: fmt.Errorf("%w %T (want []byte or string)", ErrBadMessage, msg)}
}

// reporter fills in the component and box ("inbox", where the data
// comes in) of the errors a component meets and reports them on its
// "errors" outbox with an axon.Reporter.
type reporter struct {
	c *axon.Component
	r *axon.Reporter
}

func newReporter(c *axon.Component) *reporter {
	return &reporter{c: c, r: axon.NewReporter(c, ErrorsBox)}
}

// report fills in the component and box if e lacks them, and sends it
// after what the handler whose context ctx is has sent before it.
func (r *reporter) report(ctx context.Context, e *Error) {
	if e.Component == "" {
		e.Component = r.c.String()
	}
	if e.Box == "" {
		e.Box = axon.InboxName
	}
	r.r.ReportFrom(ctx, e)
}
