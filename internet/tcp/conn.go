package tcp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// Box names the components add to axon's defaults.
const (
	ErrorsBox = axon.ErrorsName // every component's outbox for errors, each around an *Error
	EventsBox = "events"        // Server's and SingleServer's outbox for Event
)

// Connection is a TCP connection as a component: what arrives on "inbox"
// is written to the socket, in order, and what the socket gives is sent on
// "outbox". Client makes one that connects when it starts; Wrap makes one
// around a connection already open; Server and SingleServer make one for
// each connection they accept (Kamaelia's ConnectedSocketAdapter).
//
// Boxes:
//
//	inbox   (in)  []byte or string: written to the socket, in order;
//	              what is queued is written together, with one system
//	              call. A message of any other type is reported on
//	              "errors" and skipped. A write blocks while the peer is
//	              not reading (TCP flow control), and the inbox then
//	              fills, so a slow peer holds its producer back.
//	control (in)  ProducerFinished: what is queued in "inbox" is written,
//	              the sending half of the connection is closed (the peer
//	              reads its end), and the connection keeps reading until
//	              the peer closes its side; then it ends. The Reason it
//	              carries, if any, travels on to "signal".
//	              ShutdownMicroprocess: the socket is closed at once, the
//	              message passed on, and the connection ends.
//	outbox  (out) []byte: each chunk the socket gave (at most ReadChunk
//	              bytes), a fresh slice the receiver owns. Reading waits
//	              while the receiver's inbox is full, so a slow receiver
//	              slows the peer down (TCP flow control) and nothing piles
//	              up in between. Reading also waits while "outbox" leads
//	              nowhere, as every send in axon does: link it (to a sink
//	              that drops, if the replies do not matter), or a Client
//	              told to finish waits there for as long as the peer
//	              sends. If the receiver has ended, what is read is
//	              thrown away, counted and reported on "errors" when the
//	              connection ends, and reading goes on until the peer
//	              closes (at most 5 s after our half-close): closing with
//	              unread bytes would reset the connection and lose the
//	              end of what we sent.
//	errors  (out) error (an *axon.BoxError around an *Error): a message
//	              of the wrong type; a write that failed after "signal"
//	              had already been sent. Sent without waiting; logged (a
//	              few a second at most) when "errors" leads nowhere or is
//	              full.
//	signal  (out) one axon.ProducerFinished, sent when the peer has
//	              finished sending: its Reason is nil when the peer closed
//	              its side in an orderly way (or the Reason of the
//	              ProducerFinished that finished this side, if it had
//	              one), and otherwise an error (an *Error in an
//	              *axon.BoxError) wrapping ErrReset, ErrTimeout,
//	              ErrReceive, ErrSend ... that names the address. If the
//	              connection is shut down first, the ShutdownMicroprocess
//	              is passed on instead.
//
// The peer closing its side (end of file) does not end the connection at
// once: the peer may be waiting for an answer (a half-close, as after
// "shutdown(SHUT_WR)"), so the ProducerFinished goes out on "signal" and
// the connection goes on writing what arrives on "inbox" until it is told
// to finish on "control". In a Server, the protocol handler is told by
// that ProducerFinished and tells the connection in turn when it passes
// it on. A write failure, a reset or a timeout ends the connection at
// once.
//
// LocalAddr and RemoteAddr give the connection's addresses once Ready is
// closed; Err says why a Client could not connect.
type Connection struct {
	*axon.Component
	cfg  config
	addr string // what a Client dials; "" for a wrapped connection

	ready     chan struct{} // closed once connected, or once connecting failed
	readyOnce sync.Once

	finishCh   chan struct{} // closed by finishInput
	finishOnce sync.Once
	eofFinish  bool   // finish as soon as the peer has (SingleServer)
	beforeEnd  func() // run just before the main loop ends (SingleServer)

	mu            sync.Mutex // guards what follows
	nc            net.Conn
	local, remote netip.AddrPort
	connErr       error // why connecting failed
	reason        error // why the connection ended, once it has
	closed        bool  // nc has been closed (or was never opened)

	rep *axon.Reporter // reports on "errors"
}

