package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

const (
	udpRecvPackets = 100_000 // datagrams the blaster sends per receive run
	udpSendPackets = 100_000 // datagrams sent per send run
	udpRounds      = 10      // timed runs of each contender (more with -benchtime=Nx)
	udpBurstRounds = 40      // timed runs of each contender in burst mode
	udpReadBuffer  = 4 << 20 // SO_RCVBUF asked for on every receiving socket

	// udpQuiet is how long the count must stay still, after the blaster
	// has finished, before the datagrams not yet counted are taken as lost.
	udpQuiet = 25 * time.Millisecond

	// udpBlasterEnv marks the child process that sends datagrams for the
	// receive benchmarks; udpBlastedPrefix marks its answer to a command.
	udpBlasterEnv    = "KAMAELIA_BENCH_UDP_BLASTER"
	udpBlastedPrefix = "blasted: "
)

// udpSizes are the payload sizes measured: a small datagram, where the
// per-packet costs dominate, and one that nearly fills an Ethernet frame.
var udpSizes = []int{64, 1400}

// ---- the sender for the receive benchmarks ----

// The datagrams come from a blaster: a child process (this test binary
// again, running TestUDPBlasterChildProcess) that, told an address, a count
// and a size, sends that many datagrams of that size to the address as fast
// as it can from a connected socket, and says when it is done. Being a
// process of its own it does not share the Go scheduler, the garbage
// collector or the CPU accounting with the receiver being measured; both
// contenders get the same sender.

// TestUDPBlasterChildProcess is the blaster when started by a receive
// benchmark. It reads commands "ADDR COUNT SIZE" from stdin, one a line,
// and answers each with "blasted: SENT ERRORS NANOSECONDS" on stdout.
func TestUDPBlasterChildProcess(t *testing.T) {
	if os.Getenv(udpBlasterEnv) == "" {
		t.Skip("runs only as a child process of the UDP receive benchmarks")
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var (
			addr    string
			n, size int
		)
		if _, err := fmt.Sscan(in.Text(), &addr, &n, &size); err != nil {
			t.Fatalf("bad command %q: %v", in.Text(), err)
		}
		to, err := netip.ParseAddrPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		sent, errs, d, err := blast(to, n, size)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s%d %d %d\n", udpBlastedPrefix, sent, errs, d.Nanoseconds())
	}
}

// blast sends n datagrams of size bytes (lower-case letters, no spaces or
// newlines) to to from a connected socket, as fast as it can, and returns
// how many were sent, how many sends failed and how long it took.
func blast(to netip.AddrPort, n, size int) (sent, errs int, d time.Duration, err error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		return 0, 0, 0, err
	}
	defer conn.Close()
	b := make([]byte, size)
	for i := range b {
		// Letters: printed as text, each datagram is one line.
		b[i] = 'a' + byte(i%26)
	}
	start := time.Now()
	for range n {
		if _, err := conn.Write(b); err != nil {
			errs++
			continue
		}
		sent++
	}
	return sent, errs, time.Since(start), nil
}

// blaster drives a blaster child process.
type blaster struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	log strings.Builder // what the child wrote besides answers
}

// blasterFor starts a blaster for benchmark b and stops it when b ends,
// failing b if either goes wrong.
func blasterFor(b *testing.B) *blaster {
	bl, err := startBlaster()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := bl.close(); err != nil {
			b.Error(err)
		}
	})
	return bl
}

// startBlaster starts the test binary again as a blaster child process.
func startBlaster() (*blaster, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestUDPBlasterChildProcess$", "-test.count=1", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), udpBlasterEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("blaster: %w", err)
	}
	return &blaster{cmd: cmd, in: in, out: bufio.NewScanner(out)}, nil
}

// send has the child send n datagrams of size bytes to to, and waits
// until it has.
func (b *blaster) send(to netip.AddrPort, n, size int) (sent int, d time.Duration, err error) {
	if _, err := fmt.Fprintf(b.in, "%s %d %d\n", to, n, size); err != nil {
		return 0, 0, fmt.Errorf("blaster: %w", err)
	}
	for b.out.Scan() {
		line, ok := strings.CutPrefix(b.out.Text(), udpBlastedPrefix)
		if !ok {
			b.log.WriteString(b.out.Text() + "\n")
			continue
		}
		var errs int
		var ns int64
		if _, err := fmt.Sscan(line, &sent, &errs, &ns); err != nil {
			return 0, 0, fmt.Errorf("blaster: answer %q: %w", line, err)
		}
		return sent, time.Duration(ns), nil
	}
	return 0, 0, fmt.Errorf("blaster ended without answering: %v\n%s", b.out.Err(), b.log.String())
}

