package udp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// Box names the peers add to axon's defaults.
const (
	TargetBox = "target"        // TargettedPeer's inbox for a new receiver
	ErrorsBox = axon.ErrorsName // every peer's outbox for errors, each around an *Error
)

// kind is which of the three peers a PeerComponent is.
type kind int

const (
	simple kind = iota
	targetted
	postbox
)

func (k kind) String() string {
	return [...]string{"SimplePeer", "TargettedPeer", "PostboxPeer"}[k]
}

// PeerComponent is a UDP socket as a component: the machinery the three peers
// share (Kamaelia's BasicPeer). It receives on a goroutine of its own,
// sending each datagram on "outbox" as a Datagram, and sends what arrives
// on "inbox" from its main loop. SimplePeer, TargettedPeer and PostboxPeer
// each return one, set up to send in their own way.
//
// The socket is bound when the peer is made, as net.ListenUDP does, so its
// address (LocalAddr) is known before it runs; it is closed when the peer
// ends. A peer that will never run should be closed with Close.
//
// A busy peer works in bursts. On Linux it reads many datagrams with one
// system call (recvmmsg), copies their payloads into one allocation (see
// Datagram) and hands them on "outbox" as one crossing; receiving then
// allocates, per datagram, the message carrying it and its share of the
// payloads' allocation, and nothing else. It takes what is queued in
// "inbox" in the batches its senders put there, and on Linux sends it
// with as few system calls as it can (sendmmsg), allocating nothing.
type PeerComponent struct {
	*axon.Component
	kind  kind
	cfg   config
	pc    net.PacketConn // the socket
	uc    *net.UDPConn   // pc, when it is one
	owned bool           // whether the peer closes pc
	local netip.AddrPort
	err   error // from making the socket

	closeOnce sync.Once
	closeErr  error
	stopping  atomic.Bool                    // the receiver is being stopped on purpose
	remote    atomic.Pointer[netip.AddrPort] // the receiver, once connected

	received, sent, bytesIn, bytesOut, errs atomic.Uint64
	reporter                                *axon.Reporter
}

// Stats are a peer's counts so far.
type Stats struct {
	Received      uint64 // datagrams received and handed on
	BytesReceived uint64 // their payload bytes
	Sent          uint64 // datagrams sent
	BytesSent     uint64 // their payload bytes
	Errors        uint64 // errors reported on "errors"
}

// SimplePeer returns a peer that sends each payload arriving on "inbox"
// as one datagram to a fixed receiver (Remote), and sends each datagram
// it receives on "outbox". It is Kamaelia's
// SimplePeer(localaddr, localport, receiver_addr, receiver_port), written
//
//	udp.SimplePeer(udp.Local("127.0.0.1:1501"), udp.Remote("myserver.com:1500"))
//
// Boxes:
//
//	inbox   (in)  []byte or string: each is the payload of one datagram
//	              to the receiver. Taken only once the receiver's name
//	              has been resolved.
//	control (in)  ProducerFinished: what is queued in "inbox" is sent,
//	              the socket is closed, the message passed on "signal",
//	              and the peer ends. ShutdownMicroprocess: the same, at
//	              once.
//	outbox  (out) Datagram: each datagram received.
//	errors  (out) error (an *axon.BoxError around an *Error): each
//	              message that could not be sent, and each failure to
//	              receive; the peer carries on (see PeerComponent).
//	signal  (out) the shutdown message that ended the peer.
//
// With Connect the socket is connected to the receiver, so it receives
// only from it and reports ICMP port unreachable as ErrRefused.
func SimplePeer(opts ...Option) *PeerComponent {
	return newPeer(simple, opts)
}

// TargettedPeer is SimplePeer whose receiver changes whenever a new one
// arrives on "target" (Kamaelia's TargettedPeer). Remote sets the first.
//
// Boxes:
//
//	inbox   (in)  []byte or string: each is the payload of one datagram
//	              to the current target. Nothing is taken from "inbox"
//	              while there is no target, or while a new target's name
//	              is being resolved.
//	target  (in)  the new receiver: a netip.AddrPort, a "host:port"
//	              string, a HostPort, or a *net.UDPAddr. A bad one is
//	              reported on "errors" and the old target kept.
//	control (in)  as SimplePeer's.
//	outbox  (out) Datagram: each datagram received.
//	errors  (out) error, as SimplePeer's.
//	signal  (out) the shutdown message that ended the peer.
//
// "target" is read before "inbox": a payload put after a new target goes
// to that target.
func TargettedPeer(opts ...Option) *PeerComponent {
	return newPeer(targetted, opts)
}

