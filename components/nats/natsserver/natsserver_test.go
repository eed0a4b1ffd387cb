package natsserver_test

import (
	"net"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/nats/natsserver"
)

// A started server accepts connections on 127.0.0.1 at the URL it gives,
// and Shutdown leaves nothing running.
func TestStartAcceptsConnections(t *testing.T) {
	s, err := natsserver.Start(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if !strings.HasPrefix(s.URL(), "nats://127.0.0.1:") || s.Port() == 0 {
		t.Fatalf("URL %q, port %d", s.URL(), s.Port())
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := c.Read(buf); err != nil || string(buf) != "INFO" {
		t.Errorf("server said %q, %v; want INFO", buf, err)
	}
	c.Close()
}
