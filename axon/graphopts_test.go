package axon_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// Two graphs run side by side, each with its own logger: what each
// component logs goes to its own graph's logger only.
func TestWithLoggerPerGraph(t *testing.T) {
	ctx := axontest.Context(t)
	var bufs [2]bytes.Buffer
	var hs [2]*axon.Handle
	for i := range hs {
		echo := axon.New("Echo", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(context.Context, any) error { return nil })
		})
		hs[i] = axontest.Start(t, ctx, echo, axon.WithLogger(slog.New(slog.NewTextHandler(&bufs[i], nil))))
	}
	// A message Serve does not know on control is logged and ignored.
	axontest.Put(t, ctx, hs[0], axon.ControlName, "hello from graph 0")
	axontest.Put(t, ctx, hs[0], axon.ControlName, axon.ProducerFinished{})
	axontest.Put(t, ctx, hs[1], axon.ControlName, 1234)
	axontest.Put(t, ctx, hs[1], axon.ControlName, axon.ProducerFinished{})
	for _, h := range hs {
		axontest.Wait(t, h)
	}
	if got := bufs[0].String(); !strings.Contains(got, "ignored message on control") || !strings.Contains(got, "type=string") || strings.Contains(got, "type=int") {
		t.Errorf("graph 0 logged %q; want its own ignored string only", got)
	}
	if got := bufs[1].String(); !strings.Contains(got, "type=int") || strings.Contains(got, "type=string") {
		t.Errorf("graph 1 logged %q; want its own ignored int only", got)
	}
}

// Components of graphs given different registries register the same
// service name without meeting; with none, they share axon.Services.
func TestWithServicesPerGraph(t *testing.T) {
	ctx := axontest.Context(t)
	registrar := func(got chan<- error) *axon.Component {
		return axon.New("Registrar", func(ctx context.Context, c *axon.Component) error {
			err := c.Services().Register("graph-test-service", c, axon.InboxName)
			got <- err
			if err == nil {
				defer c.Services().Deregister("graph-test-service")
			}
			<-ctx.Done()
			return nil
		})
	}
	regs := [2]*axon.Registry{{}, {}}
	got := make(chan error, 4)
	for _, r := range regs {
		h := axontest.Start(t, ctx, registrar(got), axon.WithServices(r))
		t.Cleanup(h.Stop)
	}
	for range 2 {
		if err := <-got; err != nil {
			t.Fatalf("register in a graph's own registry: %v", err)
		}
	}
	for i, r := range regs {
		if _, err := r.Lookup("graph-test-service"); err != nil {
			t.Errorf("registry %d: %v", i, err)
		}
	}
	if _, err := axon.Services.Lookup("graph-test-service"); !errors.Is(err, axon.ErrNoService) {
		t.Errorf("process-wide Services: %v, want ErrNoService", err)
	}
	// Without WithServices, two graphs share axon.Services: the second
	// registration is refused.
	for range 2 {
		h := axontest.Start(t, ctx, registrar(got))
		t.Cleanup(h.Stop)
	}
	var errs []error
	for range 2 {
		errs = append(errs, <-got)
	}
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), axon.ErrServiceExists) {
		t.Errorf("two graphs sharing axon.Services registered: %v; want one refused with ErrServiceExists", errs)
	}
}

// A nil logger or registry is refused when the graph starts.
func TestGraphOptionsRefuseNil(t *testing.T) {
	ctx := axontest.Context(t)
	for _, opt := range []axon.StartOption{axon.WithLogger(nil), axon.WithServices(nil)} {
		err := axon.Run(ctx, axon.New("Idle", nil), opt)
		if !errors.Is(err, axon.ErrConfig) {
			t.Errorf("Run with a nil option: %v, want ErrConfig", err)
		}
	}
}

// A component's context ends with the reason the graph was shut down:
// the failure of another component, or Handle.Stop.
func TestCancellationCarriesItsCause(t *testing.T) {
	ctx := axontest.Context(t)
	boom := errors.New("boom")
	causes := make(chan error, 1)
	waiter := func() *axon.Component {
		return axon.New("Waiter", func(ctx context.Context, c *axon.Component) error {
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil
		})
	}
	failing := axon.New("Failing", func(ctx context.Context, c *axon.Component) error { return boom })
	err := axon.Run(ctx, axon.New("Graph", nil, axon.WithChildren(waiter(), failing)))
	var ce *axon.ComponentError
	if got := <-causes; !errors.Is(got, boom) || !errors.As(got, &ce) || !strings.Contains(ce.Error(), "Failing") {
		t.Errorf("cause after a sibling failed: %v, want Failing's error wrapping boom", got)
	}
	if !errors.Is(err, boom) {
		t.Errorf("Run: %v, want boom", err)
	}
	h := axontest.Start(t, ctx, waiter())
	h.Stop()
	if got := <-causes; !errors.Is(got, axon.ErrStopped) {
		t.Errorf("cause after Stop: %v, want ErrStopped", got)
	}
	axontest.Wait(t, h)
}
