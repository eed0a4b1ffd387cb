//go:build linux && !386

package udp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// listenBatch binds a UDP socket on addr, closed when the test ends, with
// a deadline that keeps a broken test from waiting for ever.
func listenBatch(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot bind %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// batchOf makes a batch reader of conn through newBatchReader.
func batchOf(t *testing.T, conn *net.UDPConn, n int) *batchReader {
	t.Helper()
	rd, err := newBatchReader(conn, n)
	if err != nil {
		t.Fatalf("newBatchReader: %v", err)
	}
	r, ok := rd.(*batchReader)
	if !ok {
		t.Fatalf("newBatchReader returned %T, want *batchReader", rd)
	}
	return r
}

// addrOf is the address of conn as a netip.AddrPort.
func addrOf(conn *net.UDPConn) netip.AddrPort {
	return conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// to is conn's port on ip.
func to(ip string, conn *net.UDPConn) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(ip), addrOf(conn).Port())
}

func send(t *testing.T, from *net.UDPConn, dst netip.AddrPort, data []byte) {
	t.Helper()
	if _, err := from.WriteToUDPAddrPort(data, dst); err != nil {
		t.Fatalf("send to %v: %v", dst, err)
	}
}

// got is one datagram as the reader returned it, copied.
type got struct {
	data string
	from netip.AddrPort
}

// readAll reads until it has want datagrams, returning them and the
// count each read returned.
func readAll(t *testing.T, r *batchReader, want int) ([]got, []int) {
	t.Helper()
	var all []got
	var counts []int
	for len(all) < want {
		n, err := r.read()
		if err != nil {
			t.Fatalf("read after %d datagrams: %v", len(all), err)
		}
		if n < 1 {
			t.Fatalf("read returned %d datagrams and no error", n)
		}
		counts = append(counts, n)
		for i := range n {
			data, from := r.at(i)
			all = append(all, got{string(data), from})
		}
	}
	return all, counts
}

func TestMmsghdrLayout(t *testing.T) {
	var m mmsghdr
	ptr := unsafe.Sizeof(uintptr(0))
	want := uintptr(64)
	if ptr == 4 {
		want = 32
	}
	if got := unsafe.Sizeof(m); got != want {
		t.Errorf("sizeof(mmsghdr) = %d, want %d", got, want)
	}
	if got, want := unsafe.Offsetof(m.len), unsafe.Sizeof(m.hdr); got != want {
		t.Errorf("offsetof(msg_len) = %d, want %d", got, want)
	}
}

func TestBatchReaderReceives(t *testing.T) {
	cases := []struct {
		name     string
		listen   string // receiver's bind address
		sendFrom string // sender's bind address
		dstIP    string // address the sender sends to
		wantIP   string // sender's address as the reader gives it
	}{
		{"ipv4", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1", "127.0.0.1"},
		{"ipv6", "[::1]:0", "[::1]:0", "::1", "::1"},
		{"dual-stack from ipv4", "[::]:0", "127.0.0.1:0", "127.0.0.1", "::ffff:127.0.0.1"},
		{"dual-stack from ipv6", "[::]:0", "[::1]:0", "::1", "::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rx := listenBatch(t, tc.listen)
			tx := listenBatch(t, tc.sendFrom)
			r := batchOf(t, rx, 8)
			send(t, tx, to(tc.dstIP, rx), []byte("hello "+tc.name))
			all, _ := readAll(t, r, 1)
			wantFrom := netip.AddrPortFrom(netip.MustParseAddr(tc.wantIP), addrOf(tx).Port())
			if all[0].data != "hello "+tc.name || all[0].from != wantFrom {
				t.Errorf("got %q from %v, want %q from %v", all[0].data, all[0].from, "hello "+tc.name, wantFrom)
			}
		})
	}
}

