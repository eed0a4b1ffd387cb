package axon_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// lengths is a typed component: it takes strings and sends their lengths.
func lengths() *axon.Component {
	return axon.New("Lengths", func(ctx context.Context, c *axon.Component) error {
		out := axon.SenderOf[int](c, axon.OutboxName)
		return axon.ServeAs(ctx, c, func(ctx context.Context, s string) error {
			return out.Send(ctx, len(s))
		})
	},
		axon.WithInbox(axon.InboxName, "words", axon.Carries[string]()),
		axon.WithOutbox(axon.OutboxName, "their lengths", axon.Carries[int]()),
		axon.WithOutbox(axon.ErrorsName, "messages that were not strings", axon.Carries[error]()),
	)
}

// A message of the wrong type that reaches a typed inbox through an
// untyped path is reported on "errors", naming the component and the
// box, and the component goes on with the next message.
func TestServeAsReportsWrongType(t *testing.T) {
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, lengths(), axon.Tapping(axon.OutboxName, axon.ErrorsName))
	axontest.Put(t, ctx, h, axon.InboxName, "four")
	axontest.Put(t, ctx, h, axon.InboxName, 42) // Handle.Put declares nothing
	axontest.Put(t, ctx, h, axon.InboxName, "seven!!")
	for _, want := range []int{4, 7} {
		if got := axontest.Get(t, ctx, h, axon.OutboxName); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
	m := axontest.Get(t, ctx, h, axon.ErrorsName)
	err, ok := m.(error)
	var be *axon.BoxError
	if !ok || !errors.Is(err, axon.ErrBadMessage) || !errors.As(err, &be) || be.Box != axon.InboxName ||
		!strings.Contains(be.Component, "Lengths") || !strings.Contains(err.Error(), "int") || !strings.Contains(err.Error(), "string") {
		t.Fatalf("errors carried %#v; want a *BoxError for Lengths.inbox wrapping ErrBadMessage, naming int and string", m)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

// An inbox declared to carry an interface type takes a nil message as
// that interface's nil.
func TestServeAsNilInterface(t *testing.T) {
	ctx := axontest.Context(t)
	c := axon.New("Errs", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return axon.ServeAs(ctx, c, func(ctx context.Context, err error) error {
			return out.Send(ctx, err == nil)
		})
	}, axon.WithInbox(axon.InboxName, "errors or nil", axon.Carries[error]()))
	h := axontest.Start(t, ctx, c)
	axontest.Put(t, ctx, h, axon.InboxName, nil)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != true {
		t.Fatalf("got %v, want true (a nil error)", got)
	}
}

// Link refuses to join boxes whose declared types do not fit, naming both
// ends and both types; Carries[any] declares nothing and fits anything.
func TestLinkChecksDeclaredTypes(t *testing.T) {
	ints := axon.New("Ints", nil, axon.WithOutbox(axon.OutboxName, "numbers", axon.Carries[int]()))
	err := axon.Link(ints, axon.OutboxName, lengths(), axon.InboxName)
	if !errors.Is(err, axon.ErrTypeMismatch) {
		t.Fatalf("Link int -> string: %v, want ErrTypeMismatch", err)
	}
	for _, part := range []string{"Ints", "outbox", "Lengths", "inbox", "int", "string"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("Link's error %q does not name %q", err, part)
		}
	}
	anything := axon.New("Anything", nil, axon.WithOutbox(axon.OutboxName, "whatever", axon.Carries[any]()))
	if err := axon.Link(anything, axon.OutboxName, lengths(), axon.InboxName); err != nil {
		t.Errorf("Link any -> string: %v, want it allowed (checked as each message arrives)", err)
	}
	if typ := anything.Outbox(axon.OutboxName).Type(); typ != nil {
		t.Errorf("Carries[any] declared %v, want nothing", typ)
	}
}
