package util_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

func TestConsoleReaderLines(t *testing.T) {
	ctx := axontest.Context(t)
	long := strings.Repeat("0123456789", 200_000) // 2 MB, far past any default buffer
	input := "one\r\n" + long + "\n" + "\n" + "a\rb\n" + long + "\r\n" + "tab\there\n" + "last"
	want := []string{"one", long, "", "a\rb", long, "tab\there", "last"}
	r := halfReads(input)
	h := axontest.Start(t, ctx, util.ConsoleReader(r))
	for i, w := range want {
		got, ok := axontest.Get(t, ctx, h, axon.OutboxName).(string)
		if !ok || got != w {
			t.Fatalf("line %d: got %q (%d bytes), want %d bytes starting %q", i, clip(got), len(got), len(w), clip(w))
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: h.Component().Ref()})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// halfReads hands out input in reads of half the size asked for, so
// lines span reads.
func halfReads(input string) io.Reader {
	return iotest.HalfReader(strings.NewReader(input))
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

func TestConsoleReaderEmptyInput(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.ConsoleReader(strings.NewReader("")))
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: h.Component().Ref()})
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

func TestConsoleReaderReadError(t *testing.T) {
	ctx := axontest.Context(t)
	boom := errors.New("disk on fire")
	h := axontest.Start(t, ctx, util.ConsoleReader(io.MultiReader(strings.NewReader("first\nhalf"), iotest.ErrReader(boom))))
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "first" {
		t.Fatalf("got %q, want %q", got, "first")
	}
	// The part line before the error is still delivered.
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "half" {
		t.Fatalf("got %q, want %q", got, "half")
	}
	err := h.Wait()
	if !errors.Is(err, boom) {
		t.Fatalf("Wait: got %v, want an error wrapping %v", err, boom)
	}
	var ce *axon.ComponentError
	if !errors.As(err, &ce) || ce.Component != h.Component().String() {
		t.Fatalf("Wait: got %v, want a ComponentError naming %s", err, h.Component())
	}
	if !strings.Contains(err.Error(), "ConsoleReader") {
		t.Fatalf("error %q does not name the ConsoleReader", err)
	}
}

// While the reader is blocked in Read, ShutdownMicroprocess still ends it
// at once; closing the pipe afterwards lets the reading goroutine go.
func TestConsoleReaderShutdownWhileReading(t *testing.T) {
	for _, msg := range []any{axon.ShutdownMicroprocess{From: axontest.Tester}, axon.ProducerFinished{From: axontest.Tester}} {
		t.Run(fmt.Sprintf("%T", msg), func(t *testing.T) {
			ctx := axontest.Context(t)
			pr, pw := io.Pipe()
			defer pr.Close()
			defer pw.Close()
			h := axontest.Start(t, ctx, util.ConsoleReader(pr))
			go func() { _, _ = pw.Write([]byte("hello\n")) }()
			if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "hello" {
				t.Fatalf("got %q, want hello", got)
			}
			axontest.Put(t, ctx, h, axon.ControlName, msg)
			axontest.ExpectSignal(t, ctx, h, msg)
			axontest.Wait(t, h)
			axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
		})
	}
}

// Cancelling the context ends a reader blocked in Read.
func TestConsoleReaderContextWhileReading(t *testing.T) {
	ctx := axontest.Context(t)
	pr, pw := io.Pipe()
	defer pr.Close()
	defer pw.Close()
	h := axontest.Start(t, ctx, util.ConsoleReader(pr))
	h.Stop()
	axontest.Wait(t, h)
	axontest.ExpectEnded(t, ctx, h, axon.SignalName)
}

// ShutdownMicroprocess ends a reader stuck sending a line nobody takes.
func TestConsoleReaderShutdownWhileSending(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, util.ConsoleReader(strings.NewReader("a\nb\nc\n")))
	axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
}

