package natsserver

import (
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/kamaelia-go/kamaelia/components/nats"
)

// readyTimeout is how long Start waits for its server.
const readyTimeout = 10 * time.Second

// Server is a NATS server running inside this process on 127.0.0.1: for
// demos, and (through natstest) for tests, so that nothing has to be
// installed to try a NATS-backed graph.
type Server struct {
	ns   *server.Server
	port int
}

// Start starts a NATS server on 127.0.0.1:port (0 for a port
// of the system's choosing), without logging or signal handling, and
// waits until it accepts connections. configure, if not nil, adjusts its
// options first (the host, port, logging and signals are then set as
// said).
func Start(port int, configure func(*server.Options)) (*Server, error) {
	o := &server.Options{}
	if configure != nil {
		configure(o)
	}
	o.Host, o.Port = "127.0.0.1", port
	if port == 0 {
		o.Port = server.RANDOM_PORT
	}
	o.NoLog, o.NoSigs, o.HTTPPort = true, true, 0
	ns, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("nats server on port %d: not ready within %v", port, readyTimeout)
	}
	addr, ok := ns.Addr().(*net.TCPAddr)
	if !ok {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("nats server listens on %v, not TCP", ns.Addr())
	}
	return &Server{ns: ns, port: addr.Port}, nil
}

// URL returns the address clients connect to, "nats://127.0.0.1:PORT".
func (s *Server) URL() string { return nats.LocalURL(s.port) }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.port }

// Shutdown stops the server, closing every client connection, and waits
// until all its goroutines have ended.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
