// Package axontest helps write tests of axon components, the way
// net/http/httptest helps test HTTP handlers. It is used by kamaelia-go's
// own tests and is meant for anyone testing components of their own.
//
// A test usually starts the component under test with Start, drives it
// with Put and Get, and checks how it ends with ExpectSignal, Wait and
// ExpectEnded (or StopWith, which does the usual shutdown round in one
// call):
//
//	func TestDouble(t *testing.T) {
//		ctx := axontest.Context(t)
//		h := axontest.Start(t, ctx, NewDouble())
//		axontest.Put(t, ctx, h, axon.InboxName, 21)
//		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != 42 {
//			t.Fatalf("got %v, want 42", got)
//		}
//		axontest.StopWith(t, ctx, h, axon.ShutdownMicroprocess{From: axontest.Tester})
//		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
//	}
//
// # Failing
//
// The helpers that check something report a failure with t.Fatalf, so they
// must be called from the goroutine running the test, like t.Fatal itself.
// A test that feeds or drains a component from a goroutine of its own uses
// the Handle's Put and Get there and passes their errors back.
//
// # Waiting
//
// Nothing here sleeps or measures time. Context's deadline only turns a
// test that would hang into a failure; no check depends on it. Instead,
// Tap links an outbox and Preload fills an inbox before the component can
// act on them, so that a test sees what it does without racing it.
//
// # Components
//
// PassThrough and Map are small, well-behaved components to build test
// graphs from: they stop on both shutdown messages and pass them on, like
// every component should.
package axontest