// PostboxPeer returns a peer with no fixed receiver: each Packet arriving
// on "inbox" says where it goes (Kamaelia's PostboxPeer, whose
// (host, port, data) is a Packet here).
//
// Boxes:
//
//	inbox   (in)  Packet (or *Packet): its Data as one datagram to its
//	              destination. Packets to a name are held, in order,
//	              while it is resolved; packets to other destinations go
//	              on meanwhile.
//	control (in)  as SimplePeer's; ProducerFinished also waits for the
//	              names being resolved, so that held packets go out.
//	outbox  (out) Datagram: each datagram received (Reply turns one into
//	              a Packet back to its sender).
//	errors  (out) error, as SimplePeer's.
//	signal  (out) the shutdown message that ended the peer.
func PostboxPeer(opts ...Option) *PeerComponent {
	return newPeer(postbox, opts)
}

func newPeer(k kind, opts []Option) *PeerComponent {
	p := &PeerComponent{kind: k, cfg: newConfig(opts)}
	inDoc := "[]byte or string: each the payload of one datagram to the receiver"
	var boxes []axon.Option
	var inbox []axon.BoxOption // a SimplePeer's and TargettedPeer's take []byte or string: no one type
	switch k {
	case targetted:
		inDoc = "[]byte or string: each the payload of one datagram to the current target"
		boxes = append(boxes, axon.WithInbox(TargetBox,
			"the new receiver: netip.AddrPort, \"host:port\", udp.HostPort or *net.UDPAddr"))
	case postbox:
		inDoc = "udp.Packet: a payload and where it goes"
		inbox = append(inbox, axon.Carries[Packet]())
	}
	if h := p.cfg.handler; h != nil {
		boxes = append(boxes, axon.WithInbox(h.box, h.doc))
	}
	boxes = append(boxes,
		axon.WithInbox(axon.InboxName, inDoc, inbox...),
		axon.WithOutbox(axon.OutboxName, "udp.Datagram: each datagram received", axon.Carries[Datagram]()),
		axon.WithOutbox(ErrorsBox, "*axon.BoxError around a *udp.Error: what could not be sent or received; the peer carries on", axon.Carries[error]()),
	)
	p.Component = axon.New(cmp.Or(p.cfg.name, k.String()), p.main, boxes...)
	p.reporter = axon.NewReporter(p.Component, ErrorsBox)
	if err := p.check(); err != nil {
		if p.cfg.conn != nil && p.cfg.closeConn {
			// The socket was handed over for good but never adopted:
			// close it here, as nothing else will.
			p.cfg.conn.Close()
		}
		p.fail(err)
		return p
	}
	if err := p.open(); err != nil {
		p.fail(err)
	}
	return p
}

// check refuses options that make no sense for the peer.
func (p *PeerComponent) check() error {
	cfg := &p.cfg
	switch {
	case cfg.optErr != nil:
		return p.errorf("control", "configure", "", fmt.Errorf("%w: %w", ErrConfig, cfg.optErr))
	case cfg.remoteErr != nil:
		return p.errorf("control", "configure", "", fmt.Errorf("%w: %w", ErrConfig, cfg.remoteErr))
	case cfg.connect && p.kind != simple:
		return p.errorf("control", "configure", "", fmt.Errorf("%w: Connect is for SimplePeer only", ErrConfig))
	case cfg.connect && cfg.remote.IsZero():
		return p.errorf("control", "configure", "", fmt.Errorf("%w: Connect needs Remote", ErrConfig))
	case p.kind == simple && cfg.remote.IsZero():
		return p.errorf("control", "configure", "", fmt.Errorf("%w: SimplePeer needs Remote (use PostboxPeer or TargettedPeer to choose receivers later)", ErrConfig))
	case p.kind == postbox && !cfg.remote.IsZero():
		return p.errorf("control", "configure", "", fmt.Errorf("%w: PostboxPeer takes no Remote: each Packet says where it goes", ErrConfig))
	}
	return nil
}

// Failed returns c as a peer that could not be made because of err: Err
// returns err, and c fails with it when started. It is for packages that
// build peers on sockets they prepare themselves and can fail before a
// peer exists; c should declare the boxes the real peer would have, so
// that a graph can still be wired to it. err should be shaped as a peer's
// own errors are, c.BoxError("socket", &udp.Error{Op: "bind", ...}).
func Failed(c *axon.Component, err error) *PeerComponent {
	p := &PeerComponent{Component: c}
	p.fail(err)
	return p
}

// fail records err so that the peer fails when started.
func (p *PeerComponent) fail(err error) {
	p.err = err
	p.FailOnStart(err)
}

// open binds (or adopts) the socket and applies the socket options.
func (p *PeerComponent) open() error {
	cfg := &p.cfg
	if cfg.conn != nil {
		p.pc, p.owned = cfg.conn, cfg.closeConn
		p.uc, _ = cfg.conn.(*net.UDPConn)
	} else {
		laddr, err := net.ResolveUDPAddr("udp", cfg.local)
		if err != nil {
			return p.errorf("socket", "bind", cfg.local, fmt.Errorf("%w: %w", ErrBind, err))
		}
		uc, err := net.ListenUDP("udp", laddr)
		if err != nil {
			return p.errorf("socket", "bind", cfg.local, fmt.Errorf("%w: %w", ErrBind, sock.UnwrapOp(err)))
		}
		p.pc, p.uc, p.owned = uc, uc, true
	}
	if ua, ok := p.pc.LocalAddr().(*net.UDPAddr); ok {
		p.local = ua.AddrPort()
	}
	if err := p.setOptions(); err != nil {
		p.Close()
		return p.errorf("socket", "configure", p.local.String(), fmt.Errorf("%w: %w", ErrConfig, err))
	}
	return nil
}

