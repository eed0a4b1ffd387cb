// Package tcptest has helpers for testing TCP components against plain
// sockets on loopback, as udptest has for UDP peers: a listener, a dialled
// or accepted connection closed when the test ends, and reads and writes
// that fail the test instead of hanging.
package tcptest

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Wait bounds each wait on a socket. It only turns a hang into a test
// failure; no check depends on it.
const Wait = 20 * time.Second

// Listen opens a plain TCP listener on 127.0.0.1 and a free port, closed
// when the test ends.
func Listen(t testing.TB) *net.TCPListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Addr returns the address ln listens on.
func Addr(ln *net.TCPListener) netip.AddrPort {
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// Accept accepts one connection on ln, waiting at most Wait, and closes
// it when the test ends.
func Accept(t testing.TB, ln *net.TCPListener) *net.TCPConn {
	t.Helper()
	_ = ln.SetDeadline(time.Now().Add(Wait))
	c, err := ln.AcceptTCP()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Dial connects to addr and closes the connection when the test ends.
func Dial(t testing.TB, addr netip.AddrPort) *net.TCPConn {
	t.Helper()
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Read reads exactly n bytes from c, waiting at most Wait.
func Read(t testing.TB, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Wait))
	b := make([]byte, n)
	if got, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: got %d: %s, %v", n, got, short(b[:got]), err)
	}
	return string(b)
}

// ReadToEOF reads c until the peer closes its side, waiting at most Wait,
// and returns what came.
func ReadToEOF(t testing.TB, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Wait))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read to end of file: got %d bytes: %s, %v", len(b), short(b), err)
	}
	return string(b)
}

// Write writes s to c, waiting at most Wait.
func Write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(Wait))
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write %s: %v", short([]byte(s)), err)
	}
}

// short quotes b, or its start if it is long, for a failure message.
func short(b []byte) string {
	const most = 64
	if len(b) <= most {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q...", b[:most])
}
