package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers for the tests that run the pipeline binary (and socat) as a
// user would, talking to them over real loopback sockets.

// ioWait bounds each wait for output or a datagram. It only turns a hang
// into a failure: no check depends on it.
const ioWait = 20 * time.Second

// procLimit is how long a process started by a test may live.
const procLimit = 60 * time.Second

var (
	binOnce sync.Once
	binDir  string // holds the binary; removed by TestMain
	binPath string
	binErr  error
	errNoGo = errors.New("no go command on PATH to build the binary with")
)

// pipelineBinary builds the pipeline binary, once for all the tests, and
// returns its path. It skips the test with -short or without a go
// command.
func pipelineBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = errNoGo
			return
		}
		if binDir, binErr = os.MkdirTemp("", "pipeline-test-"); binErr != nil {
			return
		}
		path := filepath.Join(binDir, "pipeline")
		if out, err := exec.Command(goTool, "build", "-o", path, ".").CombinedOutput(); err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
			return
		}
		binPath = path
	})
	if errors.Is(binErr, errNoGo) {
		t.Skip(binErr)
	}
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// removeBinary removes what pipelineBinary made.
func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// needSocat returns socat's path, or skips the test.
func needSocat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("socat")
	if err != nil {
		t.Skip("socat is not installed (`make tools` installs it): skipping the test against it")
	}
	return path
}

// proc is a running process with its standard streams in the test's
// hands. Its stdout and stderr are pipes read directly, with deadlines,
// so that no goroutine copies them.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	outF   *os.File
	out    *bufio.Reader
	errF   *os.File
	errs   *bufio.Reader
	stderr strings.Builder // what has been read of stderr so far
	waited bool
	code   int
}

// start starts path with args. The process is killed and reaped when the
// test ends, if the test has not waited for it.
func start(t *testing.T, path string, args ...string) *proc {
	t.Helper()
	return startReading(t, nil, path, args...)
}

// startReading is start with stdin as the process's standard input, or
// a pipe the test writes to (proc.write) if stdin is nil.
func startReading(t *testing.T, stdin *os.File, path string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procLimit)
	cmd := exec.CommandContext(ctx, path, args...)
	var in io.WriteCloser
	if stdin != nil {
		cmd.Stdin = stdin
	} else {
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: filepath.Base(path) + " " + strings.Join(args, " "), cmd: cmd, stdin: in,
		outF: outR, out: bufio.NewReader(outR), errF: errR, errs: bufio.NewReader(errR)}
	t.Cleanup(func() {
		if !p.waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		cancel()
		outR.Close()
		errR.Close()
	})
	return p
}

// failf fails the test, adding what the process has said on stderr.
func (p *proc) failf(format string, args ...any) {
	p.t.Helper()
	// Pick up what else is on stderr now, without waiting long.
	_ = p.errF.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	rest, _ := io.ReadAll(p.errs)
	p.stderr.Write(rest)
	p.t.Fatalf("%s: "+format+"\nstderr:\n%s", append([]any{p.name}, append(args, p.stderr.String())...)...)
}

// write writes s to the process's stdin.
func (p *proc) write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		p.failf("writing to stdin: %v", err)
	}
}

// closeStdin ends the process's input.
func (p *proc) closeStdin() {
	p.t.Helper()
	if err := p.stdin.Close(); err != nil {
		p.failf("closing stdin: %v", err)
	}
}

// outLine returns the next line of stdout, with its "\n".
func (p *proc) outLine() string {
	p.t.Helper()
	_ = p.outF.SetReadDeadline(time.Now().Add(ioWait))
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.failf("reading a line of stdout: got %q, %v", line, err)
	}
	return line
}

// outBytes returns the next n bytes of stdout.
func (p *proc) outBytes(n int) []byte {
	p.t.Helper()
	_ = p.outF.SetReadDeadline(time.Now().Add(ioWait))
	b := make([]byte, n)
	if got, err := io.ReadFull(p.out, b); err != nil {
		p.failf("reading %d bytes of stdout: got %q, %v", n, b[:got], err)
	}
	return b
}

