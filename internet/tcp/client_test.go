package tcp_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// A Client connects, writes what arrives on inbox in order ([]byte and
// string alike), and sends what it reads on outbox; ProducerFinished
// half-closes it, and when the peer then closes, it ends with a
// ProducerFinished whose Reason is nil.
func TestClientBothWays(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	c := tcp.Client(ln.Addr().String())
	h := axontest.Start(t, ctx, c)
	peer := tcptest.Accept(t, ln)
	<-c.Ready()
	if c.Err() != nil || c.RemoteAddr() != local(peer) || c.LocalAddr() != peer.RemoteAddr().(*net.TCPAddr).AddrPort() {
		t.Fatalf("Ready: Err %v, addresses %v -> %v; want nil, %v -> %v", c.Err(), c.LocalAddr(), c.RemoteAddr(), peer.RemoteAddr(), peer.LocalAddr())
	}
	axontest.Put(t, ctx, h, "inbox", []byte("one "))
	axontest.Put(t, ctx, h, "inbox", "two ")
	axontest.Put(t, ctx, h, "inbox", []byte("three"))
	if got := tcptest.Read(t, peer, len("one two three")); got != "one two three" {
		t.Fatalf("peer read %q", got)
	}
	tcptest.Write(t, peer, "reply")
	if got := getBytes(t, ctx, h, "outbox", 5); got != "reply" {
		t.Fatalf("outbox %q, want %q", got, "reply")
	}
	axontest.Put(t, ctx, h, "control", axon.ProducerFinished{From: axontest.Tester})
	if got := tcptest.ReadToEOF(t, peer); got != "" {
		t.Fatalf("peer read %q after the end, want nothing", got)
	}
	peer.Close()
	expectFinished(t, ctx, h, nil)
	axontest.Wait(t, h)
}

// Half-close: after ProducerFinished the client's peer reads end of file,
// and the client still receives the reply sent after it.
func TestClientHalfCloseStillReceives(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	h := axontest.Start(t, ctx, tcp.Client(ln.Addr().String()))
	peer := tcptest.Accept(t, ln)
	axontest.Put(t, ctx, h, "inbox", "question")
	axontest.Put(t, ctx, h, "control", axon.ProducerFinished{From: axontest.Tester})
	// Everything, then end of file: the client has half-closed.
	if got := tcptest.ReadToEOF(t, peer); got != "question" {
		t.Fatalf("peer read %q, want %q", got, "question")
	}
	tcptest.Write(t, peer, "answer after your end")
	peer.CloseWrite()
	if got := getBytes(t, ctx, h, "outbox", len("answer after your end")); got != "answer after your end" {
		t.Fatalf("outbox %q", got)
	}
	expectFinished(t, ctx, h, nil)
	axontest.Wait(t, h)
}

// The other way: the peer half-closes first. The client says so on signal
// (ProducerFinished, Reason nil) and can still write until told to finish.
func TestClientPeerHalfCloses(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	c := tcp.Client(ln.Addr().String())
	h := axontest.Start(t, ctx, c)
	peer := tcptest.Accept(t, ln)
	tcptest.Write(t, peer, "all I have")
	peer.CloseWrite()
	if got := getBytes(t, ctx, h, "outbox", len("all I have")); got != "all I have" {
		t.Fatalf("outbox %q", got)
	}
	expectFinished(t, ctx, h, nil)
	axontest.Put(t, ctx, h, "inbox", "still listening")
	if got := tcptest.Read(t, peer, len("still listening")); got != "still listening" {
		t.Fatalf("peer read %q", got)
	}
	axontest.Put(t, ctx, h, "control", axon.ProducerFinished{From: axontest.Tester})
	if got := tcptest.ReadToEOF(t, peer); got != "" {
		t.Fatalf("peer read %q, want end of file", got)
	}
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, "signal") // one ProducerFinished, not two
}