// close ends the child and waits for it.
func (b *blaster) close() error {
	b.in.Close()
	for b.out.Scan() {
		b.log.WriteString(b.out.Text() + "\n")
	}
	if err := b.cmd.Wait(); err != nil {
		return fmt.Errorf("blaster: %w\n%s", err, b.log.String())
	}
	return nil
}

// ---- the receivers ----

// packetCount is what a receiver counted: datagrams and their bytes, and
// when the first and the latest arrived. The receiver is its only writer;
// the benchmark reads it while the receiver runs.
type packetCount struct {
	size        int // the payload size expected
	base        time.Time
	n, bytes    atomic.Int64
	first, last atomic.Int64 // nanoseconds since base
	wrongSize   atomic.Int64
}

func newPacketCount(size int) *packetCount { return &packetCount{size: size, base: time.Now()} }

// add counts one datagram of n bytes.
func (c *packetCount) add(n int) {
	now := int64(time.Since(c.base))
	if n != c.size {
		c.wrongSize.Add(1)
	}
	if c.n.Add(1) == 1 {
		c.first.Store(now)
	}
	c.last.Store(now)
	c.bytes.Add(int64(n))
}

// span is the time from the first datagram to the latest.
func (c *packetCount) span() time.Duration { return time.Duration(c.last.Load() - c.first.Load()) }

// rate is datagrams per second between the first and the latest.
func (c *packetCount) rate() float64 {
	n := c.n.Load()
	if n < 2 || c.span() <= 0 {
		return 0
	}
	return float64(n-1) / c.span().Seconds()
}

// receiver is one side of the receive comparison: a socket bound to
// loopback that counts what arrives until stopped.
type receiver interface {
	addr() netip.AddrPort
	// start begins receiving; stop ends it and returns any error.
	start(ctx context.Context)
	stop(ctx context.Context) error
}

// rawReceiver is the baseline: one goroutine reading into one reused
// buffer with ReadFromUDPAddrPort, counting each datagram.
type rawReceiver struct {
	conn *net.UDPConn
	c    *packetCount
	done chan struct{}
	err  error
}

func newRawReceiver(c *packetCount) (receiver, error) {
	conn, _, err := udpDiscard()
	if err != nil {
		return nil, err
	}
	if err := conn.SetReadBuffer(udpReadBuffer); err != nil {
		conn.Close()
		return nil, err
	}
	return &rawReceiver{conn: conn, c: c, done: make(chan struct{})}, nil
}

func (r *rawReceiver) addr() netip.AddrPort {
	return r.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (r *rawReceiver) start(context.Context) {
	go func() {
		defer close(r.done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := r.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					r.err = err
				}
				return
			}
			r.c.add(n)
		}
	}()
}

func (r *rawReceiver) stop(context.Context) error {
	r.conn.Close()
	<-r.done
	return r.err
}

// chanReceiver is the hand-written equivalent of the peer and its sink:
// one goroutine reads into a reused buffer, copies each payload into a
// slice of its own and sends it, with its sender, as a udp.Datagram over a
// channel of the framework's default inbox capacity to a second goroutine
// that counts it. It does what the framework does per datagram (a copy, a
// boxed message, a hand-over between goroutines) without the framework.
//
// It is a rawReceiver (socket, count, stop) with a start of its own.
type chanReceiver struct{ *rawReceiver }

func newChanReceiver(c *packetCount) (receiver, error) {
	r, err := newRawReceiver(c)
	if err != nil {
		return nil, err
	}
	return &chanReceiver{r.(*rawReceiver)}, nil
}

func (r *chanReceiver) start(context.Context) {
	ch := make(chan any, axon.DefaultCapacity)
	go func() {
		defer close(ch)
		buf := make([]byte, 1<<16)
		for {
			n, from, err := r.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					r.err = err
				}
				return
			}
			d := udp.Datagram{Data: make([]byte, n), From: from}
			copy(d.Data, buf[:n])
			ch <- d
		}
	}()
	go func() {
		defer close(r.done)
		for m := range ch {
			r.c.add(len(m.(udp.Datagram).Data))
		}
	}()
}

// peerReceiver is the framework: Pipeline(SimplePeer, counting sink),
// the sink a component written with Serve.
type peerReceiver struct {
	peer *udp.PeerComponent
	root axon.Node
	h    *axon.Handle
}