func TestBatchReaderLargestDatagram(t *testing.T) {
	cases := []struct {
		addr string
		size int // the largest UDP payload over this IP version
	}{
		{"127.0.0.1:0", 65507},
		{"[::1]:0", 65527},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			rx := listenBatch(t, tc.addr)
			tx := listenBatch(t, tc.addr)
			r := batchOf(t, rx, 4)
			big := make([]byte, tc.size)
			for i := range big {
				big[i] = byte(i*7 + i>>8)
			}
			send(t, tx, addrOf(rx), big)
			send(t, tx, addrOf(rx), []byte("after"))
			n, err := r.read()
			if err != nil {
				t.Fatal(err)
			}
			data, from := r.at(0)
			if len(data) != tc.size || !bytes.Equal(data, big) {
				t.Errorf("got %d bytes (equal: %v), want the %d sent", len(data), bytes.Equal(data, big), tc.size)
			}
			if from != addrOf(tx) {
				t.Errorf("from %v, want %v", from, addrOf(tx))
			}
			if n == 1 { // the second datagram is read next
				if n, err = r.read(); err != nil || n != 1 {
					t.Fatalf("second read: %d, %v", n, err)
				}
				data, _ = r.at(0)
			} else {
				data, _ = r.at(1)
			}
			if string(data) != "after" {
				t.Errorf("datagram after the large one: %q", data)
			}
		})
	}
}

func TestBatchReaderBurstGrows(t *testing.T) {
	rx := listenBatch(t, "127.0.0.1:0")
	if err := rx.SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	tx := [2]*net.UDPConn{listenBatch(t, "127.0.0.1:0"), listenBatch(t, "127.0.0.1:0")}
	r := batchOf(t, rx, 64)
	const burst = 200
	// Everything is queued before the first read: on loopback a send
	// puts the datagram in the receiver's queue before it returns.
	for i := range burst {
		send(t, tx[i%2], addrOf(rx), fmt.Appendf(nil, "datagram %03d", i))
	}
	all, counts := readAll(t, r, burst)
	if len(all) != burst {
		t.Fatalf("read %d datagrams, want %d", len(all), burst)
	}
	for i, g := range all {
		want := fmt.Sprintf("datagram %03d", i)
		if g.data != want || g.from != addrOf(tx[i%2]) {
			t.Fatalf("datagram %d: %q from %v, want %q from %v", i, g.data, g.from, want, addrOf(tx[i%2]))
		}
	}
	// One slot at first, doubled each time a read fills them all.
	wantCounts := []int{1, 2, 4, 8, 16, 32, 64, 64, 9}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("datagrams per read %v, want %v", counts, wantCounts)
	}
	if len(r.bufs) != 64 {
		t.Errorf("%d slots after the burst, want 64", len(r.bufs))
	}
}

func TestBatchReaderShrinks(t *testing.T) {
	cases := []struct {
		name  string
		quiet time.Duration // how long the small reads must go on
		after int           // buffers after shrinkAfter single reads
	}{
		{"quiet long enough", 0, 4},
		{"not quiet for long enough", time.Hour, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rx := listenBatch(t, "127.0.0.1:0")
			tx := listenBatch(t, "127.0.0.1:0")
			r := batchOf(t, rx, 8)
			r.quiet = tc.quiet
			for i := range 15 { // reads of 1, 2, 4 and 8 grow the batch to 8 slots
				send(t, tx, addrOf(rx), fmt.Appendf(nil, "%d", i))
			}
			readAll(t, r, 15)
			if len(r.bufs) != 8 {
				t.Fatalf("%d buffers after growing, want 8", len(r.bufs))
			}
			for i := range shrinkAfter {
				if len(r.bufs) != 8 {
					t.Fatalf("%d buffers after %d single reads, want still 8", len(r.bufs), i)
				}
				send(t, tx, addrOf(rx), []byte("one"))
				readAll(t, r, 1)
			}
			if len(r.bufs) != tc.after || r.want > len(r.bufs) {
				t.Errorf("%d buffers (want %d) after %d single reads, expected %d buffers", len(r.bufs), r.want, shrinkAfter, tc.after)
			}
			for i := len(r.bufs); i < 8; i++ {
				if r.iovs[i].Base != nil {
					t.Errorf("slot %d still has its buffer", i)
				}
			}
		})
	}
}

