package tcp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// startServer starts a Server or SingleServer s, after checking that it
// was made, with its events linked to the handle before it runs.
func startServer(t *testing.T, ctx context.Context, s interface {
	axon.Node
	Err() error
}) *axon.Handle {
	t.Helper()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return axontest.Start(t, ctx, s, axon.Tapping(tcp.EventsBox))
}

// An echo server: each client gets back what it sends; half-close works
// through it (the client's end of file reaches the handler, which
// finishes, and the connection then closes its side); events say who came
// and went.
func TestServerEcho(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.Server("127.0.0.1:0", echo)
	if a := s.LocalAddr(); !a.IsValid() || a.Port() == 0 || a.Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("LocalAddr %v before running, want 127.0.0.1 and a port", a)
	}
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	e := expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	if e.Local != s.LocalAddr() || !strings.Contains(e.String(), local(c).String()+" opened") {
		t.Errorf("event %q, Local %v; want %v, naming the client", e, e.Local, s.LocalAddr())
	}
	tcptest.Write(t, c, "hello")
	if got := tcptest.Read(t, c, 5); got != "hello" {
		t.Fatalf("echo %q", got)
	}
	tcptest.Write(t, c, " and goodbye")
	c.CloseWrite()
	if got := tcptest.ReadToEOF(t, c); got != " and goodbye" {
		t.Fatalf("after half-close read %q", got)
	}
	expectEvent(t, ctx, h, tcp.Closed, local(c), nil)
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	if n := len(s.Children()); n != 0 {
		t.Errorf("%d sessions left after the end, want 0", n)
	}
}

// Our Client against our Server: the client half-closes after its
// request and still receives the whole reply.
func TestClientToServerHalfClose(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.Server("127.0.0.1:0", echo)
	hs := startServer(t, ctx, s)
	c := tcp.Client(s.LocalAddr().String())
	hc := axontest.Start(t, ctx, c)
	request := strings.Repeat("0123456789", 10_000)
	axontest.Put(t, ctx, hc, "inbox", request)
	axontest.Put(t, ctx, hc, "control", axon.ProducerFinished{From: axontest.Tester})
	if got := getBytes(t, ctx, hc, "outbox", len(request)); got != request {
		t.Fatalf("reply of %d bytes differs from the request", len(got))
	}
	expectFinished(t, ctx, hc, nil)
	axontest.Wait(t, hc)
	<-c.Ready()
	expectEvent(t, ctx, hs, tcp.Opened, c.LocalAddr(), nil)
	expectEvent(t, ctx, hs, tcp.Closed, c.LocalAddr(), nil)
}

// The factory is given both ends of the connection.
func TestServerFactoryGetsAddresses(t *testing.T) {
	ctx := axontest.Context(t)
	infos := make(chan tcp.ConnInfo, 1)
	s := tcp.Server("127.0.0.1:0", func(ci tcp.ConnInfo) axon.Node {
		infos <- ci
		return echo(ci)
	})
	startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	if ci := <-infos; ci.Local != s.LocalAddr() || ci.Remote != local(c) {
		t.Fatalf("ConnInfo %+v, want %v and %v", ci, s.LocalAddr(), local(c))
	}
}

// ShutdownMicroprocess closes every open connection at once; nothing is
// left running (goleak checks at the end).
func TestServerShutdownClosesConnections(t *testing.T) {
	for _, how := range []string{"ShutdownMicroprocess", "context"} {
		t.Run(how, func(t *testing.T) {
			ctx := axontest.Context(t)
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s := tcp.Server("127.0.0.1:0", echo)
			h := startServer(t, sctx, s)
			var clients []*net.TCPConn
			for range 3 {
				c := tcptest.Dial(t, s.LocalAddr())
				expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
				clients = append(clients, c)
			}
			if how == "context" {
				cancel()
				if err := h.Wait(); !errors.Is(err, context.Canceled) {
					t.Fatalf("Wait: %v", err)
				}
			} else {
				axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
			}
			for _, c := range clients {
				if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
					t.Fatalf("client read %d, %v; want its connection closed", n, err)
				}
			}
			if nc, err := net.Dial("tcp", s.LocalAddr().String()); err == nil {
				t.Cleanup(func() { nc.Close() })
				t.Fatal("the server still accepts")
			}
		})
	}
}

