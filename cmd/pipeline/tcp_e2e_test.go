package main

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// End-to-end tests of tcp-client and tcp-server: the binary, driven
// through its standard streams, against plain net.Listener and net.Conn
// peers on loopback, and against each other.

// tcp-client is nc: input goes out byte for byte, what comes back is
// printed byte for byte; the end of input half-closes the connection, and
// the client still prints what the server sends after that, exiting 0
// when the server closes.
func TestTCPClientAgainstListener(t *testing.T) {
	bin := pipelineBinary(t)
	ln := tcptest.Listen(t)
	p := start(t, bin, "tcp-client", "--to", ln.Addr().String())
	srv := tcptest.Accept(t, ln)
	p.write("hello\r\nno newline")
	if got := tcptest.Read(t, srv, len("hello\r\nno newline")); got != "hello\r\nno newline" {
		t.Fatalf("server read %q", got)
	}
	tcptest.Write(t, srv, "reply\x00\xff")
	if got := string(p.outBytes(7)); got != "reply\x00\xff" {
		t.Fatalf("stdout %q", got)
	}
	p.closeStdin()
	if got := tcptest.ReadToEOF(t, srv); got != "" {
		t.Fatalf("server read %q before end of file, want nothing more", got)
	}
	tcptest.Write(t, srv, "after your end\n")
	srv.Close()
	if got := p.outLine(); got != "after your end\n" {
		t.Fatalf("stdout %q", got)
	}
	p.expectExit(0)
}

// The server closing first ends tcp-client too, with status 0, even with
// its input still open; what the server sent is printed first.
func TestTCPClientServerClosesFirst(t *testing.T) {
	bin := pipelineBinary(t)
	ln := tcptest.Listen(t)
	p := start(t, bin, "tcp-client", "--to", ln.Addr().String())
	srv := tcptest.Accept(t, ln)
	tcptest.Write(t, srv, "goodbye\n")
	srv.Close()
	if got := p.outLine(); got != "goodbye\n" {
		t.Fatalf("stdout %q", got)
	}
	p.expectExit(0)
}

// Nothing listening: exit 1, saying so and naming the address.
func TestTCPClientRefused(t *testing.T) {
	bin := pipelineBinary(t)
	ln := tcptest.Listen(t)
	addr := ln.Addr().String()
	ln.Close()
	p := start(t, bin, "tcp-client", "--to", addr)
	line := p.errLine()
	for _, want := range []string{"pipeline tcp-client:", "connect " + addr, "connection refused"} {
		if !strings.Contains(line, want) {
			t.Errorf("stderr %q does not contain %q", line, want)
		}
	}
	p.expectExit(1)
}

// A reset connection is not a clean end: exit 1, saying why.
func TestTCPClientReset(t *testing.T) {
	bin := pipelineBinary(t)
	ln := tcptest.Listen(t)
	p := start(t, bin, "tcp-client", "--to", ln.Addr().String())
	srv := tcptest.Accept(t, ln)
	srv.SetLinger(0)
	srv.Close()
	if line := p.errLine(); !strings.Contains(line, "connection reset") {
		t.Errorf("stderr %q does not say the connection was reset", line)
	}
	p.expectExit(1)
}

// SIGINT ends a connected tcp-client at once, with status 0.
func TestTCPClientInterrupted(t *testing.T) {
	bin := pipelineBinary(t)
	ln := tcptest.Listen(t)
	p := start(t, bin, "tcp-client", "--to", ln.Addr().String())
	srv := tcptest.Accept(t, ln)
	p.write("ping")
	tcptest.Read(t, srv, 4) // connected, and the graph is running
	p.signal(os.Interrupt)
	p.expectExit(0)
}

// tcp-server --echo against plain clients: each gets back what it sends,
// half-close works, and stderr reports each connection.
func TestTCPServerEcho(t *testing.T) {
	bin := pipelineBinary(t)
	p := start(t, bin, "tcp-server", "--listen", "127.0.0.1:0", "--echo")
	addr := p.listening()
	c := tcptest.Dial(t, addr)
	me := c.LocalAddr().String()
	if got, want := p.errLine(), "connection from "+me+" opened"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
	tcptest.Write(t, c, "ping\n")
	if got := tcptest.Read(t, c, 5); got != "ping\n" {
		t.Fatalf("echo %q", got)
	}
	tcptest.Write(t, c, "last")
	c.CloseWrite()
	if got := tcptest.ReadToEOF(t, c); got != "last" {
		t.Fatalf("after half-close read %q, want %q then end of file", got, "last")
	}
	if got, want := p.errLine(), "connection from "+me+" closed"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
	// A second client, still open when the server is interrupted: its
	// connection is closed, and the server exits 0.
	d := tcptest.Dial(t, addr)
	if got, want := p.errLine(), "connection from "+d.LocalAddr().String()+" opened"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
	p.signal(syscall.SIGTERM)
	if got := tcptest.ReadToEOF(t, d); got != "" {
		t.Fatalf("read %q, want the connection closed", got)
	}
	p.expectExit(0)
}

