package util_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/util"
)

// FuzzConsoleReader checks ConsoleReader's line splitting against a plain
// model on arbitrary input: one message per line, "\n" or "\r\n" removed,
// a last line without a newline still delivered, nothing else changed or
// lost. Seeds are in testdata/fuzz/FuzzConsoleReader; run more with
//
//	go test -fuzz FuzzConsoleReader ./util/
func FuzzConsoleReader(f *testing.F) {
	for _, seed := range []string{"", "\n", "a", "a\n", "a\r\nb", "\r\n\r\n", "x\ry\n", strings.Repeat("z", 70000) + "\n"} {
		f.Add([]byte(seed))
	}
	for _, seed := range []string{"\r", "end\r", "a\r\r\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		h := axon.Start(ctx, util.ConsoleReader(bytes.NewReader(data)))
		var got []string
		for {
			m, err := h.Get(ctx, axon.OutboxName)
			if err != nil {
				break // ended and nothing more queued
			}
			got = append(got, m.(string))
		}
		if err := h.Wait(); err != nil {
			t.Fatal(err)
		}
		want := modelLines(string(data))
		if len(got) != len(want) {
			t.Fatalf("%q: %d lines %q, want %d %q", data, len(got), got, len(want), want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%q: line %d is %q, want %q", data, i, got[i], want[i])
			}
		}
	})
}

// modelLines is the obvious specification of ConsoleReader's splitting.
func modelLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	last := len(lines) - 1 // the text after the final "\n"
	for i := range last {
		// "\r" belongs to a line's end only when "\n" follows it.
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	if lines[last] == "" {
		lines = lines[:last]
	}
	return lines
}
