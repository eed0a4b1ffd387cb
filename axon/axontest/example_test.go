package axontest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// Two PassThrough stages with inboxes of one slot each; the messages come
// out as they went in, and ProducerFinished travels down behind them.
func ExamplePassThrough() {
	ctx := context.Background()
	h := axon.Start(ctx, chassis.Pipeline(axontest.PassThrough("A", 1), axontest.PassThrough("B", 1)))
	for _, m := range []string{"x", "y"} {
		_ = h.Put(ctx, axon.InboxName, m)
	}
	_ = h.Put(ctx, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	for range 2 {
		m, _ := h.Get(ctx, axon.OutboxName)
		fmt.Println(m)
	}
	sig, _ := h.Get(ctx, axon.SignalName)
	fmt.Println(sig.(axon.ProducerFinished).From.Name)
	fmt.Println("err:", h.Wait())
	// Output:
	// x
	// y
	// tester
	// err: <nil>
}

// Map applies a function to every message.
func ExampleMap() {
	ctx := context.Background()
	h := axon.Start(ctx, axontest.Map("Upper", func(m any) any { return strings.ToUpper(m.(string)) }))
	_ = h.Put(ctx, axon.InboxName, "shout")
	m, _ := h.Get(ctx, axon.OutboxName)
	fmt.Println(m)
	_ = h.Put(ctx, axon.ControlName, axon.ShutdownMicroprocess{From: axontest.Tester})
	fmt.Println("err:", h.Wait())
	// Output:
	// SHOUT
	// err: <nil>
}

// Burst sends its messages in one batch, then ProducerFinished.
func ExampleBurst() {
	h := axon.Start(context.Background(), axontest.Burst("Words", "a", "b", "c"), axon.Tapping(axon.OutboxName))
	for {
		m, err := h.Get(context.Background(), axon.OutboxName)
		if err != nil {
			break
		}
		fmt.Println(m)
	}
	fmt.Println(h.Wait())
	// Output:
	// a
	// b
	// c
	// <nil>
}
