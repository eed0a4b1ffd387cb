package tcp_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// A supervised handler that panics is restarted in place: the connection
// stays open, the chunk it panicked on is dropped, and what the client
// sends next is echoed by the new handler.
func TestSupervisedHandlerKeepsTheConnection(t *testing.T) {
	ctx := axontest.Context(t)
	failed := make(chan struct{}, 1)
	var starts atomic.Int32
	handler := func(tcp.ConnInfo) axon.Node {
		starts.Add(1)
		return axon.New("Echo", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(ctx context.Context, m any) error {
				if bytes.Contains(m.([]byte), []byte("boom")) {
					failed <- struct{}{}
					panic("boom")
				}
				return c.Send(ctx, axon.OutboxName, m)
			})
		})
	}
	s := tcp.Server("127.0.0.1:0", tcp.Supervised(handler, chassis.Drop, chassis.Backoff(0, 0)))
	h := startServer(t, ctx, s)
	c := tcptest.Dial(t, s.LocalAddr())
	expectEvent(t, ctx, h, tcp.Opened, local(c), nil)
	tcptest.Write(t, c, "hello")
	if got := tcptest.Read(t, c, 5); got != "hello" {
		t.Fatalf("echo %q", got)
	}
	tcptest.Write(t, c, "boom")
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never saw boom")
	}
	tcptest.Write(t, c, "again")
	if got := tcptest.Read(t, c, 5); got != "again" {
		t.Fatalf("echo after the restart %q", got)
	}
	c.CloseWrite()
	if got := tcptest.ReadToEOF(t, c); got != "" {
		t.Fatalf("after half-close read %q", got)
	}
	expectEvent(t, ctx, h, tcp.Closed, local(c), nil)
	if n := starts.Load(); n != 2 {
		t.Fatalf("%d handlers made, want 2", n)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}