// Client returns a component that connects to addr ("host:port", a name
// or an IP literal, IPv6 bracketed) when it starts (Kamaelia's TCPClient),
// and is then a Connection to it; see Connection for its boxes.
//
//	axon.Run(ctx, chassis.Pipeline(
//		util.ConsoleReader(os.Stdin),
//		tcp.Client("example.com:7"),
//		util.ConsoleEchoer(os.Stdout),
//	))
//
// Connecting is given DialTimeout (10 s by default) and the component's
// context. If it fails, the Client sends a ProducerFinished whose Reason
// is an *Error (in an *axon.BoxError) naming the address and wrapping
// ErrRefused (and syscall.ECONNREFUSED), ErrTimeout, ErrResolve or
// ErrConnect on "signal", and then fails with that same error: nothing
// it was built for can happen, so, as with a UDP peer that cannot bind,
// the graph it is in ends and axon.Run returns the error (a
// ShutdownMicroprocess or a cancelled context while connecting is not a
// failure). Ready is closed when connecting succeeds or fails; Err then
// says which.
func Client(addr string, opts ...Option) *Connection {
	k := newConnection("Client", newConfig(opts))
	k.addr = addr
	var err *axon.BoxError
	if _, _, serr := net.SplitHostPort(addr); serr != nil {
		err = k.errorf("socket", "connect", addr, fmt.Errorf("%w: want host:port: %w", ErrConfig, serr))
	} else if oerr := k.cfg.Refuse("Client", clientOptions...); oerr != nil {
		err = k.errorf("socket", "configure", addr, oerr)
	}
	if err != nil {
		k.setReady(nil, err)
		k.FailOnStart(err)
	}
	return k
}

// Wrap returns a Connection around nc, a connection already open (from a
// net.Listener of your own, a net.Pipe, a TLS connection). The Connection
// owns nc from then on and closes it when it ends; one that will never
// run should be closed with Close.
func Wrap(nc net.Conn, opts ...Option) *Connection {
	cfg := newConfig(opts)
	if err := cfg.Refuse("Connection", connOptions...); err != nil {
		nc.Close() // the Connection's, and it will not run
		k := newConnection("Connection", cfg)
		e := k.errorf("socket", "configure", nc.RemoteAddr().String(), err)
		k.setReady(nil, e)
		k.FailOnStart(e)
		return k
	}
	return wrap(nc, cfg)
}

// wrap is Wrap with the options already applied.
func wrap(nc net.Conn, cfg config) *Connection {
	k := newConnection("Connection", cfg)
	k.cfg.tune(nc)
	k.setReady(nc, nil)
	return k
}

// newConnection makes a Connection configured by cfg, named cfg.name or,
// if that is empty, name.
func newConnection(name string, cfg config) *Connection {
	k := &Connection{cfg: cfg, ready: make(chan struct{}), finishCh: make(chan struct{})}
	k.Component = axon.New(cmp.Or(cfg.name, name), k.main,
		axon.WithInbox(axon.InboxName, "[]byte or string: written to the socket, in order"),
		axon.WithOutbox(axon.OutboxName, "[]byte: each chunk read from the socket", axon.Carries[[]byte]()),
		axon.WithOutbox(ErrorsBox, "*tcp.Error (in an *axon.BoxError): messages that could not be written; the connection carries on", axon.Carries[error]()),
		axon.WithOutbox(axon.SignalName, "ProducerFinished when the peer has finished sending, with the Reason if it was not an orderly close"),
	)
	k.rep = axon.NewReporter(k.Component, ErrorsBox)
	return k
}

// Ready returns a channel closed once the connection is open, or once
// connecting has failed (Err then returns why). A Connection made by Wrap
// is ready at once.
func (k *Connection) Ready() <-chan struct{} { return k.ready }

// Err returns why a Client could not connect, once Ready is closed; nil if
// it connected (or has not finished trying).
func (k *Connection) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.connErr
}

// LocalAddr returns the connection's local address, once Ready is closed;
// the zero AddrPort before that, or if connecting failed. An IPv4 address
// is given as such, never as an IPv4-mapped IPv6 one.
func (k *Connection) LocalAddr() netip.AddrPort {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.local
}

// RemoteAddr returns the peer's address, once Ready is closed; the zero
// AddrPort before that, or if connecting failed.
func (k *Connection) RemoteAddr() netip.AddrPort {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.remote
}

// Close closes the socket of a Connection that will never run; one that
// runs closes it when it ends. It may be called more than once.
func (k *Connection) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || k.nc == nil {
		return nil
	}
	k.closed = true
	return k.nc.Close()
}

