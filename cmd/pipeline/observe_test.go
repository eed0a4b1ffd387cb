package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestObserveStopsWithGraph runs "cat --observe" in this process with a
// page open on its events, and ends cat's input: run returns promptly
// with the server stopped (its address free again, the page's stream
// ended) and no goroutine left behind.
func TestObserveStopsWithGraph(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stdin, feed := io.Pipe()
	errR, errW := io.Pipe()
	var stdout bytes.Buffer
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"cat", "--observe", "127.0.0.1:0"}, stdin, &stdout, errW)
		errW.Close()
	}()
	stderr := bufio.NewReader(errR)
	line, err := stderr.ReadString('\n')
	if err != nil {
		t.Fatalf("stderr: %q, %v", line, err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "pipeline: observe the graph at ")
	if !ok {
		t.Fatalf("stderr line %q does not give the page's address", line)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, stderr)
	}()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: ") {
	}
	feed.Close() // cat's input ends, and with it the graph
	start := time.Now()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(observeGrace + 5*time.Second):
		t.Fatal("run did not return after the graph ended")
	}
	if took := time.Since(start); took > observeGrace+2*time.Second {
		t.Errorf("run took %v to return after the graph ended", took)
	}
	<-drained
	// The page's stream has ended, and the address is free.
	for sc.Scan() {
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("observe address still taken after run returned: %v", err)
	}
	ln.Close()
	resp.Body.Close()
	tr.CloseIdleConnections()
	goleak.VerifyNone(t, before)
}
