package axon

import (
	"log/slog"
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
	slog.Warn("component error", attrs...)
	return false
}
