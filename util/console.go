package util

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// ConsoleReader reads r line by line and sends each line on "outbox" as a
// string, without its line ending ("\n" or "\r\n"), or with it if
// KeepLineEndings is given. Lines may be of any length, unless MaxLine
// bounds them: a longer line is then skipped, never held in memory, and
// reported on "errors" as a *LineError wrapping ErrLineTooLong. A last
// line that has no line ending is still sent. At the end of r it sends
// ProducerFinished on "signal" and ends.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  ProducerFinished: the ConsoleReader stops reading, passes
//	              it on and ends (a line already read but not yet sent is
//	              sent first); ShutdownMicroprocess: passed on at once, and
//	              the ConsoleReader ends, even while it waits for input or
//	              for room downstream
//	outbox  (out) each line read, as a string
//	errors  (out) a *LineError for each line skipped (see MaxLine); when
//	              nothing takes it, it is logged with slog
//	signal  (out) ProducerFinished at the end of r, or the shutdown message
//	              that stopped the ConsoleReader
//
// A read error other than io.EOF ends the ConsoleReader with an error that
// names it and wraps the reader's error.
//
// Reads are made by a goroutine of the ConsoleReader's own, so that it can
// stop while a read is blocked. A Read call cannot be interrupted in
// general, though: if the ConsoleReader stops (on ShutdownMicroprocess,
// ProducerFinished or the end of its context) while that goroutine is
// blocked in r.Read, the goroutine stays blocked until the read returns
// and then exits without sending anything. For os.Stdin on a terminal that
// is until the next line is typed, or the end of the program. If r has a
// SetReadDeadline method (a net.Conn, or an *os.File made by os.Pipe),
// the ConsoleReader uses it to cut the read short, waits for the goroutine
// to exit, and then clears the deadline (any deadline the caller had set
// is lost). Data the ConsoleReader had read from r but not yet sent as a
// whole line is lost when it stops early.
func ConsoleReader(r io.Reader, opts ...ReaderOption) *axon.Component {
	var cfg readerConfig
	for _, o := range opts {
		o(&cfg)
	}
	return axon.New("ConsoleReader", func(ctx context.Context, c *axon.Component) error {
		lr := startLineReader(r, cfg)
		defer lr.stop()
		out, ctl := c.Out(axon.OutboxName), c.In(axon.ControlName)
		errs := axon.NewReporter(c, ErrorsBox)
		// send sends a line, or reports the one skipped, unless ctx has
		// ended.
		send := func(res readResult) error {
			if res.skipped != nil {
				errs.ReportFrom(ctx, res.skipped)
			}
			if !res.hasLine {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return out.Send(ctx, res.line)
		}
		// control acts on a control message; it reports stop when the
		// ConsoleReader is to end.
		control := func(ctx context.Context, msg any) (stop bool, err error) {
			if !axon.IsProducerFinished(msg) {
				return c.Control(ctx, msg, nil)
			}
			// A line the reading goroutine is already offering is part of
			// what was produced before the notice.
			select {
			case res := <-lr.results:
				if err := send(res); err != nil {
					return true, err
				}
			default:
			}
			return true, c.PassOn(ctx, msg)
		}
		for {
			if stop, again, err := controlFirst(ctx, ctl, control); stop {
				return err
			} else if again {
				continue
			}
			select {
			case res := <-lr.results:
				if err := send(res); err != nil {
					return err
				}
				switch {
				case res.err == io.EOF:
					return c.Finish(ctx)
				case res.err != nil:
					return fmt.Errorf("%s: read: %w", c, res.err)
				}
			case msg := <-ctl:
				if stop, err := control(ctx, msg); stop || err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	},
		axon.WithInbox(axon.InboxName, "not used"),
		axon.WithOutbox(axon.OutboxName, "each line read", axon.Carries[string]()),
		axon.WithOutbox(ErrorsBox, "*LineError: each line skipped", axon.Carries[error]()),
	)
}

// ReaderOption configures a ConsoleReader.
type ReaderOption func(*readerConfig)

type readerConfig struct {
	maxLine  int  // 0: no limit
	keepEnds bool // send lines with their line endings
}

// MaxLine bounds the lines a ConsoleReader sends to n bytes (with
// KeepLineEndings, counting the line ending; otherwise not). A longer
// line is read and dropped as it comes, so that memory stays bounded
// whatever the input, and reported on "errors". n <= 0 means no limit,
// the default.
func MaxLine(n int) ReaderOption { return func(c *readerConfig) { c.maxLine = max(n, 0) } }

// KeepLineEndings makes a ConsoleReader send each line with its line
// ending, "\n" or "\r\n", as it was read: what it sends, joined, is
// exactly its input (less any lines MaxLine skipped).
func KeepLineEndings() ReaderOption { return func(c *readerConfig) { c.keepEnds = true } }

// ErrLineTooLong is wrapped by the LineError for a line longer than
// MaxLine.
var ErrLineTooLong = errors.New("line too long")

// LineError is a line of input that a ConsoleReader skipped.
type LineError struct {
	Line int   // the line's number, from 1
	Max  int   // the limit it broke
	Err  error // why: ErrLineTooLong
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %v: more than %d bytes, skipped", e.Line, e.Err, e.Max)
}

func (e *LineError) Unwrap() error { return e.Err }

// readResult is one line, or the error that ended reading, or both (a
// last line without a line ending followed by io.EOF), and the line
// skipped before it, if any.
type readResult struct {
	line    string
	hasLine bool
	skipped *LineError
	err     error
}

// lineReader reads lines in a goroutine and hands them over on results.
type lineReader struct {
	r        io.Reader
	cfg      readerConfig
	skipping bool // the rest of an over-long line is to be skipped
	results  chan readResult
	quit     chan struct{} // closed to tell the goroutine to give up
	done     chan struct{} // closed when the goroutine has returned
}

func startLineReader(r io.Reader, cfg readerConfig) *lineReader {
	lr := &lineReader{r: r, cfg: cfg, results: make(chan readResult), quit: make(chan struct{}), done: make(chan struct{})}
	go lr.run()
	return lr
}

func (lr *lineReader) run() {
	defer close(lr.done)
	br := bufio.NewReader(lr.r)
	n := 0 // lines read
	var buf []byte
	for {
		select {
		case <-lr.quit:
			return
		default:
		}
		var read, over bool
		var err error
		buf, read, over, err = lr.readLine(br, buf[:0])
		res := readResult{err: err}
		if read {
			n++
		}
		switch {
		case over:
			res.skipped = &LineError{Line: n, Max: lr.cfg.maxLine, Err: ErrLineTooLong}
		case read:
			res.hasLine = true
			res.line = string(buf)
		}
		select {
		case lr.results <- res:
		case <-lr.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line into buf: with its ending if the reader keeps
// endings, and otherwise without. read reports that there was a line
// (perhaps empty) before err; over, a line longer than MaxLine, of which
// nothing is kept. An over-long line is reported as soon as it passes
// the limit, and the rest of it skipped by the next call, so that
// reading it holds no more than the limit and bufio's buffer, however
// long it is. err is nil when a line ending was read.
func (lr *lineReader) readLine(br *bufio.Reader, buf []byte) (line []byte, read, over bool, err error) {
	for lr.skipping {
		_, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		lr.skipping = false
		if err != nil {
			return buf, false, false, err
		}
	}
	limit := lr.cfg.maxLine
	if limit > 0 && !lr.cfg.keepEnds {
		limit += 2 // room for the "\r\n" that is cut off
	}
	for {
		frag, err := br.ReadSlice('\n')
		read = read || len(frag) > 0
		if limit > 0 && len(buf)+len(frag) > limit {
			if err == bufio.ErrBufferFull {
				lr.skipping, err = true, nil
			}
			return buf[:0], true, true, err
		}
		buf = append(buf, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if !lr.cfg.keepEnds {
			if t, ok := bytes.CutSuffix(buf, []byte("\n")); ok {
				buf, _ = bytes.CutSuffix(t, []byte("\r"))
			}
		}
		if lr.cfg.maxLine > 0 && len(buf) > lr.cfg.maxLine {
			return buf[:0], true, true, err
		}
		return buf, read, false, err
	}
}

// deadliner is implemented by readers whose blocked reads can be cut short.
type deadliner interface {
	SetReadDeadline(t time.Time) error
}

// stop tells the goroutine to give up and, when it can be sure the
// goroutine will return promptly, waits for it.
func (lr *lineReader) stop() {
	close(lr.quit)
	select {
	case <-lr.done:
		return
	default:
	}
	// The goroutine is blocked in a read, about to read, or about to
	// return.
	if d, ok := lr.r.(deadliner); ok && d.SetReadDeadline(time.Now()) == nil {
		<-lr.done
		_ = d.SetReadDeadline(time.Time{})
	}
}

// EchoerOption configures a ConsoleEchoer.
type EchoerOption func(*echoerConfig)

type echoerConfig struct {
	newline    bool
	forward    bool
	flushAfter time.Duration
}

// DefaultFlushAfter is how long a ConsoleEchoer lets output wait in its
// buffer, once its inbox has run empty, unless FlushAfter says otherwise.
const DefaultFlushAfter = time.Millisecond

// EchoBufferSize is the size of a ConsoleEchoer's output buffer: output
// is written in pieces of up to this many bytes.
const EchoBufferSize = 64 << 10

// WithNewline makes a ConsoleEchoer write "\n" after each message.
func WithNewline() EchoerOption { return func(c *echoerConfig) { c.newline = true } }

// Forward makes a ConsoleEchoer also send each message on "outbox", after
// writing it, so that it can sit in the middle of a Pipeline.
func Forward() EchoerOption { return func(c *echoerConfig) { c.forward = true } }

// FlushAfter sets how long a ConsoleEchoer lets output wait in its buffer
// once its inbox has run empty (DefaultFlushAfter if not given). With 0
// (or less) it flushes as soon as the inbox is empty, which at high
// message rates can mean one write per message.
func FlushAfter(d time.Duration) EchoerOption {
	return func(c *echoerConfig) { c.flushAfter = max(d, 0) }
}

// ConsoleEchoer writes each message that arrives on "inbox" to w: a string
// or []byte as it is, a fmt.Stringer by its String method, anything else
// as fmt.Sprint formats it. WithNewline adds "\n" after each message;
// Forward also sends each message on "outbox".
//
// Output is buffered, so that a fast stream of messages (a UDP peer's
// datagrams piped into another program, say) costs a few large writes
// rather than one per message. The buffer (EchoBufferSize bytes) is
// written out:
//
//   - when it is full;
//   - once the inbox has run empty with output waiting, after the delay
//     FlushAfter sets (DefaultFlushAfter, 1 ms, by default), whether or
//     not more messages have arrived meanwhile: output never waits much
//     longer than that once the ConsoleEchoer has caught up, and at high
//     rates each write carries that long's worth of messages;
//   - before waiting to forward a message (Forward), so that what has
//     been written is seen while the ConsoleEchoer is held up;
//   - when the ConsoleEchoer ends, however it ends.
//
// The buffer is shared out among ConsoleEchoers as they need it: one with
// nothing left to write holds none.
//
// Boxes:
//
//	inbox   (in)  messages to write
//	control (in)  ProducerFinished: queued messages are written, the
//	              output flushed, and then it is passed on and the
//	              ConsoleEchoer ends; ShutdownMicroprocess: what has been
//	              written is flushed, it is passed on, and the
//	              ConsoleEchoer ends, leaving queued messages unwritten
//	outbox  (out) each message, unchanged, with Forward; otherwise unused
//	signal  (out) the shutdown message that ended the ConsoleEchoer
//
// An error writing to w ends the ConsoleEchoer with an error that names it
// and wraps the writer's error. A Write that blocks holds the
// ConsoleEchoer up; it cannot be interrupted.
func ConsoleEchoer(w io.Writer, opts ...EchoerOption) *axon.Component {
	cfg := echoerConfig{flushAfter: DefaultFlushAfter}
	for _, o := range opts {
		o(&cfg)
	}
	outDoc := "not used (see Forward)"
	if cfg.forward {
		outDoc = "each message, after it is written"
	}
	e := &echoer{w: w, cfg: cfg}
	return axon.New("ConsoleEchoer", e.main,
		axon.WithInbox(axon.InboxName, "messages to write"),
		axon.WithOutbox(axon.OutboxName, outDoc),
	)
}

// writers holds the buffers of ConsoleEchoers that have nothing waiting to
// be written, so that an idle ConsoleEchoer holds none.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, EchoBufferSize) }}

// echoer is the state of a ConsoleEchoer's main loop.
type echoer struct {
	w   io.Writer
	cfg echoerConfig
	c   *axon.Component
	in  *axon.Inbox
	out *axon.Outbox
	bw  *bufio.Writer // from writers, while there is output to flush

	timer   *time.Timer // made when first needed
	timerOn bool        // timer is set to flush
}

func (e *echoer) main(ctx context.Context, c *axon.Component) error {
	e.c, e.in, e.out = c, c.Inbox(axon.InboxName), c.Out(axon.OutboxName)
	err := e.loop(ctx)
	if ferr := e.flush(); ferr != nil && err == nil {
		err = ferr
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	return err
}

// loop writes messages until told to stop, flushing as ConsoleEchoer's
// documentation says. What is still buffered when it returns is main's
// to flush.
func (e *echoer) loop(ctx context.Context) error {
	in, ctl := e.c.In(axon.InboxName), e.c.In(axon.ControlName)
	for {
		if stop, again, err := controlFirst(ctx, ctl, e.control); stop {
			return err
		} else if again {
			continue
		}
		if e.pending() && len(in) == 0 {
			// Caught up, with output waiting.
			if e.cfg.flushAfter == 0 {
				if err := e.flush(); err != nil {
					return err
				}
			} else {
				e.startTimer()
			}
		}
		var tick <-chan time.Time
		if e.timerOn {
			tick = e.timer.C
		}
		select {
		case msg := <-in:
			if err := e.handle(ctx, msg); err != nil {
				return err
			}
		case msg := <-ctl:
			if stop, err := e.control(ctx, msg); stop || err != nil {
				return err
			}
		case <-tick:
			e.timerOn = false
			if err := e.flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// control acts on a message from "control"; it reports stop when the
// ConsoleEchoer is to end.
func (e *echoer) control(ctx context.Context, msg any) (stop bool, err error) {
	switch {
	case axon.IsProducerFinished(msg):
		if err := e.c.Drain(ctx, e.handle); err != nil {
			return true, err
		}
	case !axon.IsShutdownMicroprocess(msg):
		return e.c.Control(ctx, msg, nil) // logged and ignored
	}
	if err := e.flush(); err != nil {
		return true, err
	}
	return true, e.c.PassOn(ctx, msg)
}

// handle writes one message (into the buffer) and, with Forward, sends it
// on.
func (e *echoer) handle(ctx context.Context, msg any) error {
	if e.bw == nil {
		e.bw = writers.Get().(*bufio.Writer)
		e.bw.Reset(e.w)
	}
	if err := writeMessage(e.bw, msg, e.cfg.newline); err != nil {
		return fmt.Errorf("%s: write: %w", e.c, err)
	}
	if !e.cfg.forward {
		return nil
	}
	if e.out.TrySend(msg) == nil {
		return nil
	}
	// About to wait: let what has been written be seen meanwhile.
	if err := e.flush(); err != nil {
		return err
	}
	return e.out.Send(ctx, msg)
}

// pending reports whether output is waiting in the buffer.
func (e *echoer) pending() bool { return e.bw != nil && e.bw.Buffered() > 0 }

// startTimer sets the timer to flush, unless it is set already.
func (e *echoer) startTimer() {
	if e.timerOn {
		return
	}
	if e.timer == nil {
		e.timer = time.NewTimer(e.cfg.flushAfter)
	} else {
		e.timer.Reset(e.cfg.flushAfter)
	}
	e.timerOn = true
}

// flush writes out what is buffered, gives the buffer back and stops the
// timer. After a write error the buffer is kept (and the error repeated).
func (e *echoer) flush() error {
	if e.bw == nil {
		return nil
	}
	if err := e.bw.Flush(); err != nil {
		return fmt.Errorf("%s: write: %w", e.c, err)
	}
	e.bw.Reset(nil)
	writers.Put(e.bw)
	e.bw = nil
	if e.timerOn {
		e.timer.Stop()
		e.timerOn = false
	}
	return nil
}

func writeMessage(bw *bufio.Writer, msg any, newline bool) error {
	var err error
	switch m := msg.(type) {
	case string:
		_, err = bw.WriteString(m)
	case []byte:
		_, err = bw.Write(m)
	case fmt.Stringer:
		_, err = bw.WriteString(m.String())
	default:
		_, err = fmt.Fprint(bw, m)
	}
	if err == nil && newline {
		err = bw.WriteByte('\n')
	}
	return err
}
