// Package udptest has helpers for testing components built on UDP peers,
// as axontest has for components in general: start a peer with its
// "errors" box ready to read, and take the next Datagram or error it
// sends, failing the test if there is none or it is not what was asked.
package udptest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// Start starts p for the test, as axontest.Start does, after checking
// that it was made (p.Err() is nil), and links its "errors" box to the
// handle before it runs, so that every error it reports can be read with Error.
func Start(t testing.TB, ctx context.Context, p *udp.PeerComponent) *axon.Handle {
	t.Helper()
	if err := p.Err(); err != nil {
		t.Fatalf("making %s: %v", p, err)
	}
	return axontest.Start(t, ctx, p, axon.Tapping(udp.ErrorsBox))
}

// Datagram returns the next message on h's "outbox", failing the test if
// there is none to come or it is not a udp.Datagram.
func Datagram(t testing.TB, ctx context.Context, h *axon.Handle) udp.Datagram {
	t.Helper()
	m := axontest.Get(t, ctx, h, axon.OutboxName)
	d, ok := m.(udp.Datagram)
	if !ok {
		t.Fatalf("outbox: got %T %v, want udp.Datagram", m, m)
	}
	return d
}

// Error returns the next message on h's "errors" box, failing the test
// unless it is an error that wraps want (any error, if want is nil) and
// whose text mentions each of names, shaped as a peer's errors are: an
// *axon.BoxError naming the component and box around a *udp.Error. It
// returns both.
func Error(t testing.TB, ctx context.Context, h *axon.Handle, want error, names ...string) (*axon.BoxError, *udp.Error) {
	t.Helper()
	m := axontest.Get(t, ctx, h, udp.ErrorsBox)
	err, ok := m.(error)
	if !ok {
		t.Fatalf("errors: got %T %v, want an error", m, m)
	}
	var be *axon.BoxError
	var ue *udp.Error
	if !errors.As(err, &be) || !errors.As(err, &ue) {
		t.Fatalf("errors: got %T %v, want an *axon.BoxError around a *udp.Error", m, m)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("errors: got %v, want one wrapping %v", err, want)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Fatalf("errors: %q does not mention %q", err.Error(), n)
		}
	}
	return be, ue
}
