package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"component SubscribeTo#a480e062: SubscribeTo: backplane":              "component SubscribeTo: backplane",
		"PostboxPeer#0a1b2c3d.socket: bind 127.0.0.1:9: cannot bind":          "PostboxPeer: socket: bind 127.0.0.1:9: cannot bind",
		"component Client#0a1b2c3d.socket: connect [::1]:9: timed out":        "component Client: socket: connect [::1]:9: timed out",
		"socket: bind 127.0.0.1:9: cannot bind: bind: address already in use": "socket: bind 127.0.0.1:9: cannot bind: address already in use",
		"line 1: \"bad\x1b[2J\x07\x7f\u0085\tok\"":                            `line 1: "bad\x1b[2J\x07\x7f\u0085` + "\tok\"",
		"two\nlines": "two\nlines",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

// What the library logs with slog comes out as pipeline's error lines,
// and a record carrying an error counts as a failed item.
func TestLogHandler(t *testing.T) {
	var b strings.Builder
	e := &env{cmd: "udp-peer", stderr: &b}
	log := slog.New(&logHandler{e: e})
	log.Warn("component error", "component", "SimplePeer#0a1b2c3d", "box", "errors", "error", "SimplePeer#0a1b2c3d: send: \x1b[31mred")
	log.With("unlogged", 3).Warn("ignored message on control", "type", "string")
	want := "pipeline udp-peer: SimplePeer: send: \\x1b[31mred\n" +
		"pipeline udp-peer: ignored message on control (unlogged 3, type string)\n"
	if b.String() != want {
		t.Errorf("logged %q, want %q", b.String(), want)
	}
	if n := e.fails.count(); n != 1 {
		t.Errorf("%d failed items counted, want 1", n)
	}
	if !log.Handler().Enabled(context.Background(), slog.LevelInfo) || log.Handler().Enabled(context.Background(), slog.LevelDebug) {
		t.Error("want Info and above, not Debug")
	}
}
