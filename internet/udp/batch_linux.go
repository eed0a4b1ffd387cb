//go:build linux && !386

package udp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
)

// errTruncated reports a datagram that did not fit its buffer. It cannot
// happen with the 64 KiB buffers the batch reader uses; it is checked so
// that a cut payload is never passed on as if it were whole.
var errTruncated = errors.New("datagram truncated")

const (
	// maxSlots caps the batch: the kernel reads at most UIO_MAXIOV (1024)
	// messages per recvmmsg whatever it is asked for.
	maxSlots = 1024
	// shrinkAfter is how many reads in a row, over at least quietFor,
	// must each fill at most a quarter of the buffers before half of them
	// are let go. Both must hold, so that traffic that comes and goes does
	// not make the reader drop and remake buffers over and over.
	shrinkAfter = 64
	quietFor    = time.Second
)

// mmsghdr is the kernel's struct mmsghdr: a msghdr followed by the
// length of the datagram received into it. Go pads the struct to the
// alignment of Msghdr as C does (64 bytes on 64-bit systems, 32 on
// 32-bit ones).
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
}

// batchReader reads datagrams from a UDP socket with recvmmsg, up to max
// in one system call, without allocating once it has grown.
//
// How many it asks for (want) follows the traffic. It starts at 1, and
// doubles, up to max, each time a read fills every slot asked for, since
// more may be waiting. When the socket was empty and the read, after
// waiting, got fewer than it asked for (or the one it asked for), traffic
// is light, and want drops to what came: an idle peer reads each lone
// datagram with recvmsg, which costs less than recvmmsg. When a read gets
// fewer without having waited, the queue is draining in time, and want
// is kept.
//
// Not on linux/386, whose package syscall has no SYS_RECVMSG (it goes
// through socketcall there); batch_other.go covers it.
//
// Memory: every slot has a 64 KiB buffer, so max slots cost max × 64 KiB.
// Buffers are made when want first reaches them, so a reader that was
// never busy has one. When shrinkAfter reads in a row, over quietFor or
// more, each fill at most a quarter of the buffers, half of them are let
// go to the garbage collector (and want is cut to what is left). A
// reader that stops receiving altogether keeps its buffers until it
// reads again. The message headers, iovecs and address buffers (about
// 110 bytes a slot) are allocated for max slots at once.
//
// Reads wait in Go's network poller: the system call is made with
// MSG_DONTWAIT from inside syscall.RawConn.Read, and when nothing is
// queued the poller parks the goroutine, honouring the connection's read
// deadline and Close.
type batchReader struct {
	conn   *net.UDPConn
	rc     syscall.RawConn
	recvFn func(fd uintptr) bool // r.recv, made once so that reads do not allocate
	max    int                   // most slots
	size   int                   // bytes in each slot's buffer

	bufs  [][]byte // one buffer per slot made; want <= len(bufs) <= max
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet6 // big enough for AF_INET and AF_INET6
	hdrs  []mmsghdr

	want int // datagrams to ask for in the next system call

	// Result of the last system call, set by recv.
	got    int
	errno  syscall.Errno
	waited bool // the socket had nothing queued at first

	// Slots of the last system call not yet returned by read: [next, end).
	next, end int
	// The slots the last read returned: [base, base+count).
	base, count int

	small      int           // reads in a row that filled at most a quarter of the buffers
	smallSince time.Time     // when the first of them was
	quiet      time.Duration // quietFor; tests change it

	// Last IPv6 scope id turned into a zone name, so that link-local
	// senders do not cost a lookup each.
	zoneID   uint32
	zoneName string
}

// newBatchReader returns a reader that reads up to n datagrams (at most
// 1024) from conn with one system call: recvmmsg, or recvmsg when it asks
// for one.
func newBatchReader(conn *net.UDPConn, n int) (reader, error) {
	r, err := newBatchReaderSize(conn, n, maxDatagram)
	if err != nil {
		return nil, err // not a nil *batchReader in a non-nil interface
	}
	return r, nil
}

// newBatchReaderSize is newBatchReader with buffers of size bytes, so that
// tests can provoke truncation.
func newBatchReaderSize(conn *net.UDPConn, n, size int) (*batchReader, error) {
	if conn == nil {
		return nil, fmt.Errorf("batch reader: %w", net.ErrClosed)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("batch reader: %w", err)
	}
	n = min(max(n, 1), maxSlots)
	r := &batchReader{
		conn:  conn,
		rc:    rc,
		max:   n,
		size:  size,
		quiet: quietFor,
		bufs:  make([][]byte, 0, n),
		iovs:  make([]syscall.Iovec, n),
		names: make([]syscall.RawSockaddrInet6, n),
		hdrs:  make([]mmsghdr, n),
	}
	r.recvFn = r.recv
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.Iovlen = 1
	}
	r.want = 1
	r.resize(1)
	return r, nil
}

