package tcp_test

import (
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// Every component of the package keeps the shutdown rules (issue 12), on
// 127.0.0.1. Their far ends each send a few bytes, read one at a time
// (ReadChunk(1)), so that the component has several chunks for "outbox"
// and is blocked there in the ShutdownMicroprocess check, and then close
// their side, so that a connection told ProducerFinished can end.
func TestConformance(t *testing.T) {
	feed := axontest.Feed([]byte("one"), "two")
	t.Run("Client", func(t *testing.T) {
		ln := tcptest.Listen(t)
		serveOnce(t, ln)
		axontest.Conformance(t, func() axon.Node {
			return tcp.Client(tcptest.Addr(ln).String(), tcp.ReadChunk(1))
		}, feed)
	})
	t.Run("Wrap", func(t *testing.T) {
		ln := tcptest.Listen(t)
		axontest.Conformance(t, func() axon.Node {
			nc := tcptest.Dial(t, tcptest.Addr(ln))
			speak(t, tcptest.Accept(t, ln))
			return tcp.Wrap(nc, tcp.ReadChunk(1))
		}, feed)
	})
	// A server is checked with a client connected, which it serves while
	// it finishes. Its "inbox" is not used, so it is fed nothing.
	for name, server := range map[string]func(string, tcp.Factory, ...tcp.Option) *tcp.ServerComponent{
		"Server":          tcp.Server,
		"ConnectedServer": tcp.ConnectedServer,
	} {
		t.Run(name, func(t *testing.T) {
			axontest.Conformance(t, func() axon.Node {
				s := server("127.0.0.1:0", echo, tcp.ReadChunk(1))
				return withClient(t, s, s.LocalAddr(), s.Err())
			})
		})
	}
	// A SingleServer's "inbox" passes through to its client's connection
	// and holds nothing itself (axon.PassthroughOnly), so it can be fed
	// nothing before it runs: no input can be left in it.
	t.Run("SingleServer", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node {
			s := tcp.SingleServer("127.0.0.1:0", tcp.ReadChunk(1))
			return withClient(t, s, s.LocalAddr(), s.Err())
		})
	})
}

// speak has the far end c send a few bytes and close its sending side.
func speak(t *testing.T, c *net.TCPConn) {
	t.Helper()
	tcptest.Write(t, c, "hello")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
}

// serveOnce accepts every connection to ln until the test ends and
// speaks on it. The connections are closed when the test ends.
func serveOnce(t *testing.T, ln *net.TCPListener) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = c.Write([]byte("hello"))
			_ = c.CloseWrite()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
}

// withClient returns the server n, bound to addr (or failed with err),
// with a client waiting to be accepted that speaks.
func withClient(t *testing.T, n axon.Node, addr netip.AddrPort, err error) axon.Node {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	speak(t, tcptest.Dial(t, addr))
	return n
}
