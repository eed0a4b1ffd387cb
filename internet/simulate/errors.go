package simulate

import (
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Errors a stage reports. Each *Error wraps one of these, so errors.Is
// sorts them.
var (
	// ErrBadMessage: a message of a type the stage cannot work on (Corrupt
	// given something that is not a payload). The message is passed on
	// unchanged all the same.
	ErrBadMessage = axon.ErrBadMessage
	// ErrConfig: a parameter or option out of range. A stage built with
	// one fails when started; Err reports it before that.
	ErrConfig = axon.ErrConfig
)

// ErrorsBox is the outbox on which a stage reports *Error values.
const ErrorsBox = axon.ErrorsName

// Error is what a stage sends on its "errors" outbox, and what a stage
// with a bad parameter fails with. It names the component and the box
// concerned and says what was being done.
type Error struct {
	Component string // the stage, as its String method gives it ("Corrupt#1a2b3c4d")
	Box       string // the box concerned ("inbox"), or "config"
	Op        string // what was being done: "corrupt", "configure"
	Err       error  // wraps ErrBadMessage or ErrConfig
}

// Error formats e as, for example,
// "Corrupt#1a2b3c4d: inbox: corrupt: wrong message type: int (passed on unchanged)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Component + ": " + e.Box)
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// report sends err on "errors" without waiting, or logs it (see
// axon.Reporter), and counts it.
func (s *Stage) report(err *Error) {
	s.stats.errors.Add(1)
	s.reporter.Report(err)
}
