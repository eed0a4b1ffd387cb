package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// ConnInfo describes a connection a server has accepted: what a Server's
// factory is given to make the connection's protocol handler.
type ConnInfo struct {
	Local  netip.AddrPort // the server's end
	Remote netip.AddrPort // the client's end
}

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event.
const (
	Opened  EventKind = iota + 1 // a connection was accepted and is being served
	Closed                       // a connection that was served has ended
	Refused                      // a connection was accepted and closed at once
)

// String returns "opened", "closed" or "refused".
func (k EventKind) String() string {
	switch k {
	case Opened:
		return "opened"
	case Closed:
		return "closed"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is what a Server or SingleServer sends on its "events" outbox
// about each connection, so that a program can log them.
type Event struct {
	Kind   EventKind
	Local  netip.AddrPort // the server's end
	Remote netip.AddrPort // the client's end
	// Reason is nil for Opened and for a Closed connection that ended in
	// an orderly way. Otherwise it says why: for Closed, an error
	// wrapping ErrReset, ErrTimeout, ErrClosed (closed on this side: the
	// server shutting down) or ErrHandler; for Refused, ErrTooMany or
	// ErrHandler.
	Reason error
}

// String gives the event as a line for a log:
// "connection from 127.0.0.1:51234 opened",
// "connection from 127.0.0.1:51234 closed: connection reset by peer".
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connection from %s %s", e.Remote, e.Kind)
	if e.Reason != nil {
		b.WriteString(": " + brief(e.Reason))
	}
	return b.String()
}

// brief returns the text of err without the component, box, operation and
// address that an *Error and the *axon.BoxError around it put in front:
// what matters in an event is the cause.
func brief(err error) string {
	var parts []string
	collect(err, &parts)
	return strings.Join(parts, "; ")
}

func collect(err error, parts *[]string) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isPair := err.(*pair); !isPair {
			for _, e := range j.Unwrap() {
				collect(e, parts)
			}
			return
		}
	}
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		*parts = append(*parts, e.Err.Error())
		return
	}
	*parts = append(*parts, err.Error())
}

// listening is the listening socket Server and SingleServer share.
type listening struct {
	ln    net.Listener
	local netip.AddrPort
	err   error

	closeOnce sync.Once
	closeErr  error
}

// listen binds addr, or adopts cfg's listener.
func (l *listening) listen(c *axon.Component, kind, addr string, cfg *config, applies []string) {
	if err := cfg.Refuse(kind, applies...); err != nil {
		l.err = c.BoxError("socket", &Error{Op: "configure", Addr: addr, Err: err})
		c.FailOnStart(l.err)
		if cfg.listener != nil {
			cfg.listener.Close() // the server's from now on, and it will not run
		}
		return
	}
	if cfg.listener != nil {
		l.ln = cfg.listener
	} else {
		lc := net.ListenConfig{KeepAlive: cfg.keepAlive}
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			l.err = c.BoxError("socket", &Error{Op: "bind", Addr: addr, Err: both(ErrBind, sock.UnwrapOp(err))})
			c.FailOnStart(l.err)
			return
		}
		l.ln = ln
	}
	l.local = sock.UnmappedAddrPort(l.ln.Addr())
}

// LocalAddr returns the address the server listens on, with the port
// chosen if port 0 was asked for: "[::]:40123" for ":0" (every interface,
// IPv4 and IPv6), "127.0.0.1:40123" for "127.0.0.1:0". It is the zero
// AddrPort if binding failed.
func (l *listening) LocalAddr() netip.AddrPort { return l.local }

// Err returns the error that stopped the server binding its address
// (wrapping ErrBind and naming the address), with which it also fails
// when started; nil if it is listening.
func (l *listening) Err() error { return l.err }

// Close closes the listening socket of a server that will never run; one
// that runs closes it when it stops accepting. It may be called more than
// once.
func (l *listening) Close() error {
	l.closeOnce.Do(func() {
		if l.ln != nil {
			l.closeErr = l.ln.Close()
		}
	})
	return l.closeErr
}

// acceptor accepts connections on a goroutine of its own and hands them
// over on conns until stopped.
type acceptor struct {
	conns  chan net.Conn
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	l      *listening
}

// Backoff after a failed Accept (out of file descriptors, say).
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// startAccepting starts the accepting goroutine, which reports each error
// from Accept with rep as an *Error wrapping ErrAccept, about c's socket.
func (l *listening) startAccepting(ctx context.Context, c *axon.Component, rep *axon.Reporter) *acceptor {
	report := func(err error) {
		rep.Report(c.BoxError("socket", &Error{Op: "accept", Addr: l.local.String(), Err: classify(err, ErrAccept)}))
	}
	actx, cancel := context.WithCancel(ctx)
	a := &acceptor{conns: make(chan net.Conn), cancel: cancel, done: make(chan struct{}), l: l}
	go func() {
		defer close(a.done)
		var delay time.Duration
		for {
			nc, err := l.ln.Accept()
			if err != nil {
				if actx.Err() != nil {
					return
				}
				if errors.Is(err, net.ErrClosed) {
					// Closed by someone else (the owner of a listener
					// given with the Listener option): say so once, as
					// nothing more will be accepted.
					report(err)
					return
				}
				report(err)
				delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-actx.Done():
					t.Stop()
					return
				}
				continue
			}
			delay = 0
			select {
			case a.conns <- nc:
			case <-actx.Done():
				nc.Close()
				return
			}
		}
	}()
	return a
}

// stop stops accepting, closes the listening socket, and waits for the
// goroutine to return.
func (a *acceptor) stop() {
	a.once.Do(func() {
		a.cancel()
		a.l.Close()
		<-a.done
	})
}

// sendEvent sends e on "events" if it leads anywhere, waiting while the
// receiver is busy (so a slow log slows accepting rather than losing
// events); an "events" box linked nowhere is skipped.
func sendEvent(ctx context.Context, c *axon.Component, e Event) {
	if out := c.Out(EventsBox); out.Linked() {
		_ = out.Send(ctx, e)
	}
}

// accepted returns the Connection a server makes for nc, configured as
// the server is, under the name Connection.
func accepted(nc net.Conn, cfg config) *Connection {
	cfg.name = ""
	return wrap(nc, cfg)
}

// link is one axon.Link to make: from's outbox out to to's inbox in.
type link struct {
	from axon.Node
	out  string
	to   axon.Node
	in   string
}

// linkAll makes links in order, stopping at the first that fails.
func linkAll(links ...link) error {
	for _, l := range links {
		if err := axon.Link(l.from, l.out, l.to, l.in); err != nil {
			return err
		}
	}
	return nil
}

// refuse closes nc at once and reports it as an Event of kind Refused.
func refuse(ctx context.Context, c *axon.Component, nc net.Conn, reason error) {
	e := Event{Kind: Refused, Local: sock.UnmappedAddrPort(nc.LocalAddr()), Remote: sock.UnmappedAddrPort(nc.RemoteAddr()), Reason: reason}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // reset rather than a polite close: it was never served
	}
	nc.Close()
	sendEvent(ctx, c, e)
}
