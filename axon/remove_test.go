package axon_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

// A message a send reports delivered into a box being removed is either
// returned by RemoveInbox or was never reported delivered: a sender that
// found the box just before it was unlinked must not put its message in
// after RemoveInbox has emptied it, where nobody would ever read it. Both
// TrySend and Send are raced against the removal.
func TestRemoveInboxRacingSenders(t *testing.T) {
	const rounds, senders = 300, 4
	for r := range rounds {
		owner := axon.New("Owner", nil)
		if _, err := owner.AddInbox("extra", "racing senders", axon.Capacity(1<<12)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		delivered := make([]int, senders)
		start := make(chan struct{})
		for i := range senders {
			src := axon.New(fmt.Sprintf("Src%d", i), nil)
			if err := axon.Link(src, "outbox", owner, "extra"); err != nil {
				t.Fatal(err)
			}
			out := src.Out("outbox")
			wg.Go(func() {
				<-start
				for n := 0; ; n++ {
					var err error
					if i%2 == 0 {
						err = out.TrySend(n)
					} else {
						// Send waits once the box is gone (its outbox is
						// unlinked), until ctx ends after the removal.
						err = out.Send(ctx, n)
					}
					if err != nil {
						return
					}
					delivered[i]++
				}
			})
		}
		close(start)
		for range r % 7 {
			runtime.Gosched()
		}
		left, err := owner.RemoveInbox("extra")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		wg.Wait()
		total := 0
		for _, n := range delivered {
			total += n
		}
		if len(left) != total {
			t.Fatalf("round %d: senders were told %d messages were delivered, RemoveInbox returned %d: %d stranded", r, total, len(left), total-len(left))
		}
	}
}
