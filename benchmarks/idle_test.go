package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const (
	idleCount      = 100_000
	idleOverTarget = 819 // bytes an idle component may cost over a raw goroutine (0.8 KiB)

	// idleChildEnv names the kind of idle measurement a child process
	// should make; idleResultPrefix marks the line it reports it on.
	idleChildEnv     = "KAMAELIA_BENCH_IDLE_CHILD"
	idleResultPrefix = "idle-result: "
)

// Each idle measurement runs in a fresh process (this test binary, started
// again to run TestIdleChildProcess alone). In a process that has already
// run goroutines the runtime reuses their descriptors, which it never
// frees, and sizes new stacks from what it saw at the last collection, so
// a second measurement in one process would leave out part of what a
// goroutine costs and depend on what ran before it. The child runs with
// GODEBUG=adaptivestackstart=0: every goroutine starts with the minimum
// stack and grows it only if it needs to, so the stack figure is what the
// goroutine needs.

// TestIdleChildProcess makes one idle measurement when started by
// BenchmarkIdleComponents, and prints it for the parent to read.
func TestIdleChildProcess(t *testing.T) {
	kind := os.Getenv(idleChildEnv)
	if kind == "" {
		t.Skip("runs only as a child process of BenchmarkIdleComponents")
	}
	ignore := goleak.IgnoreCurrent()
	var (
		r   idleResult
		err error
	)
	switch kind {
	case "container":
		r, err = idleFramework(context.Background(), idleCount, false)
	case "pipeline":
		r, err = idleFramework(context.Background(), idleCount, true)
	case "raw":
		r = idleRaw(idleCount)
	default:
		t.Fatalf("unknown idle measurement %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := goleak.Find(ignore); err != nil {
		t.Fatalf("goroutines left after stopping the idle %s: %v", kind, err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(idleResultPrefix + string(js))
}

// idleInChild runs TestIdleChildProcess in a new process and returns what
// it measured. The child fails, and so this does, if any goroutine is left
// after the stop.
func idleInChild(kind string) (idleResult, error) {
	godebug := "adaptivestackstart=0"
	if g := os.Getenv("GODEBUG"); g != "" {
		godebug = g + "," + godebug
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleChildProcess$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), idleChildEnv+"="+kind, "GODEBUG="+godebug)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return idleResult{}, fmt.Errorf("idle %s: %w\n%s", kind, err, out.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), idleResultPrefix); ok {
			var r idleResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				return idleResult{}, fmt.Errorf("idle %s: %w", kind, err)
			}
			return r, nil
		}
	}
	return idleResult{}, fmt.Errorf("idle %s: no result in the child's output:\n%s", kind, out.String())
}

// BenchmarkIdleComponents starts 100,000 pass-through components that sit
// waiting for a message, measures the memory they hold and how long they
// took to build and start, stops them, and checks that every goroutine has
// gone. It does so twice: as children of one container, and as one long
// Pipeline (which adds the links between neighbours). The baseline is as
// many plain goroutines, each blocked in a select on a channel of its own
// (of the framework's default inbox capacity) and a shared stop channel.
func BenchmarkIdleComponents(b *testing.B) {
	var box, pipe, raw idleResult
	for range b.N {
		var err error
		if box, err = idleInChild("container"); err != nil {
			b.Fatal(err)
		}
		if pipe, err = idleInChild("pipeline"); err != nil {
			b.Fatal(err)
		}
		if raw, err = idleInChild("raw"); err != nil {
			b.Fatal(err)
		}
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / idleCount }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(box.perComponent(idleCount), "bytes/component")
	b.ReportMetric(float64(box.Heap)/idleCount, "heap-bytes/component")
	b.ReportMetric(float64(box.Stack)/idleCount, "stack-bytes/component")
	b.ReportMetric(box.Startup.Seconds(), "startup-s")
	b.ReportMetric(per(box.Startup), "startup-us/component")
	b.ReportMetric(pipe.perComponent(idleCount), "pipeline-bytes/component")
	b.ReportMetric(pipe.Startup.Seconds(), "pipeline-startup-s")
	b.ReportMetric(raw.perComponent(idleCount), "raw-bytes/goroutine")
	b.ReportMetric(raw.Startup.Seconds(), "raw-startup-s")
	line := "idle %s: %.0f bytes/component (heap %.0f + stack %.0f), %.0f more than a raw goroutine (target <= %d more: %s), start-up %.3f s for %d (%.2f us each), stop %.3f s, no goroutine left"
	rawBytes := raw.perComponent(idleCount)
	for _, x := range []struct {
		name string
		r    idleResult
	}{{"container", box}, {"pipeline ", pipe}} {
		more := x.r.perComponent(idleCount) - rawBytes
		report(b, line, x.name, x.r.perComponent(idleCount), float64(x.r.Heap)/idleCount, float64(x.r.Stack)/idleCount,
			more, idleOverTarget, verdictAtMost(more, idleOverTarget), x.r.Startup.Seconds(), idleCount, per(x.r.Startup), x.r.Stop.Seconds())
	}
	report(b, "idle raw goroutines: %.0f bytes/goroutine (heap %.0f + stack %.0f), start-up %.3f s for %d (%.2f us each), stop %.3f s, no goroutine left",
		raw.perComponent(idleCount), float64(raw.Heap)/idleCount, float64(raw.Stack)/idleCount, raw.Startup.Seconds(), idleCount, per(raw.Startup), raw.Stop.Seconds())
}
