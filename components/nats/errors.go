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

// Error is what a Publisher or Subscriber sends on its "errors" outbox,
// and what it fails with when it cannot start. It names the component, the
// box concerned, what was being done and the subject.
type Error struct {
	Component string // the component, as its String method gives it
	Box       string // the box whose message failed, or "connection"
	Op        string // "connect", "subscribe", "encode", "publish", "flush", "receive", "decode", ...
	Subject   string // the NATS subject
	Dropped   int    // messages lost to it, where known
	Err       error  // wraps one of the Err* values above
}

// Error formats e as, for example,
// "nats.Subscriber#1a2b3c4d: outbox: receive on kamaelia.backplane.x:
// slow consumer: nats: slow consumer, messages dropped (12 dropped)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Component + ": " + e.Box + ": " + e.Op)
	if e.Subject != "" {
		switch e.Op {
		case "publish", "flush", "encode":
			b.WriteString(" to ")
		default:
			b.WriteString(" on ")
		}
		b.WriteString(e.Subject)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Dropped > 0 {
		fmt.Fprintf(&b, " (%d dropped)", e.Dropped)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