func TestBatchReaderTruncated(t *testing.T) {
	rx := listenBatch(t, "127.0.0.1:0")
	tx := listenBatch(t, "127.0.0.1:0")
	r, err := newBatchReaderSize(rx, 4, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"first", string(make([]byte, 101)), "second", "third"} {
		send(t, tx, addrOf(rx), []byte(s))
	}
	var seq []string
	for len(seq) < 4 {
		n, err := r.read()
		if err != nil {
			if !errors.Is(err, errTruncated) {
				t.Fatalf("read: %v, want errTruncated", err)
			}
			t.Logf("truncation reported as: %v", err)
			seq = append(seq, "truncated")
			continue
		}
		for i := range n {
			data, _ := r.at(i)
			seq = append(seq, string(data))
		}
	}
	if want := "[first truncated second third]"; fmt.Sprint(seq) != want {
		t.Errorf("reads gave %v, want %s", seq, want)
	}
}

func TestBatchReaderClosed(t *testing.T) {
	rx := listenBatch(t, "127.0.0.1:0")
	r := batchOf(t, rx, 4)
	done := make(chan error, 1)
	go func() {
		_, err := r.read()
		done <- err
	}()
	rx.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("read on closing socket: %v, want net.ErrClosed", err)
	}
	if _, err := r.read(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read on closed socket: %v, want net.ErrClosed", err)
	}
}

func TestBatchReaderDeadline(t *testing.T) {
	rx := listenBatch(t, "127.0.0.1:0")
	tx := listenBatch(t, "127.0.0.1:0")
	r := batchOf(t, rx, 4)
	send(t, tx, addrOf(rx), []byte("queued"))
	if err := rx.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if err := rx.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if all, _ := readAll(t, r, 1); all[0].data != "queued" {
		t.Errorf("read after the deadline was moved: %q", all[0].data)
	}
}

func TestBatchReaderRefused(t *testing.T) {
	// want 1 reads with recvmsg, more with recvmmsg.
	for _, want := range []int{1, 4} {
		t.Run(fmt.Sprint("want ", want), func(t *testing.T) {
			// A port with nothing bound to it: bind one, note it, free it.
			gone := listenBatch(t, "127.0.0.1:0")
			port := addrOf(gone)
			gone.Close()

			conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(port))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
				t.Fatal(err)
			}
			r := batchOf(t, conn, 4)
			r.want = want
			r.resize(want)
			if _, err := conn.Write([]byte("anyone?")); err != nil {
				t.Fatal(err)
			}
			_, err = r.read()
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("read after sending to a closed port: %v, want ECONNREFUSED", err)
			}
			t.Logf("refusal reported as: %v", err)

			// The reader still works: bind the port again and answer.
			back, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(port))
			if err != nil {
				t.Fatalf("rebinding %v: %v", port, err)
			}
			defer back.Close()
			send(t, back, addrOf(conn), []byte("here"))
			if all, _ := readAll(t, r, 1); all[0].data != "here" || all[0].from != port {
				t.Errorf("after the refusal: %q from %v, want %q from %v", all[0].data, all[0].from, "here", port)
			}
		})
	}
}

func TestBatchReaderAdapt(t *testing.T) {
	cases := []struct {
		name                 string
		want, bufs           int // before
		got, n               int // the system call asked for n and got got
		waited               bool
		wantAfter, bufsAfter int
	}{
		{"full doubles", 2, 2, 2, 2, false, 4, 4},
		{"full doubles after waiting too", 4, 4, 4, 4, true, 8, 8},
		{"full at max stays", 16, 16, 16, 16, false, 16, 16},
		{"doubling stops at max", 8, 8, 8, 8, false, 16, 16},
		{"grows into buffers it has", 2, 8, 2, 2, false, 4, 8},
		{"short without waiting keeps want", 8, 8, 3, 8, false, 8, 8},
		{"short after waiting takes what came", 8, 8, 3, 8, true, 3, 8},
		{"lone datagram after waiting: recvmsg next", 16, 16, 1, 16, true, 1, 16},
		{"lone datagram after waiting stays at recvmsg", 1, 16, 1, 1, true, 1, 16},
		{"one queued without waiting doubles", 1, 1, 1, 1, false, 2, 2},
	}
	rx := listenBatch(t, "127.0.0.1:0")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := batchOf(t, rx, 16)
			r.resize(tc.bufs)
			r.want = tc.want
			r.adapt(tc.got, tc.n, tc.waited)
			if r.want != tc.wantAfter || len(r.bufs) != tc.bufsAfter {
				t.Errorf("want %d, %d buffers; expected want %d, %d buffers", r.want, len(r.bufs), tc.wantAfter, tc.bufsAfter)
			}
		})
	}
}

