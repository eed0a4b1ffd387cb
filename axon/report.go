package axon

import (
	"context"
	"sync"
	"time"
)

// Reporter sends the errors a component meets while it keeps working (a
// message of the wrong type, a packet that does not parse, a peer that
// refused) as messages on one of its outboxes, conventionally "errors".
// Errors are sent without waiting, so a problem never stalls the stream.
// When the box leads nowhere or is full, the error is logged with slog
// instead, at most ReportLogsPerSecond times a second, with a count of the
// ones left unlogged: nothing fails unseen, and a flood cannot swamp the
// log.
//
// A Reporter is safe for use by several goroutines.
type Reporter struct {
	c   *Component
	box string

	mu       sync.Mutex
	window   time.Time
	logged   int
	unlogged uint64
}

// ReportLogsPerSecond bounds how many errors a Reporter logs a second when
// its box cannot take them.
const ReportLogsPerSecond = 5

// NewReporter returns a Reporter that sends on c's outbox box.
func NewReporter(c *Component, box string) *Reporter {
	return &Reporter{c: c, box: box}
}

// ReportFrom is Report for a handler that reports in order with what it
// sends: with the context Serve gave it (or one derived from it), the
// messages the handler sent before err are put into their destinations
// first, so that a receiver of both sees them in the order they were
// sent. Report alone never waits for them: it may be called from any
// goroutine.
func (r *Reporter) ReportFrom(ctx context.Context, err error) bool {
	_ = Flush(ctx) // a failure here is the next Send's to report
	return r.Report(err)
}

// Report sends err on the Reporter's box, or logs it when the box cannot
// take it. It reports whether err was sent as a message.
func (r *Reporter) Report(err error) bool {
	if out := r.c.Outbox(r.box); out != nil && out.Offer(err) {
		return true
	}
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.window) >= time.Second {
		r.window, r.logged = now, 0
	}
	if r.logged >= ReportLogsPerSecond {
		r.unlogged++
		r.mu.Unlock()
		return false
	}
	r.logged++
	unlogged := r.unlogged
	r.unlogged = 0
	r.mu.Unlock()
	attrs := []any{"component", r.c.String(), "box", r.box, "error", err.Error()}
	if unlogged > 0 {
		attrs = append(attrs, "unlogged", unlogged)
	}
	r.c.Logger().Warn("component error", attrs...)
	return false
}
