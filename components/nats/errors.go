package nats

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Errors the components report. Each *Error wraps one of these and, where
// there is one, the error from nats.go beneath (nats.ErrSlowConsumer,
// nats.ErrReconnectBufExceeded, nats.ErrConnectionClosed, ...), so
// errors.Is sorts them either way.
var (
	// ErrConfig: options that contradict one another, or a bad subject.
	ErrConfig = axon.ErrConfig
	// ErrConnect: the connection to the NATS server could not be made.
	ErrConnect = errors.New("cannot connect")
	// ErrSubscribe: the subscription could not be made or confirmed.
	ErrSubscribe = errors.New("cannot subscribe")
	// ErrBadMessage: a message of a type the Publisher cannot send
	// without a Codec (anything but []byte and string).
	ErrBadMessage = axon.ErrBadMessage
	// ErrEncode: the Codec could not encode a message.
	ErrEncode = errors.New("cannot encode")
	// ErrDecode: the Codec could not decode a payload.
	ErrDecode = errors.New("cannot decode")
	// ErrPublish: nats.go refused a message, for example because the
	// reconnect buffer is full (nats.ErrReconnectBufExceeded) or the
	// connection is closed (nats.ErrConnectionClosed).
	ErrPublish = errors.New("publish failed")
	// ErrFlush: what was published could not be confirmed by the server
	// before the Publisher ended.
	ErrFlush = errors.New("flush failed")
	// ErrSlowConsumer: nats.go dropped messages for a Subscriber that did
	// not keep up (also wraps nats.ErrSlowConsumer).
	ErrSlowConsumer = errors.New("slow consumer")
	// ErrClosed: the connection was closed under the component (by its
	// owner, for a connection given with Conn).
	ErrClosed = errors.New("connection closed")
)

// Error is the NATS side of what went wrong for a Publisher or
// Subscriber: the subject (and, in the durable mode, the stream or the
// server) concerned and how many messages were lost. The component, the
// box and what was being done are in the *axon.BoxError that wraps it,
// which is what a component sends on its "errors" outbox and fails with,
// in the manner of net.OpError; errors.As finds either, and errors.Is the
// Err* value beneath.
type Error struct {
	Subject string // the NATS subject
	Stream  string // the JetStream stream, in the durable mode
	Server  string // the server URL, for a connection that could not be made
	Dropped int    // messages lost to it, where known
	Err     error  // wraps one of the Err* values above
}

// Error formats e as, for example, "subject kamaelia.backplane.x: slow
// consumer: nats: slow consumer, messages dropped (12 dropped)"; wrapped
// in its *axon.BoxError it reads "nats.Subscriber#1a2b3c4d.outbox:
// receive: subject ...".
func (e *Error) Error() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
	}
	if e.Server != "" {
		b.WriteString("server " + e.Server)
	}
	if e.Stream != "" {
		sep()
		b.WriteString("stream " + e.Stream)
	}
	if e.Subject != "" {
		sep()
		b.WriteString("subject " + e.Subject)
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Dropped > 0 {
		fmt.Fprintf(&b, " (%d dropped)", e.Dropped)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// boxError returns e as a component reports it: wrapped in an
// *axon.BoxError naming the component (as its String method gives it),
// the box concerned ("connection" for the connection) and op, what was
// being done ("connect", "subscribe", "encode", "publish", "flush",
// "receive", "decode", ...).
func boxError(component, box, op string, e *Error) *axon.BoxError {
	return &axon.BoxError{Component: component, Box: box, Op: op, Err: e}
}
