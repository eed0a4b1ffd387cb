package natstest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

func connect(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func roundTrip(t *testing.T, nc *nats.Conn, subject, payload string) {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Publish(subject, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("NextMsg: %v", err)
	}
	if string(m.Data) != payload {
		t.Fatalf("got %q, want %q", m.Data, payload)
	}
}

func TestServerServes(t *testing.T) {
	s := natstest.Server(t)
	if !s.Running() {
		t.Fatal("Running() = false after Server")
	}
	if s.Port() <= 0 {
		t.Fatalf("Port() = %d", s.Port())
	}
	roundTrip(t, connect(t, s.URL()), "a.b", "hello")
}

func TestRestartKeepsPortAndClientsReconnect(t *testing.T) {
	s := natstest.Server(t)
	url, port := s.URL(), s.Port()
	reconnected := make(chan struct{}, 1)
	nc := connect(t, url,
		nats.MaxReconnects(-1),
		nats.ReconnectWait(10*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}))
	s.Restart(t)
	if s.URL() != url || s.Port() != port {
		t.Fatalf("after Restart: %s (port %d), want %s (port %d)", s.URL(), s.Port(), url, port)
	}
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("client did not reconnect after Restart")
	}
	roundTrip(t, nc, "after.restart", "again")
}

func TestShutdownRefusesConnectionsAndIsIdempotent(t *testing.T) {
	s := natstest.Server(t)
	url := s.URL()
	s.Shutdown()
	s.Shutdown()
	if s.Running() {
		t.Fatal("Running() = true after Shutdown")
	}
	_, err := nats.Connect(url, nats.Timeout(time.Second))
	if !errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("connect after Shutdown: %v, want nats.ErrNoServers", err)
	}
	s.Start(t)
	roundTrip(t, connect(t, url), "x", "back")
}

func TestOptionApplies(t *testing.T) {
	s := natstest.Server(t, func(o *server.Options) { o.MaxPayload = 16 })
	nc := connect(t, s.URL())
	if got := nc.MaxPayload(); got != 16 {
		t.Fatalf("MaxPayload = %d, want 16", got)
	}
}