// setReady records the outcome of connecting and closes Ready.
func (k *Connection) setReady(nc net.Conn, err error) {
	k.mu.Lock()
	if nc != nil {
		k.nc = nc
		k.local, k.remote = sock.UnmappedAddrPort(nc.LocalAddr()), sock.UnmappedAddrPort(nc.RemoteAddr())
	}
	k.connErr = err
	k.mu.Unlock()
	k.readyOnce.Do(func() { close(k.ready) })
}

// endReason returns why the connection ended (nil for an orderly close).
func (k *Connection) endReason() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reason
}

func (k *Connection) setReason(err error) {
	k.mu.Lock()
	k.reason = err
	k.mu.Unlock()
}

// finishInput makes the connection act as if ProducerFinished had arrived
// on "control": a Server uses it when a protocol handler ends without
// passing its shutdown message on.
func (k *Connection) finishInput() { k.finishOnce.Do(func() { close(k.finishCh) }) }

// peer names the remote end in errors.
func (k *Connection) peer() string {
	if r := k.RemoteAddr(); r.IsValid() {
		return r.String()
	}
	return k.addr
}

// errorf makes an *Error about op and addr, in an *axon.BoxError naming
// the connection and box.
func (k *Connection) errorf(box, op, addr string, err error) *axon.BoxError {
	return k.BoxError(box, &Error{Op: op, Addr: addr, Err: err})
}

// dial connects to k.addr.
func (k *Connection) dial(ctx context.Context) (net.Conn, *axon.BoxError) {
	var d net.Dialer
	if k.cfg.dialer != nil {
		d = *k.cfg.dialer
	}
	if k.cfg.keepAlive != 0 {
		d.KeepAlive = k.cfg.keepAlive
	}
	dctx := ctx
	if k.cfg.dialTimeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, k.cfg.dialTimeout)
		defer cancel()
	}
	nc, err := d.DialContext(dctx, "tcp", k.addr)
	if err != nil {
		if ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
			err = both(ErrTimeout, fmt.Errorf("no connection after %v", k.cfg.dialTimeout))
		} else {
			err = classify(err, ErrConnect)
		}
		return nil, k.errorf("socket", "connect", k.addr, err)
	}
	k.cfg.tune(nc)
	return nc, nil
}

// main connects (a Client) and then serves the connection.
func (k *Connection) main(ctx context.Context, c *axon.Component) error {
	k.mu.Lock()
	nc := k.nc
	k.mu.Unlock()
	if nc == nil {
		var err *axon.BoxError
		nc, err = k.dial(ctx)
		if err != nil {
			k.setReady(nil, err)
			if ctx.Err() != nil {
				k.setReason(both(ErrClosed, ctx.Err()))
				return ctx.Err()
			}
			k.setReason(err)
			if perr := c.PassOn(ctx, axon.ProducerFinished{From: c.Ref(), Reason: err}); perr != nil {
				return perr
			}
			return err
		}
		k.setReady(nc, nil)
	}
	s := &session{k: k, c: c, nc: nc, in: c.Reader(axon.InboxName), readDone: make(chan error, 1), discarding: make(chan struct{})}
	return s.run(ctx)
}

// session is one run of a connection's main loop.
type session struct {
	k        *Connection
	c        *axon.Component
	nc       net.Conn
	in       *axon.Reader // "inbox", read by the main loop in batches
	bufs     [][]byte     // what one write writes, kept for the next
	nb       net.Buffers  // bufs as WriteTo consumes it
	readDone chan error   // the reader's last word: nil for end of file

	// Once nothing takes what is read ("outbox" leads to a component
	// that has ended), the reader goes on
	// reading and throws it away, counting it: closing a socket with
	// unread bytes makes the kernel reset the connection and drop what
	// we had not yet sent.
	discarded  atomic.Int64
	discarding chan struct{} // closed by the reader when it starts throwing bytes away

	readerDone bool  // the reader has returned (and readDone been taken)
	signalled  bool  // the ProducerFinished has gone out on "signal"
	upstream   error // the Reason of the ProducerFinished that finished our input
}

// drainWait bounds how long a connection that has half-closed waits for
// the peer to close its side while throwing away what the peer sends.
const drainWait = 5 * time.Second