func newPeerReceiver(c *packetCount) (receiver, error) {
	// Remote is required by SimplePeer; nothing is sent to it here.
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("127.0.0.1:9"), udp.ReadBuffer(udpReadBuffer))
	if err := peer.Err(); err != nil {
		return nil, err
	}
	return &peerReceiver{peer: peer, root: chassis.Pipeline(peer, countingSink(c))}, nil
}

// countingSink counts the Datagrams arriving on "inbox" into c.
//
// Boxes:
//
//	inbox   (in)  udp.Datagram, counted
//	control (in)  ProducerFinished (count what is queued, pass on, end) or
//	              ShutdownMicroprocess (pass on, end)
//	signal  (out) the shutdown message that ended it
func countingSink(c *packetCount) *axon.Component {
	return axon.New("CountingSink", func(ctx context.Context, self *axon.Component) error {
		return self.Serve(ctx, func(_ context.Context, m any) error {
			d, ok := m.(udp.Datagram)
			if !ok {
				return fmt.Errorf("got %T, want udp.Datagram", m)
			}
			c.add(len(d.Data))
			return nil
		})
	})
}

func (r *peerReceiver) addr() netip.AddrPort { return r.peer.LocalAddr() }

func (r *peerReceiver) start(ctx context.Context) { r.h = axon.Start(ctx, r.root) }

func (r *peerReceiver) stop(ctx context.Context) error {
	if err := r.h.Put(ctx, axon.ControlName, axon.ProducerFinished{}); err != nil {
		r.h.Stop()
	}
	return r.h.Wait()
}

// recvContender names a way of receiving.
type recvContender struct {
	name string
	make func(*packetCount) (receiver, error)
}

var (
	recvFramework = recvContender{"SimplePeer", newPeerReceiver}
	recvRaw       = recvContender{"raw", newRawReceiver}
	recvChan      = recvContender{"raw-chan", newChanReceiver}
)

// recvRun is what one receive run measured.
type recvRun struct {
	sent, received int
	rate           float64 // datagrams per second, first to latest
	sendRate       float64 // the blaster's datagrams per second
	mallocs        uint64  // heap allocations in this process meanwhile
	cpu            time.Duration
	faults         int64 // minor page faults in this process meanwhile
}

func (r recvRun) delivered() float64 { return float64(r.received) / float64(max(r.sent, 1)) }

func (r recvRun) allocsPerPacket() float64 { return float64(r.mallocs) / float64(max(r.received, 1)) }

func (r recvRun) faultsPerPacket() float64 { return float64(r.faults) / float64(max(r.received, 1)) }

func (r recvRun) cpuPerPacket() float64 {
	return r.cpu.Seconds() * 1e6 / float64(max(r.received, 1))
}

