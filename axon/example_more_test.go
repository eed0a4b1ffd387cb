package axon_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
)

// counter returns a component that sends 1, 2, ..., n on its outbox and
// then finishes.
func counter(n int) *axon.Component {
	return axon.New("Counter", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		for i := 1; i <= n; i++ {
			if err := out.Send(ctx, i); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

// printer returns a component that prints what arrives on its inbox.
func printer() *axon.Component {
	return axon.New("Printer", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			fmt.Println("got", m)
			return nil
		})
	})
}

// Run starts a graph and waits for it to end: here a counter linked to a
// printer, inside a container, ends when the counter's ProducerFinished
// has reached the printer.
func ExampleRun() {
	src, dst := counter(3), printer()
	g := axon.New("Graph", nil, axon.WithChildren(src, dst))
	_ = axon.Link(src, axon.OutboxName, dst, axon.InboxName)
	_ = axon.Link(src, axon.SignalName, dst, axon.ControlName)
	fmt.Println("err:", axon.Run(context.Background(), g))
	// Output:
	// got 1
	// got 2
	// got 3
	// err: <nil>
}

// Serve hands each message on "inbox" to the handler, one at a time and
// in order, and takes care of "control": here ProducerFinished, queued
// behind three words, ends it once they are handled.
func ExampleComponent_Serve() {
	upper := axon.New("Upper", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			return out.Send(ctx, strings.ToUpper(m.(string)))
		})
	})
	ctx := context.Background()
	h := axon.Start(ctx, upper, axon.Tapping(axon.OutboxName))
	for _, w := range []string{"one", "two", "three"} {
		_ = h.Put(ctx, axon.InboxName, w)
	}
	_ = h.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	for {
		m, err := h.Get(ctx, axon.OutboxName)
		if err != nil {
			break
		}
		fmt.Println(m)
	}
	fmt.Println("err:", h.Wait())
	// Output:
	// ONE
	// TWO
	// THREE
	// err: <nil>
}

// Start runs a component in the background and returns a Handle that
// plain Go code drives it with: Put, Get, Stop and Wait.
func ExampleStart() {
	echo := axon.New("Echo", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, c.Out(axon.OutboxName).Send)
	})
	ctx := context.Background()
	h := axon.Start(ctx, echo)
	_ = h.Put(ctx, axon.InboxName, "ping")
	m, _ := h.Get(ctx, axon.OutboxName)
	fmt.Println(m)
	h.Stop()
	fmt.Println("err:", h.Wait())
	// Output:
	// ping
	// err: <nil>
}

// Inspect describes a graph: its components, their boxes with what is
// queued, and the links. Here before it runs.
func ExampleInspect() {
	src, dst := counter(3), printer()
	g := axon.New("Graph", nil, axon.WithChildren(src, dst))
	_ = axon.Link(src, axon.OutboxName, dst, axon.InboxName)
	snap := axon.Inspect(g)
	for _, c := range snap.Components {
		fmt.Println(c.Ref.Name, c.State)
	}
	for _, l := range snap.Links {
		fmt.Printf("%s.%s -> %s.%s\n", l.From.Name, l.FromBox, l.To.Name, l.ToBox)
	}
	// Output:
	// Graph built
	// Counter built
	// Printer built
	// Counter.outbox -> Printer.inbox
}

