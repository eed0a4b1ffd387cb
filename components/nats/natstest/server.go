package natstest

import (
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natsserver"
	"github.com/nats-io/nats-server/v2/server"
)

// Option changes the server's options before it starts: for example
// authentication, or a maximum payload. The host, port and logging are
// set by Server and Restart after the options run (loopback, the same
// port across restarts, no logging).
type Option func(*server.Options)

// ServerHandle is a running embedded NATS server, as Server returns it.
// Its methods may be called from any goroutine.
type ServerHandle struct {
	mu   sync.Mutex
	opts []Option
	port int
	ns   *natsserver.Server // nil once shut down
}

// Server starts an embedded NATS server on 127.0.0.1 at a port the system
// chooses, waits until it accepts connections, and registers its shutdown
// with t.Cleanup. It fails t (t.Fatal) if the server cannot start. The
// server logs nothing and leaves no goroutine behind once shut down.
func Server(t testing.TB, opts ...Option) *ServerHandle {
	t.Helper()
	h := &ServerHandle{opts: opts} // port 0: the system chooses, once
	if err := h.start(); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(h.Shutdown)
	return h
}

// start makes and starts a server on h.port (0 the first time) and
// records the port chosen.
func (h *ServerHandle) start() error {
	ls, err := natsserver.Start(h.port, func(o *server.Options) {
		for _, opt := range h.opts {
			opt(o)
		}
	})
	if err != nil {
		return err
	}
	h.port = ls.Port()
	h.ns = ls
	return nil
}

// URL returns the address clients connect to, "nats://127.0.0.1:PORT".
// It stays the same across Restart.
func (h *ServerHandle) URL() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return nats.LocalURL(h.port)
}

// Port returns the port the server listens on; it stays the same across
// Restart.
func (h *ServerHandle) Port() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.port
}

// Shutdown stops the server, closing every client connection, and waits
// until all its goroutines have ended. Clients that reconnect keep trying
// until Start or Restart brings a server back. Shutdown of a server already
// shut down does nothing.
func (h *ServerHandle) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shutdownLocked()
}

func (h *ServerHandle) shutdownLocked() {
	if h.ns == nil {
		return
	}
	h.ns.Shutdown()
	h.ns = nil
}

// Start starts a new server on the same port after Shutdown, and waits
// until it accepts connections; it does nothing if the server is running.
// It fails t if the server cannot start.
func (h *ServerHandle) Start(t testing.TB) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ns != nil {
		return
	}
	if err := h.start(); err != nil {
		t.Fatalf("natstest: restart: %v", err)
	}
}

// Restart stops the server (Shutdown) and starts a new one on the same
// port (Start). The new server knows nothing of the old one's clients or
// subscriptions.
func (h *ServerHandle) Restart(t testing.TB) {
	t.Helper()
	h.Shutdown()
	h.Start(t)
}

// Running reports whether the server is running (started and not shut
// down).
func (h *ServerHandle) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ns != nil
}

// JetStream enables JetStream on the server, keeping its streams in dir
// (t.TempDir(), say), so that a server started again by Start or
// Restart finds what the one before it stored.
func JetStream(dir string) Option {
	return func(o *server.Options) {
		o.JetStream = true
		o.StoreDir = dir
	}
}
