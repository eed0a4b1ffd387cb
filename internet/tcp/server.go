package tcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Factory makes the protocol handler for one connection a Server has
// accepted, given the connection's addresses. The node it returns must
// be new (in no graph yet). Returning nil refuses the connection.
type Factory func(ConnInfo) axon.Node

// ServerComponent is a TCP server as a component: what Server returns. It
// embeds *axon.Component, so it is an axon.Node.
type ServerComponent struct {
	*axon.Component
	listening
	cfg     config
	factory Factory
	rep     *axon.Reporter
}

// Server returns a TCP server listening on addr ("host:port"; ":0" is
// every interface on a free port) that serves each connection with a
// protocol handler: Kamaelia's ServerCore and ConnectedServer. For each
// connection it accepts it makes a Connection (the component Client
// becomes once connected) and a handler, factory(ConnInfo{Local,
// Remote}), and links them:
//
//	handler.outbox -> conn.inbox     what the handler sends goes to the client
//	conn.outbox    -> handler.inbox  what the client sends ([]byte chunks)
//	handler.signal -> conn.control   the handler finishing finishes the connection
//	conn.signal    -> handler.control the client finishing (or the connection
//	                                 failing) finishes the handler
//
// So an echo protocol is just a component that sends on "outbox" what
// arrives on "inbox" and passes shutdown messages on. When the client
// closes its side, the handler is sent ProducerFinished; once it has
// passed that on, the connection writes what the handler sent and
// closes. When the handler ends, the connection finishes writing what
// it has and closes, even if the handler did not pass a shutdown message
// on. A connection that fails (reset, timeout) sends the handler a
// ProducerFinished whose Reason says why. A handler must end once it has
// been sent ProducerFinished (every component does): one that does not
// keeps its session until the server is shut down.
//
// The socket is bound by Server, as net.Listen does, so LocalAddr is
// known at once. A bind failure: Err returns it (wrapping ErrBind, naming
// the address) and the server fails when started. Close closes the
// socket of a server that will never run. Listener adopts a listener
// instead.
//
// Each connection and its handler run as one child of the server (named
// "Session", shown by axon.Inspect) for as long as the connection lasts,
// and are removed when both have ended, so a long-running server does not
// grow. They run under a run of their own (axon.Start), so that a handler
// that fails, or panics, ends its own connection only: the failure is
// reported as the Reason of the connection's Closed event (wrapping
// ErrHandler), and the server carries on.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  ProducerFinished: the server stops accepting (closes its
//	              listening socket), lets the connections it has finish by
//	              themselves, then passes the message on and ends.
//	              ShutdownMicroprocess (or the end of the context): it
//	              stops accepting, closes every connection at once, passes
//	              the message on and ends.
//	outbox  (out) not used
//	events  (out) Event: each connection Opened, Closed (with the Reason if
//	              it did not end in an orderly way) and Refused (beyond
//	              MaxConnections, or no handler could be made). Sent, and
//	              waited for, only while "events" is linked; when the
//	              server is shut down at once, the Closed events of the
//	              connections it closes are not sent.
//	errors  (out) error (an *axon.BoxError around an *Error): Accept
//	              failures (wrapping ErrAccept); the server backs off
//	              briefly and goes on accepting. Sent without waiting;
//	              logged when "errors" leads nowhere or is full.
//	signal  (out) the shutdown message that ended the server.
//
// Options: MaxConnections, ReadChunk, KeepAlive, NoDelay, Listener, Name.
func Server(addr string, factory Factory, opts ...Option) *ServerComponent {
	s := &ServerComponent{cfg: newConfig(opts), factory: factory}
	s.Component = axon.New(cmp.Or(s.cfg.name, "Server"), s.main,
		axon.WithInbox(axon.InboxName, "not used"),
		axon.WithOutbox(axon.OutboxName, "not used"),
		axon.WithOutbox(EventsBox, "tcp.Event: each connection opened, closed or refused", axon.Carries[Event]()),
		axon.WithOutbox(ErrorsBox, "*tcp.Error (in an *axon.BoxError): accept failures; the server carries on", axon.Carries[error]()),
	)
	s.rep = axon.NewReporter(s.Component, ErrorsBox)
	if factory == nil {
		s.err = s.BoxError("socket", &Error{Op: "configure", Addr: addr, Err: fmt.Errorf("%w: no protocol handler factory", ErrConfig)})
		s.FailOnStart(s.err)
		if s.cfg.listener != nil {
			s.cfg.listener.Close()
		}
		return s
	}
	s.listen(s.Component, "Server", addr, &s.cfg, serverOptions)
	return s
}