// tcp-server without --echo prints each line a client sends, prefixed
// with the client's address; a last line without an ending is printed
// when the client finishes.
func TestTCPServerPrintsLines(t *testing.T) {
	bin := pipelineBinary(t)
	p := start(t, bin, "tcp-server", "--listen", "127.0.0.1:0")
	addr := p.listening()
	for _, input := range []string{"one\r\ntw", "o\n\nthree"} {
		c := tcptest.Dial(t, addr)
		me := c.LocalAddr().String()
		p.errLine() // opened
		tcptest.Write(t, c, input)
		c.CloseWrite()
		if got := tcptest.ReadToEOF(t, c); got != "" {
			t.Fatalf("the server sent %q, want nothing", got)
		}
		var got string
		want := lines(me+" one", me+" tw")
		if input != "one\r\ntw" {
			want = lines(me+" o", me+" ", me+" three")
		}
		for range strings.Count(want, "\n") {
			got += p.outLine()
		}
		if got != want {
			t.Fatalf("stdout %q, want %q", got, want)
		}
		if got, want := p.errLine(), "connection from "+me+" closed"; got != want {
			t.Fatalf("stderr %q, want %q", got, want)
		}
	}
	p.signal(os.Interrupt)
	p.expectExit(0)
}

// tcp-client against tcp-server --echo: the client's input comes back;
// at its end the client half-closes, the server's handler finishes and
// closes its side, and the client exits 0.
func TestTCPClientToServer(t *testing.T) {
	bin := pipelineBinary(t)
	srv := start(t, bin, "tcp-server", "--listen", "127.0.0.1:0", "--echo")
	addr := srv.listening()
	cl := start(t, bin, "tcp-client", "--to", addr.String())
	if line := srv.errLine(); !strings.HasSuffix(line, " opened") {
		t.Fatalf("server stderr %q", line)
	}
	cl.write("hello, server\n")
	if got := cl.outLine(); got != "hello, server\n" {
		t.Fatalf("client stdout %q", got)
	}
	big := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB, more than one read
	cl.write(big)
	cl.closeStdin()
	if got := string(cl.outBytes(len(big))); got != big {
		t.Fatal("the echo of 256 KiB differs from what was sent")
	}
	cl.expectExit(0)
	if line := srv.errLine(); !strings.HasSuffix(line, " closed") {
		t.Fatalf("server stderr %q", line)
	}
	srv.signal(os.Interrupt)
	srv.expectExit(0)
}

// A server that cannot bind exits 1 saying so; bad flags are usage errors.
func TestTCPCommandErrors(t *testing.T) {
	ln := tcptest.Listen(t)
	code, stdout, stderr := invoke(t, "", "tcp-server", "--listen", ln.Addr().String())
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "cannot bind") || !strings.Contains(stderr, ln.Addr().String()) {
		t.Errorf("bind failure: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, args := range [][]string{
		{"tcp-client"},
		{"tcp-client", "--to", "no-port"},
		{"tcp-client", "--to", "127.0.0.1:0"},
		{"tcp-client", "--to", "127.0.0.1:7", "--timeout", "0s"},
		{"tcp-client", "--to", "127.0.0.1:7", "extra"},
		{"tcp-server", "--listen", "nope"},
		{"tcp-server", "--max-connections", "-1"},
	} {
		if code, _, stderr := invoke(t, "", args...); code != exitUsage || !strings.HasSuffix(stderr, usagePointer(args[0])) {
			t.Errorf("%q: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
	for _, name := range []string{"tcp-client", "tcp-server"} {
		code, stdout, _ := invoke(t, "", name, "--help")
		if code != exitOK || !strings.Contains(stdout, lookup(name).doc) {
			t.Errorf("%s --help: exit %d, stdout %q", name, code, stdout)
		}
	}
}
