package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// Tests of pipeline as a script uses it: exit statuses that tell the
// truth, bounded input, bytes passed on exactly, error lines a person
// reads (issue 13). Each runs the built binary.

// runBinary runs the binary with args and stdin as its input, to its
// end, and returns its exit code and what it wrote.
func runBinary(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, pipelineBinary(t), args...)
	var out, errs bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errs
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("pipeline %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errs.String()
}

// lastLine returns the last line of s, without its "\n".
func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// expectRun runs the binary as runBinary does and checks its exit code,
// that the last line of its stderr is wantLast, and that every line there
// has pipeline's form (stderrForm); it returns stdout and stderr.
func expectRun(t *testing.T, wantCode int, wantLast, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runBinary(t, stdin, args...)
	if code != wantCode || lastLine(stderr) != wantLast {
		t.Fatalf("pipeline %s: exit %d, last line of stderr %q; want %d, %q\nstderr:\n%s",
			strings.Join(args, " "), code, lastLine(stderr), wantCode, wantLast, stderr)
	}
	checkStderrForm(t, stderr)
	return stdout, stderr
}

// stderrForm is what every line pipeline writes on stderr looks like: an
// error or note of a command's, "listening on ...", or the pointer to
// the help after a usage error. No slog record ("WARN ...
// component=...") and nothing unescaped that a terminal acts on.
var stderrForm = regexp.MustCompile(`^(pipeline( [a-z-]+)?: [^\x00-\x08\x0a-\x1f\x7f]*|listening on \S+( .*)?|run 'pipeline( [a-z-]+)? --help' for usage)$`)

// checkStderrForm checks that every line of stderr has stderrForm.
func checkStderrForm(t *testing.T, stderr string) {
	t.Helper()
	for line := range strings.Lines(stderr) {
		if line = strings.TrimSuffix(line, "\n"); !stderrForm.MatchString(line) {
			t.Errorf("stderr line %q is not in pipeline's form", line)
		}
	}
}

// A command that could not send what it was given exits 1 and says at
// the end how many items failed.
func TestExitStatusFailedItems(t *testing.T) {
	sink := listenUDP(t, "127.0.0.1:0")
	to := localAddr(sink).String()
	t.Run("udp-peer unresolvable", func(t *testing.T) {
		_, stderr := expectRun(t, exitFailure, "pipeline udp-peer: 1 item failed (see above)",
			"hi\n", "udp-peer", "--listen", "127.0.0.1:0", "--to", "nosuch.invalid:9", "--linger", "50ms")
		if !strings.Contains(stderr, "nosuch.invalid") {
			t.Errorf("stderr does not name the host:\n%s", stderr)
		}
	})
	t.Run("udp-targets unresolvable", func(t *testing.T) {
		expectRun(t, exitFailure, "pipeline udp-targets: 2 items failed (see above)",
			"a\nb\n", "udp-targets", "--listen", "127.0.0.1:0", "--to", "nosuch.invalid:9", "--linger", "50ms")
	})
	t.Run("datagram too long", func(t *testing.T) {
		_, stderr := expectRun(t, exitFailure, "pipeline udp-peer: 1 item failed (see above)",
			strings.Repeat("x", 70000)+"\nfits\n", "udp-peer", "--listen", "127.0.0.1:0", "--to", to, "--linger", "50ms", "--max-line", "80000")
		if !strings.Contains(stderr, "datagram too long") {
			t.Errorf("stderr does not say why:\n%s", stderr)
		}
		if got, _ := recv(t, sink); got != "fits" {
			t.Errorf("received %q, want the line that fits", got)
		}
	})
	t.Run("multicast-send datagram too long", func(t *testing.T) {
		_, stderr := expectRun(t, exitFailure, "pipeline multicast-send: 1 item failed (see above)",
			strings.Repeat("m", 70000)+"\n", "multicast-send", "--group", "239.255.13.13:26013", "--interface", "lo", "--max-line", "80000")
		if !strings.Contains(stderr, "datagram too long") {
			t.Errorf("stderr does not say why:\n%s", stderr)
		}
	})
	t.Run("udp-postbox every line bad", func(t *testing.T) {
		expectRun(t, exitFailure, "pipeline udp-postbox: 2 items failed (see above)",
			"nowhere\n:9 x\n", "udp-postbox", "--listen", "127.0.0.1:0", "--linger", "50ms")
	})
	t.Run("publish too large", func(t *testing.T) {
		big := strings.Repeat("x", 16<<20+1)
		_, stderr := expectRun(t, exitFailure, "pipeline publish: 1 item failed (see above)",
			big, "publish", "--group", "239.255.13.13:26013", "--interface", "lo")
		if !strings.Contains(stderr, "more than 16777216 bytes") {
			t.Errorf("stderr does not say why:\n%s", stderr)
		}
	})
	t.Run("all sent", func(t *testing.T) {
		code, _, stderr := runBinary(t, "one\n", "udp-peer", "--listen", "127.0.0.1:0", "--to", to, "--linger", "50ms")
		if code != exitOK || strings.Count(stderr, "\n") != 1 {
			t.Errorf("exit %d, stderr %q; want 0 and only the listening line", code, stderr)
		}
		if got, _ := recv(t, sink); got != "one" {
			t.Errorf("received %q, want %q", got, "one")
		}
	})
}