// receiveOnce makes a receiver of kind rc, has the blaster send it n
// datagrams of size bytes, waits until they have all arrived or the count
// has stood still for udpQuiet, stops it, and says what it measured.
//
// In a stream run the receiver is already reading while the blaster
// sends. In a burst run the blaster sends first, into the socket's
// receive buffer, and the receiver starts only when it has finished: the
// receiver then reads flat out until the buffer is empty, never waiting
// for the sender.
func receiveOnce(ctx context.Context, bl *blaster, rc recvContender, burst bool, n, size int) (recvRun, error) {
	c := newPacketCount(size)
	r, err := rc.make(c)
	if err != nil {
		return recvRun{}, fmt.Errorf("%s: %w", rc.name, err)
	}
	var (
		sent          int
		d             time.Duration
		before, after runtime.MemStats
	)
	if burst {
		if sent, d, err = bl.send(r.addr(), n, size); err != nil {
			r.start(ctx) // only a started receiver can be stopped
			r.stop(ctx)
			return recvRun{}, err
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0, faults0 := cpuTime(), minorFaults()
	r.start(ctx)
	if !burst {
		if sent, d, err = bl.send(r.addr(), n, size); err != nil {
			r.stop(ctx)
			return recvRun{}, err
		}
	}
	// Drain: wait while datagrams are still being counted.
	waitQuiet(&c.n, int64(sent), udpQuiet, time.Now())
	err = r.stop(ctx)
	cpu, faults := cpuTime()-cpu0, minorFaults()-faults0
	runtime.ReadMemStats(&after)
	if err != nil {
		return recvRun{}, fmt.Errorf("%s: %w", rc.name, err)
	}
	if w := c.wrongSize.Load(); w > 0 {
		return recvRun{}, fmt.Errorf("%s: %d datagrams were not %d bytes long", rc.name, w, size)
	}
	got := int(c.n.Load())
	if want := int64(got) * int64(size); c.bytes.Load() != want {
		return recvRun{}, fmt.Errorf("%s: %d bytes in %d datagrams, want %d", rc.name, c.bytes.Load(), got, want)
	}
	return recvRun{
		sent: sent, received: got, rate: c.rate(), sendRate: float64(sent) / d.Seconds(),
		mallocs: after.Mallocs - before.Mallocs, cpu: cpu, faults: faults,
	}, nil
}

// recvRounds runs every contender once per round, rotating the order,
// after a warm-up run of each (with a tenth of the datagrams when
// streaming).
func recvRounds(ctx context.Context, bl *blaster, burst bool, rounds, n, size int, cs ...recvContender) ([][]recvRun, error) {
	warm := n
	if !burst {
		warm = n / 10
	}
	for _, c := range cs {
		if _, err := receiveOnce(ctx, bl, c, burst, warm, size); err != nil {
			return nil, err
		}
	}
	return rotate(len(cs), rounds, func(i int) (recvRun, error) {
		return receiveOnce(ctx, bl, cs[i], burst, n, size)
	})
}

// medianOf is the median of f over runs.
func medianOf(runs []recvRun, f func(recvRun) float64) float64 { return median(valuesOf(runs, f)) }

// burstPackets is how many datagrams of size bytes a burst sends: as many
// as a receive buffer of rcvbuf bytes can hold, reckoning generously
// (about 1 KiB) for what the kernel keeps beside each payload, so that
// the burst fits and none is lost before the receiver starts.
func burstPackets(rcvbuf, size int) int {
	if rcvbuf <= 0 {
		rcvbuf = 208 << 10 // Linux's usual default
	}
	return max(rcvbuf/(size+1024), 100)
}

// benchmarkUDPReceive runs the receive comparison in one mode at each
// payload size and reports it: SimplePeer against raw (the target), and
// against raw-chan if it ran.
func benchmarkUDPReceive(b *testing.B, burst bool, nRounds int, cs ...recvContender) {
	bl := blasterFor(b)
	ctx := context.Background()
	rcvbuf := effectiveReadBuffer()
	mode := "stream"
	if burst {
		mode = "burst"
	}
	var (
		rate   = func(r recvRun) float64 { return r.rate }
		deliv  = func(r recvRun) float64 { return r.delivered() }
		allocs = func(r recvRun) float64 { return r.allocsPerPacket() }
		cpu    = func(r recvRun) float64 { return r.cpuPerPacket() }
		faults = func(r recvRun) float64 { return r.faultsPerPacket() }
		send   = func(r recvRun) float64 { return r.sendRate }
	)
	b.ReportMetric(0, "ns/op")
	for _, size := range udpSizes {
		n := udpRecvPackets
		if burst {
			n = burstPackets(rcvbuf, size)
		}
		res, err := recvRounds(ctx, bl, burst, max(b.N, nRounds), n, size, cs...)
		if err != nil {
			b.Fatal(err)
		}
		rates := ratesOf(res, rate)
		var sends []float64
		for i := range res {
			sends = append(sends, valuesOf(res[i], send)...)
		}
		ratio, lo, hi := rates.ratio(0, 1)
		p := fmt.Sprintf("%d-", size)
		b.ReportMetric(ratio, p+"ratio")
		var each []string
		for i, c := range cs {
			name := c.name
			if i == 0 {
				name = "peer"
			}
			b.ReportMetric(medianOf(res[i], rate), p+name+"-pkts/s")
			b.ReportMetric(medianOf(res[i], deliv), p+name+"-delivered")
			b.ReportMetric(medianOf(res[i], allocs), p+name+"-allocs/pkt")
			b.ReportMetric(medianOf(res[i], cpu), p+name+"-cpu-us/pkt")
			b.ReportMetric(medianOf(res[i], faults), p+name+"-faults/pkt")
			each = append(each, fmt.Sprintf("%s %s Mpkt/s, delivered %.3f, %.2f allocs/pkt, CPU %.2f us/pkt, %.3f page faults/pkt",
				c.name, mega(medianOf(res[i], rate)), medianOf(res[i], deliv), medianOf(res[i], allocs), medianOf(res[i], cpu), medianOf(res[i], faults)))
		}
		vsChan := ""
		if len(cs) > 2 {
			r, l, h := rates.ratio(0, 2)
			b.ReportMetric(r, p+"ratio-vs-chan")
			vsChan = fmt.Sprintf("; vs %s %.2f (rounds %.2f..%.2f)", cs[2].name, r, l, h)
		}
		report(b, "udp-receive-%s %dB: ratio %.2f (%d rounds %.2f..%.2f; target >= %.2f %s)%s; %s; %d datagrams a run, blaster %s Mpkt/s, SO_RCVBUF %d",
			mode, size, ratio, rates.n(), lo, hi, ratioTarget, verdict(ratio, ratioTarget), vsChan,
			strings.Join(each, "; "), n, mega(median(sends)), rcvbuf)
	}
}

// BenchmarkUDPReceiveStream has a blaster process send 100,000 datagrams
// as fast as it can to a SimplePeer feeding a counting sink component,
// and to a raw net.UDPConn read loop, at each payload size, and reports
// the rate each received at, the fraction each received, the heap
// allocations and the processor time per datagram.
func BenchmarkUDPReceiveStream(b *testing.B) {
	benchmarkUDPReceive(b, false, udpRounds, recvFramework, recvRaw)
}

// BenchmarkUDPReceiveBurst fills the receiving socket's buffer from the
// blaster before the receiver starts, then times the receiver emptying
// it: the rate at which each can take datagrams when they are waiting,
// which no sender on this machine can match while the receiver runs.
func BenchmarkUDPReceiveBurst(b *testing.B) {
	benchmarkUDPReceive(b, true, udpBurstRounds, recvFramework, recvRaw, recvChan)
}

// effectiveReadBuffer is the receive buffer a socket gets when it asks
// for udpReadBuffer, as the kernel reports it (0 if it cannot be read).
func effectiveReadBuffer() int {
	conn, _, err := udpDiscard()
	if err != nil {
		return 0
	}
	defer conn.Close()
	if err := conn.SetReadBuffer(udpReadBuffer); err != nil {
		return 0
	}
	return readBufferOf(conn)
}

// ---- sending ----

// udpDiscard returns a socket bound to a free port on loopback, and its
// address. The send benchmarks send to one that nothing reads: once its
// buffer is full the kernel drops what arrives, which costs the sender the
// same whoever sends. The other benchmarks bind their sockets with it too.
func udpDiscard() (*net.UDPConn, netip.AddrPort, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	return conn, conn.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// payloadSource sends msg n times on "outbox", then ProducerFinished.
func payloadSource(n int, msg any) *axon.Component {
	return axon.New("PayloadSource", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		for range n {
			if err := out.Send(ctx, msg); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

// sendFramework is Pipeline(payloadSource, SimplePeer): it returns how
// many datagrams the peer sent. The payload is boxed once, so the source
// itself allocates nothing per message.
func sendFramework(to netip.AddrPort, size int) contender {
	var msg any = make([]byte, size)
	return contender{"SimplePeer", func(ctx context.Context, n int) (int, error) {
		peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(to))
		if err := peer.Err(); err != nil {
			return 0, err
		}
		err := axon.Run(ctx, chassis.Pipeline(payloadSource(n, msg), peer))
		st := peer.Stats()
		if err == nil && st.Errors > 0 {
			err = fmt.Errorf("%d send errors", st.Errors)
		}
		return int(st.Sent), err
	}}
}

// sendRaw binds a socket and writes n datagrams with WriteToUDPAddrPort.
func sendRaw(to netip.AddrPort, size int) contender {
	b := make([]byte, size)
	return contender{"raw", func(ctx context.Context, n int) (int, error) {
		conn, _, err := udpDiscard()
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		sent := 0
		for range n {
			if _, err := conn.WriteToUDPAddrPort(b, to); err != nil {
				return sent, err
			}
			sent++
		}
		return sent, nil
	}}
}

// sendRawChan is sendRaw split in two goroutines: one hands the payloads
// over a channel of the framework's default inbox capacity to one that
// writes them, as a hand-written producer and sender would.
func sendRawChan(to netip.AddrPort, size int) contender {
	var msg any = make([]byte, size)
	return contender{"raw-chan", func(ctx context.Context, n int) (int, error) {
		conn, _, err := udpDiscard()
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		// On a failed write the producer is stopped, and waited for.
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan any, axon.DefaultCapacity)
		defer func() {
			cancel()
			for range ch {
			}
		}()
		go func() {
			defer close(ch)
			for range n {
				select {
				case ch <- msg:
				case <-ctx.Done():
					return
				}
			}
		}()
		sent := 0
		for m := range ch {
			if _, err := conn.WriteToUDPAddrPort(m.([]byte), to); err != nil {
				return sent, err
			}
			sent++
		}
		return sent, nil
	}}
}

// BenchmarkUDPSend pushes 100,000 payloads from a source component into a
// SimplePeer's "inbox", and writes as many with a raw WriteToUDPAddrPort
// loop, at each payload size, and reports the rate each sent at and the
// heap allocations per datagram.
func BenchmarkUDPSend(b *testing.B) {
	dst, to, err := udpDiscard()
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	ctx := context.Background()
	b.ReportMetric(0, "ns/op")
	for _, size := range udpSizes {
		fw, raw, rawChan := sendFramework(to, size), sendRaw(to, size), sendRawChan(to, size)
		res, err := compare(ctx, max(b.N, udpRounds), udpSendPackets, fw, raw, rawChan)
		if err != nil {
			b.Fatal(err)
		}
		ratio, lo, hi := res.ratio(0, 1)
		fa, err := allocsOf(ctx, fw, 1_000, udpSendPackets)
		if err != nil {
			b.Fatal(err)
		}
		ra, err := allocsOf(ctx, raw, 1_000, udpSendPackets)
		if err != nil {
			b.Fatal(err)
		}
		ratioC, loC, hiC := res.ratio(0, 2)
		p := fmt.Sprintf("%d-", size)
		b.ReportMetric(res.rate(0), p+"peer-pkts/s")
		b.ReportMetric(res.rate(1), p+"raw-pkts/s")
		b.ReportMetric(res.rate(2), p+"raw-chan-pkts/s")
		b.ReportMetric(ratio, p+"ratio")
		b.ReportMetric(ratioC, p+"ratio-vs-chan")
		b.ReportMetric(fa.marginal, p+"peer-allocs/pkt")
		b.ReportMetric(ra.marginal, p+"raw-allocs/pkt")
		report(b, "udp-send %dB: SimplePeer %s Mpkt/s, raw %s Mpkt/s, ratio %.2f (%d rounds %.2f..%.2f; target >= %.2f %s); raw-chan %s Mpkt/s, ratio %.2f (rounds %.2f..%.2f); marginal allocs/pkt SimplePeer %.3f, raw %.3f",
			size, mega(res.rate(0)), mega(res.rate(1)), ratio, res.n(), lo, hi, ratioTarget, verdict(ratio, ratioTarget),
			mega(res.rate(2)), ratioC, loC, hiC, fa.marginal, ra.marginal)
	}
}

// ---- printing every datagram, as pipeline udp-peer does ----

const (
	udpPrintPackets = 50_000 // datagrams the blaster sends per printing run
	udpPrintRounds  = 10     // timed runs of each printing contender
)

// lineCounter is the discarding writer the printing contenders print to.
// It counts each line it is given as one datagram, into c, taking the
// payload's length to be what follows the line's first space: the
// blaster's payloads are letters, so a line "ADDR PAYLOAD\n" holds one
// space and one newline. Lines may be split across writes.
type lineCounter struct {
	c     *packetCount
	cur   int // bytes of the current line so far
	space int // offset of the first space in the current line, -1 if none yet
}

func newLineCounter(c *packetCount) *lineCounter { return &lineCounter{c: c, space: -1} }

func (w *lineCounter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		seg := p
		nl := bytes.IndexByte(p, '\n')
		if nl >= 0 {
			seg = p[:nl]
		}
		if w.space < 0 {
			if i := bytes.IndexByte(seg, ' '); i >= 0 {
				w.space = w.cur + i
			}
		}
		w.cur += len(seg)
		if nl < 0 {
			break
		}
		payload := -1 // a line without a space is counted as a wrong size
		if w.space >= 0 {
			payload = w.cur - w.space - 1
		}
		w.c.add(payload)
		w.cur, w.space = 0, -1
		p = p[nl+1:]
	}
	return n, nil
}

// textLine is cmd/pipeline's --format text (datagramFormat and its
// textLine, repeated here since a command's package cannot be imported;
// keep the two in step): FORMAT turns each Datagram into a value that
// formats itself as its sender, a space, its payload less one trailing
// newline and a newline, which the ConsoleEchoer prints with fmt.Fprint.
type textLine struct {
	data []byte
	addr []byte
	buf  [48]byte
}

func newTextLine(m any) any {
	d, ok := m.(udp.Datagram)
	if !ok {
		return m
	}
	t := &textLine{data: trimNewline(d.Data)}
	t.addr = d.From.AppendTo(t.buf[:0])
	return t
}

var (
	space   = []byte{' '}
	newline = []byte{'\n'}
)

func (t *textLine) Format(f fmt.State, _ rune) {
	f.Write(t.addr)
	f.Write(space)
	f.Write(t.data)
	f.Write(newline)
}

// udpPeerPrinter is pipeline udp-peer's graph (cmd/pipeline's udpGraph,
// which the command builds, with --format text), printing to a
// lineCounter:
//
//	PEER.outbox -> FORMAT -> STDOUT
//	PEER.errors -> ERRORS -> STDERR
//
// with the shutdown chain PEER -> ERRORS -> STDERR -> FORMAT -> STDOUT.
// The command's STDIN and LINGER, which feed the peer's inbox and
// control, are left out: nothing is typed here, and the benchmark ends
// the graph with ProducerFinished on the peer's control, as LINGER would.
// The socket is bound as --listen 127.0.0.1:0 binds it, with the kernel's
// default receive buffer, since the command sets none.
type udpPeerPrinter struct {
	peerReceiver
}

func newUDPPeerPrinter(c *packetCount) (receiver, error) {
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("127.0.0.1:9"))
	if err := peer.Err(); err != nil {
		return nil, err
	}
	g := chassis.Graphline(chassis.Nodes{
		"PEER":   peer,
		"FORMAT": util.PureTransformer(newTextLine),
		"STDOUT": util.ConsoleEchoer(newLineCounter(c)),
		"ERRORS": util.PureTransformer(func(m any) any { return fmt.Sprintf("pipeline udp-peer: %v", m) }),
		"STDERR": util.ConsoleEchoer(io.Discard, util.WithNewline()),
	}, chassis.Links{
		{"PEER", "outbox"}:   {"FORMAT", "inbox"},
		{"PEER", "errors"}:   {"ERRORS", "inbox"},
		{"PEER", "signal"}:   {"ERRORS", "control"},
		{"ERRORS", "outbox"}: {"STDERR", "inbox"},
		{"ERRORS", "signal"}: {"STDERR", "control"},
		{"STDERR", "signal"}: {"FORMAT", "control"},
		{"FORMAT", "outbox"}: {"STDOUT", "inbox"},
		{"FORMAT", "signal"}: {"STDOUT", "control"},
	})
	// No link feeds the peer's control, so the Graphline passes on to it
	// what arrives on its own: the ProducerFinished that stops a run.
	return &udpPeerPrinter{peerReceiver{peer: peer, root: g}}, nil
}

// rawPrinter is the hand-written equivalent: one goroutine reads each
// datagram into one reused buffer with ReadFromUDPAddrPort and writes
// the same line as --format text into a 64 KiB bufio.Writer (the size
// of a ConsoleEchoer's buffer) over a lineCounter, flushing when it
// stops. It allocates nothing per datagram.
type rawPrinter struct{ *rawReceiver }

func newRawPrinter(c *packetCount) (receiver, error) {
	conn, _, err := udpDiscard()
	if err != nil {
		return nil, err
	}
	return &rawPrinter{&rawReceiver{conn: conn, c: c, done: make(chan struct{})}}, nil
}

func (r *rawPrinter) start(context.Context) {
	go func() {
		defer close(r.done)
		w := bufio.NewWriterSize(newLineCounter(r.c), 64<<10)
		defer func() {
			if err := w.Flush(); err != nil && r.err == nil {
				r.err = err
			}
		}()
		buf := make([]byte, 1<<16)
		var addr []byte
		for {
			n, from, err := r.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					r.err = err
				}
				return
			}
			addr = from.AppendTo(addr[:0])
			w.Write(addr)
			w.WriteByte(' ')
			w.Write(trimNewline(buf[:n]))
			w.WriteByte('\n')
		}
	}()
}

