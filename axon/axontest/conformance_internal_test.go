package axontest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// failures is a testing.TB that notes failures instead of reporting them,
// so that Conformance's checks can be seen to fail. Fatal ends the
// goroutine it is called on, as the real one does.
type failures struct {
	testing.TB
	mu       sync.Mutex
	msgs     []string
	cleanups []func()
}

func (f *failures) Helper() {}

func (f *failures) note(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msg)
}

func (f *failures) Error(args ...any)                 { f.note(fmt.Sprint(args...)) }
func (f *failures) Errorf(format string, args ...any) { f.note(fmt.Sprintf(format, args...)) }
func (f *failures) Fatal(args ...any)                 { f.note(fmt.Sprint(args...)); runtime.Goexit() }
func (f *failures) Fatalf(format string, args ...any) {
	f.note(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *failures) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// run runs check against f on a goroutine of its own, then after, then
// f's cleanups, last first, and returns what failed.
func (f *failures) run(check func(testing.TB), after func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(f)
	}()
	<-done
	after()
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	return strings.Join(f.msgs, "\n")
}

// Each check fails for a component that breaks its rule, naming the rule.
func TestConformanceChecksFail(t *testing.T) {
	defer func(l time.Duration) { endLimit = l }(endLimit)
	endLimit = 200 * time.Millisecond
	// The deaf component's sends give up when release ends: after its
	// check, before the graph is waited for.
	var release context.Context

	// Ends at ProducerFinished without taking what is queued before it.
	dropsQueued := func() axon.Node {
		return axon.New("DropsQueued", func(ctx context.Context, c *axon.Component) error {
			m := <-c.In(axon.ControlName)
			return c.Send(ctx, axon.SignalName, m)
		})
	}
	// Passes ProducerFinished on twice.
	twoSignals := func() axon.Node {
		return axon.New("TwoSignals", func(ctx context.Context, c *axon.Component) error {
			m := <-c.In(axon.ControlName)
			if err := c.Send(ctx, axon.SignalName, m); err != nil {
				return err
			}
			return c.Send(ctx, axon.SignalName, m)
		})
	}
	// Sends without its context, so ShutdownMicroprocess cannot stop it
	// while it is blocked (until the test releases it).
	deaf := func() axon.Node {
		return axon.New("Deaf", func(ctx context.Context, c *axon.Component) error {
			out := c.Out(axon.OutboxName)
			for {
				if err := out.Send(release, 1); err != nil {
					return nil
				}
			}
		})
	}
	// Ends, leaving a goroutine behind until the test ends.
	leaked := make(chan struct{})
	defer close(leaked)
	leaky := func() axon.Node {
		return axon.New("Leaky", func(ctx context.Context, c *axon.Component) error {
			go func() { <-leaked }()
			m := <-c.In(axon.ControlName)
			return c.Send(ctx, axon.SignalName, m)
		})
	}
	for _, c := range []struct {
		name    string
		factory func() axon.Node
		feed    []any
		check   func(*conformance, testing.TB, func() axon.Node)
		want    string
	}{
		{"drops queued input", dropsQueued, []any{1, 2, 3}, (*conformance).producerFinished, "3 of the 3 messages queued before it still in"},
		{"signals twice", twoSignals, nil, (*conformance).producerFinished, "want one ProducerFinished"},
		{"deaf to shutdown", deaf, nil, (*conformance).shutdownWhileBlocked, "did not end within"},
		{"leaves a goroutine", leaky, nil, (*conformance).producerFinished, "unexpected goroutines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cancel context.CancelFunc
			release, cancel = context.WithCancel(context.Background())
			cf := &conformance{feed: c.feed}
			f := &failures{TB: t}
			got := f.run(func(tb testing.TB) { c.check(cf, tb, c.factory) }, cancel)
			if !strings.Contains(got, c.want) {
				t.Errorf("failures: %q; want one saying %q", got, c.want)
			}
		})
	}
}
