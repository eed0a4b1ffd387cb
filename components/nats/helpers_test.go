package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/nats"
)

const wait = 10 * time.Second

// start runs n and stops it when the test ends.
func start(t *testing.T, n axon.Node) *axon.Handle {
	t.Helper()
	h := axon.Start(context.Background(), n)
	t.Cleanup(func() {
		h.Stop()
		_ = h.Wait()
	})
	return h
}

func get(t *testing.T, h *axon.Handle, box string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m, err := h.Get(ctx, box)
	if err != nil {
		t.Fatalf("Get %q: %v", box, err)
	}
	return m
}

func put(t *testing.T, h *axon.Handle, box string, msg any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.Put(ctx, box, msg); err != nil {
		t.Fatalf("Put %q: %v", box, err)
	}
}

func subscribed(t *testing.T, s *nats.SubscriberComponent) {
	t.Helper()
	select {
	case <-s.Subscribed():
	case <-time.After(wait):
		t.Fatal("subscription not confirmed")
	}
}

// getInts reads n payloads "0".."n-1"-style numbers from h's outbox.
// getInts reads n payloads holding decimal numbers from h's outbox.
func getInts(t *testing.T, h *axon.Handle, n int) []int {
	t.Helper()
	got := make([]int, 0, n)
	for range n {
		got = append(got, payloadInt(t, get(t, h, axon.OutboxName)))
	}
	return got
}

// payloadInt is the decimal number m, a payload from an outbox, holds.
func payloadInt(t *testing.T, m any) int {
	t.Helper()
	b, ok := m.([]byte)
	if !ok {
		t.Fatalf("outbox: %T, want []byte", m)
	}
	v, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("payload %q: %v", b, err)
	}
	return v
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func putInts(t *testing.T, h *axon.Handle, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		put(t, h, axon.InboxName, strconv.Itoa(i))
	}
}

// eventually polls cond until it holds or the wait runs out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// connState records a connection's disconnects and reconnects.
type connState struct {
	down, up chan struct{}
}

func newConnState() *connState {
	return &connState{down: make(chan struct{}, 16), up: make(chan struct{}, 16)}
}

func (s *connState) options() []natsgo.Option {
	return []natsgo.Option{
		natsgo.DisconnectErrHandler(func(*natsgo.Conn, error) { s.down <- struct{}{} }),
		natsgo.ReconnectHandler(func(*natsgo.Conn) { s.up <- struct{}{} }),
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// asError checks that m is what a component reports, an *axon.BoxError
// wrapping a *nats.Error wrapping want, and returns both.
func asError(t *testing.T, m any, want error) (*axon.BoxError, *nats.Error) {
	t.Helper()
	be, ok := m.(*axon.BoxError)
	var e *nats.Error
	if !ok || !errors.As(be, &e) {
		t.Fatalf("errors: %T %v, want an *axon.BoxError wrapping a *nats.Error", m, m)
	}
	if !errors.Is(be, want) {
		t.Fatalf("errors: %v, want one wrapping %v", be, want)
	}
	if msg := be.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, be.Component+"."+be.Box+": ") {
		t.Fatalf("errors: %q, want one line naming the component and box first", msg)
	}
	return be, e
}

func equalInts(t *testing.T, got, want []int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %d messages %v\nwant %d messages %v", len(got), got, len(want), want)
	}
}

// link links h's end of box now, so that what the component sends on it
// without waiting (TrySend) is kept rather than refused as unlinked.
func link(t *testing.T, h *axon.Handle, box string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m, err := h.Get(ctx, box); err == nil {
		t.Fatalf("link %q: unexpected message %v", box, m)
	}
}
