package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// Two pipeline processes share one backplane through one NATS server
// (embedded in the test): what pub reads reaches sub, in order, and a
// second subscriber process gets the same.
func TestPubSubAcrossProcesses(t *testing.T) {
	bin := pipelineBinary(t)
	srv := natstest.Server(t)
	var subs []*proc
	for range 2 {
		s := start(t, bin, "sub", "--backplane", "room", "--nats", srv.URL())
		if line := s.errLine(); line != "joined backplane room" {
			t.Fatalf("sub's first line on stderr %q, want \"joined backplane room\"", line)
		}
		subs = append(subs, s)
	}
	var lines []string
	for i := range 200 {
		lines = append(lines, fmt.Sprint("message ", i))
	}
	pub := start(t, bin, "pub", "--backplane", "room", "--nats", srv.URL())
	pub.write(strings.Join(lines, "\n") + "\n")
	pub.closeStdin()
	pub.expectExit(0)
	for i, s := range subs {
		for _, want := range lines {
			if got := s.outLine(); got != want+"\n" {
				t.Fatalf("subscriber %d: got %q, want %q", i, got, want)
			}
		}
		s.signal(os.Interrupt)
		s.expectExit(0)
	}
}

func TestNATSDemo(t *testing.T) {
	bin := pipelineBinary(t)
	p := start(t, bin, "nats-demo")
	got := map[string][]string{}
	for range 2 * len(natsDemoLines) {
		who, line, ok := strings.Cut(strings.TrimSuffix(p.outLine(), "\n"), " got: ")
		if !ok {
			t.Fatalf("line %q", line)
		}
		got[who] = append(got[who], line)
	}
	for _, who := range []string{"subscriber 1", "subscriber 2"} {
		if strings.Join(got[who], "|") != strings.Join(natsDemoLines, "|") {
			t.Fatalf("%s got %q, want every line in order", who, got[who])
		}
	}
	if line := p.errLine(); !strings.HasPrefix(line, "NATS server on nats://127.0.0.1:") {
		t.Fatalf("stderr %q", line)
	}
	p.expectExit(0)
}

