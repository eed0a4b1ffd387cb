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
func (p *BasicPeer) newReader() reader {
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
func (p *BasicPeer) receive(ctx context.Context) {
	r := p.newReader()
	out := p.Out(axon.OutboxName)
	failures := 0
	for {
		n, err := r.read()
		if err != nil {
			if p.stopping.Load() || ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			p.report(p.receiveError(err))
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
		if !p.handOn(ctx, r, n, out) {
			return
		}
	}
}

// handOn sends the n datagrams of r's last read on out, each with a
// payload of its own, and counts them. It reports false if out can take
// no more.
func (p *BasicPeer) handOn(ctx context.Context, r reader, n int, out *axon.Outbox) bool {
	var bytes uint64
	handed := 0
	defer func() {
		p.received.Add(uint64(handed))
		p.bytesIn.Add(bytes)
	}()
	for i := range n {
		b, from := r.at(i)
		d := Datagram{Data: make([]byte, len(b)), From: sock.Unmapped(from)}
		copy(d.Data, b)
		if err := out.Send(ctx, d); err != nil {
			if errors.Is(err, axon.ErrReceiverDone) {
				// Nothing will take what arrives from now on: say so,
				// once, and leave it to the kernel to drop.
				e := p.errorf(axon.OutboxName, "receive", d.From.String(),
					fmt.Errorf("%w: %w", ErrReceive, err))
				e.Dropped = n - i
				p.report(e)
			}
			return false
		}
		handed++
		bytes += uint64(len(b))
	}
	return true
}

// receiveError turns an error from reading into an *Error.
func (p *BasicPeer) receiveError(err error) *Error {
	err = sock.UnwrapOp(err)
	addr := ""
	if r := p.remote.Load(); r != nil {
		addr = r.String()
	}
	e := p.errorf("socket", "receive", addr, nil)
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