// With a reader whose reads can be cut short (an os.Pipe), the reading
// goroutine is gone as soon as the ConsoleReader has ended, and the
// reader is left usable, with no deadline.
func TestConsoleReaderDeadlineReader(t *testing.T) {
	ctx := axontest.Context(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	h := axontest.Start(t, ctx, util.ConsoleReader(pr))
	if _, err := pw.WriteString("one\n"); err != nil {
		t.Fatal(err)
	}
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != "one" {
		t.Fatalf("got %q, want one", got)
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.Wait(t, h)
	// The pipe is still open, so only the deadline can have freed the
	// reading goroutine.
	goleak.VerifyNone(t)
	if _, err := pw.WriteString("after\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "after\n" {
		t.Fatalf("reading the pipe afterwards: got %q, %v", line, err)
	}
}

type named string

func (n named) String() string { return "<" + string(n) + ">" }

func TestConsoleEchoerFormats(t *testing.T) {
	msgs := []any{"str", []byte("bytes"), named("stringer"), 42, nil, errors.New("oops"), 1.5}
	for _, tc := range []struct {
		name string
		opts []util.EchoerOption
		want string
	}{
		{"plain", nil, "strbytes<stringer>42<nil>oops1.5"},
		{"newline", []util.EchoerOption{util.WithNewline()}, "str\nbytes\n<stringer>\n42\n<nil>\noops\n1.5\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			if err := axon.Run(axontest.Context(t), chassis.Pipeline(util.DataSource(msgs), util.ConsoleEchoer(&buf, tc.opts...))); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConsoleEchoerForward(t *testing.T) {
	ctx := axontest.Context(t)
	var buf syncBuffer
	src := util.DataSource([]string{"a", "b", "c"})
	h := axontest.Start(t, ctx, chassis.Pipeline(src, util.ConsoleEchoer(&buf, util.Forward(), util.WithNewline())))
	for _, w := range []string{"a", "b", "c"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("forwarded %q, want %q", got, w)
		}
	}
	// The DataSource's notice arrives at the end of the pipeline.
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: src.Ref()})
	axontest.Wait(t, h)
	if got := buf.String(); got != "a\nb\nc\n" {
		t.Fatalf("wrote %q", got)
	}
}

// gatedWriter reports each Write on writes and then, if gate is not nil,
// waits for gate to close before returning.
type gatedWriter struct {
	writes  chan string
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.writes <- string(p)
	if g.gate != nil {
		g.entered <- struct{}{}
		<-g.gate
		g.gate = nil
	}
	return len(p), nil
}

// A message arriving alone is written out promptly, with no shutdown
// needed; messages arriving while the writer is busy are written together.
// That holds with the default delay and with FlushAfter(0).
func TestConsoleEchoerFlushes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []util.EchoerOption
	}{
		{"default", nil},
		{"FlushAfter(0)", []util.EchoerOption{util.FlushAfter(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) { testConsoleEchoerFlushes(t, tc.opts) })
	}
}