func (s *session) run(ctx context.Context) error {
	rctx, rcancel := context.WithCancel(ctx)
	go s.read(rctx)
	// A ShutdownMicroprocess (or any end of ctx) closes the socket, which
	// cuts short a write or read blocked on it.
	stop := context.AfterFunc(ctx, func() { s.k.Close() })
	defer func() {
		stop()
		rcancel()
		s.k.Close()
		if !s.readerDone {
			<-s.readDone
		}
	}()
	in, ctl := s.in.C(), s.c.In(axon.ControlName)
	for {
		select {
		case e := <-in:
			if err := s.writeQueued(ctx, s.in.Open(e)); err != nil {
				return s.broken(ctx, err)
			}
		case m := <-ctl:
			switch {
			case axon.IsProducerFinished(m):
				s.upstream = reasonOf(m)
				return s.finish(ctx)
			case axon.IsShutdownMicroprocess(m):
				return s.cancelled(ctx, m)
			default:
				s.c.Logger().Warn("ignored message on control", "component", s.c.String(), "box", axon.ControlName, "type", fmt.Sprintf("%T", m))
			}
		case <-s.k.finishCh:
			return s.finish(ctx)
		case err := <-s.readDone:
			s.readerDone = true
			switch {
			case err == nil:
				if err := s.signal(ctx, nil); err != nil {
					return err
				}
				if s.k.eofFinish {
					return s.finish(ctx)
				}
			default:
				return s.end(ctx, s.readError(err))
			}
		case <-ctx.Done():
			return s.cancelled(ctx, nil)
		}
	}
}

// reasonOf returns the Reason a ProducerFinished carries.
func reasonOf(m any) error {
	switch v := m.(type) {
	case axon.ProducerFinished:
		return v.Reason
	case *axon.ProducerFinished:
		if v != nil {
			return v.Reason
		}
	}
	return nil
}

// read reads the socket until it fails or ends, sending each chunk on
// "outbox", and reports how it stopped on readDone. Once nothing takes
// what it reads it reads on, throwing the bytes away.
func (s *session) read(ctx context.Context) {
	out := s.c.Out(axon.OutboxName)
	buf := make([]byte, s.k.cfg.readChunk)
	discard := false
	for {
		n, err := s.nc.Read(buf)
		if n > 0 {
			if discard {
				s.discarded.Add(int64(n))
			} else if serr := out.Send(ctx, bytes.Clone(buf[:n])); serr != nil {
				if ctx.Err() != nil {
					s.readDone <- ctx.Err()
					return
				}
				// The receiver has ended.
				s.discarded.Add(int64(n))
				discard = true
				close(s.discarding)
			}
		}
		if err == io.EOF {
			s.readDone <- nil
			return
		}
		if err != nil {
			s.readDone <- err
			return
		}
	}
}

// Limits on what the writer takes from "inbox" for one write: whatever
// is queued when it comes to write goes to the socket in one system call
// (writev), up to this many bytes or messages. They bound what it holds
// beyond the inbox's own capacity.
const (
	maxGatherBytes = 256 << 10
	maxGatherMsgs  = 1024
)

// writeQueued writes msgs, the messages of one element taken from
// "inbox", and those of the elements queued behind it, within the
// limits above, with one write. A message of the wrong type is reported
// and skipped; the error returned is the socket's.
func (s *session) writeQueued(ctx context.Context, msgs []any) error {
	bufs, size, taken := s.bufs[:0], 0, 0
	for {
		for _, m := range msgs {
			if b := s.bytesOf(m); len(b) > 0 {
				bufs = append(bufs, b)
				size += len(b)
			}
		}
		taken += len(msgs)
		if size >= maxGatherBytes || taken >= maxGatherMsgs {
			break
		}
		if msgs = s.in.Next(); msgs == nil {
			break
		}
	}
	var err error
	switch len(bufs) {
	case 0:
	case 1:
		_, err = s.nc.Write(bufs[0])
	default:
		// WriteTo moves along the net.Buffers it is given: that is a
		// copy of bufs, which is kept for the next write. It lives in the
		// session, as a local it would escape: an allocation a write.
		s.nb = bufs
		_, err = s.nb.WriteTo(s.nc)
		s.nb = nil
	}
	clear(bufs) // the bytes are the senders': keep none of them alive
	s.bufs = bufs[:0]
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.k.errorf(axon.InboxName, "write", s.k.peer(), classify(err, ErrSend))
	}
	return nil
}

