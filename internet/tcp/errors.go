package tcp

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// Errors the components report. Each *Error wraps one of these and, where
// there is one, the error from the network beneath it, so errors.Is sorts
// them: errors.Is(err, tcp.ErrRefused) and errors.Is(err,
// syscall.ECONNREFUSED) both hold for a refused connection.
var (
	// ErrConnect: a Client could not connect for a reason other than
	// those below (no route, network unreachable, ...).
	ErrConnect = errors.New("cannot connect")
	// ErrRefused: nothing listens on the port connected to.
	ErrRefused = errors.New("connection refused")
	// ErrTimeout: connecting took longer than DialTimeout, or the
	// connection timed out (keep-alive probes unanswered).
	ErrTimeout = errors.New("timed out")
	// ErrReset: the peer reset the connection, or closed it while data
	// was still being sent to it (broken pipe).
	ErrReset = errors.New("connection reset by peer")
	// ErrClosed: the connection was closed on this side before it ended
	// by itself: a ShutdownMicroprocess, a cancelled context, the server
	// shutting down.
	ErrClosed = errors.New("connection closed")
	// ErrResolve: the host name to connect to did not resolve.
	ErrResolve = errors.New("cannot resolve host")
	// ErrBadMessage: a message of a type the box does not take.
	ErrBadMessage = axon.ErrBadMessage
	// ErrSend: writing to the connection failed for another reason.
	ErrSend = errors.New("write failed")
	// ErrReceive: reading from the connection failed for another reason.
	ErrReceive = errors.New("read failed")
	// ErrBind: a server's address could not be bound (in use, not an
	// address of this host, no permission).
	ErrBind = errors.New("cannot bind")
	// ErrAccept: accepting a connection failed (out of file descriptors,
	// say); the server backs off briefly and tries again.
	ErrAccept = errors.New("accept failed")
	// ErrTooMany: a connection arrived while a server already had as many
	// as it takes (MaxConnections, or one for a SingleServer); it was
	// closed at once.
	ErrTooMany = errors.New("too many connections")
	// ErrHandler: a server's protocol handler could not be made or
	// linked to its connection, or failed while it ran.
	ErrHandler = errors.New("protocol handler failed")
	// ErrConfig: an option or address that makes no sense.
	ErrConfig = axon.ErrConfig
)

// Error is what went wrong with one operation on a connection or a
// listening socket: what was being done, with which address. It keeps
// only what is TCP's, in the manner of net.OpError. What the components
// send on their "errors" outboxes, carry as the Reason of the
// ProducerFinished they send, and fail with is an *axon.BoxError naming
// the component and the box concerned ("socket" for the connection or
// listener itself), wrapping an *Error; errors.As finds either:
//
//	var te *tcp.Error
//	if errors.As(err, &te) && te.Op == "connect" && errors.Is(err, tcp.ErrRefused) { ... }
type Error struct {
	Op   string // "connect", "read", "write", "close", "bind", "accept", "configure", ...
	Addr string // the remote (or, for bind and accept, local) address concerned
	Err  error  // wraps one of the Err* values above
}

// Error formats e as, for example, "connect 127.0.0.1:9: connection
// refused"; in the *axon.BoxError around it that reads
// "Client#1a2b3c4d.socket: connect 127.0.0.1:9: connection refused".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Addr != "" {
		b.WriteString(" " + e.Addr)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// classify wraps err from the network in the sentinel that fits it, or in
// fallback.
func classify(err, fallback error) error {
	inner := sock.UnwrapOp(err)
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return both(ErrRefused, inner)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.ErrUnexpectedEOF):
		return both(ErrReset, inner)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return both(ErrTimeout, inner)
	case errors.As(err, &dns) && !dns.IsTimeout:
		return both(ErrResolve, inner)
	case errors.Is(err, net.ErrClosed):
		return both(ErrClosed, inner)
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return both(ErrTimeout, inner)
	}
	return both(fallback, inner)
}

// both returns an error that is kind and cause at once (errors.Is finds
// either). Its text is kind's, followed by cause's when cause says more
// than kind does: "connection refused", not "connection refused: connect:
// connection refused".
func both(kind, cause error) error {
	if cause == nil {
		return kind
	}
	return &pair{kind, cause}
}

type pair struct{ kind, cause error }

func (p *pair) Error() string {
	c := p.cause.Error()
	if strings.HasSuffix(c, p.kind.Error()) {
		return p.kind.Error()
	}
	return p.kind.Error() + ": " + c
}

func (p *pair) Unwrap() []error { return []error{p.kind, p.cause} }
