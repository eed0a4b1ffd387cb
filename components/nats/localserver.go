package nats

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout is how long StartLocalServer waits for its server.
const readyTimeout = 10 * time.Second

// LocalServer is a NATS server running inside this process on
// 127.0.0.1: for demos, and (through natstest) for tests, so that
// nothing has to be installed to try a NATS-backed graph.
type LocalServer struct {
	ns   *server.Server
	port int
}

// StartLocalServer starts a NATS server on 127.0.0.1:port (0 for a port
// of the system's choosing), without logging or signal handling, and
// waits until it accepts connections. configure, if not nil, adjusts its
// options first (the host, port, logging and signals are then set as
// said).
func StartLocalServer(port int, configure func(*server.Options)) (*LocalServer, error) {
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
	return &LocalServer{ns: ns, port: addr.Port}, nil
}

// URL returns the address clients connect to, "nats://127.0.0.1:PORT".
func (s *LocalServer) URL() string { return LocalURL(s.port) }

// LocalURL returns the address of a NATS server on 127.0.0.1:port,
// "nats://127.0.0.1:PORT", as LocalServer.URL gives it.
func LocalURL(port int) string {
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Port returns the port the server listens on.
func (s *LocalServer) Port() int { return s.port }

// Shutdown stops the server, closing every client connection, and waits
// until all its goroutines have ended.
func (s *LocalServer) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
