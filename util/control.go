package util

import (
	"context"
)

// Shutdown in this package relies on axon: a ShutdownMicroprocess
// delivered to a running component's "control" cancels the context its
// main loop was given, so a main loop blocked in a Send returns at once
// with a context error, and axon passes the message on "signal" if the
// main loop did not. The main loops here therefore need no goroutine to
// watch "control": they read it themselves (through axon.Component.Serve,
// or in a select of their own, looking at it before each message), and
// return as soon as their context ends.

// controlFirst is the top of a main loop that selects over boxes of its
// own: it handles a message already waiting on ctl, if any, with handle,
// so that busy inboxes never delay a shutdown. It reports whether the loop
// should return err (told to stop, or ctx has ended) or look again (more
// control may wait); otherwise the loop goes on to its data.
func controlFirst(ctx context.Context, ctl <-chan any, handle func(context.Context, any) (bool, error)) (stop, again bool, err error) {
	select {
	case msg := <-ctl:
		stop, err := handle(ctx, msg)
		return stop || err != nil, true, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return true, false, err
	}
	return false, false, nil
}

// tryTake takes a message from ch if one is waiting, without waiting.
func tryTake(ch <-chan any) (msg any, ok bool) {
	select {
	case msg = <-ch:
		return msg, true
	default:
		return nil, false
	}
}