// resize makes or lets go of buffers so that there are n.
func (r *batchReader) resize(n int) {
	for i := len(r.bufs); i < n; i++ {
		b := make([]byte, r.size)
		r.bufs = append(r.bufs, b)
		r.iovs[i].Base = &b[0]
		r.iovs[i].SetLen(len(b))
	}
	for i := n; i < len(r.bufs); i++ {
		r.bufs[i] = nil
		r.iovs[i] = syscall.Iovec{}
	}
	r.bufs = r.bufs[:n]
}

// read waits for at least one datagram and returns how many it read. A
// truncated datagram is reported as an error of its own, in its place
// among the others, which are returned by this read and the next.
func (r *batchReader) read() (int, error) {
	r.base, r.count = 0, 0
	for r.next >= r.end {
		n := r.want
		for i := range n {
			m := &r.hdrs[i]
			m.hdr.Namelen = uint32(unsafe.Sizeof(r.names[i]))
			m.hdr.Flags = 0
			m.len = 0
		}
		r.got, r.errno, r.waited = 0, 0, false
		if err := r.rc.Read(r.recvFn); err != nil {
			// Closed or past the deadline: the error wraps net.ErrClosed
			// or os.ErrDeadlineExceeded. Name it as a plain read would.
			var op *net.OpError
			if errors.As(err, &op) {
				op.Op = "read"
			}
			return 0, err
		}
		if r.errno != 0 {
			call := "recvmmsg"
			if n == 1 {
				call = "recvmsg"
			}
			return 0, r.opError(os.NewSyscallError(call, r.errno))
		}
		r.next, r.end = 0, r.got
		r.adapt(r.got, n, r.waited)
	}
	i := r.next
	if r.hdrs[i].hdr.Flags&syscall.MSG_TRUNC != 0 {
		r.next++
		from := r.addr(i)
		return 0, r.opError(fmt.Errorf("%w: a datagram from %v was longer than %d bytes", errTruncated, from, r.size))
	}
	j := i + 1
	for j < r.end && r.hdrs[j].hdr.Flags&syscall.MSG_TRUNC == 0 {
		j++
	}
	r.base, r.count, r.next = i, j-i, j
	return j - i, nil
}

// adapt sets want, and the buffers, after a system call that asked for n
// datagrams and got got, having waited or not (see batchReader). The
// buffers of the first got slots are kept.
func (r *batchReader) adapt(got, n int, waited bool) {
	switch {
	case waited && (got < n || n == 1):
		// The socket was empty, and what woke the reader was no more
		// than it asked for: light traffic.
		r.want = max(got, 1)
	case got >= n:
		r.want = min(2*n, r.max)
	}
	if r.want > len(r.bufs) {
		r.resize(r.want)
	}
	if got > len(r.bufs)/4 {
		r.small = 0
		return
	}
	if r.small++; r.small == 1 {
		r.smallSince = time.Now()
	}
	if r.small%shrinkAfter == 0 && time.Since(r.smallSince) >= r.quiet {
		r.small = 0
		keep := max(len(r.bufs)/2, 1)
		r.resize(keep)
		r.want = min(r.want, keep)
	}
}

// recv makes one non-blocking system call for up to want datagrams:
// recvmsg for one, recvmmsg for more. It returns false to have the poller
// wait when nothing is queued.
func (r *batchReader) recv(fd uintptr) bool {
	for {
		var n uintptr
		var e syscall.Errno
		if r.want == 1 {
			n, _, e = syscall.Syscall(syscall.SYS_RECVMSG, fd,
				uintptr(unsafe.Pointer(&r.hdrs[0].hdr)), syscall.MSG_DONTWAIT)
			if e == 0 {
				r.hdrs[0].len = uint32(n)
				n = 1
			}
		} else {
			n, _, e = syscall.Syscall6(syscall.SYS_RECVMMSG, fd,
				uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.want),
				syscall.MSG_DONTWAIT, 0, 0)
		}
		switch e {
		case 0:
			r.got = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			r.waited = true
			return false
		default:
			r.errno = e
			return true
		}
	}
}

// opError wraps err as net's own reads do, naming the socket.
func (r *batchReader) opError(err error) error {
	local := r.conn.LocalAddr()
	e := &net.OpError{Op: "read", Err: err, Source: local, Addr: r.conn.RemoteAddr()}
	if local != nil {
		e.Net = local.Network()
	}
	return e
}