// A line longer than --max-line is reported with its number and skipped,
// and the lines after it still go.
func TestMaxLine(t *testing.T) {
	sink := listenUDP(t, "127.0.0.1:0")
	input := "first\n" + strings.Repeat("y", 65508) + "\n" + strings.Repeat("z", 65507) + "\n"
	_, stderr := expectRun(t, exitFailure, "pipeline udp-peer: 1 item failed (see above)",
		input, "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(sink).String(), "--linger", "50ms")
	if want := "pipeline udp-peer: line 2: line too long: more than 65507 bytes, skipped\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr:\n%s\nwant the line %q", stderr, want)
	}
	for _, want := range []string{"first", strings.Repeat("z", 65507)} {
		if got, _ := recv(t, sink); got != want {
			t.Fatalf("received %d bytes, want %d", len(got), len(want))
		}
	}
}

// udp-peer reading /dev/zero, one endless line, holds no more than its
// limit: its resident set stays under 64 MiB.
func TestDevZeroBoundedMemory(t *testing.T) {
	bin := pipelineBinary(t)
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Skipf("no /dev/zero here: %v", err)
	}
	defer zero.Close()
	sink := listenUDP(t, "127.0.0.1:0")
	p := startReading(t, zero, bin, "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(sink).String())
	p.listening()
	if got, want := p.errLine(), "pipeline udp-peer: line 1: line too long: more than 65507 bytes, skipped"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	// Let it read on for a while: at several hundred MB a second, an
	// unbounded reader passes 64 MiB well within it.
	time.Sleep(2 * time.Second)
	hwm := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("peak RSS after 2 s of /dev/zero: %.1f MiB", float64(hwm)/(1<<20))
	if hwm >= 64<<20 {
		p.failf("peak RSS %d bytes, want under 64 MiB", hwm)
	}
	p.signal(syscall.SIGINT)
	if got, want := p.errLine(), "pipeline udp-peer: 1 item failed (see above)"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	p.expectExit(exitFailure)
}

// peakRSS returns the peak resident set size of process pid, from Linux's
// /proc (VmHWM), or skips the test where there is none.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc/PID/status here (%v): cannot measure memory", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// udp-peer and socat, both ways, byte for byte: --keep-newlines sends
// each line with its ending, as socat and nc -u do; --format raw prints a
// datagram exactly; --format text prints every line of a datagram with
// its sender, escaped.
func TestBytesExactWithSocat(t *testing.T) {
	bin := pipelineBinary(t)
	socat := needSocat(t)
	// peers starts udp-peer with args and a socat peer talking to it, and
	// returns them once socat is known to be bound (it has sent first).
	peers := func(t *testing.T, first string, args ...string) (p, s *proc, socatAddr netip.AddrPort) {
		socatAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(t))
		p = start(t, bin, append([]string{"udp-peer", "--listen", "127.0.0.1:0", "--to", socatAddr.String()}, args...)...)
		addr := p.listening()
		s = start(t, socat, "STDIO", fmt.Sprintf("UDP-DATAGRAM:%s,bind=%s", addr, socatAddr))
		s.write(first)
		return p, s, socatAddr
	}
	t.Run("keep newlines to socat", func(t *testing.T) {
		p, s, from := peers(t, "hi\n", "--keep-newlines")
		if got, want := p.outLine(), from.String()+" hi\n"; got != want {
			t.Fatalf("stdout %q, want %q", got, want)
		}
		const sent = "hello\nsecond\r\n\nlast"
		p.write(sent)
		p.closeStdin()
		if got := string(s.outBytes(len(sent))); got != sent {
			t.Fatalf("socat received %q, want %q", got, sent)
		}
		p.signal(os.Interrupt)
		p.expectExit(exitOK)
	})
	t.Run("raw from socat", func(t *testing.T) {
		const sent = "a\nb\r\n\x1b[2J\x00end"
		p, _, _ := peers(t, sent, "--format", "raw")
		if got := string(p.outBytes(len(sent))); got != sent {
			t.Fatalf("stdout %q, want %q", got, sent)
		}
		p.signal(os.Interrupt)
		p.expectExit(exitOK)
	})
	t.Run("text from socat", func(t *testing.T) {
		p, _, from := peers(t, "a\nb\r\n\x1b[2J\x7f\tend\n")
		for _, want := range []string{"a", "b", `\x1b[2J\x7f` + "\tend"} {
			if got := p.outLine(); got != from.String()+" "+want+"\n" {
				t.Fatalf("stdout %q, want %q", got, from.String()+" "+want+"\n")
			}
		}
		p.signal(os.Interrupt)
		p.expectExit(exitOK)
	})
}

