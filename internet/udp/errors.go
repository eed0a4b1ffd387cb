package udp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Errors a peer reports. Each *Error wraps one of these (and, where there
// is one, the error from the network beneath), so errors.Is sorts them.
var (
	// ErrBadMessage: a message of a type the box does not take.
	ErrBadMessage = axon.ErrBadMessage
	// ErrBadAddress: a destination that is not host:port.
	ErrBadAddress = errors.New("bad address")
	// ErrResolve: a host name that did not resolve. The error also wraps
	// the resolver's *net.DNSError.
	ErrResolve = errors.New("cannot resolve host")
	// ErrTooLong: a payload longer than one datagram can carry (65507
	// bytes over IPv4, 65527 over IPv6).
	ErrTooLong = errors.New("datagram too long")
	// ErrRefused: the destination said nothing listens on its port (an
	// ICMP port unreachable, reported on a connected socket): Twisted's
	// connectionRefused. The error also wraps syscall.ECONNREFUSED.
	ErrRefused = errors.New("connection refused")
	// ErrNoTarget: a TargettedPeer told to finish with payloads queued
	// and no target ever given to send them to.
	ErrNoTarget = errors.New("no target")
	// ErrSend: sending failed for another reason; the error also wraps
	// the one from the network.
	ErrSend = errors.New("send failed")
	// ErrReceive: receiving failed for another reason than ErrRefused.
	ErrReceive = errors.New("receive failed")
	// ErrBind: the local address could not be bound (in use, not an
	// address of this host, no permission). The error names the address.
	ErrBind = errors.New("cannot bind")
	// ErrConfig: options that contradict one another.
	ErrConfig = axon.ErrConfig
)

// Error is what went wrong with one operation of a peer: what was being
// done, to or from which address, and how many payloads it cost. It keeps
// only what is UDP's, in the manner of net.OpError: what a peer sends on
// its "errors" outbox, and fails with at start, is an *axon.BoxError
// naming the peer and the box concerned (or "socket", or "control" for a
// configuration), wrapping an *Error. errors.As finds either, and
// errors.Is the Err* value beneath:
//
//	var ue *udp.Error
//	if errors.As(err, &ue) && errors.Is(err, udp.ErrRefused) { ... ue.Addr ... }
type Error struct {
	Op      string // "send", "receive", "resolve", "bind", "target", "configure", ...
	Addr    string // the remote or local address concerned, if any
	Dropped int    // payloads lost to it: not sent, or received and not handed on
	Err     error  // wraps one of the Err* values above
}

// Error formats e as, for example, "send to 127.0.0.1:9: connection
// refused (1 not sent)"; in the *axon.BoxError around it that reads
// "SimplePeer#1a2b3c4d.inbox: send to 127.0.0.1:9: connection refused (1
// not sent)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Addr != "" {
		switch e.Op {
		case "send":
			b.WriteString(" to")
		case "receive":
			b.WriteString(" from")
		}
		b.WriteString(" " + e.Addr)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Dropped > 0 {
		lost := "not sent"
		if e.Op == "receive" {
			lost = "not handed on"
		}
		fmt.Fprintf(&b, " (%d %s)", e.Dropped, lost)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