// Batch lets a burst of sends cross to the next component many at a
// time; the receiver still sees one message at a time, in order, and
// capacity is still counted in messages.
func ExampleComponent_Batch() {
	burst := axon.New("Burst", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		err := c.Batch(ctx, func(ctx context.Context) error {
			for i := range 5 {
				if err := out.Send(ctx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.Finish(ctx)
	})
	dst := printer()
	g := axon.New("Graph", nil, axon.WithChildren(burst, dst))
	_ = axon.Link(burst, axon.OutboxName, dst, axon.InboxName)
	_ = axon.Link(burst, axon.SignalName, dst, axon.ControlName)
	fmt.Println("err:", axon.Run(context.Background(), g))
	// Output:
	// got 0
	// got 1
	// got 2
	// got 3
	// got 4
	// err: <nil>
}

// A Reader takes what arrives on an inbox many messages at a time, for a
// component with a select loop of its own (here one that adds up what it
// gets until ProducerFinished).
func ExampleComponent_Reader() {
	sum := axon.New("Sum", func(ctx context.Context, c *axon.Component) error {
		r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
		total := 0
		add := func(msgs []any) {
			for _, m := range msgs {
				total += m.(int)
			}
		}
		for {
			select {
			case e := <-r.C():
				add(r.Open(e))
			case m := <-ctl:
				if axon.IsProducerFinished(m) {
					for msgs := r.Next(); msgs != nil; msgs = r.Next() {
						add(msgs)
					}
					fmt.Println("total", total)
				}
				if stop, err := c.Control(ctx, m, nil); stop || err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	src := counter(100)
	g := axon.New("Graph", nil, axon.WithChildren(src, sum))
	_ = axon.Link(src, axon.OutboxName, sum, axon.InboxName)
	_ = axon.Link(src, axon.SignalName, sum, axon.ControlName)
	fmt.Println("err:", axon.Run(context.Background(), g))
	// Output:
	// total 5050
	// err: <nil>
}

// New makes a component from a name, a main loop and its boxes: here one
// that takes strings on "inbox" and sends their lengths, declared so
// that Link checks what is wired to it.
func ExampleNew() {
	lengths := axon.New("Lengths", func(ctx context.Context, c *axon.Component) error {
		out := axon.SenderOf[int](c, axon.OutboxName)
		return axon.ServeAs(ctx, c, func(ctx context.Context, s string) error {
			return out.Send(ctx, len(s))
		})
	},
		axon.WithInbox(axon.InboxName, "words", axon.Carries[string]()),
		axon.WithOutbox(axon.OutboxName, "their lengths", axon.Carries[int]()),
	)
	ctx := context.Background()
	h := axon.Start(ctx, lengths)
	_ = h.Put(ctx, axon.InboxName, "kamaelia")
	n, _ := h.Get(ctx, axon.OutboxName)
	fmt.Println(n, lengths.Inbox(axon.InboxName).Type())
	h.Stop()
	_ = h.Wait()
	// Output:
	// 8 string
}

// Invalid is what a constructor returns when its arguments cannot work:
// a component that fails, naming itself, as soon as it is started.
func ExampleInvalid() {
	window := func(n int) *axon.Component {
		if n < 1 {
			return axon.Invalid("Window", fmt.Errorf("%w: size %d, want 1 or more", axon.ErrConfig, n))
		}
		return axon.New("Window", nil)
	}
	err := axon.Run(context.Background(), window(0))
	fmt.Println(errors.Is(err, axon.ErrConfig))
	fmt.Println(strings.Contains(err.Error(), "size 0"))
	// Output:
	// true
	// true
}

// A Handle drives a running graph from outside it: Put sends into one of
// the root's inboxes, Get takes what a tapped outbox sends, Stop and
// Wait end it.
func ExampleHandle() {
	upper := axon.New("Upper", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			s, _ := m.(string)
			return out.Send(ctx, strings.ToUpper(s))
		})
	})
	ctx := context.Background()
	h := axon.Start(ctx, upper)
	for _, w := range []string{"one", "two"} {
		_ = h.Put(ctx, axon.InboxName, w)
		m, _ := h.Get(ctx, axon.OutboxName)
		fmt.Println(m)
	}
	h.Stop()
	fmt.Println("err:", h.Wait())
	// Output:
	// ONE
	// TWO
	// err: <nil>
}

// LabelBy draws a graph's shape alone: here each node is labelled with
// the name its container gives it (ComponentInfo.Step, a Graphline's
// node names) and its own name, without ids, states or queues.
func ExampleLabelBy() {
	src, dst := counter(3), printer()
	g := axon.New("Graph", nil)
	_ = g.AddNamedChild("SOURCE", src)
	_ = g.AddNamedChild("SINK", dst)
	_ = axon.Link(src, axon.OutboxName, dst, axon.InboxName)
	label := func(c axon.ComponentInfo) string {
		if c.Step == c.Ref.Name {
			return c.Ref.Name
		}
		return c.Step + " (" + c.Ref.Name + ")"
	}
	fmt.Print(axon.Inspect(g).Mermaid(axon.LabelBy(label)))
	// Output:
	// flowchart LR
	//   subgraph n0 ["Graph"]
	//     n1["SOURCE (Counter)"]
	//     n2["SINK (Printer)"]
	//   end
	//   n1 -->|"outbox→inbox"| n2
}
