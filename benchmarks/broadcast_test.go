package benchmarks

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/multicast"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// Issue 4's benchmark: 1 MiB messages through a multicast.Broadcaster
// and Listener, over UDP on loopback, against raw datagrams of the same
// size carrying the same number of bytes, sent and read with plain
// *net.UDPConn loops. Loopback unicast carries them: multicast through
// lo takes the same path in the kernel, and it is what works on every
// machine.

const (
	bcastMessage  = 1 << 20 // bytes in a message
	bcastMessages = 8       // messages a run
	bcastRounds   = 10
	bcastDatagram = multicast.DefaultDatagramSize
	bcastRcvBuf   = 8 << 20
	bcastQuiet    = 300 * time.Millisecond // no progress this long: the run is over
)

// bcastRun is one run's outcome: bytes delivered whole, over how long.
type bcastRun struct {
	bytes int
	took  time.Duration
}

func (r bcastRun) rate() float64 { return float64(r.bytes) / r.took.Seconds() }

// waitFor waits until count reaches want or stops moving for bcastQuiet,
// and returns when the last progress was made.
func waitFor(count *atomic.Int64, want int64, start time.Time) time.Time {
	last, lastAt := int64(-1), start
	for {
		n := count.Load()
		if n != last {
			last, lastAt = n, time.Now()
		}
		if n >= want || time.Since(lastAt) > bcastQuiet {
			return lastAt
		}
		time.Sleep(time.Millisecond)
	}
}

// bcastFramework sends bcastMessages messages through
// Pipeline(DataSource, Broadcaster, SimplePeer) to
// Pipeline(PostboxPeer, Listener, counting sink).
func bcastFramework(ctx context.Context, msg []byte) (bcastRun, error) {
	var got atomic.Int64
	rx := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.ReadBuffer(bcastRcvBuf))
	if err := rx.Err(); err != nil {
		return bcastRun{}, err
	}
	count := axon.New("CountBytes", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			if mm, ok := m.(multicast.Message); ok && len(mm.Data) == len(msg) {
				got.Add(int64(len(mm.Data)))
			}
			return nil
		})
	})
	h := axon.Start(ctx, chassis.Pipeline(rx, multicast.Listener(), count))
	defer func() { h.Stop(); _ = h.Wait() }()
	msgs := make([][]byte, bcastMessages)
	for i := range msgs {
		msgs[i] = msg
	}
	start := time.Now()
	tx := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(rx.LocalAddr()))
	if err := axon.Run(ctx, chassis.Pipeline(util.DataSource(msgs), multicast.Broadcaster(), tx)); err != nil {
		return bcastRun{}, err
	}
	end := waitFor(&got, int64(bcastMessages*len(msg)), start)
	return bcastRun{bytes: int(got.Load()), took: end.Sub(start)}, nil
}

// bcastRaw sends the same bytes in datagrams of bcastDatagram bytes from
// one plain socket to another, read by a plain loop.
func bcastRaw(ctx context.Context, msg []byte) (bcastRun, error) {
	rx, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return bcastRun{}, err
	}
	defer rx.Close()
	if err := rx.SetReadBuffer(bcastRcvBuf); err != nil {
		return bcastRun{}, err
	}
	var got atomic.Int64
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := rx.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			got.Add(int64(n))
		}
	}()
	tx, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return bcastRun{}, err
	}
	defer tx.Close()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	total := bcastMessages * len(msg)
	start := time.Now()
	for sent := 0; sent < total; {
		n := min(bcastDatagram, total-sent)
		if _, err := tx.WriteToUDPAddrPort(msg[:n], to); err != nil {
			return bcastRun{}, err
		}
		sent += n
	}
	end := waitFor(&got, int64(total), start)
	return bcastRun{bytes: int(got.Load()), took: end.Sub(start)}, nil
}

// BenchmarkBroadcast1MiB reports bytes/s delivered for 1 MiB messages
// through Broadcaster and Listener, the same for raw datagrams, their
// ratio, and the fraction of bytes each delivered (the framework counts
// only whole messages: one lost fragment loses its message).
func BenchmarkBroadcast1MiB(b *testing.B) {
	ctx := context.Background()
	msg := bytes.Repeat([]byte("kamaelia"), bcastMessage/8)
	runs := [2][]bcastRun{}
	contenders := [2]func(context.Context, []byte) (bcastRun, error){bcastFramework, bcastRaw}
	for r := range max(b.N, bcastRounds) {
		for j := range contenders {
			i := (j + r) % 2
			res, err := contenders[i](ctx, msg)
			if err != nil {
				b.Fatal(err)
			}
			runs[i] = append(runs[i], res)
		}
	}
	rate := func(i int) (float64, float64) {
		var rates, deliv []float64
		for _, r := range runs[i] {
			rates = append(rates, r.rate())
			deliv = append(deliv, float64(r.bytes)/float64(bcastMessages*bcastMessage))
		}
		return median(rates), median(deliv)
	}
	var ratios []float64
	for k := range runs[0] {
		ratios = append(ratios, runs[0][k].rate()/runs[1][k].rate())
	}
	fw, fwDeliv := rate(0)
	raw, rawDeliv := rate(1)
	ratio := median(ratios)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(fw, "framework-B/s")
	b.ReportMetric(raw, "raw-B/s")
	b.ReportMetric(ratio, "ratio")
	report(b, "broadcast 1MiB: Broadcaster+Listener %s MB/s (delivered %.3f), raw datagrams %s MB/s (delivered %.3f), ratio %.2f (%d rounds of %d messages, %d-byte datagrams)",
		mega(fw), fwDeliv, mega(raw), rawDeliv, ratio, len(ratios), bcastMessages, bcastDatagram)
}

// The benchmark's framework path delivers every message whole when
// nothing is lost.
func TestBroadcastDelivers(t *testing.T) {
	res, err := bcastFramework(context.Background(), bytes.Repeat([]byte("x"), 200_000))
	if err != nil {
		t.Fatal(err)
	}
	if want := bcastMessages * 200_000; res.bytes != want {
		t.Fatalf("%d of %d bytes arrived in whole messages", res.bytes, want)
	}
}
