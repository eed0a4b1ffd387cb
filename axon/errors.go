package axon

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the package returns wraps one of these (or a
// context error), so callers test with errors.Is.
var (
	// ErrBoxFull is returned by TrySend when the destination inbox has no
	// free slot: Kamaelia's noSpaceInBox.
	ErrBoxFull = errors.New("box full")
	// ErrNotLinked is returned by TrySend on an outbox that leads nowhere.
	// (Send waits for a link instead.)
	ErrNotLinked = errors.New("outbox not linked")
	// ErrReceiverDone is returned when the component that owns the
	// destination inbox has ended, so a blocked send can never complete.
	ErrReceiverDone = errors.New("receiving component has ended")
	// ErrNoSuchBox names a box that the component does not have.
	ErrNoSuchBox = errors.New("no such box")
	// ErrAlreadyLinked is returned when a box that feeds one destination at
	// a time is linked a second time.
	ErrAlreadyLinked = errors.New("box already linked")
	// ErrBadLink is returned for a link whose ends do not fit together: the
	// wrong box kinds, a passthrough between components that are not parent
	// and child, or a link that would form a loop.
	ErrBadLink = errors.New("invalid link")
	// ErrTypeMismatch is returned when both ends of a link declare the Go
	// type they carry and the source's type cannot be assigned to the
	// destination's.
	ErrTypeMismatch = errors.New("box types incompatible")
	// ErrBoxExists is returned when adding a box whose name is taken.
	ErrBoxExists = errors.New("box already exists")
	// ErrBoxInUse is returned when removing a box that is still linked.
	ErrBoxInUse = errors.New("box in use")
	// ErrAlreadyStarted is returned when a component is started twice.
	ErrAlreadyStarted = errors.New("component already started")
	// ErrEnded is returned when work is offered to a component that has
	// finished.
	ErrEnded = errors.New("component has ended")
	// ErrPanic is wrapped by the error reported for a component that
	// panicked.
	ErrPanic = errors.New("component panicked")
	// ErrServiceExists is returned when a service name is registered twice.
	ErrServiceExists = errors.New("service already registered")
	// ErrNoService is returned when looking up a name nobody registered.
	ErrNoService = errors.New("no such service")

	// ErrStopped is the cause (context.Cause) of the end of a graph's
	// context when Handle.Stop ended it.
	ErrStopped = errors.New("graph stopped")

	// ErrBadMessage is wrapped by the error a component reports for a
	// message it cannot take on a box: the wrong Go type, or a value of
	// the right type that makes no sense there. Every package's
	// ErrBadMessage is this one, so errors.Is(err, axon.ErrBadMessage)
	// sorts them all.
	ErrBadMessage = errors.New("wrong message type")
	// ErrConfig is wrapped by the error for a component built with an
	// option or argument that cannot work (out of range, contradicting
	// another); such a component fails when started. Every package's
	// ErrConfig is this one.
	ErrConfig = errors.New("bad configuration")
)

// BoxError reports a failed operation on one box of one component. Its
// message names both, as "Doubler#3f2a1c7e.outbox: box full".
//
// It is also the part that names the component and the box in the errors
// other packages report, whose own error types keep only the fields of
// their domain (an operation, an address, a count), in the manner of
// net.OpError: such an error is Err, with Op left empty so that Err's own
// text says what was attempted. Component.BoxError makes one.
type BoxError struct {
	Component string // readable name and short id of the component
	Box       string // box name
	Op        string // what was attempted: "send", "link", ...; "" when Err says
	Err       error  // the reason; errors.Is and errors.As see through it
}

// BoxError returns err as an error about c's box: a *BoxError naming c
// and box, with no Op, wrapping err. A package's own error type is given the
// component and box this way, so that
//
//	c.BoxError(axon.InboxName, &udp.Error{Op: "send", Addr: "127.0.0.1:9", Err: udp.ErrRefused})
//
// reads "SimplePeer#1a2b3c4d.inbox: send to 127.0.0.1:9: connection
// refused", and errors.As finds both the *BoxError and the *udp.Error.
func (c *Component) BoxError(box string, err error) *BoxError {
	return &BoxError{Component: c.String(), Box: box, Err: err}
}

func (e *BoxError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("%s.%s: %v", e.Component, e.Box, e.Err)
	}
	return fmt.Sprintf("%s.%s: %s: %v", e.Component, e.Box, e.Op, e.Err)
}

func (e *BoxError) Unwrap() error { return e.Err }

// LinkError reports a link that could not be made or removed. Its message
// names both ends.
type LinkError struct {
	From string // "component.box" of the source end
	To   string // "component.box" of the destination end
	Err  error
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("link %s -> %s: %v", e.From, e.To, e.Err)
}

func (e *LinkError) Unwrap() error { return e.Err }

// ComponentError reports that a component's main loop returned an error or
// panicked. For a panic, Err wraps ErrPanic and Stack holds the goroutine's
// stack at the time.
type ComponentError struct {
	Component string // readable name and short id
	Err       error
	Stack     []byte // non-nil only for a panic
}

// Error names the component once: an error that already begins with the
// component's name (as the errors components report do, and a BoxError
// about one of its boxes, "Name#3f2a1c7e.inbox: ...") is not prefixed
// with it again.
func (e *ComponentError) Error() string {
	msg := fmt.Sprint(e.Err)
	if !strings.HasPrefix(msg, e.Component+": ") && !strings.HasPrefix(msg, e.Component+".") {
		msg = e.Component + ": " + msg
	}
	if e.Stack != nil {
		return fmt.Sprintf("component %s\n%s", msg, e.Stack)
	}
	return "component " + msg
}

func (e *ComponentError) Unwrap() error { return e.Err }