// The Reason of the ProducerFinished that finished the client's input
// travels on when the connection then closes in an orderly way.
func TestClientPassesUpstreamReason(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	h := axontest.Start(t, ctx, tcp.Client(ln.Addr().String()))
	peer := tcptest.Accept(t, ln)
	upstream := errors.New("the file could not be read")
	axontest.Put(t, ctx, h, "control", axon.ProducerFinished{From: axontest.Tester, Reason: upstream})
	tcptest.ReadToEOF(t, peer)
	peer.Close()
	expectFinished(t, ctx, h, upstream)
	axontest.Wait(t, h)
}

// Nothing listening: the client's signal carries ErrRefused (and
// ECONNREFUSED) naming the address, Err says the same, and the component
// fails with it.
func TestClientRefused(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	addr := ln.Addr().String()
	ln.Close()
	c := tcp.Client(addr)
	h := axontest.Start(t, ctx, c)
	pf := expectFinished(t, ctx, h, tcp.ErrRefused)
	if !errors.Is(pf.Reason, syscall.ECONNREFUSED) {
		t.Errorf("Reason %q: want ECONNREFUSED", pf.Reason)
	}
	if want := c.String() + ".socket: connect " + addr + ": connection refused"; pf.Reason.Error() != want {
		t.Errorf("Reason %q, want %q", pf.Reason, want)
	}
	var be *axon.BoxError
	var te *tcp.Error
	if !errors.As(pf.Reason, &be) || be.Component != c.String() || be.Box != "socket" {
		t.Errorf("Reason %q: want an *axon.BoxError about %s's socket", pf.Reason, c)
	}
	if !errors.As(pf.Reason, &te) || te.Op != "connect" || te.Addr != addr {
		t.Errorf("Reason %q: want a *tcp.Error about connecting to %s", pf.Reason, addr)
	}
	err := h.Wait()
	var ce *axon.ComponentError
	if !errors.As(err, &ce) || !errors.Is(err, tcp.ErrRefused) {
		t.Fatalf("Wait: %v, want a ComponentError wrapping ErrRefused", err)
	}
	if want := "component " + c.String() + ".socket: connect " + addr + ": connection refused"; err.Error() != want {
		t.Errorf("Wait: %q, want %q: the component named once", err, want)
	}
	<-c.Ready()
	if !errors.Is(c.Err(), tcp.ErrRefused) || c.RemoteAddr().IsValid() {
		t.Errorf("Err %v, RemoteAddr %v; want ErrRefused, no address", c.Err(), c.RemoteAddr())
	}
}

