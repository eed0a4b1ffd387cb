package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of the udp-* commands: the binary, driven through its
// standard streams, against plain net.UDPConns and socat on loopback.

// udp-peer both ways against a plain UDP socket, over IPv4 and IPv6: each
// line of input goes out as a datagram, each datagram received is
// printed. Input ending does not stop it (no --linger); a signal does,
// cleanly, with everything received printed.
func TestUDPPeerBothWays(t *testing.T) {
	bin := pipelineBinary(t)
	for _, tc := range []struct {
		name, loopback string
		sig            os.Signal
	}{
		{"IPv4", "127.0.0.1:0", os.Interrupt},
		{"IPv6", "[::1]:0", syscall.SIGTERM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "IPv6" {
				needIPv6(t)
			}
			conn := listenUDP(t, tc.loopback)
			p := start(t, bin, "udp-peer", "--listen", tc.loopback, "--to", localAddr(conn).String())
			addr := p.listening()
			if addr.Addr() != localAddr(conn).Addr() {
				t.Fatalf("listening on %s, want an address on %s", addr, localAddr(conn).Addr())
			}
			p.write("hello\n")
			p.write("second line\r\n")
			p.write("\n")
			for _, want := range []string{"hello", "second line", ""} {
				if got, from := recv(t, conn); got != want || from != addr {
					t.Fatalf("received %q from %s, want %q from %s", got, from, want, addr)
				}
			}
			sendTo(t, conn, addr, "reply\n")
			sendTo(t, conn, addr, "two\nlines")
			if got, want := p.outLine()+p.outLine()+p.outLine(), lines(
				localAddr(conn).String()+" reply",
				localAddr(conn).String()+" two",
				localAddr(conn).String()+" lines",
			); got != want {
				t.Fatalf("stdout %q, want %q", got, want)
			}
			// The end of input does not end it: it is still receiving.
			p.closeStdin()
			sendTo(t, conn, addr, "after the end")
			if got, want := p.outLine(), localAddr(conn).String()+" after the end\n"; got != want {
				t.Fatalf("stdout %q, want %q", got, want)
			}
			p.signal(tc.sig)
			p.expectExit(0)
		})
	}
}

// --format raw writes payloads exactly, nothing added; --format json one
// object per datagram, base64 for a payload that is not UTF-8.
func TestUDPPeerFormats(t *testing.T) {
	bin := pipelineBinary(t)
	t.Run("raw", func(t *testing.T) {
		conn := listenUDP(t, "127.0.0.1:0")
		p := start(t, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(conn).String(), "--format", "raw")
		addr := p.listening()
		payloads := []string{"one", "two\n", "\x00\xff\r\n", ""}
		for _, s := range payloads {
			sendTo(t, conn, addr, s)
		}
		want := strings.Join(payloads, "")
		if got := p.outBytes(len(want)); string(got) != want {
			t.Fatalf("stdout %q, want %q", got, want)
		}
		p.signal(os.Interrupt)
		p.expectExit(0)
	})
	t.Run("json", func(t *testing.T) {
		conn := listenUDP(t, "127.0.0.1:0")
		p := start(t, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(conn).String(), "--format", "json")
		addr := p.listening()
		from := localAddr(conn).String()
		for _, tc := range []struct {
			payload string
			want    map[string]any
		}{
			{"hi \"there\" <&> é\n", map[string]any{"from": from, "data": "hi \"there\" <&> é\n"}},
			{"\xff\x00", map[string]any{"from": from, "data_base64": "/wA="}},
			{"", map[string]any{"from": from, "data": ""}},
		} {
			sendTo(t, conn, addr, tc.payload)
			line := p.outLine()
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("for %q printed %q (%v), want %v", tc.payload, line, err, tc.want)
			}
			if strings.Contains(tc.payload, "<&>") && !strings.Contains(line, "<&>") {
				t.Errorf("%q: HTML characters escaped; want them as they are", line)
			}
		}
		p.signal(os.Interrupt)
		p.expectExit(0)
	})
}

// With --linger, udp-peer keeps receiving after its input ends, then
// exits 0 by itself, with what it received printed.
func TestUDPPeerLinger(t *testing.T) {
	bin := pipelineBinary(t)
	conn := listenUDP(t, "127.0.0.1:0")
	// The linger only has to outlast one loopback round trip.
	p := start(t, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(conn).String(), "--linger", "2s")
	addr := p.listening()
	p.write("ping\n")
	p.closeStdin()
	if got, _ := recv(t, conn); got != "ping" {
		t.Fatalf("received %q, want ping", got)
	}
	sendTo(t, conn, addr, "pong")
	if got, want := p.outLine(), localAddr(conn).String()+" pong\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	p.expectExit(0)
}

