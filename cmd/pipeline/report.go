package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// How pipeline speaks on standard error, and what its exit status says.
//
// Every error line has one form, "pipeline CMD: what went wrong", with
// control characters from the input escaped and components' ids left
// out. Each item that fails while the graph runs (a line that is not
// sent, a datagram that cannot be sent, a message too large) is counted;
// a run with any failed item ends with one line saying how many, and
// exit status 1.

// failures counts the items that failed during a run.
type failures struct{ n atomic.Int64 }

// add counts the items err stands for: a udp.Error's dropped payloads
// (none for a name that did not resolve: the sends it holds up say how
// many they were when they fail), or one.
func (f *failures) add(err any) {
	if _, ok := err.(chassis.Event); ok {
		// What a supervisor did (a restart, say) is news, not a failed
		// item: what its child failed on comes as a *DroppedError.
		return
	}
	n := int64(1)
	var ue *udp.Error
	if e, ok := err.(error); ok && errors.As(e, &ue) {
		switch {
		case ue.Dropped > 0:
			n = int64(ue.Dropped)
		case ue.Op == "resolve":
			n = 0
		}
	}
	f.n.Add(n)
}

// count returns how many items have failed.
func (f *failures) count() int64 { return f.n.Load() }

// summary is the line that ends a run in which n items failed.
func summary(n int64) string {
	if n == 1 {
		return "1 item failed (see above)"
	}
	return fmt.Sprintf("%d items failed (see above)", n)
}

// lockedWriter lets many goroutines (the handlers of many connections,
// the components printing errors, slog) write whole lines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// sayf writes one error line for cmd on w, as cleanText has it.
func sayf(w io.Writer, cmd, format string, args ...any) {
	prefix := "pipeline"
	if cmd != "" {
		prefix += " " + cmd
	}
	fmt.Fprintf(w, "%s: %s\n", prefix, cleanText(fmt.Sprintf(format, args...)))
}

// componentID matches the "#3f2a1c7e" a component's String adds to its
// name (useful when debugging a graph, noise to a user), and the "." that
// joins it to a box's name in an *axon.BoxError, "SimplePeer#3f2a1c7e.inbox".
var componentID = regexp.MustCompile(`#[0-9a-f]{8}\b(\.\b)?`)

// withoutID is what componentID's match becomes: nothing, or ": " between
// a component's name and its box's.
func withoutID(id string) string {
	if strings.HasSuffix(id, ".") {
		return ": "
	}
	return ""
}

// cleanText makes s fit to print on a terminal as (part of) one line:
// components' ids are left out ("SimplePeer#3f2a1c7e.inbox: send ..." is
// written "SimplePeer: inbox: send ..."), a part of the message that only
// repeats the word before it ("cannot bind: bind: ...") is dropped, and
// control characters (but newline and tab) are escaped as \xHH or
// \u00HH, so that input echoed in a message cannot move the cursor or
// clear the screen.
func cleanText(s string) string {
	s = componentID.ReplaceAllStringFunc(s, withoutID)
	parts := strings.Split(s, ": ")
	kept := parts[:0]
	for _, p := range parts {
		if n := len(kept); n > 0 && lastWord(kept[n-1]) == p {
			continue
		}
		kept = append(kept, p)
	}
	var b strings.Builder
	writeEscaped(&b, []byte(strings.Join(kept, ": ")), true)
	return b.String()
}

// writeEscaped writes b to w with its control characters escaped: C0
// ones (but tab, and newline if keepNewline says so) and DEL as \xHH, C1
// ones (U+0080 to U+009F, in UTF-8) as \u00HH. Everything else, invalid
// UTF-8 included, is written as it is. Nothing is allocated unless there
// is something to escape.
func writeEscaped(w io.Writer, b []byte, keepNewline bool) {
	start := 0
	for i := 0; i < len(b); {
		c, n := b[i], 1
		var esc string
		switch {
		case c == '\t' || c == '\n' && keepNewline:
		case c < 0x20 || c == 0x7f:
			esc = fmt.Sprintf(`\x%02x`, c)
		case c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			esc, n = fmt.Sprintf(`\u%04x`, b[i+1]), 2
		}
		if esc != "" {
			w.Write(b[start:i])
			io.WriteString(w, esc)
			start = i + n
		}
		i += n
	}
	w.Write(b[start:])
}

// lastWord returns the last space-separated word of s.
func lastWord(s string) string {
	return s[strings.LastIndexByte(s, ' ')+1:]
}

// stopNoise reports whether an error, by its text, only says that
// something could not be handed on to a component that had ended because
// the graph was being stopped: not a failure, and not worth a line. (The
// text, because what slog is given is text.)
func (e *env) stopNoise(text string) bool {
	return e.stopping != nil && e.stopping() && strings.Contains(text, axon.ErrReceiverDone.Error())
}

// logHandler prints the records the library logs with slog (an error a
// component could not report on its box, say) as error lines of e's
// command, counting those that carry an error as failed items.
type logHandler struct {
	e     *env
	attrs []slog.Attr
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var errText string
	var rest []string
	add := func(a slog.Attr) bool {
		switch {
		case a.Key == "error" || a.Key == "err":
			errText = a.Value.String()
		case a.Key != "component" && a.Key != "box":
			rest = append(rest, a.Key+" "+a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	text := r.Message
	if errText != "" {
		if h.e.stopNoise(errText) {
			return nil
		}
		// The error names its component and says what failed: the
		// record's message ("component error") adds nothing.
		text = errText
		if r.Level >= slog.LevelWarn {
			h.e.fails.n.Add(1) // text alone: one item
		}
	}
	if len(rest) > 0 {
		text += " (" + strings.Join(rest, ", ") + ")"
	}
	sayf(h.e.stderr, h.e.cmd, "%s", text)
	return nil
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(c.attrs[:len(c.attrs):len(c.attrs)], as...)
	return &c
}

func (h *logHandler) WithGroup(string) slog.Handler { return h }

// interrupted is the cause of the context cancelled by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

// exitCode is the conventional exit status of a program ended by i's
// signal: 128 plus its number (130 for SIGINT, 143 for SIGTERM).
func (i interrupted) exitCode() int { return 128 + int(i.sig) }

// signalName names sig as a user knows it.
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// interruption returns the signal that cancelled ctx, if one did.
func interruption(ctx context.Context) (interrupted, bool) {
	var i interrupted
	ok := errors.As(context.Cause(ctx), &i)
	return i, ok
}

// signalContext returns a context cancelled, with an interrupted cause,
// by the first SIGINT or SIGTERM. After that signal the default handling
// is restored, so that a second one kills a graph that does not stop.
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel(interrupted{sig.(syscall.Signal)})
	}()
	return ctx
}