func TestBatchReaderRecvEmpty(t *testing.T) {
	rx := listenBatch(t, "127.0.0.1:0")
	tx := listenBatch(t, "127.0.0.1:0")
	r := batchOf(t, rx, 4)
	rc, err := rx.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{1, 2} {
		r.want, r.got = want, 0
		r.resize(want)
		var done bool
		if err := rc.Control(func(fd uintptr) { done = r.recv(fd) }); err != nil {
			t.Fatal(err)
		}
		if done || !r.waited || r.got != 0 {
			t.Errorf("want %d, empty socket: recv returned %v, waited %v, got %d; expected false, true, 0", want, done, r.waited, r.got)
		}
		r.waited, r.got = false, 0
		send(t, tx, addrOf(rx), []byte("x"))
		if err := rc.Control(func(fd uintptr) { done = r.recv(fd) }); err != nil {
			t.Fatal(err)
		}
		if !done || r.waited || r.got != 1 || r.hdrs[0].len != 1 {
			t.Errorf("want %d, one queued: recv returned %v, waited %v, got %d, len %d; expected true, false, 1, 1", want, done, r.waited, r.got, r.hdrs[0].len)
		}
	}
}

func TestBatchReaderZone(t *testing.T) {
	rx := listenBatch(t, "[::1]:0")
	r := batchOf(t, rx, 1)
	ifi, err := net.InterfaceByIndex(1)
	if err != nil {
		t.Skipf("no interface 1: %v", err)
	}
	sa := &r.names[0]
	sa.Family = syscall.AF_INET6
	sa.Addr = netip.MustParseAddr("fe80::1").As16()
	sa.Port = 0x3412 // network byte order: port 0x1234
	sa.Scope_id = 1
	want := netip.AddrPortFrom(netip.MustParseAddr("fe80::1%"+ifi.Name), 0x1234)
	if got := r.addr(0); got != want {
		t.Errorf("sender %v, want %v", got, want)
	}
	if a := testing.AllocsPerRun(100, func() { r.addr(0) }); a != 0 {
		t.Errorf("%v allocations per zoned address, want 0", a)
	}
}

func TestBatchReaderNoAllocs(t *testing.T) {
	// One slot reads with recvmsg, more with recvmmsg.
	for _, slots := range []int{1, 4} {
		t.Run(fmt.Sprint(slots, " slots"), func(t *testing.T) {
			rx := listenBatch(t, "127.0.0.1:0")
			if err := rx.SetReadBuffer(1 << 20); err != nil {
				t.Fatal(err)
			}
			tx := listenBatch(t, "127.0.0.1:0")
			r := batchOf(t, rx, slots)
			// Grow the batch to its full size first.
			warm := 0
			for n := 1; n <= slots; n *= 2 {
				warm += n
			}
			for range warm {
				send(t, tx, addrOf(rx), []byte("warm up"))
			}
			readAll(t, r, warm)
			if len(r.bufs) != slots || r.want != slots {
				t.Fatalf("%d buffers, want %d after warming up; expected %d", len(r.bufs), r.want, slots)
			}

			const runs = 100
			for i := range (runs + 1) * slots { // AllocsPerRun calls f once more
				send(t, tx, addrOf(rx), fmt.Appendf(nil, "steady %d", i))
			}
			var total, nbytes int
			var last netip.AddrPort
			allocs := testing.AllocsPerRun(runs, func() {
				n, err := r.read()
				if err != nil {
					panic(err)
				}
				for i := range n {
					data, from := r.at(i)
					nbytes += len(data)
					last = from
				}
				total += n
			})
			if allocs != 0 {
				t.Errorf("%v allocations per read, want 0", allocs)
			}
			if total != (runs+1)*slots || last != addrOf(tx) || nbytes == 0 {
				t.Errorf("read %d datagrams (%d bytes), last from %v; want %d from %v", total, nbytes, last, (runs+1)*slots, addrOf(tx))
			}
		})
	}
}

