package axon_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

var errTendBoom = errors.New("boom")

// restartsInPlace is a main loop that runs Serve on c again after each
// failure, as a supervisor does: the message in hand is handed to the
// next Serve first (once; a second failure on it drops it), and a
// shutdown message left over is acted on. fail says whether the handler
// fails on its call number i (counting every call).
func restartsInPlace(fail func(i int) (panics, fails bool), handled func(msg any), errs *[]*axon.HandlerError) axon.MainFunc {
	return func(ctx context.Context, c *axon.Component) error {
		calls := 0
		t := &axon.Tending{}
		for {
			c.Tend(t)
			err := c.Serve(ctx, func(ctx context.Context, msg any) error {
				i := calls
				calls++
				switch p, f := fail(i); {
				case p:
					panic("handler panics")
				case f:
					return errTendBoom
				}
				handled(msg)
				return nil
			})
			var he *axon.HandlerError
			if !errors.As(err, &he) {
				return err
			}
			*errs = append(*errs, he)
			t = &axon.Tending{Retry: t.Retry, Control: t.Control}
			if !he.Retried {
				t.Retry = append([]any{he.Msg}, t.Retry...)
			}
		}
	}
}

// A Serve started again on a tended component takes up where the last
// one stopped: the message in hand first, then the rest of the batch it
// was reading, then the box, then the ProducerFinished it was draining
// for; panics leave things as errors do. Batched and unbatched; with the
// messages crossing as a batch, and with them and the ProducerFinished
// queued before the component starts (so that Serve drains them all).
func TestTendServeRestartsInPlace(t *testing.T) {
	for _, opts := range [][]axon.StartOption{nil, {axon.Unbatched()}} {
		for _, queued := range []bool{false, true} {
			testTendServe(t, opts, queued)
		}
	}
}

func testTendServe(t *testing.T, opts []axon.StartOption, queued bool) {
	ctx := axontest.Context(t)
	var got []any
	var errs []*axon.HandlerError
	ready, half := make(chan struct{}), make(chan struct{})
	first := 1 // the call that handles message 0
	if queued {
		first = 0
	}
	// Message 2's first call fails, message 4 fails and then panics on
	// retry (a poison message), message 18 fails.
	fail := func(i int) (bool, bool) {
		i -= first
		return i == 6, i == 2 || i == 5 || i == 20
	}
	c := axon.New("Tended", restartsInPlace(fail, func(msg any) {
		switch msg {
		case "start":
			close(ready)
			return
		case 10:
			close(half)
		}
		got = append(got, msg)
	}, &errs))
	var h *axon.Handle
	if queued {
		for i := range 20 {
			axontest.Preload(t, c, axon.InboxName, i)
		}
		axontest.Preload(t, c, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
		h = axontest.Start(t, ctx, c, opts...)
	} else {
		src := axon.New("Source", func(ctx context.Context, c *axon.Component) error {
			if err := c.Send(ctx, axon.OutboxName, "start"); err != nil {
				return err
			}
			select { // the tended component reads its box: the rest crosses as one batch
			case <-ready:
			case <-ctx.Done():
				return ctx.Err()
			}
			err := c.Batch(ctx, func(ctx context.Context) error {
				for i := range 20 {
					if err := c.Send(ctx, axon.OutboxName, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			select { // finish while the batch is being read
			case <-half:
			case <-ctx.Done():
				return ctx.Err()
			}
			return c.Finish(ctx)
		})
		p := axon.New("Pair", nil, axon.WithChildren(src, c))
		if err := axon.Link(src, axon.OutboxName, c, axon.InboxName); err != nil {
			t.Fatal(err)
		}
		if err := axon.Link(src, axon.SignalName, c, axon.ControlName); err != nil {
			t.Fatal(err)
		}
		h = axontest.Start(t, ctx, p, opts...)
	}
	axontest.Wait(t, h)
	var want []any
	for i := range 20 {
		if i != 4 {
			want = append(want, i)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, queued %v: handled %v, want %v", opts, queued, got, want)
	}
	if len(errs) != 4 || !errors.Is(errs[0], errTendBoom) || errs[0].Msg != 2 ||
		!errors.Is(errs[2], axon.ErrPanic) || errs[2].Stack == nil || !errs[2].Retried || errs[2].Msg != 4 {
		t.Fatalf("%v, queued %v: handler errors %v", opts, queued, errs)
	}
}

// A panic inside Batch still puts in what fn sent before it.
func TestBatchPanicPutsInWhatWasSent(t *testing.T) {
	ctx := axontest.Context(t)
	c := axon.New("Panicky", func(ctx context.Context, c *axon.Component) error {
		defer func() { _ = recover() }()
		return c.Batch(ctx, func(ctx context.Context) error {
			for i := range 3 {
				if err := c.Send(ctx, axon.OutboxName, i); err != nil {
					return err
				}
			}
			panic("after three")
		})
	})
	h := axontest.Start(t, ctx, c, axon.Tapping(axon.OutboxName))
	for i := range 3 {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != i {
			t.Fatalf("got %v, want %d", got, i)
		}
	}
	axontest.Wait(t, h)
}