// Control characters from input are escaped in error lines: an ESC
// sequence in a bad line cannot clear the screen.
func TestErrorsEscaped(t *testing.T) {
	_, stderr := expectRun(t, exitFailure, "pipeline udp-postbox: 1 item failed (see above)",
		"bad\x1b[2Jline\n", "udp-postbox", "--listen", "127.0.0.1:0", "--linger", "10ms")
	if want := `line 1: want HOST:PORT PAYLOAD: bad address: "bad\x1b[2Jline"`; !strings.Contains(stderr, want) {
		t.Errorf("stderr:\n%s\nwant %q", stderr, want)
	}
}

// A usage error is its one line and where the help is; --version says
// the version.
func TestUsageLineAndVersion(t *testing.T) {
	_, stderr := expectRun(t, exitUsage, "run 'pipeline udp-peer --help' for usage", "", "udp-peer", "--to", "127.0.0.1:9", "--bogus")
	if want := "pipeline udp-peer: flag provided but not defined: -bogus\nrun 'pipeline udp-peer --help' for usage\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	code, stdout, stderr := runBinary(t, "", "--version")
	if code != exitOK || !regexp.MustCompile(`^pipeline \S+ .*go1\.\d+`).MatchString(stdout) || stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want 0 and \"pipeline VERSION ... goN.N\"", code, stdout, stderr)
	}
}

// sendfile to a host that does not resolve fails at once, with the
// resolver's reason, not after a transfer timeout.
func TestSendfileUnresolvable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr := runBinaryExpect(t, exitFailure, "", "sendfile", "--to", "nosuch.invalid:9", "--timeout", "30s", file)
	if !strings.HasPrefix(stderr, "pipeline sendfile: -to nosuch.invalid:9: cannot resolve nosuch.invalid: ") ||
		strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line saying the host does not resolve", stderr)
	}
}

// runBinaryExpect runs the binary as runBinary does and checks its exit
// code and its stderr's form; it returns stdout and stderr.
func runBinaryExpect(t *testing.T, wantCode int, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runBinary(t, stdin, args...)
	if code != wantCode {
		t.Fatalf("pipeline %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stderr)
	}
	checkStderrForm(t, stderr)
	return stdout, stderr
}

// A transfer cut short by a signal exits 130 (SIGINT) or 143 (SIGTERM)
// and says so: "pipeline sendfile ... && rm original" keeps the original.
func TestTransferInterrupted(t *testing.T) {
	bin := pipelineBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	interrupted := func(p *proc, sig syscall.Signal, name string) {
		t.Helper()
		p.signal(sig)
		if got, want := p.errLine(), "pipeline "+name+": interrupted by "+signalName(sig)+" before it had finished"; got != want {
			p.failf("stderr %q, want %q", got, want)
		}
		p.expectExit(128 + int(sig))
	}
	t.Run("sendfile", func(t *testing.T) {
		// A receiver that never answers: sendfile sends START again and
		// again, until the signal.
		silent := listenUDP(t, "127.0.0.1:0")
		p := start(t, bin, "sendfile", "--to", localAddr(silent).String(), "--timeout", "30s", file)
		recv(t, silent)
		interrupted(p, syscall.SIGINT, "sendfile")
	})
	t.Run("recvfile", func(t *testing.T) {
		out := filepath.Join(dir, "out")
		p := start(t, bin, "recvfile", "--listen", "127.0.0.1:0", "--out", out)
		p.listening()
		interrupted(p, syscall.SIGTERM, "recvfile")
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after the signal, %s: %v; want it not to exist", out, err)
		}
	})
	t.Run("publish", func(t *testing.T) {
		p := start(t, bin, "publish", "--group", "239.255.13.13:26013", "--interface", "lo")
		p.listening()
		p.write("input not yet ended")
		interrupted(p, syscall.SIGINT, "publish")
	})
}

