package util

import (
	"context"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Shutdown in this package relies on axon: a ShutdownMicroprocess
// delivered to a running component's "control" cancels the context its
// main loop was given, so a main loop blocked in a Send returns at once
// with a context error, and axon passes the message on "signal" if the
// main loop did not. The main loops here therefore need no goroutine to
// watch "control": they read it themselves (through axon.Component.Serve,
// or in a select of their own, looking at it before each message), and
// return as soon as their context ends.

// isFinish reports whether msg is a ProducerFinished, as a value or a
// pointer.
func isFinish(msg any) bool {
	switch msg.(type) {
	case axon.ProducerFinished, *axon.ProducerFinished:
		return true
	}
	return false
}

// invalid stands in for a component whose arguments were wrong: running it
// reports err.
func invalid(name string, err error) *axon.Component {
	return axon.New(name, func(context.Context, *axon.Component) error { return err })
}

// serve is axon.Component.Serve with one addition: handle is not called
// once ctx has ended. Serve looks at "control" before each message, but
// while it works through the queued inbox for a ProducerFinished it does
// not; a ShutdownMicroprocess arriving then cancels ctx, and this check
// makes the component stop at once rather than finish the queue.
func serve(ctx context.Context, c *axon.Component, handle func(ctx context.Context, msg any) error) error {
	return c.Serve(ctx, func(ctx context.Context, msg any) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return handle(ctx, msg)
	})
}
