package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kamaelia-go/kamaelia/axon"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { removeBinary() }))
}

// invoke calls run with the given stdin and returns the exit code and what
// was written to stdout and stderr.
func invoke(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := invoke(t, "", args...)
			if code != exitOK {
				t.Errorf("exit code %d, want %d", code, exitOK)
			}
			if stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			for _, c := range commands {
				if !strings.Contains(stdout, "  "+c.name+" ") || !strings.Contains(stdout, c.summary) {
					t.Errorf("usage does not list %q with its summary:\n%s", c.name, stdout)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // on stderr
	}{
		{"no command", nil, []string{"pipeline: no command given\nrun 'pipeline --help' for usage\n"}},
		{"unknown command", []string{"nope"}, []string{"pipeline: unknown command \"nope\"\nrun 'pipeline --help' for usage\n"}},
		{"unknown top-level flag", []string{"--verbose"}, []string{`unknown command "--verbose"`}},
		{"help for unknown command", []string{"help", "nope"}, []string{`unknown command "nope"`}},
		{"bad flag", []string{"demo", "--nope"}, []string{"pipeline demo: flag provided but not defined: -nope\nrun 'pipeline demo --help' for usage\n"}},
		{"unexpected argument", []string{"cat", "file.txt"}, []string{"pipeline cat: unexpected argument \"file.txt\"\nrun 'pipeline cat --help' for usage\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := invoke(t, "", tc.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			// The one line and the pointer to the help, not the help.
			if n := strings.Count(stderr, "\n"); n != 2 {
				t.Errorf("stderr has %d lines, want 2:\n%s", n, stderr)
			}
		})
	}
}

// usagePointer is the line a usage error of cmd ends with.
func usagePointer(cmd string) string {
	return "run 'pipeline " + cmd + " --help' for usage\n"
}

func TestCommandHelp(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--help"}, {"demo", "-h"}, {"help", "demo"}, {"cat", "--help"},
		{"udp-peer", "--help"}, {"help", "udp-targets"}, {"udp-postbox", "-h"}, {"udp-echo", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := invoke(t, "", args...)
			if code != exitOK {
				t.Errorf("exit code %d, want %d", code, exitOK)
			}
			if stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			name := args[0]
			if name == "help" {
				name = args[1]
			}
			if want := "Usage: pipeline " + name + " [flags]\n"; !strings.HasPrefix(stdout, want) {
				t.Errorf("stdout does not start with %q:\n%s", want, stdout)
			}
			if want := lookup(name).doc; !strings.Contains(stdout, want) {
				t.Errorf("stdout does not contain the command's description %q:\n%s", want, stdout)
			}
		})
	}
}

// demoOutput matches what the demo prints: each line comes back from
// peer B upper-cased, in order. Ports vary from run to run.
var demoOutput = regexp.MustCompile(`^` +
	`got back from 127\.0\.0\.1:(\d+): HELLO FROM KAMAELIA-GO\n` +
	`got back from 127\.0\.0\.1:(\d+): EACH LINE IS A DATAGRAM\n` +
	`got back from 127\.0\.0\.1:(\d+): PEER B ANSWERS IN CAPITALS\n` +
	`got back from 127\.0\.0\.1:(\d+): AND THE GRAPH ENDS BY ITSELF\n$`)

// demoStderr matches what the demo says on stderr: where the peers
// listen.
var demoStderr = regexp.MustCompile(`^listening on 127\.0\.0\.1:(\d+) \(peer A\)\n` +
	`listening on 127\.0\.0\.1:(\d+) \(peer B\)\n$`)

// checkDemo checks the demo's output, and that every answer came from
// peer B as stderr gives it.
func checkDemo(t *testing.T, stdout, stderr string) {
	t.Helper()
	out := demoOutput.FindStringSubmatch(stdout)
	if out == nil {
		t.Fatalf("stdout:\n%s\ndoes not match\n%s", stdout, demoOutput)
	}
	ports := demoStderr.FindStringSubmatch(stderr)
	if ports == nil {
		t.Fatalf("stderr:\n%s\ndoes not match\n%s", stderr, demoStderr)
	}
	for _, p := range out[1:] {
		if p != ports[2] {
			t.Errorf("an answer came from port %s, not from peer B's %s", p, ports[2])
		}
	}
}