// Connecting longer than DialTimeout fails with ErrTimeout. (The dialer's
// control function holds the attempt until it is given up: no network
// needed.)
func TestClientDialTimeout(t *testing.T) {
	ctx := axontest.Context(t)
	hold := &net.Dialer{ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	h := axontest.Start(t, ctx, tcp.Client("127.0.0.1:9", tcp.Dialer(hold), tcp.DialTimeout(50*time.Millisecond)))
	expectFinished(t, ctx, h, tcp.ErrTimeout)
	if err := h.Wait(); !errors.Is(err, tcp.ErrTimeout) {
		t.Fatalf("Wait: %v, want ErrTimeout", err)
	}
}

// A ShutdownMicroprocess while connecting is not a failure.
func TestClientStoppedWhileConnecting(t *testing.T) {
	ctx := axontest.Context(t)
	hold := &net.Dialer{ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	h := axontest.Start(t, ctx, tcp.Client("127.0.0.1:9", tcp.Dialer(hold), tcp.DialTimeout(0)))
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
}

func TestClientBadAddress(t *testing.T) {
	ctx := axontest.Context(t)
	c := tcp.Client("no port here")
	if !errors.Is(c.Err(), tcp.ErrConfig) {
		t.Fatalf("Err %v, want ErrConfig", c.Err())
	}
	if err := axon.Run(ctx, c); !errors.Is(err, tcp.ErrConfig) {
		t.Fatalf("Run: %v, want ErrConfig", err)
	}
}

// A message of the wrong type is reported on errors, naming the component
// and the box, and skipped; the client carries on.
func TestClientBadMessage(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	c := tcp.Client(ln.Addr().String())
	h := axontest.Start(t, ctx, c)
	axontest.Tap(t, h, tcp.ErrorsBox)
	peer := tcptest.Accept(t, ln)
	axontest.Put(t, ctx, h, "inbox", 42)
	axontest.Put(t, ctx, h, "inbox", "fine")
	m := axontest.Get(t, ctx, h, tcp.ErrorsBox)
	err, _ := m.(error)
	var be *axon.BoxError
	var te *tcp.Error
	if !errors.As(err, &be) || !errors.As(err, &te) || !errors.Is(err, tcp.ErrBadMessage) ||
		be.Box != "inbox" || be.Component != c.String() || te.Op != "write" || !strings.Contains(te.Error(), "int") {
		t.Fatalf("errors: got %v, want an *Error for inbox wrapping ErrBadMessage naming the type", m)
	}
	if got := tcptest.Read(t, peer, 4); got != "fine" {
		t.Fatalf("peer read %q", got)
	}
}

// A reset by the peer ends the client with ErrReset as the Reason.
func TestClientReset(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	c := tcp.Client(ln.Addr().String())
	h := axontest.Start(t, ctx, c)
	peer := tcptest.Accept(t, ln)
	<-c.Ready() // connected, so it is the connection that is reset
	peer.SetLinger(0)
	peer.Close()
	expectFinished(t, ctx, h, tcp.ErrReset)
	axontest.Wait(t, h) // a reset ends the connection; it is not a failure
}

// ShutdownMicroprocess closes at once: passed on, and the peer sees the
// connection end.
func TestClientShutdownMicroprocess(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	c := tcp.Client(ln.Addr().String())
	h := axontest.Start(t, ctx, c)
	peer := tcptest.Accept(t, ln)
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	_ = peer.SetReadDeadline(time.Now().Add(tcptest.Wait))
	if n, err := peer.Read(make([]byte, 10)); n != 0 || err == nil {
		t.Fatalf("peer read %d, %v after the shutdown; want the connection ended", n, err)
	}
}

// Reading waits while the receiver is full: what the client takes from
// the socket stays bounded (its outbox's receiver holds
// axon.DefaultCapacity chunks), so the peer's writes block, and nothing
// is lost.
func TestClientSlowReceiverBlocksPeer(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	const chunk = 1024
	c := tcp.Client(ln.Addr().String(), tcp.ReadChunk(chunk))
	h := axontest.Start(t, ctx, c)
	peer := tcptest.Accept(t, ln)
	axontest.Tap(t, h, "outbox") // linked, and nothing taken for now
	n := blockedWrite(t, peer)
	// Now let everything through and count it: all of it arrives.
	got := 0
	for got < n {
		m := axontest.Get(t, ctx, h, "outbox")
		if len(m.([]byte)) > chunk {
			t.Fatalf("a chunk of %d bytes, want at most %d", len(m.([]byte)), chunk)
		}
		got += len(m.([]byte))
	}
	if got != n {
		t.Fatalf("received %d bytes, want the %d written", got, n)
	}
}

// blockedWrite writes to c far more than any socket buffers hold, until
// the write blocks; a deadline then cuts it short. It fails the test
// unless the write was cut short, and returns how much was written.
func blockedWrite(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	const total = 64 << 20 // far beyond what loopback's buffers can hold
	// The deadline only turns a write that has blocked into an error we
	// can see; what is checked is that it did not complete.
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	n, err := c.Write(make([]byte, total))
	if err == nil || n >= total {
		t.Fatalf("wrote %d bytes, %v: the writer was never held back", n, err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write: %v, want it cut short by its deadline", err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	return n
}
