package chassis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// words sends each word, then ProducerFinished.
func words(ws ...string) *axon.Component {
	return axon.New("Words", func(ctx context.Context, c *axon.Component) error {
		for _, w := range ws {
			if err := c.Send(ctx, "outbox", w); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

// printer prints every message it receives, until told to finish.
func printer() *axon.Component {
	return axon.New("Print", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			fmt.Println(m)
			return nil
		})
	})
}

// upper turns strings to upper case.
func upper() *axon.Component {
	return axon.New("Upper", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			return c.Send(ctx, "outbox", strings.ToUpper(m.(string)))
		})
	})
}

func ExamplePipeline() {
	// Kamaelia: Pipeline(Words(...), Upper(), Print()).run()
	err := axon.Run(context.Background(), chassis.Pipeline(
		words("hello", "pipeline"),
		upper(),
		printer(),
	))
	fmt.Println("err:", err)
	// Output:
	// HELLO
	// PIPELINE
	// err: <nil>
}

func ExampleGraphline() {
	g := chassis.Graphline(
		chassis.Nodes{"SOURCE": words("a", "graph", "line"), "UPPER": upper(), "SINK": printer()},
		chassis.Links{
			{"SOURCE", "outbox"}: {"UPPER", "inbox"},
			{"SOURCE", "signal"}: {"UPPER", "control"},
			{"UPPER", "outbox"}:  {"SINK", "inbox"},
			{"UPPER", "signal"}:  {"SINK", "control"},
		})
	fmt.Println("err:", axon.Run(context.Background(), g))
	// Output:
	// A
	// GRAPH
	// LINE
	// err: <nil>
}

