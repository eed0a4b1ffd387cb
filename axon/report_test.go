package axon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

func TestReporterSendsOnTheBox(t *testing.T) {
	boom := errors.New("boom")
	var r *axon.Reporter
	c := axon.New("Reporting", func(ctx context.Context, c *axon.Component) error {
		if !r.Report(boom) {
			return errors.New("Report said the error was not sent")
		}
		return c.Finish(ctx)
	}, axon.WithOutbox("errors", "errors met"))
	r = axon.NewReporter(c, "errors")
	h := axon.Start(context.Background(), c, axon.Tapping("errors"))
	defer h.Stop()
	got, err := h.Get(context.Background(), "errors")
	if err != nil {
		t.Fatal(err)
	}
	if got != boom {
		t.Fatalf("got %v, want %v", got, boom)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestReporterLogsAFewWhenUnlinked(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	c := axon.New("Unlinked", nil, axon.WithOutbox("errors", "errors met"))
	r := axon.NewReporter(c, "errors")
	for i := range 3 * axon.ReportLogsPerSecond {
		if r.Report(fmt.Errorf("failure %d", i)) {
			t.Fatal("Report said an error was sent on an unlinked box")
		}
	}
	logged := strings.Count(buf.String(), "component error")
	// The count would only be larger if a second went by in the loop.
	if logged < axon.ReportLogsPerSecond || logged > 2*axon.ReportLogsPerSecond {
		t.Fatalf("logged %d errors of %d, want about %d:\n%s", logged, 3*axon.ReportLogsPerSecond, axon.ReportLogsPerSecond, buf.String())
	}
	for _, want := range []string{"failure 0", "Unlinked", "box=errors"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("log does not mention %q:\n%s", want, buf.String())
		}
	}
}

// A component that reports at once, before any Get could link its box,
// has its first error seen when the box is tapped at Start.
func TestTappingSeesTheFirstMessage(t *testing.T) {
	for range 20 {
		c := axon.New("Eager", func(ctx context.Context, c *axon.Component) error {
			r := axon.NewReporter(c, "errors")
			if !r.Report(errors.New("at once")) {
				return errors.New("the first error was not sent")
			}
			<-ctx.Done()
			return nil
		}, axon.WithOutbox("errors", "errors met"))
		h := axon.Start(context.Background(), c, axon.Tapping("errors"))
		m, err := h.Get(context.Background(), "errors")
		if err != nil || m.(error).Error() != "at once" {
			t.Fatalf("got %v, %v", m, err)
		}
		h.Stop()
		if err := h.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTappingAMissingBoxFailsStart(t *testing.T) {
	c := axon.New("NoErrors", func(ctx context.Context, c *axon.Component) error { return nil })
	err := axon.Start(context.Background(), c, axon.Tapping("errors")).Wait()
	if !errors.Is(err, axon.ErrNoSuchBox) || !strings.Contains(err.Error(), "errors") {
		t.Fatalf("got %v, want an error naming the missing box", err)
	}
}