func TestDemoOutput(t *testing.T) {
	code, stdout, stderr := invoke(t, "", "demo")
	if code != exitOK {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitOK, stderr)
	}
	checkDemo(t, stdout, stderr)
}

func TestCatCopiesLines(t *testing.T) {
	code, stdout, stderr := invoke(t, "one\ntwo\n\nthree\n", "cat")
	if code != exitOK {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitOK, stderr)
	}
	if want := "one\ntwo\n\nthree\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
}

// TestCatCancelled stops a cat whose input stays open by cancelling the
// context, as a signal does: it is a clean end.
func TestCatCancelled(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close() // lets the reader's goroutine finish
	stdoutR, stdoutW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"cat"}, stdinR, stdoutW, &stderr)
		stdoutW.Close()
	}()
	if _, err := io.WriteString(stdinW, "ping\n"); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdoutR)
	line, err := out.ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("read %q, %v; want %q", line, err, "ping\n")
	}
	cancel()
	rest, err := io.ReadAll(out)
	if err != nil || len(rest) != 0 {
		t.Errorf("after cancel read %q, %v; want nothing more", rest, err)
	}
	if c := <-code; c != exitOK {
		t.Errorf("exit code %d, want %d; stderr:\n%s", c, exitOK, stderr.String())
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDemoWriteFailure(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"demo"}, strings.NewReader(""), failWriter{}, &stderr)
	if code != exitFailure {
		t.Errorf("exit code %d, want %d", code, exitFailure)
	}
	for _, w := range []string{"pipeline demo:", "ConsoleEchoer", "disk on fire"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not contain %q:\n%s", w, stderr.String())
		}
	}
}

func TestComponentFailureNamesComponent(t *testing.T) {
	broken := axon.New("Broken", func(context.Context, *axon.Component) error {
		return errors.New("gears jammed")
	})
	var stderr bytes.Buffer
	if code, _ := runGraph(context.Background(), "test", broken, &stderr); code != exitFailure {
		t.Errorf("exit code %d, want %d", code, exitFailure)
	}
	for _, w := range []string{"pipeline test:", "Broken", "gears jammed"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not contain %q:\n%s", w, stderr.String())
		}
	}
}

func TestCancelledGraphIsClean(t *testing.T) {
	waiter := axon.New("Waiter", func(ctx context.Context, c *axon.Component) error {
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	if code, cutShort := runGraph(ctx, "test", waiter, &stderr); code != exitOK || !cutShort {
		t.Errorf("exit code %d, cut short %v; want %d, true; stderr:\n%s", code, cutShort, exitOK, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
}

func TestGraphFlag(t *testing.T) {
	labels := []string{"SOURCE (DataSource)", "A (SimplePeer)", "B (PostboxPeer)", "TAKE (Take)", "STDOUT (ConsoleEchoer)"}
	for format, want := range map[string][]string{
		"mermaid": {"flowchart LR\n", `-->|"outbox→inbox"|`},
		"dot":     {"digraph axon {\n", `[label="outbox→inbox"]`},
	} {
		file := filepath.Join(t.TempDir(), "graph")
		code, stdout, stderr := invoke(t, "", "demo", "--graph", format, "--graph-out", file)
		if code != exitOK {
			t.Fatalf("%s: exit code %d; stderr:\n%s", format, code, stderr)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range append(want, labels...) {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: the graph lacks %q:\n%s", format, w, b)
			}
		}
		if !demoOutput.MatchString(stdout) {
			t.Errorf("%s: the graph went to stdout or the demo did not run:\n%s", format, stdout)
		}
	}
	code, _, stderr := invoke(t, "", "demo", "--graph", "png")
	if code != exitUsage || !strings.Contains(stderr, "want dot or mermaid") {
		t.Errorf("bad format: exit %d, stderr:\n%s", code, stderr)
	}
}
