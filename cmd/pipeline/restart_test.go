package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// udp-echo --restart: a REPLY that panics on a datagram is restarted;
// the failure and the datagram dropped are reported on stderr, and the
// echo goes on. Without --restart the same panic ends the command.
func TestUDPEchoRestart(t *testing.T) {
	old := echoReply
	t.Cleanup(func() { echoReply = old })
	echoReply = func() axon.Node {
		return util.PureTransformer(func(m any) any {
			if string(m.(udp.Datagram).Data) == "boom" {
				panic("REPLY cannot take boom")
			}
			return echo(m)
		})
	}
	for _, restart := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		errR, errW := io.Pipe()
		args := []string{"udp-echo", "--listen", "127.0.0.1:0"}
		if restart {
			args = append(args, "--restart")
		}
		code := make(chan int, 1)
		go func() {
			code <- run(ctx, args, strings.NewReader(""), &bytes.Buffer{}, errW)
			errW.Close()
		}()
		lines := bufio.NewScanner(errR)
		lines.Scan()
		addr, err := netip.ParseAddrPort(strings.TrimPrefix(lines.Text(), "listening on "))
		if err != nil {
			t.Fatalf("first line %q: %v", lines.Text(), err)
		}
		c := listenUDP(t, "127.0.0.1:0")
		sendTo(t, c, addr, "ping")
		if got, _ := recv(t, c); got != "ping" {
			t.Fatalf("echo %q", got)
		}
		sendTo(t, c, addr, "boom")
		var stderr []string
		if !restart {
			for lines.Scan() {
				stderr = append(stderr, lines.Text())
			}
			if got := <-code; got != exitFailure || !strings.Contains(strings.Join(stderr, "\n"), "REPLY cannot take boom") {
				t.Fatalf("without --restart: exit %d, stderr %q; want 1, naming the panic", got, stderr)
			}
			cancel()
			continue
		}
		for len(stderr) < 4 && lines.Scan() { // started, failed, dropped, restarted
			stderr = append(stderr, lines.Text())
		}
		all := strings.Join(stderr, "\n")
		for _, want := range []string{"pipeline udp-echo: REPLY failed (instance 1)", "REPLY cannot take boom", `dropped udp.Datagram`, "pipeline udp-echo: REPLY restarted (instance 2)"} {
			if !strings.Contains(all, want) {
				t.Errorf("stderr does not say %q:\n%s", want, all)
			}
		}
		sendTo(t, c, addr, "pong")
		if got, _ := recv(t, c); got != "pong" {
			t.Fatalf("echo after the restart %q", got)
		}
		cancel()
		rest, _ := io.ReadAll(errR)
		// The datagram the handler failed on was dropped: a failed item,
		// so the interrupted command does not claim a clean run.
		if got := <-code; got != exitFailure || !strings.Contains(string(rest), "1 item failed") {
			t.Fatalf("exit %d after interrupt, stderr %q; want 1 and the count of the dropped datagram", got, rest)
		}
	}
}

// tcp-server --restart serves through supervised handlers: the echo works
// as without it.
func TestTCPServerRestartEchoes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errR, errW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"tcp-server", "--listen", "127.0.0.1:0", "--echo", "--restart"}, strings.NewReader(""), &bytes.Buffer{}, errW)
		errW.Close()
	}()
	lines := bufio.NewScanner(errR)
	lines.Scan()
	addr := strings.TrimPrefix(lines.Text(), "listening on ")
	go func() { _, _ = io.Copy(io.Discard, errR) }() // the events that follow
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %q: %v", addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	cancel()
	if got := <-code; got != exitOK {
		t.Fatalf("exit %d after interrupt, want 0", got)
	}
}
