package main

import (
	"io"
	"net"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// bind binds addr on network ("udp" or "tcp") and returns the socket.
func bind(network, addr string) (io.Closer, error) {
	if network == "udp" {
		return net.ListenPacket(network, addr)
	}
	return net.Listen(network, addr)
}

// freeAddr returns an address on 127.0.0.1 that was free on network a
// moment ago.
func freeAddr(t *testing.T, network string) string {
	t.Helper()
	c, err := bind(network, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	switch a := c.(type) {
	case net.PacketConn:
		return a.LocalAddr().String()
	case net.Listener:
		return a.Addr().String()
	}
	panic("unreachable")
}

// TestUnrunGraphReleasesSockets: a graph that is built and then not run
// (--graph-only, a --graph-out that cannot be written, an --observe
// address taken) lets go of the sockets its peers bound: the same port
// can be bound again at once, and no goroutine is left behind.
func TestUnrunGraphReleasesSockets(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "g.dot")
	for _, c := range []struct {
		name     string
		network  string
		cmd      string
		extra    []string
		wantCode int
	}{
		{"graph-only", "udp", "udp-echo", []string{"--graph-only"}, exitOK},
		{"graph-out fails", "udp", "udp-echo", []string{"--graph", "dot", "--graph-out", missing}, exitFailure},
		{"observe fails", "udp", "udp-echo", []string{"--observe", held.Addr().String()}, exitFailure},
		{"tcp graph-only", "tcp", "tcp-server", []string{"--graph-only"}, exitOK},
		{"tcp observe fails", "tcp", "tcp-server", []string{"--observe", held.Addr().String()}, exitFailure},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			addr := freeAddr(t, c.network)
			args := append([]string{c.cmd, "--listen", addr}, c.extra...)
			if code, _, stderr := invoke(t, "", args...); code != c.wantCode {
				t.Fatalf("%q: exit %d, want %d; stderr:\n%s", args, code, c.wantCode, stderr)
			}
			again, err := bind(c.network, addr)
			if err != nil {
				t.Fatalf("%s is still bound after %q: %v", addr, args, err)
			}
			again.Close()
			goleak.VerifyNone(t, before)
		})
	}
}
