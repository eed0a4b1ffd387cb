package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestBinary runs the pipeline binary as a user would.
func TestBinary(t *testing.T) {
	bin := pipelineBinary(t)

	t.Run("demo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "demo")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("pipeline demo: %v; stderr:\n%s", err, stderr.String())
		}
		checkDemo(t, stdout.String(), stderr.String())
	})

	t.Run("bad command", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := exec.CommandContext(ctx, bin, "nope").Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
			t.Errorf("pipeline nope: %v, want exit code %d", err, exitUsage)
		}
	})

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run("cat stops on "+sig.String(), func(t *testing.T) {
			catUntilSignal(t, bin, sig)
		})
	}
}

// catUntilSignal runs "pipeline cat" with its input held open, checks that
// a line written to it comes back, then sends sig and expects a clean exit
// with nothing lost or added.
func catUntilSignal(t *testing.T, bin string, sig os.Signal) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		// On an early failure, stop the process and reap it so that no
		// goroutine of exec's outlives the test.
		if !waited {
			cancel()
			_ = cmd.Wait()
		}
	}()
	defer stdin.Close()
	stdout := bufio.NewReader(stdoutPipe)
	for _, line := range []string{"first line\n", "second line\n"} {
		if _, err := io.WriteString(stdin, line); err != nil {
			t.Fatal(err)
		}
		got, err := stdout.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("read back %q, %v; want %q (stderr: %s)", got, err, line, stderr.String())
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(stdout)
	if err != nil {
		t.Errorf("reading the rest of stdout: %v", err)
	}
	if len(rest) != 0 {
		t.Errorf("after %v, stdout carried %q; want nothing more", sig, rest)
	}
	err = cmd.Wait()
	waited = true
	if err != nil {
		t.Errorf("pipeline cat after %v: %v, want exit code 0; stderr:\n%s", sig, err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
}
