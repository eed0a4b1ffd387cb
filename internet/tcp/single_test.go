package tcp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// One client at a time: it gets what arrives on inbox and what it sends
// comes out of outbox; a second is refused while it is connected; once it
// has gone the next one is served.
func TestSingleServerOneAtATime(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.SingleServer("127.0.0.1:0")
	h := startServer(t, ctx, s)
	first := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(first), nil)
	axontest.Put(t, ctx, h, "inbox", "to the first")
	if got := tcptest.Read(t, first, len("to the first")); got != "to the first" {
		t.Fatalf("first read %q", got)
	}
	tcptest.Write(t, first, "from the first")
	if got := getBytes(t, ctx, h, "outbox", len("from the first")); got != "from the first" {
		t.Fatalf("outbox %q", got)
	}

	second := dialRefused(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Refused, second, tcp.ErrTooMany)

	// The first leaves: what it sent last still comes out, and its end
	// of file closes its connection.
	tcptest.Write(t, first, "bye")
	first.CloseWrite()
	if got := getBytes(t, ctx, h, "outbox", 3); got != "bye" {
		t.Fatalf("outbox %q", got)
	}
	tcptest.ReadToEOF(t, first)
	expectEvent(t, ctx, h, tcp.Closed, local(first), nil)

	third := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(third), nil)
	axontest.Put(t, ctx, h, "inbox", []byte("to the third"))
	if got := tcptest.Read(t, third, len("to the third")); got != "to the third" {
		t.Fatalf("third read %q", got)
	}
	tcptest.Write(t, third, "from the third")
	if got := getBytes(t, ctx, h, "outbox", len("from the third")); got != "from the third" {
		t.Fatalf("outbox %q", got)
	}
}

// ProducerFinished: what is queued reaches the client, which then reads
// end of file; when it closes, the server passes the message on.
func TestSingleServerProducerFinished(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.SingleServer("127.0.0.1:0")
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	axontest.Put(t, ctx, h, "inbox", "last words")
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, "control", pf)
	if got := tcptest.ReadToEOF(t, c); got != "last words" {
		t.Fatalf("client read %q, want %q then end of file", got, "last words")
	}
	c.Close()
	expectEvent(t, ctx, h, tcp.Closed, local(c), nil)
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
	if nc, err := net.Dial("tcp", s.LocalAddr().String()); err == nil {
		t.Cleanup(func() { nc.Close() })
		t.Fatal("the server still accepts")
	}
}

// ShutdownMicroprocess closes the client's connection at once.
func TestSingleServerShutdown(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.SingleServer("127.0.0.1:0")
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("client read %d, %v; want its connection closed", n, err)
	}
}

// With no client connected, nothing is taken from inbox: the sender waits
// for one, and the first client gets what was waiting.
func TestSingleServerHoldsInputUntilAClientComes(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.SingleServer("127.0.0.1:0")
	h := startServer(t, ctx, s)
	if err := h.TryPut("inbox", "early"); err == nil {
		t.Fatal("inbox took a message with no client connected")
	}
	put := make(chan error, 1)
	go func() { put <- h.Put(ctx, "inbox", "early") }()
	c := tcptest.Dial(t, s.LocalAddr())
	if got := tcptest.Read(t, c, 5); got != "early" {
		t.Fatalf("client read %q", got)
	}
	if err := <-put; err != nil {
		t.Fatal(err)
	}
}

func TestSingleServerBindError(t *testing.T) {
	ln := tcptest.Listen(t)
	if s := tcp.SingleServer(ln.Addr().String()); !errors.Is(s.Err(), tcp.ErrBind) {
		t.Fatalf("Err %v, want ErrBind", s.Err())
	}
}

// When the client goes, a producer sending to the SingleServer waits for
// the next client: it never meets the ended connection's inbox
// (ErrReceiverDone, which would fail an ordinary producer and its graph).
// The server's main loop is held in a blocked events send, so the
// connection has ended but is not yet detached when the producer sends.
func TestSingleServerProducerWaitsAcrossClients(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.SingleServer("127.0.0.1:0")
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	conn := s.Children()[0]
	// 16 Refused events fill the events box; the 17th holds the main loop.
	for range 17 {
		x, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(s.LocalAddr()))
		if err != nil {
			continue // reset while connecting: refused already
		}
		_ = x.SetReadDeadline(time.Now().Add(tcptest.Wait))
		_, _ = io.ReadAll(x) // returns once refused
		x.Close()
	}
	_ = c.SetLinger(0)
	c.Close()
	select {
	case <-conn.Done():
	case <-ctx.Done():
		t.Fatal("the client's connection did not end")
	}
	pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := h.Put(pctx, axon.InboxName, "for the next client")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put while no client is connected: %v; want it to wait", err)
	}
}