// udp-peer against socat, a UDP implementation of another family: socat
// as a peer sending and receiving, and socat as a plain listener.
func TestUDPPeerSocat(t *testing.T) {
	bin := pipelineBinary(t)
	socat := needSocat(t)
	t.Run("socat peer", func(t *testing.T) {
		port := freePort(t)
		socatAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		p := start(t, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", socatAddr.String())
		addr := p.listening()
		s := start(t, socat, "STDIO", fmt.Sprintf("UDP-DATAGRAM:%s,bind=%s", addr, socatAddr))
		s.write("from socat\n")
		if got, want := p.outLine(), socatAddr.String()+" from socat\n"; got != want {
			t.Fatalf("stdout %q, want %q", got, want)
		}
		// socat is bound, since it has sent: now the other way.
		p.write("to socat\n")
		if got := s.outBytes(len("to socat")); string(got) != "to socat" {
			t.Fatalf("socat printed %q, want %q", got, "to socat")
		}
		p.signal(os.Interrupt)
		p.expectExit(0)
	})
	t.Run("socat listener", func(t *testing.T) {
		port := freePort(t)
		socatAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		s := start(t, socat, "-u", fmt.Sprintf("UDP-RECV:%d,bind=127.0.0.1", port), "STDOUT")
		p := start(t, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", socatAddr.String())
		p.listening()
		// Until socat has bound its port, what is sent there is lost:
		// send until a datagram shows.
		deadline := time.Now().Add(ioWait)
		for i := 0; ; i++ {
			p.write("ping " + strconv.Itoa(i) + "\n")
			_ = s.outF.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			b := make([]byte, 64)
			n, _ := s.out.Read(b)
			if n > 0 {
				if got := string(b[:n]); !strings.HasPrefix(got, "ping ") {
					t.Fatalf("socat printed %q, want ping N", got)
				}
				break
			}
			if time.Now().After(deadline) {
				s.failf("printed nothing for %d datagrams", i+1)
			}
		}
		p.signal(os.Interrupt)
		p.expectExit(0)
	})
}

// udp-targets sends to each of its receivers in turn, and prints what
// they send back.
func TestUDPTargetsRotates(t *testing.T) {
	bin := pipelineBinary(t)
	a, b := listenUDP(t, "127.0.0.1:0"), listenUDP(t, "127.0.0.1:0")
	p := start(t, bin, "udp-targets", "--listen", "127.0.0.1:0",
		"--to", localAddr(a).String()+", "+localAddr(b).String(), "--every", "20ms")
	addr := p.listening()
	// Each receiver reports the first datagram it gets.
	type got struct {
		payload string
		from    netip.AddrPort
		err     error
	}
	first := func(c interface {
		SetReadDeadline(time.Time) error
		ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
	}) chan got {
		ch := make(chan got, 1)
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(ioWait))
			buf := make([]byte, 100)
			n, from, err := c.ReadFromUDPAddrPort(buf)
			ch <- got{string(buf[:n]), from, err}
		}()
		return ch
	}
	chA, chB := first(a), first(b)
	var fromA, fromB *got
	tick := time.NewTicker(5 * time.Millisecond) // pacing the input, not waiting on it
	defer tick.Stop()
	deadline := time.After(ioWait)
	for i := 0; fromA == nil || fromB == nil; i++ {
		p.write("line " + strconv.Itoa(i) + "\n")
		select {
		case g := <-chA:
			fromA = &g
		case g := <-chB:
			fromB = &g
		case <-tick.C:
		case <-deadline:
			p.failf("after %d lines, receiver A got %v and B %v", i+1, fromA, fromB)
		}
	}
	for name, g := range map[string]*got{"A": fromA, "B": fromB} {
		if g.err != nil || !strings.HasPrefix(g.payload, "line ") || g.from != addr {
			t.Errorf("receiver %s got %q from %s (%v), want a line from %s", name, g.payload, g.from, g.err, addr)
		}
	}
	sendTo(t, b, addr, "from B")
	if got, want := p.outLine(), localAddr(b).String()+" from B\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	p.signal(os.Interrupt)
	p.expectExit(0)
}

