package udp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// retryAfter is how long a peer whose receiver's name did not resolve
// waits before looking it up again; payloads arriving meanwhile are
// reported and dropped.
const retryAfter = time.Second

// sender is the state of a peer's main loop: where payloads go, and the
// names being resolved.
type sender struct {
	p    *PeerComponent
	c    *axon.Component
	stop func(graceful bool)
	res  *resolver
	box  string // the box a receiver's errors are reported against

	in       *axon.Reader // "inbox", read in batches
	w        writer       // sends the payloads taken from it
	ctl, tgt <-chan any
	extra    <-chan any // the Handle box, if any

	// SimplePeer and TargettedPeer.
	target     Target         // the receiver as given
	dst        netip.AddrPort // its address, once resolved
	refresh    *time.Timer    // when a resolved name is looked up again
	gen        uint64         // the lookup wanted, when waiting
	waiting    bool           // dst is not known yet: hold "inbox"
	refreshing bool           // looking the name up again, still sending
	failed     *Error         // the receiver's name did not resolve
	retryAt    time.Time
	connected  bool

	// PostboxPeer: payloads waiting for their names, in arrival order.
	held  map[string][][]byte
	nheld int
}

func newSender(ctx context.Context, p *PeerComponent, stop func(bool)) *sender {
	s := &sender{
		p: p, c: p.Component, stop: stop,
		res: newResolver(ctx, &p.cfg, p.local),
		box: axon.InboxName,
		w:   p.newWriter(), ctl: p.In(axon.ControlName),
	}
	s.in = p.Reader(axon.InboxName)
	if h := p.cfg.handler; h != nil {
		s.extra = p.In(h.box)
	}
	switch p.kind {
	case targetted:
		s.tgt = p.In(TargetBox)
		s.box = TargetBox
	case postbox:
		s.held = make(map[string][][]byte)
	}
	return s
}