// bytesOf returns the bytes of m, a message from "inbox", to write. A
// message of the wrong type is reported, and nothing is written for it.
func (s *session) bytesOf(m any) []byte {
	switch v := m.(type) {
	case []byte:
		return v
	case string:
		// A view of the string's bytes, not a copy: writing neither
		// changes nor keeps them.
		return unsafe.Slice(unsafe.StringData(v), len(v))
	}
	s.k.rep.Report(s.k.errorf(axon.InboxName, "write", s.k.peer(), fmt.Errorf("%w: %T (want []byte or string)", ErrBadMessage, m)))
	return nil
}

// readError makes an error of what stopped the reader.
func (s *session) readError(err error) error {
	return s.k.errorf("socket", "read", s.k.peer(), classify(err, ErrReceive))
}

// signal sends the connection's one ProducerFinished on "signal".
func (s *session) signal(ctx context.Context, reason error) error {
	if s.signalled {
		return nil
	}
	s.signalled = true
	return s.c.PassOn(ctx, axon.ProducerFinished{From: s.c.Ref(), Reason: reason})
}

// finish writes what is queued, closes the sending half, waits for the
// peer to close its side, and ends.
func (s *session) finish(ctx context.Context) error {
	for {
		if ctx.Err() != nil {
			return s.cancelled(ctx, nil)
		}
		msgs := s.in.Next()
		if msgs == nil {
			break
		}
		if err := s.writeQueued(ctx, msgs); err != nil {
			return s.broken(ctx, err)
		}
	}
	cw, ok := s.nc.(interface{ CloseWrite() error })
	if !ok || s.readerDone {
		// Nothing more will be read, or the socket cannot be half-closed:
		// close it all.
		return s.end(ctx, s.upstream)
	}
	if err := cw.CloseWrite(); err != nil {
		if ctx.Err() != nil {
			return s.cancelled(ctx, nil)
		}
		return s.end(ctx, s.k.errorf("socket", "close", s.k.peer(), classify(err, ErrSend)))
	}
	ctl, discarding := s.c.In(axon.ControlName), s.discarding
	var limit <-chan time.Time
	for {
		select {
		case err := <-s.readDone:
			s.readerDone = true
			if err == nil {
				return s.end(ctx, s.upstream)
			}
			return s.end(ctx, s.readError(err))
		case <-discarding:
			// While throwing bytes away, wait only so long for the peer.
			t := time.NewTimer(drainWait)
			defer t.Stop()
			limit, discarding = t.C, nil
		case <-limit:
			return s.end(ctx, s.upstream)
		case m := <-ctl:
			if axon.IsShutdownMicroprocess(m) {
				return s.cancelled(ctx, m)
			}
		case <-ctx.Done():
			return s.cancelled(ctx, nil)
		}
	}
}

// broken ends the connection after a write failed.
func (s *session) broken(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return s.cancelled(ctx, nil)
	}
	var e *axon.BoxError
	if s.signalled && errors.As(err, &e) {
		s.k.rep.Report(e)
	}
	return s.end(ctx, err)
}

// end closes the socket, records reason, and sends the ProducerFinished on
// "signal" if it has not gone yet.
func (s *session) end(ctx context.Context, reason error) error {
	s.beforeEnd()
	s.k.setReason(reason)
	s.k.Close()
	if n := s.discarded.Load(); n > 0 {
		s.k.rep.Report(s.k.errorf(axon.OutboxName, "receive", s.k.peer(),
			fmt.Errorf("%w: %d bytes from the peer thrown away: nothing was taking them", ErrReceive, n)))
	}
	return s.signal(ctx, reason)
}

// beforeEnd runs the Connection's hook for the moment before it ends,
// if it has one.
func (s *session) beforeEnd() {
	if f := s.k.beforeEnd; f != nil {
		f()
	}
}

// cancelled ends the connection because it was shut down: by msg, a
// ShutdownMicroprocess taken from "control", which is passed on unless
// "signal" has been sent already; or, with msg nil, by the end of ctx
// (the runner passes on the ShutdownMicroprocess that ended it, if one
// did).
func (s *session) cancelled(ctx context.Context, msg any) error {
	s.beforeEnd()
	s.k.setReason(s.k.errorf("socket", "close", s.k.peer(), ErrClosed))
	s.k.Close()
	if msg != nil && !s.signalled {
		s.signalled = true
		_ = s.c.PassOn(ctx, msg) // if this fails, the runner passes it on
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}