// pub and sub without --nats say that the backplane is this process's
// alone; with a NATS server that cannot be reached, they name it and say
// why.
func TestBackplaneHints(t *testing.T) {
	_, stderr := runBinaryExpect(t, exitOK, "line\n", "pub", "--backplane", "b13")
	if want := "pipeline pub: note: without --nats, backplane b13 is in-process only: no other process receives what is published\n"; stderr != want {
		t.Errorf("pub: stderr %q, want %q", stderr, want)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "nats://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	for _, cmd := range []string{"pub", "sub"} {
		_, stderr := runBinaryExpect(t, exitFailure, "", cmd, "--backplane", "b13", "--nats", closed, "--wait", "200ms")
		if want := "pipeline " + cmd + ": cannot reach the NATS server at " + closed + ": dial tcp "; !strings.HasPrefix(stderr, want) ||
			!strings.Contains(stderr, "connection refused") {
			t.Errorf("%s: stderr %q, want %q... connection refused", cmd, stderr, want)
		}
	}
}

// recvfile refuses, before it binds, an --out that is a directory, and
// one that exists unless --force is given; with --force the file is
// replaced.
func TestRecvfileOut(t *testing.T) {
	bin := pipelineBinary(t)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ out, want string }{
		{dir, "pipeline recvfile: -out " + dir + ": is a directory: give the path of the file to make\n"},
		{existing, "pipeline recvfile: -out " + existing + ": exists: --force replaces it\n"},
	} {
		if _, stderr := runBinaryExpect(t, exitFailure, "", "recvfile", "--listen", "127.0.0.1:0", "--out", tc.out); stderr != tc.want {
			t.Errorf("stderr %q, want %q", stderr, tc.want)
		}
	}
	if b, err := os.ReadFile(existing); string(b) != "keep me" {
		t.Fatalf("%s after the refusal: %q, %v", existing, b, err)
	}
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("new content"), 0o600); err != nil {
		t.Fatal(err)
	}
	recv := start(t, bin, "recvfile", "--listen", "127.0.0.1:0", "--out", existing, "--force")
	addr := recv.listening()
	send := start(t, bin, "sendfile", "--to", addr.String(), src)
	summaryLine(send, "sent")
	send.expectExit(exitOK)
	summaryLine(recv, "received")
	recv.expectExit(exitOK)
	if b, err := os.ReadFile(existing); string(b) != "new content" {
		t.Fatalf("%s after --force: %q, %v; want the new content", existing, b, err)
	}
}

// tcp-server --once is nc -l: one connection's bytes, exactly, on
// stdout, and an exit when it closes.
func TestTCPServerOnce(t *testing.T) {
	bin := pipelineBinary(t)
	p := start(t, bin, "tcp-server", "--listen", "127.0.0.1:0", "--once")
	addr := p.listening()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := "first line\r\n\x00\x01 binary\nno newline at the end"
	if _, err := io.WriteString(c, sent); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := string(p.outBytes(len(sent))); got != sent {
		t.Fatalf("stdout %q, want %q", got, sent)
	}
	me := c.LocalAddr().String()
	for _, want := range []string{"connection from " + me + " opened", "connection from " + me + " closed"} {
		if got := p.errLine(); got != want {
			p.failf("stderr %q, want %q", got, want)
		}
	}
	p.expectExit(exitOK)

	// A connection reset is a failure: exit 1.
	p = start(t, bin, "tcp-server", "--listen", "127.0.0.1:0", "--once")
	addr = p.listening()
	c, err = net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	me = c.LocalAddr().String()
	if got, want := p.errLine(), "connection from "+me+" opened"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	_ = c.(*net.TCPConn).SetLinger(0) // close with a reset
	c.Close()
	if got, want := p.errLine(), "connection from "+me+" closed"; !strings.HasPrefix(got, want) || !strings.Contains(got, "reset") {
		p.failf("stderr %q, want %q and the reset", got, want)
	}
	if got, want := p.errLine(), "pipeline tcp-server: 1 item failed (see above)"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	p.expectExit(exitFailure)

	if _, stderr := runBinaryExpect(t, exitUsage, "", "tcp-server", "--once", "--echo"); !strings.HasPrefix(stderr, "pipeline tcp-server: -once and -echo: choose one\n") {
		t.Errorf("--once --echo: stderr %q", stderr)
	}
}

