package benchmarks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/util"
)

const (
	tcpEchoSize   = 64       // bytes per round trip
	tcpRoundTrips = 10_000   // round trips per timed run
	tcpBulkChunk  = 64 << 10 // bytes per write in the bulk runs
	tcpBulkChunks = 512      // writes per bulk run: 32 MiB
	tcpRounds     = 10       // timed runs of each contender (more with -benchtime=Nx)
)

// ---- the two echo servers ----

// echoServer is a running echo server on loopback: its address, and how
// to stop it.
type echoServer struct {
	addr netip.AddrPort
	stop func() error
}

// frameworkEcho starts a tcp.Server whose protocol handler, one per
// connection, is a PureTransformer sending back each chunk as it came:
// what a user of the library writes for an echo server.
func frameworkEcho() (*echoServer, error) {
	srv := tcp.Server("127.0.0.1:0", func(tcp.ConnInfo) axon.Node {
		return util.PureTransformer(func(m any) any { return m })
	})
	if err := srv.Err(); err != nil {
		return nil, err
	}
	h := axon.Start(context.Background(), srv)
	return &echoServer{addr: srv.LocalAddr(), stop: func() error {
		h.Stop()
		return h.Wait()
	}}, nil
}

// rawEcho starts the hand-written baseline: a net.Listener accept loop
// with one goroutine per connection that reads into a 32 KiB buffer (the
// same size as a Connection's reads) and writes back what it read. (Not
// io.Copy, which on Linux hands TCP-to-TCP copies to the kernel's splice
// and so would not be the same work.)
func rawEcho() (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				buf := make([]byte, tcp.DefaultReadChunk)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return &echoServer{addr: ln.Addr().(*net.TCPAddr).AddrPort(), stop: func() error {
		err := ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		return err
	}}, nil
}

// ---- the client, the same for both ----

// roundTrips connects to addr and makes n round trips of size bytes, one
// outstanding at a time, checking each echo; it returns how many came
// back whole.
func roundTrips(addr netip.AddrPort, n, size int) (int, error) {
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(addr))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	msg, got := bytes.Repeat([]byte{'x'}, size), make([]byte, size)
	for i := range n {
		msg[0] = byte(i)
		if _, err := c.Write(msg); err != nil {
			return i, err
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return i, err
		}
		if !bytes.Equal(got, msg) {
			return i, fmt.Errorf("round trip %d: echo differs", i)
		}
	}
	return n, nil
}

// bulk connects to addr, writes n chunks of chunk bytes from one
// goroutine while another reads the echo, and returns how many chunks'
// worth came back, checked byte for byte.
func bulk(addr netip.AddrPort, n, chunk int) (int, error) {
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(addr))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	data := make([]byte, chunk)
	for i := range data {
		data[i] = byte(i % 251)
	}
	werr := make(chan error, 1)
	go func() {
		for range n {
			if _, err := c.Write(data); err != nil {
				werr <- err
				return
			}
		}
		werr <- c.CloseWrite()
	}()
	buf := make([]byte, chunk)
	total := 0
	for total < n*chunk {
		k, err := c.Read(buf[:min(len(buf), chunk-total%chunk)])
		if k > 0 {
			off := total % chunk
			if !bytes.Equal(buf[:k], data[off:off+k]) {
				return total / chunk, fmt.Errorf("byte %d: echo differs", total)
			}
			total += k
		}
		if err != nil {
			return total / chunk, err
		}
	}
	if err := <-werr; err != nil {
		return total / chunk, err
	}
	return total / chunk, nil
}

// tcpContenders starts both servers and returns, for each, a round-trip
// and a bulk contender; stop stops the servers.
func tcpContenders() (rt, bk []contender, stop func() error, err error) {
	fw, err := frameworkEcho()
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := rawEcho()
	if err != nil {
		fw.stop()
		return nil, nil, nil, err
	}
	for _, s := range []struct {
		name string
		srv  *echoServer
	}{{"Server", fw}, {"raw", raw}} {
		addr := s.srv.addr
		rt = append(rt, contender{s.name, func(_ context.Context, n int) (int, error) { return roundTrips(addr, n, tcpEchoSize) }})
		bk = append(bk, contender{s.name, func(_ context.Context, n int) (int, error) { return bulk(addr, n, tcpBulkChunk) }})
	}
	return rt, bk, func() error { return errors.Join(fw.stop(), raw.stop()) }, nil
}

// BenchmarkTCPEcho measures echo through a tcp.Server (a Connection and a
// PureTransformer handler per connection) against a hand-written
// net.Conn echo loop, with the same plain net.Conn client: round trips of
// 64 bytes, one outstanding at a time (latency), and 32 MiB written in
// 64 KiB chunks while the echo is read back concurrently (throughput).
func BenchmarkTCPEcho(b *testing.B) {
	rt, bk, stop, err := tcpContenders()
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			b.Error(err)
		}
	}()
	ctx := context.Background()
	nRounds := max(b.N, tcpRounds)
	b.ReportMetric(0, "ns/op")

	res, err := compare(ctx, nRounds, tcpRoundTrips, rt...)
	if err != nil {
		b.Fatal(err)
	}
	ratio, lo, hi := res.ratio(0, 1)
	b.ReportMetric(res.rate(0), "server-rtt/s")
	b.ReportMetric(res.rate(1), "raw-rtt/s")
	b.ReportMetric(ratio, "rtt-ratio")
	report(b, "tcp-echo %dB round trips: Server %.0f/s (%.1f us each), raw net.Conn echo %.0f/s (%.1f us each), ratio %.2f (%d rounds %.2f..%.2f)",
		tcpEchoSize, res.rate(0), 1e6/res.rate(0), res.rate(1), 1e6/res.rate(1), ratio, res.n(), lo, hi)

	res, err = compare(ctx, nRounds, tcpBulkChunks, bk...)
	if err != nil {
		b.Fatal(err)
	}
	ratio, lo, hi = res.ratio(0, 1)
	mib := func(chunksPerSec float64) float64 { return chunksPerSec * tcpBulkChunk / (1 << 20) }
	b.ReportMetric(mib(res.rate(0)), "server-MiB/s")
	b.ReportMetric(mib(res.rate(1)), "raw-MiB/s")
	b.ReportMetric(ratio, "bulk-ratio")
	report(b, "tcp-echo bulk %d MiB in %d KiB writes: Server %.0f MiB/s, raw net.Conn echo %.0f MiB/s, ratio %.2f (%d rounds %.2f..%.2f)",
		tcpBulkChunks*tcpBulkChunk>>20, tcpBulkChunk>>10, mib(res.rate(0)), mib(res.rate(1)), ratio, res.n(), lo, hi)
}

// ---- tests of the TCP harness ----

// Both servers echo, in both modes.
func TestTCPEchoContendersEcho(t *testing.T) {
	ctx := axontest.Context(t)
	rt, bk, stop, err := tcpContenders()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	for i := range rt {
		if got, err := rt[i].run(ctx, 100); err != nil || got != 100 {
			t.Errorf("%s round trips: %d of 100, %v", rt[i].name, got, err)
		}
		if got, err := bk[i].run(ctx, 8); err != nil || got != 8 {
			t.Errorf("%s bulk: %d of 8 chunks, %v", bk[i].name, got, err)
		}
	}
}
