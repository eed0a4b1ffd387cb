package backplane

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// conformSeq numbers the Backplanes the conformance checks make, so that
// each has a name of its own.
var conformSeq atomic.Uint64

// conformName returns a Backplane name no other test uses.
func conformName() string { return fmt.Sprintf("conformance-%d", conformSeq.Add(1)) }

// Every component of the package keeps the shutdown rules (issue 12), on
// in-process Backplanes.
func TestConformance(t *testing.T) {
	feed := axontest.Feed(1, "two", []byte("three"))
	t.Run("Backplane", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node { return Backplane(conformName()) }, feed)
	})
	t.Run("PublishTo", func(t *testing.T) {
		name := busyBackplane(t)
		axontest.Conformance(t, func() axon.Node { return PublishTo(name) }, feed)
	})
	// A SubscribeTo does not read its "inbox", so it is fed nothing. The
	// Backplane delivers on its "outbox" all the time, so the
	// ShutdownMicroprocess check finds the Backplane blocked on it.
	t.Run("SubscribeTo", func(t *testing.T) {
		name := busyBackplane(t)
		axontest.Conformance(t, func() axon.Node { return SubscribeTo(name) })
	})
	t.Run("SubscribeToDropOldest", func(t *testing.T) {
		name := busyBackplane(t)
		axontest.Conformance(t, func() axon.Node { return SubscribeTo(name, DropOldest(2)) })
	})
}

// busyBackplane starts a Backplane that a goroutine of the test publishes
// to every millisecond until the test ends, and returns its name.
func busyBackplane(t *testing.T) string {
	t.Helper()
	ctx := axontest.Context(t)
	name := conformName()
	b := Backplane(name)
	h := axontest.Start(t, ctx, b)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				if h.Put(ctx, axon.InboxName, i) != nil {
					return
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	return name
}
