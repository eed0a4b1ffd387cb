package tcp_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
	"github.com/kamaelia-go/kamaelia/util"
)

// getBytes gets chunks from h's outbox until n bytes have come.
func getBytes(t *testing.T, ctx context.Context, h *axon.Handle, box string, n int) string {
	t.Helper()
	var b bytes.Buffer
	for b.Len() < n {
		m := axontest.Get(t, ctx, h, box)
		p, ok := m.([]byte)
		if !ok {
			t.Fatalf("%s: got %T %v, want []byte", box, m, m)
		}
		b.Write(p)
	}
	if b.Len() != n {
		t.Fatalf("%s: got %d bytes %q, want %d", box, b.Len(), b.String(), n)
	}
	return b.String()
}

// expectFinished gets the next message on h's signal and checks that it is
// a ProducerFinished from the component whose Reason is nil (want nil) or
// wraps want.
func expectFinished(t *testing.T, ctx context.Context, h *axon.Handle, want error) axon.ProducerFinished {
	t.Helper()
	m := axontest.Get(t, ctx, h, axon.SignalName)
	pf, ok := m.(axon.ProducerFinished)
	if !ok {
		t.Fatalf("signal: got %#v, want a ProducerFinished", m)
	}
	if pf.From != h.Component().Ref() {
		t.Errorf("signal: ProducerFinished from %v, want from %v", pf.From, h.Component().Ref())
	}
	switch {
	case want == nil && pf.Reason != nil:
		t.Fatalf("signal: Reason %v, want nil", pf.Reason)
	case want != nil && !errors.Is(pf.Reason, want):
		t.Fatalf("signal: Reason %v, want one wrapping %v", pf.Reason, want)
	}
	return pf
}

// echo is the protocol of an echo server: each chunk back as it came.
func echo(tcp.ConnInfo) axon.Node {
	return util.PureTransformer(func(m any) any { return m })
}

// nextEvent gets the next Event from h's "events".
func nextEvent(t *testing.T, ctx context.Context, h *axon.Handle) tcp.Event {
	t.Helper()
	m := axontest.Get(t, ctx, h, tcp.EventsBox)
	e, ok := m.(tcp.Event)
	if !ok {
		t.Fatalf("events: got %T %v, want a tcp.Event", m, m)
	}
	return e
}

// expectEvent gets the next Event and checks its kind, its client and its
// Reason (nil, or wrapping want).
func expectEvent(t *testing.T, ctx context.Context, h *axon.Handle, kind tcp.EventKind, remote netip.AddrPort, want error) tcp.Event {
	t.Helper()
	e := nextEvent(t, ctx, h)
	if e.Kind != kind || (remote.IsValid() && e.Remote != remote) {
		t.Fatalf("event %v (%v from %v), want %v from %v", e, e.Kind, e.Remote, kind, remote)
	}
	switch {
	case want == nil && e.Reason != nil:
		t.Fatalf("event %v: Reason %v, want nil", e, e.Reason)
	case want != nil && !errors.Is(e.Reason, want):
		t.Fatalf("event %v: Reason %v, want one wrapping %v", e, e.Reason, want)
	}
	return e
}

// local is c's local address.
func local(c net.Conn) netip.AddrPort { return c.LocalAddr().(*net.TCPAddr).AddrPort() }

// dialRefused connects to a server that is to refuse the connection, and
// checks that it does: the connection is closed at once. The server may
// reset it before Dial has returned, in which case the client's address
// is not known and the zero AddrPort is returned.
func dialRefused(t *testing.T, addr netip.AddrPort) netip.AddrPort {
	t.Helper()
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(addr))
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dial %v: %v, want it to connect or be reset", addr, err)
		}
		return netip.AddrPort{}
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(tcptest.Wait))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("refused client read %d, %v; want its connection closed", n, err)
	}
	return local(c)
}
