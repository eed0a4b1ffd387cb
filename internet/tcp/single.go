package tcp

import (
	"cmp"
	"context"
	"fmt"
	"net"

	"github.com/kamaelia-go/kamaelia/axon"
)

// SingleServerComponent is a server for one client at a time: what
// SingleServer returns. It embeds *axon.Component, so it is an axon.Node.
type SingleServerComponent struct {
	*axon.Component
	listening
	cfg config
	rep *axon.Reporter
}

// SingleServer returns a TCP server on addr that serves one client at a
// time (Kamaelia's SingleServer): what arrives on its "inbox" is written
// to the client, and what the client sends comes out of its "outbox". A
// connection that arrives while a client is connected is refused:
// accepted and closed at once (reset), and reported on "events". Once the
// client has gone, the next connection is served.
//
// While no client is connected, nothing is taken from "inbox": senders
// wait until one connects. When the client closes its side, what is
// already queued for it is written and the connection closed; messages
// still queued after that (at most the connection's inbox capacity,
// axon.DefaultCapacity) are reported on "errors" as not written.
//
// The socket is bound by SingleServer, as net.Listen does: LocalAddr, Err
// and Close are as for Server.
//
// Boxes:
//
//	inbox   (in)  []byte or string: written to the connected client, in
//	              order (a passthrough to the client's Connection).
//	control (in)  ProducerFinished: stops accepting; a connected client
//	              is sent what is queued for it, the connection is
//	              half-closed and ends when the client closes its side;
//	              then the message is passed on and the server ends.
//	              ShutdownMicroprocess (or the end of the context): stops
//	              accepting, closes the connection at once, passes the
//	              message on and ends.
//	outbox  (out) []byte: what the client sends, in chunks of at most
//	              ReadChunk bytes, each a fresh slice.
//	events  (out) Event: each client Opened and Closed, each connection
//	              Refused (wrapping ErrTooMany). Sent, and waited for, only
//	              while "events" is linked.
//	errors  (out) error (an *axon.BoxError around an *Error): messages
//	              of the wrong type, write failures, accept failures,
//	              messages left unwritten when a client left. Sent
//	              without waiting; logged when "errors" leads nowhere or
//	              is full.
//	signal  (out) the shutdown message that ended the server.
func SingleServer(addr string, opts ...Option) *SingleServerComponent {
	s := &SingleServerComponent{cfg: newConfig(opts)}
	s.Component = axon.New(cmp.Or(s.cfg.name, "SingleServer"), s.main,
		axon.WithInbox(axon.InboxName, "[]byte or string: written to the connected client", axon.PassthroughOnly()),
		axon.WithOutbox(axon.OutboxName, "[]byte: what the client sends", axon.Carries[[]byte]()),
		axon.WithOutbox(EventsBox, "tcp.Event: each client opened or closed, each connection refused", axon.Carries[Event]()),
		axon.WithOutbox(ErrorsBox, "*tcp.Error (in an *axon.BoxError): what could not be written or accepted", axon.Carries[error]()),
	)
	s.rep = axon.NewReporter(s.Component, ErrorsBox)
	s.listen(s.Component, "SingleServer", addr, &s.cfg, singleOptions)
	return s
}

func (s *SingleServerComponent) main(ctx context.Context, c *axon.Component) error {
	acc := s.startAccepting(ctx, c, s.rep)
	defer acc.stop()
	conns, ctl := acc.conns, c.In(axon.ControlName)
	var (
		cur      *Connection
		curDone  <-chan struct{}
		finished any
	)
	for {
		select {
		case nc := <-conns:
			if cur != nil {
				refuse(ctx, c, nc, fmt.Errorf("%w: a client is connected already", ErrTooMany))
				continue
			}
			var err error
			if cur, err = s.attach(ctx, c, nc); err != nil {
				return err
			}
			curDone = cur.Done()
		case <-curDone:
			s.detach(ctx, c, cur)
			cur, curDone = nil, nil
			if finished != nil {
				return c.PassOn(ctx, finished)
			}
		case m := <-ctl:
			switch {
			case axon.IsProducerFinished(m):
				acc.stop()
				conns = nil
				if cur == nil {
					return c.PassOn(ctx, m)
				}
				finished = m
				cur.finishInput()
			case axon.IsShutdownMicroprocess(m):
				_ = c.PassOn(ctx, m) // if this fails, the runner passes it on
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// attach makes nc the client: a Connection, child of the server, with
// the server's inbox passing through to it and its outbox and errors
// passing through to the server's.
func (s *SingleServerComponent) attach(ctx context.Context, c *axon.Component, nc net.Conn) (*Connection, error) {
	conn := accepted(nc, s.cfg)
	conn.eofFinish = true
	// The server's inbox stops leading to the connection before the
	// connection ends: senders then wait for the next client instead of
	// meeting an ended inbox (ErrReceiverDone).
	conn.beforeEnd = func() { _ = axon.Unlink(c, axon.InboxName) }
	if err := c.AddChild(conn); err != nil {
		conn.Close()
		return nil, err
	}
	if err := linkAll(
		link{c, axon.InboxName, conn, axon.InboxName},
		link{conn, axon.OutboxName, c, axon.OutboxName},
		link{conn, ErrorsBox, c, ErrorsBox},
	); err != nil {
		conn.Stop()
		return nil, err
	}
	sendEvent(ctx, c, Event{Kind: Opened, Local: conn.LocalAddr(), Remote: conn.RemoteAddr()})
	return conn, nil
}

// detach removes the client's Connection once it has ended, reporting
// what was left unwritten.
func (s *SingleServerComponent) detach(ctx context.Context, c *axon.Component, conn *Connection) {
	_ = axon.Unlink(c, axon.InboxName) // if the connection ended without its hook (a panic)
	_ = c.RemoveChild(conn)
	// Nothing can add to the connection's inbox now: it has ended (senders
	// meet ErrReceiverDone) and the server's inbox no longer leads to it.
	if left := conn.Inbox(axon.InboxName).Len(); left > 0 {
		s.rep.Report(c.BoxError(axon.InboxName, &Error{Op: "write", Addr: conn.RemoteAddr().String(),
			Err: fmt.Errorf("%w: %d messages not written: the client had gone", ErrClosed, left)}))
	}
	sendEvent(ctx, c, Event{Kind: Closed, Local: conn.LocalAddr(), Remote: conn.RemoteAddr(), Reason: conn.endReason()})
}
