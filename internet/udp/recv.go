package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internal/slab"
	"github.com/kamaelia-go/kamaelia/internet/internal/sock"
)

// maxDatagram is the largest UDP payload there can be, plus one byte, so
// that a buffer this size never truncates.
const maxDatagram = 65536

// reader reads datagrams into buffers it reuses.
type reader interface {
	// read waits for at least one datagram and returns how many it read
	// (at least one when err is nil).
	read() (int, error)
	// at returns datagram i of the last read: its payload, valid until
	// the next read, and its sender.
	at(i int) ([]byte, netip.AddrPort)
}

// newReader picks the fastest way to read the peer's socket.
func (p *PeerComponent) newReader() reader {
	if p.uc == nil {
		return &packetReader{pc: p.pc, buf: make([]byte, maxDatagram)}
	}
	if p.cfg.batch > 1 {
		if r, err := newBatchReader(p.uc, p.cfg.batch); err == nil {
			return r
		}
	}
	return &udpReader{uc: p.uc, buf: make([]byte, maxDatagram)}
}

// receive is the peer's receiving goroutine: each datagram read goes on
// "outbox" as a Datagram with a payload of its own. It returns when the
// socket is closed (or, if adopted, its read deadline passes) on purpose,
// when ctx ends, or when what "outbox" leads to has ended.
func (p *PeerComponent) receive(ctx context.Context) {
	r := p.newReader()
	h := handOff{p: p, out: p.Out(axon.OutboxName)}
	h.send = h.sendAll // made once, so that each read does not make it again
	failures := 0
	for {
		n, err := r.read()
		if err != nil {
			if p.stopping.Load() || ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			p.report("socket", p.receiveError(err))
			// A socket that keeps failing for some other reason than
			// ICMP news is not read flat out.
			if failures++; failures > 1 && !errors.Is(err, syscall.ECONNREFUSED) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(min(time.Duration(failures)*10*time.Millisecond, time.Second)):
				}
			}
			continue
		}
		failures = 0
		if !h.handOn(ctx, r, n) {
			return
		}
	}
}

// handOff hands the datagrams of each read on, reusing its scratch space
// from one read to the next.
type handOff struct {
	p     *PeerComponent
	out   *axon.Outbox
	send  func(ctx context.Context) error // sendAll
	data  [][]byte                        // the payloads of the read being handed on
	froms []netip.AddrPort                // and their senders
}

// handOn sends the n datagrams of r's last read on "outbox", each with a
// payload of its own, as one crossing, and counts them. It reports false
// if the outbox can take no more.
func (h *handOff) handOn(ctx context.Context, r reader, n int) bool {
	p := h.p
	for i := range n {
		b, from := r.at(i)
		h.data = append(h.data, b)
		h.froms = append(h.froms, sock.Unmapped(from))
	}
	// The next read overwrites the payloads: each gets a copy of its own,
	// those read together sharing allocations of at most slab.Size bytes,
	// so that a receiver keeping one keeps little else alive.
	h.data = slab.Join(h.data[:0], h.data, 1)
	// Only this goroutine sends on "outbox", so what its count gained is
	// what reached the receiver, however the sends were held and put.
	before := h.out.Sent()
	var err error
	if n == 1 {
		// A lone datagram, as an idle peer reads them: nothing to hold.
		err = h.out.Send(ctx, Datagram{Data: h.data[0], From: h.froms[0]})
	} else {
		err = p.Batch(ctx, h.send)
	}
	handed := int(h.out.Sent() - before)
	var size uint64
	for _, b := range h.data[:handed] {
		size += uint64(len(b))
	}
	p.received.Add(uint64(handed))
	p.bytesIn.Add(size)
	from := netip.AddrPort{}
	if handed < n {
		from = h.froms[handed]
	}
	clear(h.data) // the payloads are the receiver's now
	h.data, h.froms = h.data[:0], h.froms[:0]
	if err == nil {
		return true
	}
	if errors.Is(err, axon.ErrReceiverDone) {
		// Nothing will take what arrives from now on: say so, once, and
		// leave it to the kernel to drop.
		p.report(axon.OutboxName, &Error{Op: "receive", Addr: from.String(), Dropped: n - handed,
			Err: fmt.Errorf("%w: %w", ErrReceive, err)})
	}
	return false
}

// sendAll sends the datagrams in h.data and h.froms on "outbox", in order,
// with ctx, the context of a Batch.
func (h *handOff) sendAll(ctx context.Context) error {
	for i, b := range h.data {
		if err := h.out.Send(ctx, Datagram{Data: b, From: h.froms[i]}); err != nil {
			return err
		}
	}
	return nil
}

// receiveError turns an error from reading into an *Error.
func (p *PeerComponent) receiveError(err error) *Error {
	err = sock.UnwrapOp(err)
	addr := ""
	if r := p.remote.Load(); r != nil {
		addr = r.String()
	}
	e := &Error{Op: "receive", Addr: addr}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Err = fmt.Errorf("%w: %w", ErrRefused, err)
	default:
		e.Err = fmt.Errorf("%w: %w", ErrReceive, err)
	}
	return e
}

// udpReader reads one datagram at a time from a *net.UDPConn, without
// allocating.
type udpReader struct {
	uc   *net.UDPConn
	buf  []byte
	n    int
	from netip.AddrPort
}

func (r *udpReader) read() (int, error) {
	n, from, err := r.uc.ReadFromUDPAddrPort(r.buf)
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, from
	return 1, nil
}

func (r *udpReader) at(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }

// packetReader reads one datagram at a time from any net.PacketConn.
type packetReader struct {
	pc   net.PacketConn
	buf  []byte
	n    int
	from netip.AddrPort
}

func (r *packetReader) read() (int, error) {
	n, addr, err := r.pc.ReadFrom(r.buf)
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, sock.AddrPort(addr)
	return 1, nil
}

func (r *packetReader) at(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }
