package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

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
