package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// End-to-end tests of the multicast commands: the binary, driven through
// its standard streams, sending and receiving IPv4 multicast on lo (the
// only interface these tests use; IPv6 multicast does not work on lo, so
// IPv6 is tested between network namespaces in internet/multicast).

// groupOnLo returns a multicast group and port, on an administratively
// scoped address, for one test.
func groupOnLo(t *testing.T, n int) string {
	t.Helper()
	return fmt.Sprintf("239.77.%d.%d:%d", os.Getpid()%250, n, freePort(t))
}

func TestMulticastSendAndListen(t *testing.T) {
	bin := pipelineBinary(t)
	group := groupOnLo(t, 1)
	l1 := start(t, bin, "multicast-listen", "--group", group, "--interface", "lo")
	l2 := start(t, bin, "multicast-listen", "--group", group, "--interface", "lo", "--format", "raw")
	if got := l1.listening().String(); got != group {
		t.Fatalf("listener bound to %s, want the group %s itself", got, group)
	}
	l2.listening()

	// (--loop=false cannot be tested on lo: what goes out through lo comes
	// back in through it whatever the socket says. internet/multicast tests
	// it between network namespaces.)
	s := start(t, bin, "multicast-send", "--group", group, "--interface", "lo", "--ttl", "1")
	from := s.listening()
	s.write("marker\nsecond line\n")
	s.closeStdin()
	s.expectExit(0)

	for _, want := range []string{"marker", "second line"} {
		line := l1.outLine()
		if !strings.HasSuffix(line, fmt.Sprintf(":%d %s\n", from.Port(), want)) {
			t.Fatalf("listener 1 printed %q, want the sender's port %d and %q", line, from.Port(), want)
		}
	}
	if got := string(l2.outBytes(len("markersecond line"))); got != "markersecond line" {
		t.Fatalf("listener 2 (raw) printed %q", got)
	}
	l1.signal(os.Interrupt)
	l1.expectExit(0)
	l2.signal(os.Interrupt)
	l2.expectExit(0)
}

// publish and subscribe: a binary message far larger than a datagram
// arrives whole and byte for byte (--format raw), topics are filtered,
// --lines makes one message a line, --format text prints each with its
// sender, and --count ends subscribe.
func TestPublishSubscribe(t *testing.T) {
	bin := pipelineBinary(t)
	group := groupOnLo(t, 2)
	sub := start(t, bin, "subscribe", "--group", group, "--interface", "lo", "--topic", "news", "--count", "3", "--format", "raw")
	sub.listening()
	text := start(t, bin, "subscribe", "--group", group, "--interface", "lo", "--topic", "news", "--count", "3")
	text.listening()

	big := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{13}).Read(big)
	big[len(big)-1] = 'x' // not a newline, which subscribe used to add
	file := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(file, big, 0o600); err != nil {
		t.Fatal(err)
	}
	publish := func(stdin string, args ...string) netip.AddrPort {
		t.Helper()
		p := start(t, bin, append([]string{"publish", "--group", group, "--interface", "lo"}, args...)...)
		from := p.listening()
		p.write(stdin)
		p.closeStdin()
		p.expectExit(0)
		return from
	}
	publish("not wanted\n", "--topic", "sport")
	publish(string(big), "--topic", "news", "--rate", "20000000")
	from := publish("one\ntwo\n", "--topic", "news", "--lines")

	if got := sub.outBytes(len(big)); !bytes.Equal(got, big) {
		t.Fatalf("the big message came out changed (%d bytes)", len(got))
	}
	if got := string(sub.outBytes(len("onetwo"))); got != "onetwo" {
		t.Fatalf("the --lines messages came out as %q", got)
	}
	sub.expectExit(0)
	// In text, every line has the sender before it, even a binary
	// payload's, whose control characters are escaped.
	out := string(text.restOut())
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "127.0.0.1:") || strings.ContainsFunc(strings.TrimSuffix(line, "\n"), actsOnTerminal) {
			t.Fatalf("text line %q: want the sender first, and nothing to act on a terminal", line[:min(len(line), 60)])
		}
	}
	if want := fmt.Sprintf(":%d one\n127.0.0.1:%d two\n", from.Port(), from.Port()); !strings.HasSuffix(out, want) {
		t.Fatalf("text ends with %q, want %q", out[max(0, len(out)-60):], want)
	}
	text.expectExit(0)
}

// actsOnTerminal reports whether r is a control character other than tab
// (which --format text leaves as it is).
func actsOnTerminal(r rune) bool { return r != '\t' && unicode.IsControl(r) }

func TestMulticastBadUsage(t *testing.T) {
	bin := pipelineBinary(t)
	for _, args := range [][]string{
		{"multicast-listen"},
		{"multicast-send", "--group", "239.1.2.3:5000", "--ttl", "300"},
		{"subscribe", "--count", "-1"},
		{"publish", "--rate", "-5"},
	} {
		p := start(t, bin, args...)
		p.closeStdin()
		if code := p.wait(); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	// A group that is not multicast is named, and the command fails.
	p := start(t, bin, "multicast-listen", "--group", "127.0.0.1:5000")
	if line := p.errLine(); !strings.Contains(line, "127.0.0.1") || !strings.Contains(line, "multicast") {
		t.Fatalf("stderr %q: want the address named and why it is refused", line)
	}
	if code := p.wait(); code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
}