func ExampleCarousel() {
	ctx := context.Background()
	// Each message on "next" makes a child that greets one message from
	// "inbox" with it, then ends.
	car := chassis.Carousel(func(greeting any) axon.Node {
		return axon.New("Greeter", func(ctx context.Context, c *axon.Component) error {
			select {
			case m := <-c.In("inbox"):
				return c.Send(ctx, "outbox", fmt.Sprintf("%s, %s", greeting, m))
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	h := axon.Start(ctx, car)
	_ = h.Put(ctx, "inbox", "world") // waits in the Carousel for a child
	_ = h.Put(ctx, "next", "Hello")
	m, _ := h.Get(ctx, "outbox")
	fmt.Println(m)
	// Whether or not the first child has ended yet, this message goes to
	// the second: what a child leaves unread moves on to the next.
	_ = h.Put(ctx, "inbox", "Carousel")
	_ = h.Put(ctx, "next", "Goodbye")
	m, _ = h.Get(ctx, "outbox")
	fmt.Println(m)
	_ = h.Put(ctx, "control", axon.ProducerFinished{})
	fmt.Println("err:", h.Wait())
	// Output:
	// Hello, world
	// Goodbye, Carousel
	// err: <nil>
}

func ExampleSeq() {
	// Each child sends its words and ends; the next one starts then.
	say := func(ws ...string) *axon.Component {
		return axon.New("Say", func(ctx context.Context, c *axon.Component) error {
			for _, w := range ws {
				if err := c.Send(ctx, "outbox", w); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := axon.Run(context.Background(), chassis.Pipeline(
		chassis.Seq(say("first", "second"), say("third")),
		printer(),
	))
	fmt.Println("err:", err)
	// Output:
	// first
	// second
	// third
	// err: <nil>
}

func ExamplePAR() {
	// The children run at once; their messages interleave, so the
	// collector sorts them before printing.
	collect := axon.New("Collect", func(ctx context.Context, c *axon.Component) error {
		var got []string
		err := c.Serve(ctx, func(_ context.Context, m any) error {
			got = append(got, m.(string))
			return nil
		})
		slices.Sort(got)
		fmt.Println(strings.Join(got, " "))
		return err
	})
	err := axon.Run(context.Background(), chassis.Pipeline(
		chassis.PAR(words("b1", "b2"), words("a1", "a2", "a3")),
		collect,
	))
	fmt.Println("err:", err)
	// Output:
	// a1 a2 a3 b1 b2
	// err: <nil>
}

// A CircularPipeline feeds its last child's output back to its first: here
// a countdown goes round a ring of two stages until it reaches zero, and
// the countdown's ProducerFinished then goes round and ends both.
func ExampleCircularPipeline() {
	countdown := axon.New("Countdown", func(ctx context.Context, c *axon.Component) error {
		in, out := c.In(axon.InboxName), c.Out(axon.OutboxName)
		for {
			select {
			case m := <-in:
				n := m.(int)
				fmt.Println(n)
				if n == 0 {
					return c.Finish(ctx)
				}
				if err := out.Send(ctx, n-1); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	ring := chassis.CircularPipeline(countdown, util.PureTransformer(func(m any) any { return m }))
	ctx := context.Background()
	h := axon.Start(ctx, ring)
	_ = h.Put(ctx, axon.InboxName, 3)
	fmt.Println("err:", h.Wait())
	// Output:
	// 3
	// 2
	// 1
	// 0
	// err: <nil>
}

// A parser that panics on what it cannot parse, supervised: the bad
// message is dropped and reported on "errors", a fresh parser takes over
// the stage's inbox, and the stream goes on.
func ExampleSupervise() {
	parser := func() axon.Node {
		return axon.New("Parse", func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(ctx context.Context, m any) error {
				n, err := strconv.Atoi(m.(string))
				if err != nil {
					panic(err)
				}
				return c.Send(ctx, "outbox", n*10)
			})
		})
	}
	stage := chassis.Supervise(chassis.Child{Make: parser, InHand: chassis.Drop},
		chassis.Intensity(3, time.Second))
	var dropped []*chassis.DroppedError
	report := axon.New("Report", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			var d *chassis.DroppedError
			if errors.As(m.(error), &d) {
				dropped = append(dropped, d)
			}
			return nil
		})
	})
	sink := printer()
	err := axon.Run(context.Background(), chassis.Graphline(
		chassis.Nodes{"SRC": words("1", "two", "3"), "PARSE": stage, "OUT": sink, "REPORT": report},
		chassis.Links{
			{"SRC", "outbox"}:   {"PARSE", "inbox"},
			{"SRC", "signal"}:   {"PARSE", "control"},
			{"PARSE", "outbox"}: {"OUT", "inbox"},
			{"PARSE", "signal"}: {"OUT", "control"},
			{"PARSE", "errors"}: {"REPORT", "inbox"},
			{"OUT", "signal"}:   {"REPORT", "control"},
		}))
	fmt.Println("err:", err)
	for _, d := range dropped {
		fmt.Printf("dropped %q (a panic: %v)\n", d.Msg, errors.Is(d, axon.ErrPanic))
	}
	// Output:
	// 10
	// 30
	// err: <nil>
	// dropped "two" (a panic: true)
}

// A Supervisor holds several children wired as a Graphline's are, each
// made afresh by its Make whenever it is restarted. Here two stages in a
// line, under rest_for_one: were UPPER to fail, EXCLAIM, which starts
// after it, would be restarted with it.
func ExampleSupervisor() {
	sup := chassis.Supervisor([]chassis.Child{
		{Name: "UPPER", Make: func() axon.Node { return util.Map(strings.ToUpper) }},
		{Name: "EXCLAIM", Make: func() axon.Node { return util.Map(func(s string) string { return s + "!" }) }},
	}, chassis.Links{
		{chassis.Self, "inbox"}: {"UPPER", "inbox"},
		{"UPPER", "outbox"}:     {"EXCLAIM", "inbox"},
		{"UPPER", "signal"}:     {"EXCLAIM", "control"},
		{"EXCLAIM", "outbox"}:   {chassis.Self, "outbox"},
		{"EXCLAIM", "signal"}:   {chassis.Self, "signal"},
	}, chassis.WithStrategy(chassis.RestForOne))
	err := axon.Run(context.Background(), chassis.Pipeline(words("hello", "supervisor"), sup, printer()))
	fmt.Println("err:", err)
	// Output:
	// HELLO!
	// SUPERVISOR!
	// err: <nil>
}