// ConnectedServer is Server, under the name Kamaelia gives the server
// that makes a protocol handler for each connection.
func ConnectedServer(addr string, factory Factory, opts ...Option) *ServerComponent {
	return Server(addr, factory, opts...)
}

func (s *ServerComponent) main(ctx context.Context, c *axon.Component) error {
	acc := s.startAccepting(ctx, c, s.rep)
	defer acc.stop()
	ended := make(chan *axon.Component)
	conns, ctl := acc.conns, c.In(axon.ControlName)
	live := 0
	var finished any // the ProducerFinished being acted on
	for {
		if finished != nil && live == 0 {
			return c.PassOn(ctx, finished)
		}
		select {
		case nc := <-conns:
			if s.cfg.maxConns > 0 && live >= s.cfg.maxConns {
				refuse(ctx, c, nc, fmt.Errorf("%w: %d open", ErrTooMany, live))
				continue
			}
			if s.open(ctx, c, nc, ended) {
				live++
			}
		case w := <-ended:
			<-w.Done()
			_ = c.RemoveChild(w)
			live--
		case m := <-ctl:
			switch {
			case axon.IsProducerFinished(m):
				finished = m
				acc.stop()
				conns = nil
			case axon.IsShutdownMicroprocess(m):
				// Passed on here, not left to the runner: it may not have
				// seen the message yet. The sessions are cancelled with us.
				_ = c.PassOn(ctx, m)
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// open starts serving nc: a Connection, a handler, and the session that
// runs them. It reports false if nc was refused instead.
func (s *ServerComponent) open(ctx context.Context, c *axon.Component, nc net.Conn, ended chan<- *axon.Component) bool {
	conn := accepted(nc, s.cfg)
	info := ConnInfo{Local: conn.LocalAddr(), Remote: conn.RemoteAddr()}
	pair, h, err := s.pair(conn, info)
	if err != nil {
		conn.Close()
		sendEvent(ctx, c, Event{Kind: Refused, Local: info.Local, Remote: info.Remote, Reason: err})
		return false
	}
	sendEvent(ctx, c, Event{Kind: Opened, Local: info.Local, Remote: info.Remote})
	var w *axon.Component
	w = axon.New("Session", func(ctx context.Context, _ *axon.Component) error {
		reason := runPair(ctx, pair, conn, h)
		// The server counts the connection gone before Closed is sent, so
		// that a client told of the close and connecting again is not
		// refused by MaxConnections; it waits for this session to end
		// before it accepts another, so Closed still comes first.
		select {
		case ended <- w:
		case <-ctx.Done():
		}
		if ctx.Err() == nil {
			sendEvent(ctx, c, Event{Kind: Closed, Local: info.Local, Remote: info.Remote, Reason: reason})
		}
		return nil
	})
	if err := c.AddChild(w); err != nil {
		conn.Close()
		return false
	}
	return true
}

// pair makes the handler for conn and links the two inside a container.
func (s *ServerComponent) pair(conn *Connection, info ConnInfo) (pair *axon.Component, h axon.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: factory panicked: %v", ErrHandler, r)
		}
	}()
	h = s.factory(info)
	if h == nil || h.Core() == nil {
		return nil, nil, fmt.Errorf("%w: factory returned no handler", ErrHandler)
	}
	pair = axon.New("Pair", nil)
	for _, n := range []axon.Node{conn, h} {
		if err := pair.AddChild(n); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrHandler, err)
		}
	}
	if err := linkAll(
		link{h, axon.OutboxName, conn, axon.InboxName},
		link{conn, axon.OutboxName, h, axon.InboxName},
		link{h, axon.SignalName, conn, axon.ControlName},
		link{conn, axon.SignalName, h, axon.ControlName},
	); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrHandler, err)
	}
	return pair, h, nil
}

// runPair runs a connection and its handler until both have ended, and
// returns why the connection ended.
func runPair(ctx context.Context, pair *axon.Component, conn *Connection, h axon.Node) error {
	run := axon.Start(ctx, pair)
	select {
	case <-h.Core().Done():
		conn.finishInput()
	case <-conn.Done():
	}
	err := run.Wait()
	reason := conn.endReason()
	if err != nil && ctx.Err() == nil && !errors.Is(err, axon.ErrReceiverDone) {
		reason = errors.Join(reason, fmt.Errorf("%w: %w", ErrHandler, err))
	}
	return reason
}
