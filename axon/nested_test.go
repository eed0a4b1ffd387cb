package axon_test

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

func double() *axon.Component {
	return axontest.Map("Double", func(m any) any { return m.(int) * 2 })
}

func TestNestedPipelineThroughHandle(t *testing.T) {
	ctx := axontest.Context(t)
	p := chassis.Pipeline(double(), chassis.Pipeline(double(), double()))
	h := axon.Start(ctx, p)
	for i := range 100 {
		if err := h.Put(ctx, "inbox", i); err != nil {
			t.Fatal(err)
		}
		got, err := h.Get(ctx, "outbox")
		if err != nil {
			t.Fatal(err)
		}
		if got != i*8 {
			t.Fatalf("got %v want %d", got, i*8)
		}
	}
	if err := h.Put(ctx, "control", axon.ProducerFinished{}); err != nil {
		t.Fatal(err)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Log(axon.Inspect(p).Mermaid())
}