func TestBackplaneBadUsage(t *testing.T) {
	bin := pipelineBinary(t)
	for _, args := range [][]string{
		{"pub"},
		{"sub", "--backplane", "x", "--wait", "0s"},
		{"sub", "--backplane", "x", "--durable", "d"}, // no --nats
		{"pub", "--backplane", "x", "--jetstream"},    // no --nats
		{"sub", "--backplane", "x", "--count", "-1"},
		{"nats-demo", "extra"},
	} {
		p := start(t, bin, args...)
		p.closeStdin()
		if code := p.wait(); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	// No server: the backplane is never ready, and pub says so.
	p := start(t, bin, "pub", "--backplane", "x", "--nats", "nats://127.0.0.1:1", "--wait", "200ms")
	p.closeStdin()
	if code := p.wait(); code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
}

// The NATS server is restarted while a pub process and a sub process are
// connected to it. Both reconnect by themselves. What was published
// before the outage arrives whole; what is published while the server is
// down may be lost (core NATS delivers at most once, and the subscription
// is gone until the sub process reconnects); once both are back, the
// stream goes on, whole and in order. Whatever arrives is in the order it
// was published, with nothing twice.
func TestPubSubSurviveServerRestart(t *testing.T) {
	bin := pipelineBinary(t)
	srv := natstest.Server(t)
	sub := start(t, bin, "sub", "--backplane", "restart", "--nats", srv.URL())
	if line := sub.errLine(); line != "joined backplane restart" {
		t.Fatalf("sub's first line on stderr %q, want \"joined backplane restart\"", line)
	}
	got := make(chan string, 1024)
	_ = sub.outF.SetReadDeadline(time.Now().Add(procLimit))
	go func() {
		defer close(got)
		for {
			line, err := sub.out.ReadString('\n')
			if err != nil {
				return
			}
			got <- strings.TrimSuffix(line, "\n")
		}
	}()
	var sent []string
	pub := start(t, bin, "pub", "--backplane", "restart", "--nats", srv.URL())
	publish := func(line string) {
		sent = append(sent, line)
		pub.write(line + "\n")
	}
	var received []string
	// take waits for line, collecting everything that arrives up to it.
	take := func(line string) bool {
		timeout := time.After(ioWait)
		for {
			select {
			case l, ok := <-got:
				if !ok {
					sub.failf("stdout ended while waiting for %q", line)
				}
				received = append(received, l)
				if l == line {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}

	for i := range 50 {
		publish(fmt.Sprint("before ", i))
	}
	if !take("before 49") {
		t.Fatalf("the messages published before the restart did not all arrive: got %q", received)
	}
	srv.Shutdown()
	for i := range 20 {
		publish(fmt.Sprint("outage ", i))
	}
	srv.Start(t)
	// Probe until one gets through: then both processes are connected
	// and subscribed again.
	probed := func() bool {
		timeout := time.After(100 * time.Millisecond)
		for {
			select {
			case l := <-got:
				received = append(received, l)
				if strings.HasPrefix(l, "probe ") {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatalf("no message reached the subscriber after the restart: got %q", received)
		}
		publish(fmt.Sprint("probe ", i))
		if probed() {
			break
		}
	}
	for i := range 50 {
		publish(fmt.Sprint("after ", i))
	}
	if !take("after 49") {
		t.Fatalf("the messages published after the restart did not all arrive: got %q", received)
	}
	pub.closeStdin()
	pub.expectExit(0)

	// received must be sent with some lines left out: in order, none twice,
	// and every "before" and "after" line present.
	j := 0
	for _, l := range received {
		for j < len(sent) && sent[j] != l {
			if strings.HasPrefix(sent[j], "before ") || strings.HasPrefix(sent[j], "after ") {
				t.Fatalf("%q was lost, or came out of order; received %q", sent[j], received)
			}
			j++
		}
		if j == len(sent) {
			t.Fatalf("%q arrived out of order or twice; received %q", l, received)
		}
		j++
	}
	outage := 0
	for _, l := range received {
		if strings.HasPrefix(l, "outage ") {
			outage++
		}
	}
	t.Logf("%d of the 20 messages published during the outage arrived", outage)
	sub.signal(os.Interrupt)
	if code := sub.wait(); code != 0 {
		sub.failf("exit %d, want 0", code)
	}
}

// As TestPubSubSurviveServerRestart, with --jetstream and a durable
// consumer: the NATS server (with JetStream, its store in a temporary
// directory) is restarted while a pub process and a sub process are
// connected to it, and every line, those published while it was down
// included, arrives exactly once and in order. The sub process exits by
// itself once it has printed them all (--count).
func TestPubSubDurableSurviveServerRestart(t *testing.T) {
	bin := pipelineBinary(t)
	srv := natstest.Server(t, natstest.JetStream(t.TempDir()))
	const before, outage, after = 50, 20, 50
	sub := start(t, bin, "sub", "--backplane", "durable", "--nats", srv.URL(),
		"--durable", "printer", "--count", fmt.Sprint(before+outage+after))
	if line := sub.errLine(); line != "joined backplane durable" {
		t.Fatalf("sub's first line on stderr %q, want \"joined backplane durable\"", line)
	}
	pub := start(t, bin, "pub", "--backplane", "durable", "--nats", srv.URL(), "--jetstream")
	var sent []string
	publish := func(prefix string, n int) {
		for i := range n {
			line := fmt.Sprint(prefix, i)
			sent = append(sent, line)
			pub.write(line + "\n")
		}
	}
	publish("before ", before)
	for _, want := range sent {
		if got := sub.outLine(); got != want+"\n" {
			t.Fatalf("before the restart: got %q, want %q", got, want)
		}
	}
	srv.Shutdown()
	publish("outage ", outage)
	time.Sleep(200 * time.Millisecond) // the pub process tries, and fails, to publish them
	srv.Start(t)
	publish("after ", after)
	pub.closeStdin()
	got := sent[:before]
	for range outage + after {
		got = append(got, strings.TrimSuffix(sub.outLine(), "\n"))
	}
	pub.expectExit(0)
	sub.expectExit(0) // nothing more on stdout: no line twice
	lost, dup := lostAndDuplicated(sent, got)
	t.Logf("%d lines published during the outage; %d lost, %d duplicated", outage, lost, dup)
	if strings.Join(got, "|") != strings.Join(sent, "|") {
		t.Fatalf("got %q\nwant %q", got, sent)
	}
}

// A sub process with a durable consumer is interrupted (SIGINT) in the
// middle of a stream and started again with the same --durable name:
// between the two, every line is printed exactly once.
func TestDurableSubInterruptedAndRestarted(t *testing.T) {
	bin := pipelineBinary(t)
	srv := natstest.Server(t, natstest.JetStream(t.TempDir()))
	const n = 3000
	args := []string{"sub", "--backplane", "resume", "--nats", srv.URL(), "--durable", "keeper"}
	sub := start(t, bin, args...)
	if line := sub.errLine(); line != "joined backplane resume" {
		t.Fatalf("sub's first line on stderr %q", line)
	}
	pub := start(t, bin, "pub", "--backplane", "resume", "--nats", srv.URL(), "--jetstream")
	var sent []string
	for i := range n {
		sent = append(sent, fmt.Sprint("line ", i))
	}
	go func() { // the pub process may block on its input while the sub is away
		_, _ = io.WriteString(pub.stdin, strings.Join(sent, "\n")+"\n")
		_ = pub.stdin.Close()
	}()
	var got []string
	for range n / 3 {
		got = append(got, strings.TrimSuffix(sub.outLine(), "\n"))
	}
	sub.signal(os.Interrupt)
	rest := string(sub.restOut())
	if code := sub.wait(); code != 0 {
		sub.failf("exit %d, want 0", code)
	}
	if rest != "" {
		got = append(got, strings.Split(strings.TrimSuffix(rest, "\n"), "\n")...)
	}
	first := len(got)
	sub2 := start(t, bin, append(args, "--count", fmt.Sprint(n-first))...)
	for range n - first {
		got = append(got, strings.TrimSuffix(sub2.outLine(), "\n"))
	}
	pub.expectExit(0)
	sub2.signal(os.Interrupt) // in case it is still running
	_ = sub2.wait()
	lost, dup := lostAndDuplicated(sent, got)
	t.Logf("first sub printed %d of %d lines; %d lost, %d duplicated", first, n, lost, dup)
	if lost != 0 || dup != 0 || len(got) != n {
		t.Fatalf("%d lost, %d duplicated, %d lines printed, want %d", lost, dup, len(got), n)
	}
}

// lostAndDuplicated counts the lines of sent that are not in got, and
// those that are there more than once.
func lostAndDuplicated(sent, got []string) (lost, dup int) {
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	for _, l := range sent {
		switch seen[l] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	return lost, dup
}