// errLine returns the next line of stderr, without its "\n".
func (p *proc) errLine() string {
	p.t.Helper()
	_ = p.errF.SetReadDeadline(time.Now().Add(ioWait))
	line, err := p.errs.ReadString('\n')
	p.stderr.WriteString(line)
	if err != nil {
		p.failf("reading a line of stderr: got %q, %v", line, err)
	}
	return strings.TrimSuffix(line, "\n")
}

// listening reads the "listening on ADDR" line a binding command starts
// with and returns ADDR.
func (p *proc) listening() netip.AddrPort {
	p.t.Helper()
	line := p.errLine()
	s, ok := strings.CutPrefix(line, "listening on ")
	s, _, _ = strings.Cut(s, " ") // what follows the address is a note
	addr, err := netip.ParseAddrPort(s)
	if !ok || err != nil || addr.Port() == 0 {
		p.failf("first line on stderr %q, want \"listening on ADDR\"", line)
	}
	return addr
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.failf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to exit and returns its exit code (-1 if it
// was killed).
func (p *proc) wait() int {
	p.t.Helper()
	err := p.cmd.Wait()
	p.waited = true
	var ee *exec.ExitError
	switch {
	case err == nil:
		p.code = 0
	case errors.As(err, &ee):
		p.code = ee.ExitCode()
	default:
		p.failf("wait: %v", err)
	}
	return p.code
}

// expectExit waits for the process to exit and checks its exit code, and
// that nothing is left unread on stdout and nothing on stderr but what
// the test has read already.
func (p *proc) expectExit(code int) {
	p.t.Helper()
	rest := p.restOut()
	if got := p.wait(); got != code {
		p.failf("exit code %d, want %d", got, code)
	}
	if len(rest) != 0 {
		p.failf("stdout carried %q more than the test read", rest)
	}
	_ = p.errF.SetReadDeadline(time.Now().Add(ioWait))
	if rest, _ := io.ReadAll(p.errs); len(rest) != 0 {
		p.stderr.Write(rest)
		p.failf("stderr carried %q more than the test read", rest)
	}
}

// restOut reads the rest of stdout, up to its end: until the process
// has exited. (Reading it while the process ends, rather than after,
// keeps a process with much left to write from blocking on a full pipe.)
func (p *proc) restOut() []byte {
	p.t.Helper()
	_ = p.outF.SetReadDeadline(time.Now().Add(ioWait))
	rest, err := io.ReadAll(p.out)
	if err != nil {
		p.failf("reading the rest of stdout, up to the process's exit: %v (got %q)", err, rest)
	}
	return rest
}

// listenUDP opens a UDP socket on addr ("127.0.0.1:0", "[::1]:0"), closed
// when the test ends.
func listenUDP(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// localAddr returns c's address.
func localAddr(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// recv returns the next datagram c receives, and its sender.
func recv(t *testing.T, c *net.UDPConn) (string, netip.AddrPort) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioWait))
	buf := make([]byte, 65536)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("receiving on %s: %v", c.LocalAddr(), err)
	}
	return string(buf[:n]), netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
}

// sendTo sends payload from c to addr.
func sendTo(t *testing.T, c *net.UDPConn, addr netip.AddrPort, payload string) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort([]byte(payload), addr); err != nil {
		t.Fatalf("sending from %s to %s: %v", c.LocalAddr(), addr, err)
	}
}

// needIPv6 skips the test if the loopback has no IPv6.
func needIPv6(t *testing.T) {
	t.Helper()
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here (%v): skipping", err)
	}
	c.Close()
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago,
// for a program (socat) that must be told its port before it starts.
func freePort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return localAddr(c).Port()
}

// lines joins lines, each ended by "\n".
func lines(ls ...string) string {
	var b bytes.Buffer
	for _, l := range ls {
		b.WriteString(l + "\n")
	}
	return b.String()
}