// writerPeer makes a peer for a batch writer test, bound to local and
// closed when the test ends, and a writer of n slots on its socket.
func writerPeer(t *testing.T, local string, n int) (*PeerComponent, *batchWriter) {
	t.Helper()
	p := PostboxPeer(Local(local))
	if err := p.Err(); err != nil {
		t.Skipf("cannot bind %s: %v", local, err)
	}
	t.Cleanup(func() { p.Close() })
	w, err := newBatchWriter(p, n)
	if err != nil {
		t.Fatalf("newBatchWriter: %v", err)
	}
	return p, w.(*batchWriter)
}

// expect reads want from conn, in order.
func expect(t *testing.T, conn *net.UDPConn, want ...string) {
	t.Helper()
	buf := make([]byte, 100)
	for _, w := range want {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:n]) != w {
			t.Fatalf("read %q, %v; want %q", buf[:n], err, w)
		}
	}
}

// Datagrams queued for several receivers go out in order when the queue
// fills and when it is flushed, each to its own receiver, and are counted.
func TestBatchWriterSends(t *testing.T) {
	for _, c := range []struct{ local, far string }{
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"[::1]:0", "[::1]:0"},
		{"[::]:0", "127.0.0.1:0"}, // IPv4 receivers from a dual-stack socket
		{"[::]:0", "[::1]:0"},
	} {
		t.Run(c.local+" to "+c.far, func(t *testing.T) {
			p, w := writerPeer(t, c.local, 4)
			one, two := listenBatch(t, c.far), listenBatch(t, c.far)
			var toOne, toTwo []string
			for i := range 10 { // two full queues and a flush
				b := fmt.Sprint("datagram ", i)
				if i%3 == 0 {
					w.add([]byte(b), addrOf(two), false)
					toTwo = append(toTwo, b)
				} else {
					w.add([]byte(b), addrOf(one), false)
					toOne = append(toOne, b)
				}
			}
			if w.n != 2 {
				t.Fatalf("%d datagrams queued, want 2", w.n)
			}
			w.flush()
			expect(t, one, toOne...)
			expect(t, two, toTwo...)
			if st := p.Stats(); st.Sent != 10 || st.BytesSent != 100 || st.Errors != 0 {
				t.Fatalf("Stats = %+v", st)
			}
			if w.n != 0 || w.bufs[0] != nil {
				t.Fatal("the writer still holds payloads after a flush")
			}
		})
	}
}

// A datagram that cannot be sent is reported, once, and those queued
// before and after it still go.
func TestBatchWriterFailureInTheMiddle(t *testing.T) {
	haveV6 := listenBatch(t, "[::1]:0") // the IPv4 socket cannot send there
	p, w := writerPeer(t, "127.0.0.1:0", 8)
	far := listenBatch(t, "127.0.0.1:0")
	w.add([]byte("before"), addrOf(far), false)
	w.add([]byte("bad"), addrOf(haveV6), false)
	w.add([]byte("after"), addrOf(far), false)
	w.flush()
	expect(t, far, "before", "after")
	if st := p.Stats(); st.Sent != 2 || st.Errors != 1 {
		t.Fatalf("Stats = %+v, want 2 sent and 1 error", st)
	}
}

// On a connected socket the datagrams carry no address.
func TestBatchWriterConnected(t *testing.T) {
	p, w := writerPeer(t, "127.0.0.1:0", 4)
	far := listenBatch(t, "127.0.0.1:0")
	if err := connectSocket(p.uc, addrOf(far), true); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"one", "two", "three", "four", "five"} {
		w.add([]byte(b), addrOf(far), true)
	}
	w.flush()
	expect(t, far, "one", "two", "three", "four", "five")
}

func TestBatchWriterNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("x/net keeps its scratch space in a sync.Pool, which the race detector empties at random")
	}
	_, w := writerPeer(t, "127.0.0.1:0", 8)
	one, two := addrOf(listenBatch(t, "127.0.0.1:0")), addrOf(listenBatch(t, "127.0.0.1:0"))
	b := []byte("payload")
	send := func() {
		for i := range 12 {
			dst := one
			if i%2 == 1 {
				dst = two
			}
			w.add(b, dst, false)
		}
		w.flush()
	}
	send() // the first sends make x/net's pooled scratch space
	if a := testing.AllocsPerRun(20, send); a != 0 {
		t.Errorf("%v allocations to send 12 datagrams, want 0", a)
	}
}