// ProducerFinished stops accepting but lets open connections finish by
// themselves; then the server passes it on.
func TestServerProducerFinishedLetsConnectionsFinish(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.Server("127.0.0.1:0", echo)
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	pf := axon.ProducerFinished{From: axontest.Tester}
	axontest.Put(t, ctx, h, "control", pf)
	// No longer accepting: the listening socket is closed. A connection
	// made before ProducerFinished took effect may still be served (or
	// closed unserved): either way it ends.
	for {
		nc, err := net.Dial("tcp", s.LocalAddr().String())
		if err != nil {
			break
		}
		nc.(*net.TCPConn).CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(tcptest.Wait))
		_, _ = io.ReadAll(nc)
		nc.Close()
	}
	tcptest.Write(t, c, "still served")
	if got := tcptest.Read(t, c, len("still served")); got != "still served" {
		t.Fatalf("echo %q", got)
	}
	select {
	case <-h.Done():
		t.Fatal("the server ended with a connection open")
	default:
	}
	c.CloseWrite()
	tcptest.ReadToEOF(t, c)
	for {
		e := nextEvent(t, ctx, h)
		if e.Kind == tcp.Closed && e.Remote == local(c) {
			break
		}
	}
	axontest.ExpectSignal(t, ctx, h, pf)
	axontest.Wait(t, h)
}

// Beyond MaxConnections a connection is closed at once and reported.
func TestServerMaxConnections(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.Server("127.0.0.1:0", echo, tcp.MaxConnections(1))
	h := startServer(t, ctx, s)
	first := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(first), nil)
	second := dialRefused(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Refused, second, tcp.ErrTooMany)
	// The first is served, and once it has gone there is room again.
	tcptest.Write(t, first, "x")
	tcptest.Read(t, first, 1)
	first.Close()
	expectEvent(t, ctx, h, tcp.Closed, local(first), nil)
	third := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(third), nil)
	tcptest.Write(t, third, "y")
	if got := tcptest.Read(t, third, 1); got != "y" {
		t.Fatalf("echo %q", got)
	}
}

// A handler that fails ends its own connection only, reported on the
// Closed event; the server goes on serving. A factory that returns nil or
// panics refuses the connection.
func TestServerHandlerFailureIsContained(t *testing.T) {
	ctx := axontest.Context(t)
	var mu sync.Mutex
	n := 0
	s := tcp.Server("127.0.0.1:0", func(ci tcp.ConnInfo) axon.Node {
		mu.Lock()
		defer mu.Unlock()
		n++
		switch n {
		case 1:
			return axon.New("Broken", func(ctx context.Context, c *axon.Component) error {
				<-c.In("inbox")
				return errors.New("gears jammed")
			})
		case 2:
			return nil
		case 3:
			panic("no handler today")
		}
		return echo(ci)
	})
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	tcptest.Write(t, c, "hello")
	e := expectEvent(t, ctx, h, tcp.Closed, local(c), tcp.ErrHandler)
	if !strings.Contains(e.String(), "gears jammed") {
		t.Errorf("event %q does not say why", e)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("client read %d, %v; want its connection closed", n, err)
	}
	for range 2 {
		c := tcptest.Dial(t, s.LocalAddr())
		expectEvent(t, ctx, h, tcp.Refused, local(c), tcp.ErrHandler)
	}
	c = tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	tcptest.Write(t, c, "still up")
	if got := tcptest.Read(t, c, 8); got != "still up" {
		t.Fatalf("echo %q", got)
	}
}

// A client that resets its connection: the Closed event says so.
func TestServerClientReset(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.Server("127.0.0.1:0", echo)
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	c.SetLinger(0)
	c.Close()
	expectEvent(t, ctx, h, tcp.Closed, local(c), tcp.ErrReset)
}

// A handler that does not read holds its connection's reader back: the
// client's writes block, and once the handler reads, every byte arrives.
func TestServerSlowHandlerBlocksClient(t *testing.T) {
	ctx := axontest.Context(t)
	release := make(chan struct{})
	counted := make(chan int, 1)
	const chunk = 1024
	s := tcp.Server("127.0.0.1:0", func(tcp.ConnInfo) axon.Node {
		return axon.New("Slow", func(ctx context.Context, c *axon.Component) error {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			total := 0
			err := c.Serve(ctx, func(_ context.Context, m any) error {
				if len(m.([]byte)) > chunk {
					return errors.New("chunk too big")
				}
				total += len(m.([]byte))
				return nil
			})
			counted <- total
			return err
		})
	}, tcp.ReadChunk(chunk))
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	n := blockedWrite(t, c)
	close(release)
	c.CloseWrite()
	if got := <-counted; got != n {
		t.Fatalf("handler received %d bytes, want the %d written", got, n)
	}
	tcptest.ReadToEOF(t, c)
	expectEvent(t, ctx, h, tcp.Closed, local(c), nil)
}

// A server that cannot bind says why at once, and fails when run.
func TestServerBindError(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	s := tcp.Server(ln.Addr().String(), echo)
	if err := s.Err(); !errors.Is(err, tcp.ErrBind) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("Err %v, want ErrBind naming %s", err, ln.Addr())
	}
	if err := axon.Run(ctx, s); !errors.Is(err, tcp.ErrBind) {
		t.Fatalf("Run: %v, want ErrBind", err)
	}
	if s.LocalAddr().IsValid() {
		t.Errorf("LocalAddr %v, want none", s.LocalAddr())
	}
}

