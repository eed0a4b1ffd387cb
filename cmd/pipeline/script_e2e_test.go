package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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

// expectRun runs the binary as runBinary does and checks its exit code
// and that the last line of its stderr is wantLast; it returns stdout and
// stderr.
func expectRun(t *testing.T, wantCode int, wantLast, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runBinary(t, stdin, args...)
	if code != wantCode || lastLine(stderr) != wantLast {
		t.Fatalf("pipeline %s: exit %d, last line of stderr %q; want %d, %q\nstderr:\n%s",
			strings.Join(args, " "), code, lastLine(stderr), wantCode, wantLast, stderr)
	}
	return stdout, stderr
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
