package axon_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// A component that doubles numbers, driven from plain Go through a Handle.
func Example() {
	double := axon.New("Double", func(ctx context.Context, c *axon.Component) error {
		out := c.Out("outbox")
		return c.Serve(ctx, func(ctx context.Context, msg any) error {
			return out.Send(ctx, msg.(int)*2)
		})
	})
	ctx := context.Background()
	h := axon.Start(ctx, double)
	for i := 1; i <= 3; i++ {
		_ = h.Put(ctx, "inbox", i)
		v, _ := h.Get(ctx, "outbox")
		fmt.Println(v)
	}
	_ = h.Put(ctx, "control", axon.ProducerFinished{})
	fmt.Println(h.Wait())
	// Output:
	// 2
	// 4
	// 6
	// <nil>
}

// Linking a producer to a consumer, and what happens on a full inbox.
func ExampleLink() {
	src := axon.New("Src", nil)
	dst := axon.New("Dst", nil, axon.WithInbox("inbox", "two slots", axon.Capacity(2)))
	if err := axon.Link(src, "outbox", dst, "inbox"); err != nil {
		fmt.Println(err)
	}
	for i := range 3 {
		if err := src.TrySend("outbox", i); err != nil {
			fmt.Println("message", i, "refused, box full:", errors.Is(err, axon.ErrBoxFull))
		}
	}
	fmt.Println(<-dst.In("inbox"), <-dst.In("inbox"))
	// Output:
	// message 2 refused, box full: true
	// 0 1
}

// Registering an inbox as a named service and finding it again.
func ExampleRegistry() {
	var services axon.Registry
	logger := axon.New("Logger", nil)
	_ = services.Register("log", logger, "inbox")
	s, _ := services.Lookup("log")
	fmt.Println(s.Component.Name(), s.Inbox)
	// Output: Logger inbox
}
