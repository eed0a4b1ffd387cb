package simulate

import (
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
// with a bad parameter fails with: an axon.BoxError, naming the stage,
// the box concerned ("inbox", or "config" for a parameter) and what was
// being done ("corrupt", "configure"), and wrapping ErrBadMessage or
// ErrConfig. It has no fields of its own, so it is axon's type, as
// "Corrupt#1a2b3c4d.inbox: corrupt: wrong message type: int (passed on
// unchanged)".
type Error = axon.BoxError

// report sends err on "errors" without waiting, or logs it (see
// axon.Reporter), and counts it.
func (s *Stage) report(err *Error) {
	s.stats.errors.Add(1)
	s.reporter.Report(err)
}
