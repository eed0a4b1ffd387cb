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

// handEcho starts a hand-written server on loopback: an accept loop
// that runs serve for each connection, with wg to start the goroutines
// serve needs. serve closes c when it is done with it (done says so);
// stopping closes the listener and every connection still open, then
// waits for every goroutine.
func handEcho(serve func(wg *sync.WaitGroup, c net.Conn, done func())) (*echoServer, error) {
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
			serve(&wg, c, func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
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

// rawEcho starts the hand-written baseline: a net.Listener accept loop
// with one goroutine per connection that reads into a 32 KiB buffer (the
// same size as a Connection's reads) and writes back what it read. (Not
// io.Copy, which on Linux hands TCP-to-TCP copies to the kernel's splice
// and so would not be the same work.)
func rawEcho() (*echoServer, error) {
	return handEcho(func(wg *sync.WaitGroup, c net.Conn, done func()) {
		wg.Go(func() {
			defer done()
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
	})
}

// splitEcho starts a hand-written echo server shaped as a tcp.Server
// connection with its handler is: for each connection, one goroutine
// reading the socket, one passing each chunk on (the protocol handler)
// and one writing, joined by channels of axon.DefaultCapacity, with each
// read copied into a slice of its own (the handler owns what it is
// given, so the read buffer cannot be handed on). It is not a target:
// it shows what that shape costs without the framework, two hand-offs
// between goroutines and a fresh slice per read, against rawEcho.
func splitEcho() (*echoServer, error) {
	return handEcho(func(wg *sync.WaitGroup, c net.Conn, done func()) {
		in := make(chan []byte, axon.DefaultCapacity)
		out := make(chan []byte, axon.DefaultCapacity)
		wg.Go(func() { // the reader
			defer close(in)
			buf := make([]byte, tcp.DefaultReadChunk)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					in <- bytes.Clone(buf[:n])
				}
				if err != nil {
					return
				}
			}
		})
		wg.Go(func() { // the handler
			defer close(out)
			for b := range in {
				out <- b
			}
		})
		wg.Go(func() { // the writer
			defer func() {
				done()
				for range out { // let the handler finish
				}
			}()
			for b := range out {
				if _, err := c.Write(b); err != nil {
					return
				}
			}
		})
	})
}

// ---- the client, the same for all ----

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

// tcpContenders starts the three servers and returns, for each, a
// round-trip and a bulk contender, in the order Server, raw, split;
// stop stops the servers.
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
	split, err := splitEcho()
	if err != nil {
		fw.stop()
		raw.stop()
		return nil, nil, nil, err
	}
	for _, s := range []struct {
		name string
		srv  *echoServer
	}{{"Server", fw}, {"raw", raw}, {"split", split}} {
		addr := s.srv.addr
		rt = append(rt, contender{s.name, func(_ context.Context, n int) (int, error) { return roundTrips(addr, n, tcpEchoSize) }})
		bk = append(bk, contender{s.name, func(_ context.Context, n int) (int, error) { return bulk(addr, n, tcpBulkChunk) }})
	}
	return rt, bk, func() error { return errors.Join(fw.stop(), raw.stop(), split.stop()) }, nil
}

// BenchmarkTCPEcho measures echo through a tcp.Server (a Connection and a
// PureTransformer handler per connection) against a hand-written
// net.Conn echo loop, with the same plain net.Conn client: round trips of
// 64 bytes, one outstanding at a time (latency), and 32 MiB written in
// 64 KiB chunks while the echo is read back concurrently (throughput).
// The hand-written split echo runs in the same rounds, for information.
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
	report(b, "tcp-echo %dB round trips: Server %.0f/s (%.1f us each), raw net.Conn echo %.0f/s (%.1f us each), ratio %.2f (%d rounds %.2f..%.2f; target >= 0.90: %s)",
		tcpEchoSize, res.rate(0), 1e6/res.rate(0), res.rate(1), 1e6/res.rate(1), ratio, res.n(), lo, hi, verdict(ratio, 0.9))
	splitLine(b, "round trips", res)

	res, err = compare(ctx, nRounds, tcpBulkChunks, bk...)
	if err != nil {
		b.Fatal(err)
	}
	ratio, lo, hi = res.ratio(0, 1)
	mib := func(chunksPerSec float64) float64 { return chunksPerSec * tcpBulkChunk / (1 << 20) }
	b.ReportMetric(mib(res.rate(0)), "server-MiB/s")
	b.ReportMetric(mib(res.rate(1)), "raw-MiB/s")
	b.ReportMetric(ratio, "bulk-ratio")
	report(b, "tcp-echo bulk %d MiB in %d KiB writes: Server %.0f MiB/s, raw net.Conn echo %.0f MiB/s, ratio %.2f (%d rounds %.2f..%.2f; target >= 0.90: %s)",
		tcpBulkChunks*tcpBulkChunk>>20, tcpBulkChunk>>10, mib(res.rate(0)), mib(res.rate(1)), ratio, res.n(), lo, hi, verdict(ratio, 0.9))
	splitLine(b, "bulk", res)
}

// splitLine reports the hand-written split echo (contender 2) against
// the raw one and the Server against it.
func splitLine(b *testing.B, what string, res rounds) {
	b.Helper()
	r, lo, hi := res.ratio(2, 1)
	s, slo, shi := res.ratio(0, 2)
	report(b, "tcp-echo %s, for information: split echo (3 goroutines, a slice per read)/raw %.2f (rounds %.2f..%.2f); Server/split %.2f (rounds %.2f..%.2f)",
		what, r, lo, hi, s, slo, shi)
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