// at returns datagram i of the last read: its payload, valid until the
// next read, and its sender.
func (r *batchReader) at(i int) ([]byte, netip.AddrPort) {
	if i < 0 || i >= r.count {
		panic("udp: batch reader: index " + strconv.Itoa(i) + " out of range")
	}
	j := r.base + i
	return r.bufs[j][:r.hdrs[j].len], r.addr(j)
}

// addr parses the sender of slot j.
func (r *batchReader) addr(j int) netip.AddrPort {
	sa := &r.names[j]
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), portOf(sa4.Port))
	case syscall.AF_INET6:
		ip := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			ip = ip.WithZone(r.zone(sa.Scope_id))
		}
		return netip.AddrPortFrom(ip, portOf(sa.Port))
	}
	return netip.AddrPort{}
}

// portOf reads a port kept in network byte order.
func portOf(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// zone returns the zone name of an IPv6 scope id: the interface's name,
// or the number where there is no such interface.
func (r *batchReader) zone(id uint32) string {
	if id != r.zoneID || r.zoneName == "" {
		r.zoneID = id
		if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
			r.zoneName = ifi.Name
		} else {
			r.zoneName = strconv.FormatUint(uint64(id), 10)
		}
	}
	return r.zoneName
}

// batchWriter queues datagrams and sends them with sendmmsg (through
// golang.org/x/net/ipv4's WriteBatch), up to its capacity at a time. Its
// message headers, address structs and buffers are made once, so sending
// allocates nothing. A payload is held only until it is sent.
//
// A datagram that cannot be sent is reported and the rest go on: sendmmsg
// stops at the first failure, so the writer reports that one and sends
// again from the next.
type batchWriter struct {
	p     *PeerComponent
	conn  *ipv4.PacketConn // any UDP socket, IPv4 or IPv6: only WriteBatch is used
	ms    []ipv4.Message
	bufs  [][]byte         // bufs[i] is ms[i]'s only buffer
	addrs []net.UDPAddr    // ms[i].Addr is &addrs[i], or nil on a connected socket
	ips   [][16]byte       // addrs[i].IP's bytes
	to    []netip.AddrPort // the destination of each, for errors, and what addrs[i] holds
	n     int              // datagrams queued
}

// newBatchWriter returns a writer that sends up to n datagrams on p's
// socket with one system call.
func newBatchWriter(p *PeerComponent, n int) (writer, error) {
	if p.uc == nil {
		return nil, fmt.Errorf("batch writer: %w", errors.ErrUnsupported)
	}
	w := &batchWriter{
		p:     p,
		conn:  ipv4.NewPacketConn(p.uc),
		ms:    make([]ipv4.Message, n),
		bufs:  make([][]byte, n),
		addrs: make([]net.UDPAddr, n),
		ips:   make([][16]byte, n),
		to:    make([]netip.AddrPort, n),
	}
	for i := range w.ms {
		w.ms[i].Buffers = w.bufs[i : i+1 : i+1]
	}
	return w, nil
}

func (w *batchWriter) add(b []byte, to netip.AddrPort, connected bool) {
	i := w.n
	w.bufs[i] = b
	switch {
	case connected:
		w.ms[i].Addr = nil
	case to != w.to[i] || w.ms[i].Addr == nil:
		a := &w.addrs[i]
		ip := to.Addr()
		w.ips[i] = ip.As16()
		if ip.Is4() {
			a.IP = w.ips[i][12:16]
		} else {
			a.IP = w.ips[i][:]
		}
		a.Port, a.Zone = int(to.Port()), ip.Zone()
		w.ms[i].Addr = a
	}
	w.to[i] = to
	if w.n++; w.n == len(w.ms) {
		w.flush()
	}
}

func (w *batchWriter) queued() bool { return w.n > 0 }

func (w *batchWriter) flush() {
	p := w.p
	var sent, size int
	for i := 0; i < w.n; {
		k, err := w.conn.WriteBatch(w.ms[i:w.n], 0)
		if k <= 0 && err == nil {
			err = io.ErrShortWrite // never seen; but never loop on it
		}
		k = max(k, 0)
		for _, b := range w.bufs[i : i+k] {
			size += len(b)
		}
		sent += k
		i += k
		if err != nil && i < w.n {
			p.sendFailed(w.to[i], err)
			i++
		}
	}
	clear(w.bufs[:w.n]) // the payloads are not the writer's to keep
	w.n = 0
	if sent > 0 {
		p.sent.Add(uint64(sent))
		p.bytesOut.Add(uint64(size))
	}
}