// setOptions applies buffer sizes and broadcast.
func (p *PeerComponent) setOptions() error {
	cfg := &p.cfg
	if p.uc == nil {
		if cfg.rbuf > 0 || cfg.wbuf > 0 || cfg.broadcast {
			return fmt.Errorf("ReadBuffer, WriteBuffer and Broadcast need a *net.UDPConn, not %T", p.pc)
		}
		return nil
	}
	if cfg.rbuf > 0 {
		if err := p.uc.SetReadBuffer(cfg.rbuf); err != nil {
			return err
		}
	}
	if cfg.wbuf > 0 {
		if err := p.uc.SetWriteBuffer(cfg.wbuf); err != nil {
			return err
		}
	}
	switch {
	case cfg.broadcast:
		return setBroadcast(p.uc, true)
	case cfg.conn == nil:
		// Go allows broadcast on every UDP socket it makes; ours send
		// to broadcast addresses only when asked to.
		return setBroadcast(p.uc, false)
	}
	return nil
}

// LocalAddr returns the address the socket is bound to (Twisted's
// getHost), with the port chosen if port 0 was asked for. It is the zero
// AddrPort if binding failed.
func (p *PeerComponent) LocalAddr() netip.AddrPort { return p.local }

// Err returns the error that stopped the peer being made (binding, or bad
// options), which it also fails with when started; nil if it was made.
func (p *PeerComponent) Err() error { return p.err }

// Close closes the peer's socket, for a peer that will never run; a peer
// that runs closes it when it ends. An adopted socket (Conn) is not
// closed. Close may be called more than once.
func (p *PeerComponent) Close() error {
	p.closeOnce.Do(func() {
		if p.owned && p.pc != nil {
			p.closeErr = p.pc.Close()
		}
	})
	return p.closeErr
}

// Stats returns the peer's counts so far. It may be called at any time.
func (p *PeerComponent) Stats() Stats {
	return Stats{
		Received:      p.received.Load(),
		BytesReceived: p.bytesIn.Load(),
		Sent:          p.sent.Load(),
		BytesSent:     p.bytesOut.Load(),
		Errors:        p.errs.Load(),
	}
}

// errorf makes the error a peer fails with: an *Error in an
// *axon.BoxError naming the peer and box.
func (p *PeerComponent) errorf(box, op, addr string, err error) *axon.BoxError {
	return p.BoxError(box, &Error{Op: op, Addr: addr, Err: err})
}

// main is every peer's main loop: it starts the receiver, then sends what
// arrives until told to stop.
func (p *PeerComponent) main(ctx context.Context, c *axon.Component) error {
	rctx, cancel := context.WithCancel(ctx)
	received := make(chan struct{})
	go func() {
		defer close(received)
		p.receive(rctx)
	}()
	var once sync.Once
	// stop ends the receiver. A graceful stop (after ProducerFinished) lets
	// it deliver what it has already read before the socket closes; any
	// other stop cancels its delivery too.
	stop := func(graceful bool) {
		once.Do(func() {
			if !graceful {
				cancel()
			}
			p.stopReceiver()
			<-received
			cancel()
			if !p.owned {
				// The adopted socket goes back to its owner as it came.
				_ = p.pc.SetReadDeadline(time.Time{})
			}
		})
	}
	defer stop(false)
	s := newSender(ctx, p, stop)
	defer s.res.close()
	return s.run(ctx)
}

// stopReceiver makes the receiver's blocked read return: the socket is
// closed, or an adopted one given a read deadline in the past.
func (p *PeerComponent) stopReceiver() {
	p.stopping.Store(true)
	if p.owned {
		p.Close()
		return
	}
	_ = p.pc.SetReadDeadline(time.Unix(1, 0))
}

// report sends e, about box, on "errors" without waiting, or logs it
// (see axon.Reporter), and counts it.
func (p *PeerComponent) report(box string, e *Error) {
	p.errs.Add(1)
	p.reporter.Report(p.BoxError(box, e))
}

// sendError classifies an error from writing a datagram.
func sendError(err error) error {
	err = sock.UnwrapOp(err)
	switch {
	case errors.Is(err, syscall.EMSGSIZE):
		return fmt.Errorf("%w: %w", ErrTooLong, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return fmt.Errorf("%w: %w", ErrSend, err)
}

// maxPayload is the most a datagram to addr can carry: 65535 less the
// UDP header and, for IPv4, the minimal IP header (IPv6's header is not
// counted in its payload length).
func maxPayload(addr netip.Addr) int {
	if addr.Is4() || addr.Is4In6() {
		return 65535 - 8 - 20
	}
	return 65535 - 8
}
