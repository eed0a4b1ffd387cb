package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/components/transfer"
)

// End-to-end tests of sendfile and recvfile: two processes of the binary
// on loopback.

// summaryLine reads p's stderr up to its summary line (starting with
// verb), which it returns; lines before it must be nothing else.
func summaryLine(p *proc, verb string) string {
	p.t.Helper()
	line := p.errLine()
	if !strings.HasPrefix(line, verb+" ") {
		p.failf("stderr line %q, want the summary %q...", line, verb)
	}
	return line
}

// A 2 MB file through a network losing a fifth of the datagrams each way,
// repeating some and reordering them, arrives byte for byte.
func TestSendfileRecvfileLossy(t *testing.T) {
	bin := pipelineBinary(t)
	dir := t.TempDir()
	data := make([]byte, 2_000_000)
	rand.Read(data)
	src, dst := filepath.Join(dir, "src.bin"), filepath.Join(dir, "dst.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	recv := start(t, bin, "recvfile", "--listen", "127.0.0.1:0", "--out", dst, "--timeout", "20s")
	addr := recv.listening()
	send := start(t, bin, "sendfile", "--to", addr.String(), "--loss", "0.2", "--dup", "0.05", "--reorder", "8",
		"--seed", "5", "--chunk", "8000", "--timeout", "20s", src)
	sent := summaryLine(send, "sent")
	send.expectExit(0)
	got := summaryLine(recv, "received")
	recv.expectExit(0)
	want := regexp.MustCompile(`^sent 2000000 bytes in \S+ \(.*/s\), \d+ packets, [1-9]\d* retransmissions$`)
	if !want.MatchString(sent) {
		t.Errorf("sender summary %q, want it to match %s", sent, want)
	}
	want = regexp.MustCompile(`^received 2000000 bytes in \S+ \(.*/s\), \d+ packets, \d+ repeats$`)
	if !want.MatchString(got) {
		t.Errorf("receiver summary %q, want it to match %s", got, want)
	}
	b, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("received file: %d bytes, %v; want the %d sent", len(b), err, len(data))
	}
	onlyFiles(t, dir, "dst.bin", "src.bin")
}

// recvfile with no sender gives up after --timeout, exits 1 and leaves
// nothing.
func TestRecvfileTimeout(t *testing.T) {
	bin := pipelineBinary(t)
	dir := t.TempDir()
	recv := start(t, bin, "recvfile", "--listen", "127.0.0.1:0", "--out", filepath.Join(dir, "dst.bin"), "--timeout", "300ms")
	recv.listening()
	if line := recv.errLine(); !strings.Contains(line, "timed out") || !strings.Contains(line, "no sender") {
		recv.failf("stderr %q, want a timeout without a sender", line)
	}
	recv.expectExit(1)
	onlyFiles(t, dir)
}

// recvfile into a directory that does not exist says so at once, exits 1
// and does not listen.
func TestRecvfileNoDirectory(t *testing.T) {
	bin := pipelineBinary(t)
	out := filepath.Join(t.TempDir(), "missing", "dst.bin")
	recv := start(t, bin, "recvfile", "--listen", "127.0.0.1:0", "--out", out)
	if line := recv.errLine(); !strings.Contains(line, "missing") || !strings.Contains(line, "not a directory") {
		recv.failf("stderr %q, want the missing directory named", line)
	}
	recv.expectExit(1)
}

// sendfile to a port nobody answers on gives up after --timeout and
// exits 1.
func TestSendfileToNobody(t *testing.T) {
	bin := pipelineBinary(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	if err := os.WriteFile(src, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	deaf := listenUDP(t, "127.0.0.1:0") // receives, never answers
	send := start(t, bin, "sendfile", "--to", localAddr(deaf).String(), "--timeout", "300ms", src)
	if line := send.errLine(); !strings.Contains(line, "timed out") || !strings.Contains(line, "no reply to START") {
		send.failf("stderr %q, want a timeout waiting for the receiver", line)
	}
	send.expectExit(1)
}

func TestTransferUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"sendfile", "file"},
		{"sendfile", "--to", "127.0.0.1:9"},
		{"sendfile", "--to", "127.0.0.1:9", "a", "b"},
		{"sendfile", "--to", "127.0.0.1:9", "--loss", "1", "f"},
		{"sendfile", "--to", "127.0.0.1:9", "--chunk", "0", "f"},
		{"sendfile", "--to", "nonsense", "f"},
		{"recvfile", "--listen", "127.0.0.1:0"},
		{"recvfile", "--out", "x", "extra"},
		{"recvfile", "--out", "x", "--timeout", "0s"},
	} {
		if code, _, stderr := invoke(t, "", args...); code != exitUsage || !strings.HasSuffix(stderr, usagePointer(args[0])) {
			t.Errorf("%q: exit %d, stderr %q; want %d and the usage", args, code, stderr, exitUsage)
		}
	}
}

// onlyFiles fails unless dir holds exactly the named entries.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}

func TestProgressLines(t *testing.T) {
	p := transfer.Progress{Bytes: 3 << 20, Total: 12 << 20, Packets: 2700, Retransmits: 12, Elapsed: 3 * time.Second}
	if got, want := progressBar(p), "[=======                       ]  25.0% 3.0 MiB / 12.0 MiB  1.0 MiB/s  ETA 9s   "; got != want {
		t.Errorf("bar %q, want %q", got, want)
	}
	if got := progressBar(transfer.Progress{}); got != "" {
		t.Errorf("bar before anything is known: %q, want none", got)
	}
	if got, want := progressSummary(p, "sent"), "sent 3145728 bytes in 3s (1.0 MiB/s), 2700 packets, 12 retransmissions"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got, want := progressSummary(p, "received"), "received 3145728 bytes in 3s (1.0 MiB/s), 2700 packets, 12 repeats"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