// tcp-server skips a line longer than --max-line, saying which, and
// prints the next.
func TestTCPServerMaxLine(t *testing.T) {
	bin := pipelineBinary(t)
	p := start(t, bin, "tcp-server", "--listen", "127.0.0.1:0", "--max-line", "10")
	addr := p.listening()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	me := c.LocalAddr().String()
	if got, want := p.errLine(), "connection from "+me+" opened"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	if _, err := io.WriteString(c, "0123456789\r\n"+strings.Repeat("x", 100000)+"\nafter\n"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{me + " 0123456789\n", me + " after\n"} {
		if got := p.outLine(); got != want {
			p.failf("stdout %q, want %q", got, want)
		}
	}
	if got, want := p.errLine(), "pipeline tcp-server: connection from "+me+": line 2: line too long: more than 10 bytes, skipped"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	c.Close()
	if got, want := p.errLine(), "connection from "+me+" closed"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	p.signal(os.Interrupt)
	if got, want := p.errLine(), "pipeline tcp-server: 1 item failed (see above)"; got != want {
		p.failf("stderr %q, want %q", got, want)
	}
	p.expectExit(exitFailure)
}

// sub --count N exits 0 after N messages, with them all written.
func TestSubCount(t *testing.T) {
	bin := pipelineBinary(t)
	srv := natstest.Server(t)
	s := start(t, bin, "sub", "--backplane", "counted", "--nats", srv.URL(), "--count", "2")
	if line := s.errLine(); line != "joined backplane counted" {
		s.failf("first line on stderr %q, want \"joined backplane counted\"", line)
	}
	pub := start(t, bin, "pub", "--backplane", "counted", "--nats", srv.URL())
	pub.write("one\ntwo\nthree\n")
	pub.closeStdin()
	pub.expectExit(exitOK)
	if got := s.outLine() + s.outLine(); got != "one\ntwo\n" {
		s.failf("stdout %q, want the first two messages", got)
	}
	s.expectExit(exitOK)
}

// --graph-only draws the graph, named as the help names its parts, and
// exits without running it: it neither waits for input nor says anything
// on stderr. --graph with --graph-out draws into a file and runs.
func TestGraph(t *testing.T) {
	bin := pipelineBinary(t)
	p := start(t, bin, "udp-peer", "--to", "127.0.0.1:9", "--graph-only") // stdin left open
	out := string(p.restOut())
	p.expectExit(exitOK)
	for _, want := range []string{"digraph axon {", `[label="STDIN (ConsoleReader)"]`, `[label="PEER (SimplePeer)"]`,
		`[label="FORMAT (PureTransformer)"]`, `[label="STDOUT (ConsoleEchoer)"]`, `[label="outbox→inbox"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("graph does not contain %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`#[0-9a-f]{8}|built|running`).MatchString(out) {
		t.Errorf("graph shows ids or run state:\n%s", out)
	}

	sink := listenUDP(t, "127.0.0.1:0")
	file := filepath.Join(t.TempDir(), "g.mmd")
	stdout, _ := runBinaryExpect(t, exitOK, "sent\n", "udp-peer", "--listen", "127.0.0.1:0", "--to", localAddr(sink).String(),
		"--linger", "10ms", "--graph", "mermaid", "--graph-out", file)
	if got, _ := recv(t, sink); got != "sent" {
		t.Errorf("received %q, want the line sent: the graph ran", got)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(b), "flowchart LR\n") || !strings.Contains(string(b), `["PEER (SimplePeer)"]`) || stdout != "" {
		t.Errorf("graph file %q, %v; stdout %q: want the Mermaid graph in the file only", b, err, stdout)
	}
}

// An address in use is one readable line: no component ids, no word
// said twice.
func TestBindFailureReadable(t *testing.T) {
	held := listenUDP(t, "127.0.0.1:0")
	addr := localAddr(held).String()
	_, stderr := runBinaryExpect(t, exitFailure, "", "udp-echo", "--listen", addr)
	if want := "pipeline udp-echo: PostboxPeer: socket: bind " + addr + ": cannot bind: address already in use\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}