// trimNewline drops one trailing "\n" or "\r\n", as --format text does.
func trimNewline(b []byte) []byte {
	if b, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		b, _ = bytes.CutSuffix(b, []byte("\r"))
		return b
	}
	return b
}

var (
	printPeer = recvContender{"udp-peer", newUDPPeerPrinter}
	printRaw  = recvContender{"raw-print", newRawPrinter}
)

// BenchmarkUDPPeerPrint has the blaster send 50,000 datagrams as fast as
// it can to pipeline udp-peer's graph, printing each datagram as a line
// of --format text, and to a raw read loop printing the same lines, both
// with the kernel's default receive buffer, at each payload size. The
// figure that matters is how many of the datagrams each printed
// (delivered): a receiver that falls behind the blaster for longer than
// its socket's buffer lasts loses datagrams. ratio = udp-peer's
// delivered fraction / raw-print's, the median of the per-round ratios.
func BenchmarkUDPPeerPrint(b *testing.B) {
	bl := blasterFor(b)
	ctx := context.Background()
	var (
		rate   = func(r recvRun) float64 { return r.rate }
		deliv  = func(r recvRun) float64 { return r.delivered() }
		allocs = func(r recvRun) float64 { return r.allocsPerPacket() }
		cpu    = func(r recvRun) float64 { return r.cpuPerPacket() }
		send   = func(r recvRun) float64 { return r.sendRate }
	)
	b.ReportMetric(0, "ns/op")
	for _, size := range udpSizes {
		res, err := recvRounds(ctx, bl, false, max(b.N, udpPrintRounds), udpPrintPackets, size, printPeer, printRaw)
		if err != nil {
			b.Fatal(err)
		}
		delivered := ratesOf(res, deliv)
		ratio, lo, hi := delivered.ratio(0, 1)
		rates := ratesOf(res, rate)
		rateRatio, _, _ := rates.ratio(0, 1)
		var sends []float64
		for i := range res {
			sends = append(sends, valuesOf(res[i], send)...)
		}
		p := fmt.Sprintf("%d-", size)
		b.ReportMetric(ratio, p+"ratio")
		var each []string
		for i, c := range []recvContender{printPeer, printRaw} {
			name := c.name
			if i == 0 {
				name = "peer"
			}
			b.ReportMetric(medianOf(res[i], deliv), p+name+"-delivered")
			b.ReportMetric(medianOf(res[i], rate), p+name+"-pkts/s")
			b.ReportMetric(medianOf(res[i], allocs), p+name+"-allocs/pkt")
			b.ReportMetric(medianOf(res[i], cpu), p+name+"-cpu-us/pkt")
			each = append(each, fmt.Sprintf("%s delivered %.3f (lowest %.3f), %s Mpkt/s, %.2f allocs/pkt, CPU %.2f us/pkt",
				c.name, medianOf(res[i], deliv), slices.Min(valuesOf(res[i], deliv)), mega(medianOf(res[i], rate)),
				medianOf(res[i], allocs), medianOf(res[i], cpu)))
		}
		report(b, "udp-peer-print %dB: delivered ratio %.3f (%d rounds %.3f..%.3f; target >= %.2f %s); rate ratio %.2f; %s; %d datagrams a run, blaster %s Mpkt/s, SO_RCVBUF %d",
			size, ratio, delivered.n(), lo, hi, ratioTarget, verdict(ratio, ratioTarget), rateRatio,
			strings.Join(each, "; "), udpPrintPackets, mega(median(sends)), defaultReadBuffer())
	}
}

