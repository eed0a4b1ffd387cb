package axon_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// A Serve that is stopped just as it goes to wait for its first message
// still ends: the end of its context between its last look and its wait
// must wake it.
func TestServeStoppedAsItParksEnds(t *testing.T) {
	for i := range 3000 {
		c := axon.New("Idle", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(context.Context, any) error { return nil })
		})
		h := axon.Start(context.Background(), c)
		for range i % 200 { // stop at a different point of its start each time
			runtime.Gosched()
		}
		h.Stop()
		select {
		case <-h.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: a Serve stopped as it started never ended", i)
		}
	}
}