// Listener adopts a listener; Close closes a server that never runs.
func TestServerAdoptsListener(t *testing.T) {
	ctx := axontest.Context(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := tcp.Server("ignored", echo, tcp.Listener(ln))
	if s.LocalAddr() != ln.Addr().(*net.TCPAddr).AddrPort() {
		t.Fatalf("LocalAddr %v, want %v", s.LocalAddr(), ln.Addr())
	}
	startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	tcptest.Write(t, c, "adopted")
	if got := tcptest.Read(t, c, 7); got != "adopted" {
		t.Fatalf("echo %q", got)
	}

	unused := tcp.Server("127.0.0.1:0", echo)
	addr := unused.LocalAddr().String()
	if err := unused.Close(); err != nil {
		t.Fatal(err)
	}
	if nc, err := net.Dial("tcp", addr); err == nil {
		t.Cleanup(func() { nc.Close() })
		t.Fatal("a closed server still accepts")
	}
}

func TestServerNeedsFactory(t *testing.T) {
	if s := tcp.Server("127.0.0.1:0", nil); !errors.Is(s.Err(), tcp.ErrConfig) {
		t.Fatalf("Err %v, want ErrConfig", s.Err())
	}
}

// On the default dual-stack listener an IPv4 client is reported as a
// plain IPv4 address; over IPv6 loopback the client's IPv6 address.
func TestServerAddresses(t *testing.T) {
	ctx := axontest.Context(t)
	s := tcp.Server(":0", echo)
	if a := s.LocalAddr(); !a.Addr().IsUnspecified() || a.Port() == 0 {
		t.Fatalf("LocalAddr %v, want every interface and a port", a)
	}
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), s.LocalAddr().Port()))
	e := expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	if !e.Remote.Addr().Is4() {
		t.Errorf("client reported as %v, want a plain IPv4 address", e.Remote)
	}
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Logf("no IPv6 loopback (%v): IPv6 not checked", err)
		return
	}
	ln.Close()
	cl := tcp.Client(netip.AddrPortFrom(netip.IPv6Loopback(), s.LocalAddr().Port()).String())
	hc := axontest.Start(t, ctx, cl)
	axontest.Put(t, ctx, hc, "inbox", "over IPv6")
	if got := getBytes(t, ctx, hc, "outbox", 9); got != "over IPv6" {
		t.Fatalf("echo %q", got)
	}
	<-cl.Ready()
	e = expectEvent(t, ctx, h, tcp.Opened, cl.LocalAddr(), nil)
	if !e.Remote.Addr().Is6() || cl.RemoteAddr().Addr() != netip.IPv6Loopback() {
		t.Errorf("client %v -> %v, event from %v; want IPv6 loopback both ends", cl.LocalAddr(), cl.RemoteAddr(), e.Remote)
	}
}

// A handler that answers and ends while its client is still sending: the
// client reads the whole answer and then end of file, not a reset. (The
// connection reads on, throwing the bytes away, until the client closes:
// closing a socket with unread bytes would reset it and drop the end of
// the answer.)
func TestServerAnswerSurvivesUnreadInput(t *testing.T) {
	ctx := axontest.Context(t)
	answer := strings.Repeat("A", 1<<20)
	s := tcp.Server("127.0.0.1:0", func(tcp.ConnInfo) axon.Node {
		return axon.New("Answer", func(ctx context.Context, c *axon.Component) error {
			select {
			case <-c.In(axon.InboxName):
			case <-ctx.Done():
				return ctx.Err()
			}
			if err := c.Send(ctx, axon.OutboxName, answer); err != nil {
				return err
			}
			return c.Finish(ctx)
		})
	})
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	axontest.Start(t, ctx, s) // events unlinked: not sent
	for round := range 10 {
		c := tcptest.Dial(t, s.LocalAddr())
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = c.Write(bytes.Repeat([]byte("r"), 2<<20)) })
		got := tcptest.ReadToEOF(t, c)
		if got != answer {
			t.Fatalf("round %d: read %d bytes of the %d-byte answer", round, len(got), len(answer))
		}
		c.Close()
		wg.Wait()
	}
}

// A listener given with the Listener option and closed by someone else:
// the server says so on "errors" instead of quietly accepting nothing.
func TestServerReportsItsListenerClosed(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	s := tcp.Server("", echo, tcp.Listener(ln))
	h := axontest.Start(t, ctx, s, axon.Tapping(tcp.ErrorsBox))
	ln.Close()
	m := axontest.Get(t, ctx, h, tcp.ErrorsBox)
	var err *tcp.Error
	if e, ok := m.(*axon.BoxError); !ok || e.Box != "socket" || !errors.As(e, &err) || err.Op != "accept" || !errors.Is(e, tcp.ErrClosed) {
		t.Fatalf("errors gave %T %v; want a *tcp.Error about accept, wrapping ErrClosed", m, m)
	}
}
