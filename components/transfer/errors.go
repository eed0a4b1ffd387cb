package transfer

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ErrorsBox is the outbox on which the Sender and the Receiver report the
// datagrams they ignore.
const ErrorsBox = axon.ErrorsName

// Errors of this package. Each error returned or reported wraps one of
// these, so errors.Is sorts them.
var (
	// ErrMalformed: a datagram that is not a packet of this protocol
	// (wrong magic, version, type or length).
	ErrMalformed = errors.New("malformed packet")
	// ErrForeign: a well-formed packet that does not belong here: another
	// transfer's id, a packet type this side never receives, a chunk
	// number or length that does not fit the transfer.
	ErrForeign = errors.New("unexpected packet")
	// ErrBadMessage: a message of a type the box does not take.
	ErrBadMessage = axon.ErrBadMessage
	// ErrTimeout: the other side said nothing useful for the Timeout.
	ErrTimeout = errors.New("timed out")
	// ErrMismatch: the SHA-256 of what arrived differs from the sender's.
	ErrMismatch = errors.New("digest mismatch")
	// ErrRefused: the receiver is busy with another transfer.
	ErrRefused = errors.New("refused by the receiver")
	// ErrRemote: the receiver reported a failure of its own.
	ErrRemote = errors.New("the receiver failed")
	// ErrFile: reading or writing a file failed; the error also wraps
	// the one from the file system.
	ErrFile = errors.New("file error")
	// ErrConfig: an option out of range.
	ErrConfig = axon.ErrConfig
)

// Error is what went wrong with one step of a transfer: what was being
// done and with whom. It keeps only what is the transfer's, in the manner
// of net.OpError. What the Sender and the Receiver report on "errors",
// and fail with, is an *axon.BoxError naming the component and the box
// concerned ("inbox", or "file", "control", ...), wrapping an *Error;
// errors.As finds either, and errors.Is the Err* value beneath.
type Error struct {
	Op   string // "parse", "receive", "read", "write", "transfer", ...
	Peer string // the remote address concerned, if known
	Err  error  // wraps one of the Err* values above
}

// Error formats e as, for example, "parse from 127.0.0.1:40000: malformed
// packet: no "KMFT" magic"; in the *axon.BoxError around it that reads
// "Receiver#1a2b3c4d.inbox: parse from 127.0.0.1:40000: malformed packet:
// no "KMFT" magic".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Peer != "" {
		b.WriteString(" from " + e.Peer)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// boxError makes the error c reports or fails with: an *Error about op
// with peer, in an *axon.BoxError naming c and box. The peer is formatted
// only here, so that datagrams that cause no error are not; the zero
// netip.AddrPort is not named.
func boxError(c *axon.Component, box, op string, peer netip.AddrPort, err error) *axon.BoxError {
	e := &Error{Op: op, Err: err}
	if peer.IsValid() {
		e.Peer = peer.String()
	}
	return c.BoxError(box, e)
}