// run sends until told to stop. What it takes from "inbox" while more is
// waiting is queued in s.w, and goes out, many datagrams to a system call
// where the platform allows, once the queue is full or nothing more can
// be taken at once: before the loop waits, and before anything else that
// must come after it.
func (s *sender) run(ctx context.Context) error {
	if !s.p.cfg.remote.IsZero() {
		s.setTarget(s.p.cfg.remote)
	}
	for {
		// Control first, so that busy boxes never delay a shutdown; then
		// "target", so that a payload sent after a new target goes there.
		// Only this loop receives from these boxes, so a message counted
		// in one is there to take.
		if len(s.ctl) > 0 {
			if stop, err := s.control(ctx, <-s.ctl); stop || err != nil {
				return err
			}
			continue
		}
		if len(s.tgt) > 0 {
			s.newTarget(<-s.tgt)
			continue
		}
		if len(s.extra) > 0 {
			s.w.flush() // the handler may act on the socket
			s.handle(ctx, <-s.extra)
			continue
		}
		var in <-chan any
		if s.ready() {
			in = s.in.C()
			if len(in) > 0 && ctx.Err() == nil {
				// The busy path: payloads waiting, nothing else to do.
				s.data(s.in.Open(<-in))
				continue
			}
		}
		if s.w.queued() {
			// Nothing more to take at once: send what is queued, then
			// look at the boxes again, in order, since sending takes a
			// while and "target" may have news for the next payload.
			s.w.flush()
			continue
		}
		select {
		case msg := <-s.ctl:
			if stop, err := s.control(ctx, msg); stop || err != nil {
				return err
			}
		case e := <-in:
			s.data(s.in.Open(e))
		case msg := <-s.tgt:
			s.newTarget(msg)
		case msg := <-s.extra:
			s.handle(ctx, msg)
		case l := <-s.res.results:
			s.resolved(l)
		case <-s.refreshC():
			s.refreshDue()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ready reports whether a payload from "inbox" can be dealt with now. A
// receiver whose name failed to resolve is looked up again once
// retryAfter has passed.
func (s *sender) ready() bool {
	if s.p.kind == postbox {
		return s.nheld < s.p.cfg.pending
	}
	if s.failed != nil && !time.Now().Before(s.retryAt) {
		s.failed = nil
		s.lookup()
	}
	return !s.waiting && (s.dst.IsValid() || s.failed != nil)
}

// control acts on a message from "control". What is queued to send goes
// out first: it was taken from "inbox" before the message arrived.
func (s *sender) control(ctx context.Context, msg any) (stop bool, err error) {
	switch {
	case axon.IsProducerFinished(msg):
		err := s.drain(ctx)
		s.w.flush()
		if err != nil {
			return true, err
		}
		s.stop(true)
		return true, s.c.PassOn(ctx, msg)
	case axon.IsShutdownMicroprocess(msg):
		s.w.flush()
		s.stop(false)
		return true, s.c.PassOn(ctx, msg)
	}
	return s.c.Control(ctx, msg, nil) // logs and ignores it
}

// drain sends everything queued in "inbox", waiting for names being
// resolved, and what is held for them.
func (s *sender) drain(ctx context.Context) error {
	for {
		if s.waiting || s.nheld > 0 {
			s.w.flush()
			select {
			case l := <-s.res.results:
				s.resolved(l)
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		msgs := s.in.Next()
		if msgs == nil {
			return nil
		}
		if s.p.kind == targetted && s.target.IsZero() {
			s.p.report(axon.InboxName, &Error{Op: "send", Err: ErrNoTarget, Dropped: len(msgs) + s.in.Len()})
			return nil
		}
		s.data(msgs)
	}
}

// data sends the messages of one element of "inbox", in order.
func (s *sender) data(msgs []any) {
	for _, msg := range msgs {
		s.payload(msg)
	}
}

// payload sends one message from "inbox".
func (s *sender) payload(msg any) {
	if s.p.kind == postbox {
		s.packet(msg)
		return
	}
	b, ok := payload(msg)
	if !ok {
		s.p.report(axon.InboxName, &Error{Op: "send", Err: fmt.Errorf("%w: %T (want []byte or string)", ErrBadMessage, msg)})
		return
	}
	if s.failed != nil {
		e := *s.failed
		e.Op, e.Dropped = "send", 1
		s.p.report(axon.InboxName, &e)
		return
	}
	s.write(b, s.dst)
}

// packet sends one message from a PostboxPeer's "inbox".
func (s *sender) packet(msg any) {
	var pk Packet
	switch m := msg.(type) {
	case Packet:
		pk = m
	case *Packet:
		if m == nil {
			s.p.report(axon.InboxName, &Error{Op: "send", Err: fmt.Errorf("%w: nil *udp.Packet", ErrBadMessage)})
			return
		}
		pk = *m
	default:
		s.p.report(axon.InboxName, &Error{Op: "send", Err: fmt.Errorf("%w: %T (want udp.Packet)", ErrBadMessage, msg)})
		return
	}
	t, err := ParseTarget(pk.dest())
	if err != nil {
		s.p.report(axon.InboxName, &Error{Op: "send", Addr: pk.dest().String(), Dropped: 1, Err: err})
		return
	}
	if t.Addr.IsValid() {
		s.write(pk.Data, t.Addr)
		return
	}
	if q, ok := s.held[t.Host]; ok {
		// Behind the others waiting for the same name, in order.
		s.held[t.Host] = append(q, pk.Data)
		s.nheld++
		return
	}
	if addr, ok := s.res.cached(t.Host, time.Now()); ok {
		s.write(pk.Data, addr)
		return
	}
	s.held[t.Host] = [][]byte{pk.Data}
	s.nheld++
	s.res.start(t.Host, 0)
}

// handle passes a message from the Handle box to its function.
func (s *sender) handle(ctx context.Context, msg any) {
	h := s.p.cfg.handler
	if err := h.fn(ctx, msg); err != nil {
		s.p.report(h.box, &Error{Op: "handle", Err: err})
	}
}

// newTarget acts on a message from a TargettedPeer's "target".
func (s *sender) newTarget(msg any) {
	t, err := ParseTarget(msg)
	if err != nil {
		s.p.report(TargetBox, &Error{Op: "target", Err: err})
		return
	}
	s.setTarget(t)
}

// setTarget makes t the receiver, resolving it if it is a name.
func (s *sender) setTarget(t Target) {
	s.target, s.failed, s.refreshing = t, nil, false
	s.gen++ // answers to earlier lookups are no longer wanted
	if s.refresh != nil {
		s.refresh.Stop()
	}
	if t.Addr.IsValid() {
		s.dst, s.waiting = sock.Unmapped(t.Addr), false
		s.connect()
		return
	}
	if addr, ok := s.res.cached(t.Host, time.Now()); ok {
		s.dst, s.waiting = addr, false
		s.connect()
		s.refreshIn(s.p.cfg.cacheFor)
		return
	}
	s.lookup()
}

// refreshIn arranges for the receiver's name to be looked up again after
// d, while payloads keep going to its last address: names are not looked
// up on the way of every payload. A connected socket keeps its receiver.
func (s *sender) refreshIn(d time.Duration) {
	if s.target.Host == "" || s.connected || s.p.cfg.cacheFor <= 0 {
		return
	}
	if s.refresh == nil {
		s.refresh = time.NewTimer(d)
		return
	}
	s.refresh.Reset(d)
}

// refreshDue starts looking the receiver's name up again.
func (s *sender) refreshDue() {
	if s.target.Host == "" || s.waiting || s.refreshing || s.failed != nil {
		return
	}
	s.refreshing = true
	s.gen++
	s.res.start(s.target.Host, s.gen)
}

// refreshC is the channel on which refreshes fall due, nil if none is set.
func (s *sender) refreshC() <-chan time.Time {
	if s.refresh == nil {
		return nil
	}
	return s.refresh.C
}

// lookup starts resolving the receiver's name and holds "inbox" until the
// answer comes.
func (s *sender) lookup() {
	s.gen++
	s.dst, s.waiting = netip.AddrPort{}, true
	s.res.start(s.target.Host, s.gen)
}

// resolved acts on the answer to a lookup.
func (s *sender) resolved(l lookup) {
	now := time.Now()
	s.res.remember(l, now)
	if s.p.kind == postbox {
		q := s.held[l.hostport]
		delete(s.held, l.hostport)
		s.nheld -= len(q)
		if l.err != nil {
			s.p.report(axon.InboxName, &Error{Op: "resolve", Addr: l.hostport, Dropped: len(q), Err: l.err})
			return
		}
		for _, b := range q {
			s.write(b, l.addr)
		}
		return
	}
	if l.gen != s.gen {
		return // for a receiver since replaced
	}
	if s.refreshing {
		s.refreshing = false
		if l.err == nil {
			s.dst = l.addr
			s.refreshIn(s.p.cfg.cacheFor)
		} else {
			s.refreshIn(retryAfter) // keep the old address; try later
		}
		return
	}
	s.waiting = false
	if l.err != nil {
		s.failed = &Error{Op: "resolve", Addr: l.hostport, Err: l.err}
		s.retryAt = now.Add(retryAfter)
		s.p.report(s.box, s.failed)
		return
	}
	s.dst = l.addr
	s.connect()
	s.refreshIn(s.p.cfg.cacheFor)
}

// connect connects a SimplePeer's socket to its receiver, with Connect.
func (s *sender) connect() {
	if !s.p.cfg.connect || s.connected {
		return
	}
	s.w.flush() // what was queued before goes as it was addressed
	if err := connectSocket(s.p.uc, s.dst, s.p.local.Addr().Is4()); err != nil {
		s.p.report("socket", &Error{Op: "connect", Addr: s.dst.String(), Err: fmt.Errorf("%w: %w", ErrSend, err)})
		return
	}
	s.connected = true
	dst := s.dst // a copy: s.dst is the sender's own, and may change
	s.p.remote.Store(&dst)
}

// write queues b to be sent as one datagram to to, or reports at once
// that it is too long to be.
func (s *sender) write(b []byte, to netip.AddrPort) {
	p := s.p
	if n := maxPayload(to.Addr()); len(b) > n {
		p.report(axon.InboxName, &Error{Op: "send", Addr: to.String(), Dropped: 1,
			Err: fmt.Errorf("%w: %d bytes, the most is %d", ErrTooLong, len(b), n)})
		return
	}
	s.w.add(b, to, s.connected)
}

// writer sends datagrams for a peer's main loop, reporting each that
// could not be sent and counting those that were.
type writer interface {
	// add sends b to to, or queues it to be sent by a later add or
	// flush. On a connected socket to is only named in errors.
	add(b []byte, to netip.AddrPort, connected bool)
	// flush sends everything queued.
	flush()
	// queued reports whether anything is queued.
	queued() bool
}

// newWriter picks the fastest way to send on the peer's socket.
func (p *PeerComponent) newWriter() writer {
	if p.uc != nil {
		if w, err := newBatchWriter(p, maxWriteBatch); err == nil {
			return w
		}
	}
	return oneWriter{p}
}

// maxWriteBatch is the most datagrams sent with one system call.
const maxWriteBatch = 64

// oneWriter sends each datagram as it is added, with a system call of its
// own.
type oneWriter struct{ p *PeerComponent }

func (w oneWriter) add(b []byte, to netip.AddrPort, connected bool) {
	p := w.p
	var err error
	switch {
	case connected:
		_, err = p.uc.Write(b)
	case p.uc != nil:
		_, err = p.uc.WriteToUDPAddrPort(b, to)
	default:
		_, err = p.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	if err != nil {
		p.sendFailed(to, err)
		return
	}
	p.sent.Add(1)
	p.bytesOut.Add(uint64(len(b)))
}

func (oneWriter) flush() {}

func (oneWriter) queued() bool { return false }

// sendFailed reports a datagram to to that could not be sent because of
// err.
func (p *PeerComponent) sendFailed(to netip.AddrPort, err error) {
	p.report(axon.InboxName, &Error{Op: "send", Addr: to.String(), Dropped: 1, Err: sendError(err)})
}
