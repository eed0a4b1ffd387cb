//go:build linux

package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// errTruncated reports a datagram that did not fit its buffer. It cannot
// happen with the 64 KiB buffers the batch reader uses; it is checked so
// that a cut payload is never passed on as if it were whole.
var errTruncated = errors.New("datagram truncated")

const (
	// slotSize is the buffer of one batch slot: room for the largest
	// datagram UDP can carry (65535 bytes), so none is ever truncated.
	slotSize = 1 << 16
	// maxSlots caps the batch: the kernel reads at most UIO_MAXIOV (1024)
	// messages per recvmmsg whatever it is asked for.
	maxSlots = 1024
	// shrinkAfter is how many reads in a row must each fill at most a
	// quarter of the slots before the batch is halved.
	shrinkAfter = 64
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
// Memory: every slot has a 64 KiB buffer, so a batch of max slots costs
// max × 64 KiB. The reader starts with one slot and doubles the number
// (up to max) each time a read fills every slot, so the buffers grow only
// while datagrams queue up faster than they are read. When shrinkAfter
// reads in a row each fill at most a quarter of the slots, it halves the
// number and lets the spare buffers go to the garbage collector. A reader
// that stops receiving altogether keeps what it has until it reads again.
// The message headers, iovecs and address buffers (about 110 bytes a
// slot) are allocated for max slots at once.
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

	bufs  [][]byte // one buffer per slot in use; len(bufs) is the slot count
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet6 // big enough for AF_INET and AF_INET6
	hdrs  []mmsghdr

	// Result of the last system call, set by recv.
	got   int
	errno syscall.Errno

	// Slots of the last system call not yet returned by read: [next, end).
	next, end int
	// The slots the last read returned: [base, base+count).
	base, count int

	small int // reads in a row that filled at most a quarter of the slots

	// Last IPv6 scope id turned into a zone name, so that link-local
	// senders do not cost a lookup each.
	zoneID   uint32
	zoneName string
}

// newBatchReader returns a reader that reads up to n datagrams (at most
// 1024) with one recvmmsg system call from conn.
func newBatchReader(conn *net.UDPConn, n int) (reader, error) {
	r, err := newBatchReaderSize(conn, n, slotSize)
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
	r.resize(1)
	return r, nil
}

// resize sets the number of slots to n, allocating buffers for new slots
// and dropping those of removed ones.
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
		n := len(r.bufs)
		for i := range n {
			m := &r.hdrs[i]
			m.hdr.Namelen = uint32(unsafe.Sizeof(r.names[i]))
			m.hdr.Flags = 0
			m.len = 0
		}
		r.got, r.errno = 0, 0
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
			return 0, r.opError(os.NewSyscallError("recvmmsg", r.errno))
		}
		r.next, r.end = 0, r.got
		r.adapt(r.got, n)
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

// adapt grows or shrinks the batch after a read of got datagrams into n
// slots. The slots below got are left as they are.
func (r *batchReader) adapt(got, n int) {
	switch {
	case got >= n:
		r.small = 0
		if n < r.max {
			r.resize(min(2*n, r.max))
		}
	case got <= n/4:
		r.small++
		if r.small >= shrinkAfter {
			r.small = 0
			r.resize(n / 2)
		}
	default:
		r.small = 0
	}
}

// recv makes one non-blocking recvmmsg into the slots in use; it returns
// false to have the poller wait when nothing is queued.
func (r *batchReader) recv(fd uintptr) bool {
	for {
		n, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd,
			uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.bufs)),
			syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			r.got = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
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
