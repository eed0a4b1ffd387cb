package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestObserveFlag runs "pipeline cat --observe 127.0.0.1:0" and, while
// it runs, reads the page and the metrics it serves; a line written to
// cat shows in the metrics; closing its input ends it, page and all.
func TestObserveFlag(t *testing.T) {
	bin := pipelineBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "cat", "--observe", "127.0.0.1:0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		if !waited {
			cancel()
			_ = cmd.Wait()
		}
	}()
	line, err := bufio.NewReader(stderrPipe).ReadString('\n')
	if err != nil {
		t.Fatalf("stderr: %q, %v", line, err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "pipeline: observe the graph at ")
	if !ok {
		t.Fatalf("stderr line %q does not give the page's address", line)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return string(b)
	}
	if page := get(""); !strings.Contains(page, "app.js") {
		t.Errorf("page:\n%s", page)
	}
	if _, err := io.WriteString(stdin, "hello\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := bufio.NewReader(stdoutPipe).ReadString('\n'); err != nil || got != "hello\n" {
		t.Fatalf("cat gave %q, %v", got, err)
	}
	// The echoer has taken the line: its handled count says so.
	want := `kamaelia_component_handled_messages_total{path="Graphline/STDOUT"} 1`
	deadline := time.Now().Add(5 * time.Second)
	for m := get("metrics"); !strings.Contains(m, want); m = get("metrics") {
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s:\n%s", want, m)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stdin.Close()
	err = cmd.Wait()
	waited = true
	if err != nil {
		t.Fatalf("pipeline cat --observe: %v", err)
	}
}