// defaultReadBuffer is the receive buffer a socket gets when it asks for
// none, as the kernel reports it (0 if it cannot be read).
func defaultReadBuffer() int {
	conn, _, err := udpDiscard()
	if err != nil {
		return 0
	}
	defer conn.Close()
	return readBufferOf(conn)
}

// ---- tests of the UDP harness ----

func TestUDPReceiversCount(t *testing.T) {
	bl, err := startBlaster()
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			bl.close()
		}
	})
	ctx := axontest.Context(t)
	for _, burst := range []bool{false, true} {
		for _, rc := range []recvContender{recvFramework, recvRaw, recvChan, printPeer, printRaw} {
			// Few enough datagrams to fit any socket buffer, so none is lost.
			const n = 100
			r, err := receiveOnce(ctx, bl, rc, burst, n, 64)
			if err != nil {
				t.Fatal(err)
			}
			if r.sent != n || r.received != n {
				t.Errorf("%s (burst %v): sent %d, received %d, want %d of each", rc.name, burst, r.sent, r.received, n)
			}
		}
	}
	closed = true
	if err := bl.close(); err != nil {
		t.Fatal(err)
	}
}

func TestUDPSendersSend(t *testing.T) {
	dst, to, err := udpDiscard()
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ctx := axontest.Context(t)
	for _, c := range []contender{sendFramework(to, 64), sendRaw(to, 64), sendRawChan(to, 64)} {
		const n = 50
		got, err := c.run(ctx, n)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != n {
			t.Errorf("%s: sent %d, want %d", c.name, got, n)
		}
		// Few enough to fit the socket's buffer: every one is waiting, whole.
		buf := make([]byte, 100)
		if err := dst.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			k, _, err := dst.ReadFromUDPAddrPort(buf)
			if err != nil || k != 64 {
				t.Fatalf("%s: datagram %d: read %d bytes, %v; want 64", c.name, i, k, err)
			}
		}
	}
}