func testConsoleEchoerFlushes(t *testing.T, opts []util.EchoerOption) {
	ctx := axontest.Context(t)
	gw := &gatedWriter{writes: make(chan string, 10), entered: make(chan struct{}), gate: make(chan struct{})}
	h := axontest.Start(t, ctx, util.ConsoleEchoer(gw, opts...))
	axontest.Put(t, ctx, h, axon.InboxName, "a")
	select {
	case got := <-gw.writes:
		if got != "a" {
			t.Fatalf("first write %q, want %q", got, "a")
		}
	case <-ctx.Done():
		t.Fatal("a lone message was never flushed")
	}
	<-gw.entered // the echoer is now inside Write, holding the flush
	for _, m := range []string{"b", "c", "d"} {
		axontest.Put(t, ctx, h, axon.InboxName, m)
	}
	close(gw.gate)
	select {
	case got := <-gw.writes:
		if got != "bcd" {
			t.Fatalf("second write %q, want %q (one write for the queued messages)", got, "bcd")
		}
	case <-ctx.Done():
		t.Fatal("queued messages were never flushed")
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	axontest.Wait(t, h)
	close(gw.writes)
	for w := range gw.writes {
		t.Fatalf("unexpected further write %q", w)
	}
}

// Output written before a ShutdownMicroprocess is flushed on the way out.
func TestConsoleEchoerFlushesOnShutdown(t *testing.T) {
	ctx := axontest.Context(t)
	gw := &gatedWriter{writes: make(chan string, 10)}
	// With Forward and nobody reading outbox, the echoer writes "x",
	// flushes, and waits to forward it, with "y" queued behind.
	h := axontest.Start(t, ctx, util.ConsoleEchoer(gw, util.Forward()))
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	axontest.Put(t, ctx, h, axon.InboxName, "y")
	if got := <-gw.writes; got != "x" {
		t.Fatalf("wrote %q, want %q", got, "x")
	}
	axontest.Put(t, ctx, h, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	axontest.Wait(t, h)
	close(gw.writes)
	for w := range gw.writes {
		t.Fatalf("unexpected further write %q: the queued message should be abandoned", w)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestConsoleEchoerWriteError(t *testing.T) {
	ctx := axontest.Context(t)
	boom := errors.New("disk full")
	h := axontest.Start(t, ctx, util.ConsoleEchoer(failingWriter{boom}))
	axontest.Put(t, ctx, h, axon.InboxName, "x")
	err := h.Wait()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "ConsoleEchoer") {
		t.Fatalf("Wait: got %v, want an error naming ConsoleEchoer and wrapping %v", err, boom)
	}
}

// ConsoleReader to ConsoleEchoer: the Kamaelia demo shape.
func TestConsoleReaderToEchoer(t *testing.T) {
	var buf syncBuffer
	in := "alpha\r\nbeta\ngamma"
	if err := axon.Run(axontest.Context(t), chassis.Pipeline(util.ConsoleReader(strings.NewReader(in)), util.ConsoleEchoer(&buf, util.WithNewline()))); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "alpha\nbeta\ngamma\n" {
		t.Fatalf("got %q", got)
	}
}

// countingWriter counts the writes made to it and keeps what they wrote.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	b      strings.Builder
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.b.Write(p)
}

func (c *countingWriter) result() (writes int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.b.String()
}

// yieldingSource sends n numbered lines, letting other goroutines run
// before each: the ConsoleEchoer it feeds keeps catching up and finding
// its inbox empty, which without a flush delay means one write per line.
func yieldingSource(n int) *axon.Component {
	return axon.New("YieldingSource", func(ctx context.Context, c *axon.Component) error {
		for i := range n {
			runtime.Gosched()
			if err := c.Send(ctx, axon.OutboxName, strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

func numberedLines(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strconv.Itoa(i) + "\n")
	}
	return b.String()
}

// A fast stream of small messages is written in a few large pieces, not
// one write each, and all of it arrives in order.
func TestConsoleEchoerFewWrites(t *testing.T) {
	const n = 20_000
	var w countingWriter
	if err := axon.Run(axontest.Context(t), chassis.Pipeline(yieldingSource(n), util.ConsoleEchoer(&w, util.WithNewline()))); err != nil {
		t.Fatal(err)
	}
	writes, text := w.result()
	if text != numberedLines(n) {
		t.Fatalf("wrote %d bytes, not the %d lines in order", len(text), n)
	}
	// The bound allows one flush per millisecond for five seconds: far
	// more than a run takes, far fewer than one write per message.
	if writes > n/4 {
		t.Fatalf("%d messages took %d writes, want far fewer", n, writes)
	}
	t.Logf("%d messages, %d writes", n, writes)
}

// A lone message is written out after the delay, with nothing more
// arriving and no shutdown.
func TestConsoleEchoerFlushesAfterDelay(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []util.EchoerOption
	}{
		{"default", nil},
		{"FlushAfter(20ms)", []util.EchoerOption{util.FlushAfter(20 * time.Millisecond)}},
		{"FlushAfter(0)", []util.EchoerOption{util.FlushAfter(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := axontest.Context(t)
			gw := &gatedWriter{writes: make(chan string, 10)}
			h := axontest.Start(t, ctx, util.ConsoleEchoer(gw, tc.opts...))
			for _, m := range []string{"one", "two"} {
				axontest.Put(t, ctx, h, axon.InboxName, m)
				select {
				case got := <-gw.writes:
					if got != m {
						t.Fatalf("wrote %q, want %q", got, m)
					}
				case <-ctx.Done():
					t.Fatalf("%q was never flushed", m)
				}
			}
			axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
		})
	}
}

// Whatever ends a ConsoleEchoer, what it has written is flushed on the
// way out, even with a flush delay far longer than the test.
func TestConsoleEchoerNothingLostAtExit(t *testing.T) {
	const n = 50
	t.Run("ProducerFinished", func(t *testing.T) {
		// Every message queued is written, in one piece, when the
		// notice comes: nothing else flushes with an hour's delay.
		var w countingWriter
		items := make([]string, n)
		for i := range items {
			items[i] = strconv.Itoa(i)
		}
		if err := axon.Run(axontest.Context(t), chassis.Pipeline(util.DataSource(items), util.ConsoleEchoer(&w, util.WithNewline(), util.FlushAfter(time.Hour)))); err != nil {
			t.Fatal(err)
		}
		if writes, text := w.result(); writes != 1 || text != numberedLines(n) {
			t.Fatalf("%d writes of %q, want one of %d lines", writes, text, n)
		}
	})
	stops := map[string]func(t *testing.T, ctx context.Context, h *axon.Handle){
		"ShutdownMicroprocess": func(t *testing.T, ctx context.Context, h *axon.Handle) {
			axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
		},
		"context": func(t *testing.T, ctx context.Context, h *axon.Handle) {
			h.Stop()
			axontest.Wait(t, h)
		},
	}
	for name, stop := range stops {
		t.Run(name, func(t *testing.T) {
			ctx := axontest.Context(t)
			var w countingWriter
			h := axontest.Start(t, ctx, util.ConsoleEchoer(&w, util.WithNewline(), util.Forward(), util.FlushAfter(time.Hour)))
			// A message forwarded has been written (to the buffer).
			for i := range n {
				axontest.Put(t, ctx, h, axon.InboxName, strconv.Itoa(i))
				if got := axontest.Get(t, ctx, h, axon.OutboxName); got != strconv.Itoa(i) {
					t.Fatalf("forwarded %v, want %d", got, i)
				}
			}
			stop(t, ctx, h)
			if _, text := w.result(); text != numberedLines(n) {
				t.Fatalf("wrote %q, want %d lines", text, n)
			}
		})
	}
}

func TestConsoleReaderMaxLine(t *testing.T) {
	ctx := axontest.Context(t)
	long := strings.Repeat("x", 1_000_000)
	// Limit 5: "12345" fits, with "\r\n" or without; "123456" does not.
	input := "12345\r\n" + long + "\n" + "ok\n" + "123456\n" + "12345"
	h := axontest.Start(t, ctx, util.ConsoleReader(halfReads(input), util.MaxLine(5)), axon.Tapping(util.ErrorsBox))
	for _, w := range []string{"12345", "ok", "12345"} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	for _, line := range []int{2, 4} {
		err, _ := axontest.Get(t, ctx, h, util.ErrorsBox).(error)
		var le *util.LineError
		if !errors.As(err, &le) || le.Line != line || le.Max != 5 || !errors.Is(err, util.ErrLineTooLong) {
			t.Fatalf("errors: got %v, want line %d too long", err, line)
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: h.Component().Ref()})
	axontest.Wait(t, h)
}

func TestConsoleReaderKeepLineEndings(t *testing.T) {
	ctx := axontest.Context(t)
	want := []string{"one\r\n", "\n", "two\n", "three\n", "last"}
	h := axontest.Start(t, ctx, util.ConsoleReader(halfReads(strings.Join(want, "")),
		util.KeepLineEndings(), util.MaxLine(6)))
	for _, w := range want {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	axontest.ExpectSignal(t, ctx, h, axon.ProducerFinished{From: h.Component().Ref()})
	axontest.Wait(t, h)
}
