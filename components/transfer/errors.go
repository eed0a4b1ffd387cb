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

// Error is what the Sender and the Receiver report on "errors", and what
// they fail with. It names the component and the box concerned, says what
// was being done and with whom.
type Error struct {
	Component string // the component, as its String method gives it
	Box       string // the box whose message failed, or "file", "control", ...
	Op        string // "parse", "receive", "read", "write", "transfer", ...
	Peer      string // the remote address concerned, if known
	Err       error  // wraps one of the Err* values above
}

// Error formats e as, for example,
// "Receiver#1a2b3c4d: inbox: parse from 127.0.0.1:40000: malformed packet: no "KMFT" magic".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Component + ": " + e.Box + ": " + e.Op)
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

// peerString formats a remote address for Error.Peer: "" if it is not
// known (the zero netip.AddrPort). Formatting waits until an error is
// made, so that datagrams that cause none are not formatted.
func peerString(peer netip.AddrPort) string {
	if !peer.IsValid() {
		return ""
	}
	return peer.String()
}