// udp-postbox sends each line where it says; a malformed line and an
// unresolvable host are reported on stderr, and the lines after them
// still go out.
func TestUDPPostbox(t *testing.T) {
	bin := pipelineBinary(t)
	a, b := listenUDP(t, "127.0.0.1:0"), listenUDP(t, "127.0.0.1:0")
	p := start(t, bin, "udp-postbox", "--listen", "127.0.0.1:0", "--linger", "10ms")
	addr := p.listening()
	p.write(lines(
		localAddr(a).String()+" first to A",
		"not a destination",
		"nosuch.invalid:9 lost",
		localAddr(b).String()+" to B, after the errors",
		localAddr(a).String()+" ",
	))
	for _, w := range []struct {
		name    string
		payload string
	}{{"A", "first to A"}, {"B", "to B, after the errors"}, {"A", ""}} {
		c := a
		if w.name == "B" {
			c = b
		}
		if got, from := recv(t, c); got != w.payload || from != addr {
			t.Fatalf("%s received %q from %s, want %q from %s", w.name, got, from, w.payload, addr)
		}
	}
	// The parse error comes first: PARSE reports line 2 before it passes
	// line 3 to the peer.
	if got := p.errLine(); !strings.HasPrefix(got, "pipeline udp-postbox: line 2: ") || !strings.Contains(got, `"not"`) {
		t.Errorf("stderr line %q, want line 2 reported", got)
	}
	if got := p.errLine(); !strings.HasPrefix(got, "pipeline udp-postbox: PostboxPeer: ") ||
		!strings.Contains(got, "nosuch.invalid:9") || !strings.Contains(got, "cannot resolve host") {
		t.Errorf("stderr line %q, want nosuch.invalid:9 reported unresolvable", got)
	}
	sendTo(t, a, addr, "back from A")
	if got, want := p.outLine(), localAddr(a).String()+" back from A\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	p.closeStdin()
	// Line 2 and the datagram to nosuch.invalid failed.
	if got, want := p.errLine(), "pipeline udp-postbox: 2 items failed (see above)"; got != want {
		t.Errorf("last stderr line %q, want %q", got, want)
	}
	p.expectExit(exitFailure)
}

// udp-echo sends every datagram back to its sender, over IPv4 and IPv6,
// until interrupted.
func TestUDPEcho(t *testing.T) {
	bin := pipelineBinary(t)
	for _, tc := range []struct{ name, loopback string }{{"IPv4", "127.0.0.1:0"}, {"IPv6", "[::1]:0"}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "IPv6" {
				needIPv6(t)
			}
			p := start(t, bin, "udp-echo", "--listen", tc.loopback)
			addr := p.listening()
			for _, c := range []*net.UDPConn{listenUDP(t, tc.loopback), listenUDP(t, tc.loopback)} {
				for _, s := range []string{"ping", "with newline\n", "\x00\x01 binary", ""} {
					sendTo(t, c, addr, s)
					if got, from := recv(t, c); got != s || from != addr {
						t.Fatalf("sent %q, got back %q from %s, want it from %s", s, got, from, addr)
					}
				}
			}
			p.signal(syscall.SIGTERM)
			p.expectExit(0)
		})
	}
}

// A signal in the middle of a stream of datagrams ends udp-peer cleanly,
// with its output flushed: whatever it printed ends with a whole line.
func TestUDPPeerSignalFlushes(t *testing.T) {
	bin := pipelineBinary(t)
	conn := listenUDP(t, "127.0.0.1:0")
	p := start(t, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(conn).String())
	addr := p.listening()
	sendTo(t, conn, addr, "first")
	if got, want := p.outLine(), localAddr(conn).String()+" first\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	// More than the output buffer holds, so that a line is likely split
	// between two writes when the signal comes.
	const n = 5000
	for i := range n {
		sendTo(t, conn, addr, fmt.Sprintf("datagram %04d", i))
	}
	p.signal(os.Interrupt)
	// Read as it writes: a writer stuck on a full pipe cannot exit.
	out := string(p.restOut())
	if code := p.wait(); code != 0 {
		p.failf("exit code %d, want 0", code)
	}
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Fatalf("output ends in the middle of a line: ...%q", out[max(0, len(out)-40):])
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line != "" && !regexp.MustCompile(`^127\.0\.0\.1:\d+ datagram \d{4}$`).MatchString(line) {
			t.Fatalf("line %q is not a whole datagram", line)
		}
	}
	t.Logf("%d of %d datagrams printed before the signal took effect", strings.Count(out, "\n"), n)
}
